"""HTTP layer of the verifier."""
