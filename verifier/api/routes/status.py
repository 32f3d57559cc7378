"""POST /v1/status: what the chain says of a document checked elsewhere, without its content.

The citizen page checks a document's integrity in the browser (the ereg/1 rules in
``/static/ereg.js``) and sends only what the chain knows about: the type, the issuer, the validity
window, the Merkle root and the target hash. No field value, salt or unit number reaches the
verifier. The answer's fragments (DOCUMENT_STATUS, ISSUER_IDENTITY and, for property and mortgage
certificates, PROPERTY_STATUS or MORTGAGE_STATUS with the unit the chain links the certificate
to) have the codes and messages of ``POST /v1/verify``; the caller adds DOCUMENT_INTEGRITY and
STORAGE and compares the unit itself.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from chain.types import REASONS
from httpkit.body import guarded_json
from httpkit.errors import ERROR_RESPONSES
from verification.service import StatusQuery
from verification.verdict import FRAGMENT_MESSAGES, MESSAGES, VERDICT_MESSAGES, Verdict
from verifier.api.deps import RuntimeDep
from verifier.api.verifying import answer, bad, record

router = APIRouter(prefix="/v1", tags=["verify"])

_BYTES32 = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
_TIME = {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$"}
_QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The document's members of the same names (docs/FORMAT.md section 7); no field value",
    "properties": {
        "type": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64},
        "issuer": {
            "type": "object",
            "properties": {
                "department": _BYTES32,
                "chainId": {"type": "integer", "minimum": 1, "maximum": 2**53 - 1},
                "registry": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"},
            },
            "required": ["department", "chainId", "registry"],
            "additionalProperties": False,
        },
        "validity": {
            "type": "object",
            "properties": {"validFrom": _TIME, "validUntil": {"oneOf": [_TIME, {"type": "null"}]}},
            "required": ["validFrom", "validUntil"],
            "additionalProperties": False,
        },
        "merkleRoot": _BYTES32,
        "targetHash": _BYTES32,
        "version": {"type": "string", "enum": ["ereg/1", "ereg/1-sm"], "default": "ereg/1"},
        "signature": {
            "type": "object",
            "description": "An ereg/1-sm document's proof.signature: the department's SM2 signature of its root",
            "properties": {
                "alg": {"type": "string", "enum": ["SM2"]},
                "key": {"type": "string", "pattern": "^0x[0-9a-f]{128}$"},
                "value": {"type": "string", "pattern": "^0x[0-9a-f]{128}$"},
            },
            "required": ["alg", "key", "value"],
            "additionalProperties": False,
        },
    },
    "required": ["type", "issuer", "validity", "merkleRoot", "targetHash"],
    "additionalProperties": False,
}


@router.post(
    "/status",
    summary="A document's status on chain, without its content",
    description=(
        "For a document whose integrity the caller checked itself (the citizen page does, in the browser): "
        "its `type`, `issuer`, `validity`, `merkleRoot` and `targetHash`, no field value. Answers the "
        "DOCUMENT_STATUS, ISSUER_IDENTITY and PROPERTY_STATUS or MORTGAGE_STATUS fragments of `POST /v1/verify`, "
        "with the same codes and messages; the verdict is theirs alone. A registry fragment's `details.unit` is "
        "the unit the chain links the certificate to: the caller compares it with the unit the certificate names."
    ),
    response_model=Verdict,
    responses=ERROR_RESPONSES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _QUERY_SCHEMA}}}},
)
async def document_status(request: Request, runtime: RuntimeDep) -> Response:
    started = time.perf_counter()
    query = parse_query(guarded_json(request))
    verdict = await answer(runtime, lambda: runtime.service.verify_status(query))
    record(runtime, verdict, started)
    return Response(verdict.model_dump_json(by_alias=True), media_type="application/json")


def _pair(message: tuple[str, str]) -> dict[str, str]:
    return {"message": message[0], "message_zh": message[1]}


#: Every verdict's and code's messages, as ``POST /v1/verify`` words them: the citizen page builds
#: the fragments it checks itself (integrity, storage, the unit it holds) with these.
MESSAGE_TABLE: dict[str, Any] = {
    "verdicts": {status.value: _pair(pair) for status, pair in VERDICT_MESSAGES.items()},
    "codes": {code: _pair(pair) for code, pair in MESSAGES.items()},
    "fragmentCodes": {
        name.value: {code: _pair(pair) for (other, code), pair in FRAGMENT_MESSAGES.items() if other is name}
        for name in {name for name, _code in FRAGMENT_MESSAGES}
    },
    # a status change's reason code (the verdict's ``status.reason``) in words
    "reasons": {str(code): _pair(pair) for code, pair in REASONS.items()},
}


@router.get("/messages", summary="The verdicts', codes' and status reasons' messages, in English and Chinese")
async def messages() -> Response:
    return JSONResponse(MESSAGE_TABLE, headers={"Cache-Control": "public, max-age=3600"})


def parse_query(value: Any) -> StatusQuery:
    """The query in a JSON body the guard parsed; 400 INVALID_REQUEST naming the first bad member."""
    if not isinstance(value, dict):
        raise bad("INVALID_REQUEST", "the body must be a JSON object", "请求体必须是 JSON 对象")
    try:
        return StatusQuery.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        pointer = "/" + "/".join(str(part) for part in error["loc"])
        raise bad(
            "INVALID_REQUEST",
            f"{pointer}: {error['msg']}",
            f"{pointer}：取值无效（须与证照中同名成员的格式一致，见 docs/FORMAT.md 第 7 节）",
        ) from None
