"""POST /v1/anchors (department-signed batch roots) and GET /v1/anchors/{root}[?department=]."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse

from chain.errors import ChainError
from chain.types import department_id
from registry_api.api.deps import RuntimeDep
from registry_api.api.routes.requests import status_of
from registry_api.errors import ErrorBody, RelayError
from registry_api.messages import AcceptedResponse, AnchorRequest, AnchorView, ChainAnchor, to_bytes, to_hex

router = APIRouter(prefix="/v1", tags=["anchors"])

_ROOT = re.compile(r"^0x[0-9a-fA-F]{64}$")

REFUSALS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    401: {"model": ErrorBody, "description": "BAD_SIGNATURE, UNKNOWN_KEY, EXPIRED"},
    403: {"model": ErrorBody, "description": "WRONG_CHAIN, KEY_NOT_VALID, NOT_AUTHORIZED"},
    409: {"model": ErrorBody, "description": "ALREADY_ANCHORED, ALREADY_QUEUED, NONCE_USED, ..."},
    413: {"model": ErrorBody, "description": "PAYLOAD_TOO_LARGE, TOO_MANY_ITEMS"},
    422: {"model": ErrorBody, "description": "INVALID_REQUEST and refusals by the registry's rules"},
    503: {"model": ErrorBody, "description": "CHAIN_UNAVAILABLE: nothing was stored"},
}


def check_count(count: int, limit: int) -> None:
    if count > limit:
        raise RelayError(
            413, "TOO_MANY_ITEMS", f"{count} items; at most {limit} per request", f"单次请求最多 {limit} 项"
        )


@router.post(
    "/anchors",
    status_code=202,
    response_model=AcceptedResponse,
    summary="Relay department-signed batch roots (EIP-712 Anchor) to the chain",
    responses=REFUSALS,
)
def post_anchors(items: Annotated[list[AnchorRequest], Body(min_length=1)], runtime: RuntimeDep) -> JSONResponse:
    check_count(len(items), runtime.settings.max_items)
    accepted = runtime.relay.accept_anchors(items)
    for item in accepted:
        runtime.metrics.accepted.labels("anchor", str(item.duplicate).lower()).inc()
    body = AcceptedResponse(requests=accepted)
    return JSONResponse(body.model_dump(mode="json"), status_code=202)


@router.get(
    "/anchors/{root}",
    response_model=AnchorView,
    summary="The relay's requests for a department's root and what the chain says of that department's anchor",
    responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
def get_anchor(
    root: Annotated[
        str,
        # documented for clients; checked below so that a bad root is 400 INVALID_ROOT, not a generic 422
        Path(description="Merkle root: 0x and 64 hex digits", json_schema_extra={"pattern": _ROOT.pattern}),
    ],
    runtime: RuntimeDep,
    department: Annotated[
        str | None,
        Query(
            max_length=66,
            description="The department whose anchor is asked about: its 0x id (keccak256 of its code) or its "
            "code, e.g. LA-SAMR. Default: the department of the relay's requests for the root. Anchors are "
            "per department: another department may anchor the same root, as its own record.",
        ),
    ] = None,
) -> JSONResponse:
    if not _ROOT.match(root):
        raise RelayError(400, "INVALID_ROOT", "a root is 0x and 64 hex digits", "根哈希格式有误")
    root = root.lower()
    records = runtime.queue.by_root(root)
    asked = _department(department)
    if asked is None:
        departments = list(dict.fromkeys(r.department for r in records))
        if len(departments) > 1:
            raise RelayError(
                400,
                "DEPARTMENT_REQUIRED",
                f"the relay holds requests of {len(departments)} departments for {root}: name one with ?department=",
                "该根哈希有多个部门的请求，请用 department 参数指明部门",
            )
        asked = to_bytes(departments[0]) if departments else None
    else:
        records = [r for r in records if r.department == to_hex(asked)]
    if asked is None:
        raise RelayError(
            404,
            "NOT_FOUND",
            f"no request for {root}; name ?department= to ask the chain for a department's anchor",
            "未找到该批次的请求；如需查询链上记录，请用 department 参数指明部门",
        )
    requests = [status_of(r) for r in records]
    chain: ChainAnchor | None
    try:
        status = runtime.registry.document_status(asked, to_bytes(root))
    except ChainError:
        chain = None
    else:
        chain = ChainAnchor(anchored=False, department=to_hex(asked))
        if status.anchored:
            chain = ChainAnchor(
                anchored=True,
                department=to_hex(status.department),
                signer=status.signer,
                docType=to_hex(status.doc_type),
                count=status.count,
                anchoredAt=status.anchored_at,
            )
    if not requests and (chain is None or not chain.anchored):
        if chain is None:
            raise RelayError(
                503, "CHAIN_UNAVAILABLE", "unknown to the relay, and the chain cannot be reached", "暂时无法连接区块链"
            )
        raise RelayError(
            404,
            "NOT_FOUND",
            f"no request for {root} of department {to_hex(asked)}, and it has not anchored it",
            "未找到该部门的该批次",
        )
    view = AnchorView(root=root, department=to_hex(asked), requests=requests, chain=chain)
    return JSONResponse(view.model_dump(mode="json", by_alias=True))


def _department(value: str | None) -> bytes | None:
    if value is None or value == "":
        return None
    if value.startswith("0x"):
        if not _ROOT.match(value):
            raise RelayError(400, "INVALID_DEPARTMENT", "a department id is 0x and 64 hex digits", "部门标识格式有误")
        return to_bytes(value.lower())
    return department_id(value)
