"""Parsing of command-line values into chain values, with one-line errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from eth_utils.address import is_address, to_checksum_address

from chain.types import Role, department_id
from issuer.errors import UsageError

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_RELATIVE = re.compile(r"^(?:now)?\+(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def bytes32(value: str, what: str = "value") -> bytes:
    if not _HEX32.match(value):
        raise UsageError(f"{what} must be 0x followed by 64 hex digits, not {value!r}")
    return bytes.fromhex(value[2:])


def department(value: str) -> bytes:
    """A department given as its 0x-hex id, or as the short code its id derives from."""
    if value.startswith("0x"):
        return bytes32(value, "department id")
    if not value or len(value) > 64:
        raise UsageError(f"department code must have 1 to 64 characters, not {value!r}")
    return department_id(value)


def address(value: str) -> str:
    if not is_address(value):
        raise UsageError(f"not an address: {value!r}")
    return to_checksum_address(value)


def timestamp(value: str | None, *, default_now: bool = True, now: int | None = None) -> int:
    """'now', '+6h' (from now: s, m, h or d), a Unix time, or an ISO 8601 date/time (UTC when no
    offset is given). ``now`` is this machine's clock unless given (e.g. the chain's)."""
    current = int(datetime.now(UTC).timestamp()) if now is None else now
    if value is None or value == "now":
        if not default_now and value is None:
            return 0
        return current
    relative = _RELATIVE.match(value)
    if relative:
        return current + int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"not a time: {value!r} (use now, +6h, a Unix time or 2026-01-31T08:00:00Z)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def roles(value: str | None) -> Role:
    if not value:
        return Role.NONE
    result = Role.NONE
    for part in value.split(","):
        name = part.strip().upper()
        if name not in Role.__members__ or name == "NONE":
            known = ", ".join(r.lower() for r in Role.__members__ if r != "NONE")
            raise UsageError(f"unknown role {part!r} (known: {known})")
        result |= Role[name]
    return result


def format_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "-"
