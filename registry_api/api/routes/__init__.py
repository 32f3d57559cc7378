"""Routers of the relay API."""
