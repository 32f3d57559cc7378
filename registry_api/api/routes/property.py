"""The property workflow: every step signed by the acting department, relayed by the platform.

POST answers 200 with the step's events once mined, or 202 SUBMITTED if it is not mined within
the relay's wait; sending the same signed step again is safe and answers with its outcome.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from chain.property import CaseKind, PropertyCall, TransferCase, jsonable
from chain.types import ZERO32
from common.errors import EregError
from httpkit.body import GuardedRoute
from httpkit.errors import ErrorBody
from registry_api.api.common import READ_REFUSALS, REFUSALS
from registry_api.api.deps import RuntimeDep
from registry_api.errors import RelayError
from registry_api.messages import UINT64_MAX, to_bytes
from registry_api.property import EXECUTED, StepResult
from registry_api.property_messages import (
    UINT32_MAX,
    ApprovalRequest,
    Authorization,
    ConsentRequest,
    CorrectionRequest,
    MortgageRequest,
    ReasonRequest,
    ReleaseRequest,
    SeizureRequest,
    StepView,
    TitleRequest,
)
from registry_api.runtime import Runtime

router = APIRouter(prefix="/v1/property", tags=["property"], route_class=GuardedRoute)

_UNIT = re.compile(r"^0x[0-9a-fA-F]{64}$")

STEP_RESPONSES: dict[int | str, dict[str, Any]] = {
    **REFUSALS,
    202: {"model": StepView, "description": "SUBMITTED: sent, not yet mined; send the same step again to learn more"},
    404: {"model": ErrorBody, "description": "UNKNOWN_UNIT, UNKNOWN_CASE, UNKNOWN_MORTGAGE, UNKNOWN_SEIZURE"},
    409: {
        "model": ErrorBody,
        "description": "NONCE_USED, UNIT_SEIZED, ALREADY_APPROVED, STALE_ROUND, WRONG_CASE_KIND, CERTIFICATE_IN_USE,"
        " ...",
    },
    503: {"model": ErrorBody, "description": "CHAIN_UNAVAILABLE, PROPERTY_REGISTRY_UNAVAILABLE: nothing was sent"},
}

UnitPath = Annotated[
    str,
    Path(
        alias="unitId",
        description="Unit id: keccak256(unitSalt ‖ utf8(unitNumber)) of a certificate of the unit, as 0x and 64 hex",
        json_schema_extra={"pattern": _UNIT.pattern},
    ),
]
CasePath = Annotated[
    int,
    Path(alias="caseId", ge=1, le=UINT64_MAX, description="Case id (transfer and correction cases share numbering)"),
]
#: A case is read with its unit's id: case ids count up from 1, and a case names its unit, so a
#: read by the number alone would hand anyone every unit's id (and with it the unit's records).
CaseUnitQuery = Annotated[
    str,
    Query(
        alias="unitId",
        description="The id of the case's unit (as for /units/{unitId}); another unit's id answers 404 UNKNOWN_CASE",
        json_schema_extra={"pattern": _UNIT.pattern},
    ),
]
MortgagePath = Annotated[int, Path(alias="mortgageId", ge=1, le=UINT32_MAX)]
SeizurePath = Annotated[int, Path(alias="seizureId", ge=1, le=UINT32_MAX)]


def _unit(value: str) -> bytes:
    # checked here so that a bad unit id is 400 INVALID_UNIT, not a generic 422
    if not _UNIT.match(value):
        raise RelayError(400, "INVALID_UNIT", "a unit id is 0x and 64 hex digits", "不动产单元标识格式有误")
    unit = to_bytes(value)
    if unit == bytes(32):
        raise RelayError(400, "INVALID_UNIT", "the unit id must not be zero", "不动产单元标识不能为零")
    return unit


def _refused(runtime: Runtime, function: str, error: RelayError) -> RelayError:
    """A step the relay refuses itself, before any signature check or send (counted like the registry's)."""
    runtime.metrics.property_steps.labels(function, error.code).inc()
    return error


async def _step(runtime: Runtime, call: PropertyCall, auth: Authorization) -> JSONResponse:
    def submit() -> StepResult:
        return runtime.property.submit(
            call,
            nonce=auth.nonce,
            deadline=auth.deadline,
            signature=to_bytes(auth.signature),
            chain_id=auth.chain_id,
            registry=auth.registry,
        )

    try:
        # a step may wait property_wait seconds to be mined: its deadline allows for that
        result = await runtime.on_chain(submit, deadline=runtime.settings.property_deadline())
    except EregError as refused:
        runtime.metrics.property_steps.labels(call.function, refused.code).inc()
        raise
    outcome = "DUPLICATE" if result.duplicate else result.state
    runtime.metrics.property_steps.labels(call.function, outcome).inc()
    view = StepView.model_validate(
        {
            "state": result.state,
            "duplicate": result.duplicate,
            "function": result.function,
            "signer": result.signer,
            "txHash": result.tx_hash,
            "block": result.block,
            "gasUsed": result.gas_used,
            "events": [{"event": e.event, "args": e.args, "logIndex": e.log_index} for e in result.events],
        }
    )
    status = 200 if result.state == EXECUTED else 202
    return JSONResponse(view.model_dump(mode="json", by_alias=True), status_code=status)


# ---------------------------------------------------------------------------------- units
@router.post(
    "/units/{unitId}",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Register a unit with its property certificate and co-owners (NATRES)",
)
async def register_unit(unit: UnitPath, body: TitleRequest, runtime: RuntimeDep) -> JSONResponse:
    call = PropertyCall.register_unit(_unit(unit), body.certificate.certificate(), body.owner_list())
    return await _step(runtime, call, body)


@router.get(
    "/units/{unitId}",
    summary="A unit's current state on the chain: certificate, owners, mortgages, seizures, open case",
    responses=READ_REFUSALS,
)
async def get_unit(unit: UnitPath, runtime: RuntimeDep) -> JSONResponse:
    unit_b = _unit(unit)
    state = await runtime.on_chain(lambda: runtime.property.read(lambda prop: prop.unit_state(unit_b)))
    if not state.registered:
        raise RelayError(404, "UNKNOWN_UNIT", f"unit {unit} is not registered", "不动产单元未登记")
    return JSONResponse(_view(state))


@router.post(
    "/units/{unitId}/transfers",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Open a transfer case at the window with the new certificate and owners (NATRES)",
)
async def open_transfer(unit: UnitPath, body: TitleRequest, runtime: RuntimeDep) -> JSONResponse:
    call = PropertyCall.open_transfer(_unit(unit), body.certificate.certificate(), body.owner_list())
    return await _step(runtime, call, body)


@router.post(
    "/units/{unitId}/mortgages",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Register the signing bank's mortgage, evidenced by a mortgage certificate (BANK)",
)
async def register_mortgage(unit: UnitPath, body: MortgageRequest, runtime: RuntimeDep) -> JSONResponse:
    call = PropertyCall.register_mortgage(_unit(unit), body.certificate.certificate())
    return await _step(runtime, call, body)


@router.post(
    "/units/{unitId}/mortgages/{mortgageId}/release",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Release the signing bank's own mortgage (BANK)",
)
async def release_mortgage(
    unit: UnitPath, mortgage_id: MortgagePath, body: ReleaseRequest, runtime: RuntimeDep
) -> JSONResponse:
    return await _step(runtime, PropertyCall.release_mortgage(_unit(unit), mortgage_id), body)


@router.post(
    "/units/{unitId}/seizures",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Seize (查封) a unit by the signing court's ruling (COURT)",
)
async def register_seizure(unit: UnitPath, body: SeizureRequest, runtime: RuntimeDep) -> JSONResponse:
    return await _step(runtime, PropertyCall.register_seizure(_unit(unit), to_bytes(body.ruling)), body)


@router.post(
    "/units/{unitId}/seizures/{seizureId}/release",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Release the signing court's own seizure (COURT)",
)
async def release_seizure(
    unit: UnitPath, seizure_id: SeizurePath, body: ReleaseRequest, runtime: RuntimeDep
) -> JSONResponse:
    return await _step(runtime, PropertyCall.release_seizure(_unit(unit), seizure_id), body)


# ---------------------------------------------------------------------------------- cases
@router.get(
    "/transfers/{caseId}",
    summary="A case on the chain, whatever its state (its kind says TRANSFER or CORRECTION)",
    responses=READ_REFUSALS,
)
async def get_transfer(case_id: CasePath, unit: CaseUnitQuery, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(_view(await _case_of(runtime, case_id, unit)))


@router.post(
    "/transfers/{caseId}/approvals",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Approve a case as NATRES, TAX or HOUSING (one role, one department each); the last finalizes it",
)
async def approve(case_id: CasePath, body: ApprovalRequest, runtime: RuntimeDep) -> JSONResponse:
    if len(body.roles) != 1:
        # The registry refuses it (PropertyRegistryInvalidApprovalRoles); the relay does not send it.
        raise _refused(
            runtime,
            "approveTransfer",
            RelayError(
                422,
                "INVALID_APPROVAL_ROLES",
                f"an approval names exactly one role (NATRES, TAX or HOUSING), not {len(body.roles)}: each role is "
                "approved by its own department",
                "每次审核须且只能选择一个职能（自然资源、税务或住建），各职能由各自部门分别审核",
            ),
        )
    return await _step(runtime, PropertyCall.approve_transfer(case_id, body.round, body.role_flags()), body)


@router.post(
    "/transfers/{caseId}/rejection",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Reject a case for good (NATRES, TAX or HOUSING)",
)
async def reject(case_id: CasePath, body: ReasonRequest, runtime: RuntimeDep) -> JSONResponse:
    return await _step(runtime, PropertyCall.reject_transfer(case_id, body.reason), body)


@router.post(
    "/transfers/{caseId}/return",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Return a case for correction; its approvals no longer count (NATRES, TAX or HOUSING)",
)
async def return_case(case_id: CasePath, body: ReasonRequest, runtime: RuntimeDep) -> JSONResponse:
    return await _step(runtime, PropertyCall.return_transfer(case_id, body.reason), body)


@router.post(
    "/transfers/{caseId}/resubmission",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Resubmit a returned case, corrected: a new round with no approvals (NATRES)",
)
async def resubmit(case_id: CasePath, body: TitleRequest, runtime: RuntimeDep) -> JSONResponse:
    call = PropertyCall.resubmit_transfer(case_id, body.certificate.certificate(), body.owner_list())
    return await _step(runtime, call, body)


@router.post(
    "/transfers/{caseId}/cancellation",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Cancel a case at the window (NATRES)",
)
async def cancel(case_id: CasePath, body: ReasonRequest, runtime: RuntimeDep) -> JSONResponse:
    return await _step(runtime, PropertyCall.cancel_transfer(case_id, body.reason), body)


@router.post(
    "/transfers/{caseId}/consents",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Consent, as the mortgagee bank, to the transfer in the case's current round (BANK)",
)
async def consent(case_id: CasePath, body: ConsentRequest, runtime: RuntimeDep) -> JSONResponse:
    return await _step(runtime, PropertyCall.consent_to_transfer(case_id, body.round, body.mortgage_id), body)


# ------------------------------------------------------------------------------ corrections
@router.post(
    "/units/{unitId}/corrections",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Open a correction case (更正登记): a corrected certificate and owners, or neither to revoke the title"
    " (NATRES)",
)
async def open_correction(unit: UnitPath, body: CorrectionRequest, runtime: RuntimeDep) -> JSONResponse:
    unit_b = _unit(unit)
    certificate = body.certificate_or_none()
    if (certificate is None and body.owners) or (
        certificate is not None and (not body.owners or certificate.target == ZERO32)
    ):
        # the registry reads a zero certificate as "revoke": the body must say one thing or the other
        raise _refused(
            runtime,
            "openCorrection",
            RelayError(
                422,
                "INVALID_CORRECTION",
                "a correction either replaces the title (a certificate with a non-zero target, and its owners) or "
                "revokes it (no certificate, no owners)",
                "更正登记须提供新证书及其权利人，或在撤销权属证书时两者均不提供",
            ),
        )
    call = PropertyCall.open_correction(unit_b, certificate, body.owner_list(), body.reason)
    return await _step(runtime, call, body)


@router.get(
    "/corrections/{caseId}",
    summary="A correction case on the chain, whatever its state",
    responses=READ_REFUSALS,
)
async def get_correction(case_id: CasePath, unit: CaseUnitQuery, runtime: RuntimeDep) -> JSONResponse:
    case = await _case_of(runtime, case_id, unit)
    if case.kind is not CaseKind.CORRECTION:
        raise RelayError(
            404,
            "UNKNOWN_CASE",
            f"case {case_id} is a transfer case, not a correction (GET /v1/property/transfers/{case_id})",
            "该案件为转移登记案件，不是更正登记",
        )
    return JSONResponse(_view(case))


async def _case_of(runtime: Runtime, case_id: int, unit: str) -> TransferCase:
    """Case ``case_id`` if it is a case of ``unit``; an unknown case and another unit's case are
    the same 404, which names neither the case's unit nor whether the number exists."""
    unit_b = _unit(unit)
    unknown = RelayError(404, "UNKNOWN_CASE", "no such case on this unit", "该不动产单元无此登记案件")
    try:
        case = await runtime.on_chain(lambda: runtime.property.read(lambda prop: prop.transfer_case(case_id)))
    except RelayError as exc:
        if exc.code == "UNKNOWN_CASE":
            raise unknown from None
        raise
    if case.unit_id != unit_b:
        raise unknown
    return case


@router.post(
    "/corrections/{caseId}/approvals",
    response_model=StepView,
    responses=STEP_RESPONSES,
    summary="Approve a correction case as a second department (NATRES, TAX, HOUSING or COURT; not the opener):"
    " it takes effect at once",
)
async def approve_correction(case_id: CasePath, body: ReleaseRequest, runtime: RuntimeDep) -> JSONResponse:
    return await _step(runtime, PropertyCall.approve_correction(case_id), body)


def _view(value: Any) -> Any:
    """A chain.property record as JSON: camelCase keys, bytes as hex, enums by name, roles as a list."""
    if isinstance(value, enum.Flag):
        return [m.name for m in type(value) if m.value and m in value]
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): _view(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_view(v) for v in value]
    return jsonable(value)


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)
