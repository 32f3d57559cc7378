"""Verifier service: verify API, citizen QR page and the local chain index."""
