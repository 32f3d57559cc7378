"""HTTP layer of the relay: dependencies and one router per resource."""
