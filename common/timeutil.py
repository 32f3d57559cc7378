"""UTC timestamps as the project writes them: RFC 3339 with a ``Z``, whole seconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(timestamp: float) -> str:
    """``2026-01-01T00:00:00Z`` for a Unix timestamp in seconds."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
