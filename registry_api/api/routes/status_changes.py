"""POST /v1/status-changes: department-signed revoke, suspend, reinstate and supersede."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from httpkit.body import GuardedRoute
from registry_api.api.common import REFUSALS, check_count
from registry_api.api.deps import RuntimeDep
from registry_api.messages import AcceptedResponse, StatusChangeRequest

router = APIRouter(prefix="/v1", tags=["status changes"], route_class=GuardedRoute)


@router.post(
    "/status-changes",
    status_code=202,
    response_model=AcceptedResponse,
    summary="Relay department-signed status changes (EIP-712 StatusChange) to the chain",
    responses=REFUSALS,
)
async def post_status_changes(
    items: Annotated[list[StatusChangeRequest], Body(min_length=1)], runtime: RuntimeDep
) -> JSONResponse:
    check_count(len(items), runtime.settings.max_items)
    accepted = await runtime.on_chain(lambda: runtime.relay.accept_status_changes(items))
    for item in accepted:
        runtime.metrics.accepted.labels("status", str(item.duplicate).lower()).inc()
    body = AcceptedResponse(requests=accepted)
    return JSONResponse(body.model_dump(mode="json"), status_code=202)
