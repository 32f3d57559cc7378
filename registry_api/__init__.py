"""The city platform's service: relays department-signed anchors and status changes to the chain."""
