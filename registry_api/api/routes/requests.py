"""GET /v1/requests/{id}: where an accepted request is on its way to the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from httpkit.body import GuardedRoute
from registry_api.api.common import READ_REFUSALS, status_of
from registry_api.api.deps import RuntimeDep
from registry_api.errors import RelayError
from registry_api.messages import RequestStatus

router = APIRouter(prefix="/v1", tags=["requests"], route_class=GuardedRoute)


@router.get(
    "/requests/{request_id}",
    response_model=RequestStatus,
    summary="State of an accepted request: QUEUED, SUBMITTED, ANCHORED, FINAL or REJECTED",
    responses=READ_REFUSALS,
)
async def get_request(request_id: Annotated[int, Path(ge=1, le=2**63 - 1)], runtime: RuntimeDep) -> JSONResponse:
    # the queue only: answered while the node hangs
    record = await runtime.on_queue(lambda: runtime.queue.get(request_id))
    if record is None:
        raise RelayError(404, "NOT_FOUND", f"no request {request_id}", "未找到该请求")
    return JSONResponse(status_of(record).model_dump(mode="json", by_alias=True))
