"""GET /v1/requests/{id}: where an accepted request is on its way to the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from registry_api.api.deps import RuntimeDep
from registry_api.errors import ErrorBody, RelayError
from registry_api.messages import RequestStatus
from registry_api.queue import RequestRecord

router = APIRouter(prefix="/v1", tags=["requests"])


def status_of(record: RequestRecord) -> RequestStatus:
    return RequestStatus(
        id=record.id,
        kind=record.kind,
        state=record.state,
        root=record.root,
        targetHash=record.target,
        signer=record.signer,
        department=record.department,
        txHash=record.tx_hash,
        block=record.block,
        reason=record.reason,
        createdAt=record.created_at,
        updatedAt=record.updated_at,
    )


@router.get(
    "/requests/{request_id}",
    response_model=RequestStatus,
    summary="State of an accepted request: QUEUED, SUBMITTED, ANCHORED, FINAL or REJECTED",
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def get_request(request_id: Annotated[int, Path(ge=1, le=2**63 - 1)], runtime: RuntimeDep) -> JSONResponse:
    record = runtime.queue.get(request_id)
    if record is None:
        raise RelayError(404, "NOT_FOUND", f"no request {request_id}", "未找到该请求")
    return JSONResponse(status_of(record).model_dump(mode="json", by_alias=True))
