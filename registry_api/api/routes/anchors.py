"""POST /v1/anchors (department-signed batch roots) and GET /v1/anchors/{root}[?department=]."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse

from chain.errors import ChainError
from chain.types import department_id
from httpkit.body import GuardedRoute
from registry_api.api.common import READ_REFUSALS, REFUSALS, check_count, status_of
from registry_api.api.deps import RuntimeDep
from registry_api.errors import RelayError
from registry_api.messages import AcceptedResponse, AnchorRequest, AnchorView, ChainAnchor, to_bytes, to_hex
from registry_api.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["anchors"], route_class=GuardedRoute)

_ROOT = re.compile(r"^0x[0-9a-fA-F]{64}$")


@router.post(
    "/anchors",
    status_code=202,
    response_model=AcceptedResponse,
    summary="Relay department-signed batch roots (EIP-712 Anchor) to the chain",
    responses=REFUSALS,
)
async def post_anchors(items: Annotated[list[AnchorRequest], Body(min_length=1)], runtime: RuntimeDep) -> JSONResponse:
    check_count(len(items), runtime.settings.max_items)
    accepted = await runtime.on_chain(lambda: runtime.relay.accept_anchors(items))
    for item in accepted:
        runtime.metrics.accepted.labels("anchor", str(item.duplicate).lower()).inc()
    body = AcceptedResponse(requests=accepted)
    return JSONResponse(body.model_dump(mode="json"), status_code=202)


@router.get(
    "/anchors/{root}",
    response_model=AnchorView,
    summary="The relay's requests for a department's root and what the chain says of that department's anchor",
    responses=READ_REFUSALS,
)
async def get_anchor(
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
    asked = _department(department)
    view = await runtime.on_chain(lambda: _anchor_view(runtime, root.lower(), asked))
    return JSONResponse(view.model_dump(mode="json", by_alias=True))


def _anchor_view(runtime: Runtime, root: str, asked: bytes | None) -> AnchorView:
    """The relay's requests for ``root`` and the chain's record of the department's anchor of it."""
    records = runtime.queue.by_root(root)
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
    return AnchorView(root=root, department=to_hex(asked), requests=requests, chain=chain)


def _department(value: str | None) -> bytes | None:
    if value is None or value == "":
        return None
    if value.startswith("0x"):
        if not _ROOT.match(value):
            raise RelayError(400, "INVALID_DEPARTMENT", "a department id is 0x and 64 hex digits", "部门标识格式有误")
        return to_bytes(value.lower())
    return department_id(value)
