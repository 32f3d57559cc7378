"""What several routes share: their refusals for the OpenAPI document, the item count check, the
view of a stored request. (Bodies reach validation through httpkit.body.GuardedRoute.)

Routes import this module and ``deps``, never each other.
"""

from __future__ import annotations

import re
from typing import Any

from httpkit.errors import ERROR_RESPONSES, ErrorBody
from registry_api.errors import RelayError
from registry_api.messages import RequestStatus
from registry_api.queue import ON_CHAIN_STATES, RequestRecord

#: The refusals of the routes that take signed requests.
REFUSALS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    400: {"model": ErrorBody, "description": "Malformed request (MALFORMED_JSON: refused by the JSON guard)"},
    401: {"model": ErrorBody, "description": "BAD_SIGNATURE, UNKNOWN_KEY, EXPIRED"},
    403: {"model": ErrorBody, "description": "WRONG_CHAIN, KEY_NOT_VALID, NOT_AUTHORIZED"},
    409: {"model": ErrorBody, "description": "ALREADY_ANCHORED, ALREADY_QUEUED, NONCE_USED, ..."},
    413: {"model": ErrorBody, "description": "PAYLOAD_TOO_LARGE, TOO_MANY_ITEMS"},
    422: {"model": ErrorBody, "description": "INVALID_REQUEST and refusals by the registry's rules"},
    429: {"model": ErrorBody, "description": "RATE_LIMITED (client or department key), QUOTA_EXCEEDED"},
    503: {
        "model": ErrorBody,
        "description": "CHAIN_UNAVAILABLE, REGISTRY_NOT_FOUND, BUSY, DEADLINE_EXCEEDED: nothing was stored",
    },
}

#: The refusals of the routes that read (the queue, the chain).
READ_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    404: {"model": ErrorBody, "description": "NOT_FOUND"},
    422: {"model": ErrorBody, "description": "INVALID_REQUEST"},
    429: {"model": ErrorBody, "description": "RATE_LIMITED"},
    503: {"model": ErrorBody, "description": "CHAIN_UNAVAILABLE, BUSY, DEADLINE_EXCEEDED"},
}


def check_count(count: int, limit: int) -> None:
    if count > limit:
        raise RelayError(
            413, "TOO_MANY_ITEMS", f"{count} items; at most {limit} per request", f"单次请求最多 {limit} 项"
        )


#: A value of 32 bytes or more (a root, a document hash, a department id, a proof) in a
#: recorded reason, hidden whole; addresses (20 bytes: the signer is shown anyway) stay.
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64,}")


def status_of(record: RequestRecord) -> RequestStatus:
    """What the relay tells of a request: its content only once its transaction is mined.

    Until then (QUEUED, SUBMITTED, REJECTED) the root, the target hash, the transaction (whose
    calldata a node shows while it is pending) and the 32-byte values of the reason (the
    registry's errors name the root and the document) are left out: whoever holds the id learns
    the state, not what is about to be anchored or changed. The signer saw them when it signed.
    """
    shown = record.state in ON_CHAIN_STATES
    reason = record.reason
    if reason is not None and not shown:
        reason = _BYTES32.sub("0x[hidden]", reason)
    return RequestStatus(
        id=record.id,
        kind=record.kind,
        state=record.state,
        root=record.root if shown else None,
        targetHash=record.target if shown else None,
        signer=record.signer,
        department=record.department,
        txHash=record.tx_hash if shown else None,
        block=record.block if shown else None,
        reason=reason,
        createdAt=record.created_at,
        updatedAt=record.updated_at,
    )
