"""GET /v1/requests/{id}: where an accepted request is on its way to the chain.

Ids are 128 random bits (32 hex digits), given out in the POST answer to the department that
signed the request. Any other path answers the same 404, whether it is shaped like an id or
not (a counter, a typo, an old integer id): the answer never tells which ids exist, and a
client needs one case only, "unknown". The id is not echoed back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from httpkit.body import GuardedRoute
from registry_api.api.common import READ_REFUSALS, status_of
from registry_api.api.deps import RuntimeDep
from registry_api.errors import RelayError
from registry_api.messages import REQUEST_ID_DESCRIPTION, RequestStatus
from registry_api.queue import REQUEST_ID

router = APIRouter(prefix="/v1", tags=["requests"], route_class=GuardedRoute)



def _not_found() -> RelayError:
    return RelayError(404, "NOT_FOUND", "no such request", "未找到该请求")


@router.get(
    "/requests/{request_id}",
    response_model=RequestStatus,
    summary="State of an accepted request: QUEUED, SUBMITTED, ANCHORED, FINAL or REJECTED "
    "(its root and transaction once ANCHORED or FINAL)",
    responses=READ_REFUSALS,
)
async def get_request(
    request_id: Annotated[
        str,
        # documented for clients; checked below so that a malformed id is the same 404 as an unknown one
        Path(description=REQUEST_ID_DESCRIPTION, json_schema_extra={"pattern": "^[0-9a-fA-F]{32}$"}),
    ],
    runtime: RuntimeDep,
) -> JSONResponse:
    wanted = request_id.lower()  # upper case is read as the same id (hex is hex); anything else is no id
    if not REQUEST_ID.fullmatch(wanted):
        raise _not_found()
    # the queue only: answered while the node hangs
    record = await runtime.on_queue(lambda: runtime.queue.get(wanted))
    if record is None:
        raise _not_found()
    return JSONResponse(status_of(record).model_dump(mode="json", by_alias=True))
