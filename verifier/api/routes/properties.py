"""GET /v1/properties/{unit} and /v1/properties/{unit}/history: a unit's title from the index.

The unit is given only as its on-chain id, the salted commitment
:func:`chain.property.unit_id` = keccak256(unit salt ‖ utf8(unit number)), 0x and 64 hex digits.
Whoever holds one of the unit's certificates can compute it (the certificate carries the number
and the salt); nobody can derive it from a unit number, so the records of a unit (owners' shares,
mortgages, seizures, its chain of title) are seen by the holders of its certificates and the
departments that act on it, as 不动产登记资料查询暂行办法 asks, and units cannot be enumerated.
A plain unit number is refused (400 UNIT_NUMBER_REFUSED): answering it would let anyone look up
any unit. Courts and banks reach a unit through their own signed steps (relay), with the id
from the certificate presented to them. Both answers come from the verifier's index alone (no
chain call) and say how fresh the index is. Owners appear as the chain knows them: salted
commitments and shares, never names or ID numbers.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from chain.property import unit_id
from chain.types import Role
from chainindex import (
    CASE_PROPOSALS,
    CASE_STATE_AFTER,
    ChainIndex,
    MortgageRecord,
    OwnerShare,
    PropertyEventRecord,
    SeizureRecord,
    TitleRecord,
    UnitRecord,
)
from documents import load_schema
from documents.samples import SAMPLE_UNIT_SALT
from httpkit.errors import ErrorBody, HttpError
from verifier.api.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["properties"])

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
#: The unit number as the property certificate's schema defines it (28 characters).
UNIT_NUMBER = re.compile(str(load_schema("property-certificate")["properties"]["unitNumber"]["pattern"]))

UnitPath = Annotated[
    str,
    Path(
        description=(
            "The unit's on-chain id: keccak256(unitSalt ‖ utf8(unitNumber)) of a certificate of the unit, "
            "as 0x and 64 hex digits. A plain unit number is refused (400 UNIT_NUMBER_REFUSED)."
        ),
        max_length=200,
        openapi_examples={
            "unit id": {
                "value": "0x" + unit_id("341502001001GB00001F00010001", bytes.fromhex(SAMPLE_UNIT_SALT[2:])).hex()
            },
        },
    ),
]


# ------------------------------------------------------------------------------- models
class _Model(BaseModel):
    model_config = {"populate_by_name": True}


class DepartmentRef(_Model):
    id: str
    name: str | None = None


class OwnerView(_Model):
    commitment: str = Field(description="Salted commitment to the owner (never a name or ID number)")
    share_basis_points: int = Field(alias="shareBasisPoints", description="Share in basis points (10,000 = all)")


class CurrentCertificate(_Model):
    target: str = Field(description="Target hash of the current property certificate")
    root: str = Field(description="Batch root the certificate was anchored under")
    since: str
    block: int
    case_id: int | None = Field(
        alias="caseId", description="The transfer or correction case that made it current; null: registration"
    )


class MortgageView(_Model):
    id: int
    bank: DepartmentRef
    certificate: str = Field(description="Target hash of the mortgage certificate")
    since: str
    released_at: str | None = Field(default=None, alias="releasedAt")


class SeizureView(_Model):
    id: int
    court: DepartmentRef
    ruling: str = Field(description="Hash of the court's ruling")
    since: str
    released_at: str | None = Field(default=None, alias="releasedAt")


class CaseView(_Model):
    id: int
    kind: str = Field(description="TRANSFER or CORRECTION (更正登记)")
    state: str = Field(description="OPEN or RETURNED")
    round: int
    certificate: str | None = Field(
        description="Target hash of the certificate the case proposes (null: a correction that revokes the title)"
    )
    opened_at: str = Field(alias="openedAt")
    approved_roles: list[str] = Field(alias="approvedRoles", description="Approvals of the current round")


class IndexView(_Model):
    block: int = Field(description="Last block the index has read")
    synced_at: str | None = Field(alias="syncedAt")
    fresh: bool = Field(description="Whether the index synced within the verifier's maximum index age")


class PropertyUnitView(_Model):
    unit: str = Field(description="The unit's hash (its key on chain)")
    registered: bool = Field(
        description="Whether the unit has a title (false after a correction revoked it, until registered again)"
    )
    registered_at: str = Field(alias="registeredAt")
    registered_block: int = Field(alias="registeredBlock")
    registered_by: DepartmentRef = Field(alias="registeredBy")
    certificate: CurrentCertificate | None = Field(description="The current title; null when the unit has none")
    owners: list[OwnerView]
    mortgages: list[MortgageView] = Field(description="Active mortgages (informational)")
    seizures: list[SeizureView] = Field(description="Active seizures: while any is active the unit is frozen")
    frozen: bool
    open_case: CaseView | None = Field(alias="openCase")
    index: IndexView


class TitleView(_Model):
    certificate: str = Field(description="Target hash of the certificate")
    root: str
    since: str
    case_id: int | None = Field(alias="caseId")
    owners: list[OwnerView]
    superseded_by: str | None = Field(alias="supersededBy", description="The certificate that replaced it")
    superseded_at: str | None = Field(alias="supersededAt", description="When it stopped being the title")
    superseded_case: int | None = Field(alias="supersededCase", description="The case that ended it")
    end_reason: int | None = Field(
        alias="endReason",
        description="Why it ended: 9 transferred, 11 corrected (replaced, or revoked when supersededBy is null)",
    )


class PropertyEventView(_Model):
    block: int
    log_index: int = Field(alias="logIndex")
    time: str
    transaction: str
    event: str
    case_id: int | None = Field(default=None, alias="caseId")
    department: DepartmentRef | None = Field(
        default=None,
        description="The acting department (the bank, the court; the last approver of a finalization or "
        "correction); null for the council",
    )
    certificate: str | None = Field(
        default=None, description="Target hash of the certificate the event names (null: none, e.g. a revocation)"
    )
    certificate_root: str | None = Field(default=None, alias="certificateRoot")
    previous_certificate: str | None = Field(default=None, alias="previousCertificate")
    round: int | None = None
    roles: list[str] | None = None
    reason: int | None = None
    mortgage_id: int | None = Field(default=None, alias="mortgageId")
    seizure_id: int | None = Field(default=None, alias="seizureId")
    ruling: str | None = None
    owners: list[OwnerView] | None = None


class PropertyHistory(_Model):
    unit: str
    current: PropertyUnitView
    titles: list[TitleView] = Field(description="Every certificate the unit had, oldest first")
    mortgages: list[MortgageView] = Field(description="Every mortgage, released ones included")
    seizures: list[SeizureView] = Field(description="Every seizure, released ones included")
    events: list[PropertyEventView] = Field(description="The chain of title: every event of the unit, in chain order")


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A plain unit number (UNIT_NUMBER_REFUSED): units are asked by their id"},
    404: {"model": ErrorBody, "description": "Unknown unit, or no property registry followed"},
    422: {"model": ErrorBody, "description": "Not a unit id (0x and 64 hex digits)"},
}


# ------------------------------------------------------------------------------- routes
@router.get(
    "/properties/{unit}",
    summary="Current state of a property unit",
    description="The unit's current certificate, owners' shares, active mortgages and seizures and open "
    "transfer case, from the verifier's index.",
    response_model=PropertyUnitView,
    responses=_RESPONSES,
)
def get_property(unit: UnitPath, runtime: RuntimeDep) -> PropertyUnitView:
    index = runtime.index
    record = _unit_record(index, unit)
    return _current(index, record, index.property_events(record.unit), runtime.settings.max_index_age)


@router.get(
    "/properties/{unit}/history",
    summary="Chain of title of a property unit",
    description="The unit's current summary, every certificate it had, every mortgage and seizure, and every "
    "event keyed by the unit in chain order, from the verifier's index.",
    response_model=PropertyHistory,
    responses=_RESPONSES,
)
def get_property_history(unit: UnitPath, runtime: RuntimeDep) -> PropertyHistory:
    index = runtime.index
    record = _unit_record(index, unit)
    events = index.property_events(record.unit)
    names: dict[bytes, str | None] = {}
    return PropertyHistory(
        unit=_hex(record.unit),
        current=_current(index, record, events, runtime.settings.max_index_age, names),
        titles=[_title(t) for t in index.titles(record.unit)],
        mortgages=[_mortgage(index, m, names) for m in index.mortgages(record.unit)],
        seizures=[_seizure(index, z, names) for z in index.seizures(record.unit)],
        events=[_event(index, e, names) for e in events],
    )


# ------------------------------------------------------------------------------ helpers
def parse_unit(value: str) -> bytes:
    """The unit id from its 0x form; HttpError 400 for a plain unit number, 422 for anything else."""
    if _HEX32.fullmatch(value):
        return bytes.fromhex(value[2:])
    if UNIT_NUMBER.fullmatch(value.strip()):
        raise HttpError(
            400,
            "UNIT_NUMBER_REFUSED",
            "a unit is looked up by its id (the keccak256 of a certificate's unitSalt and unitNumber), "
            "not by its unit number",
            "不动产单元须以其标识查询（证书所载单元盐值与单元号的 keccak256 哈希），不接受不动产单元号",
        )
    raise HttpError(
        422,
        "INVALID_UNIT",
        "give the unit's id: 0x and 64 hex digits, the keccak256 of a certificate's unitSalt and unitNumber",
        "请提供不动产单元标识：0x 加 64 位十六进制数字，即证书所载单元盐值与单元号的 keccak256 哈希",
    )


def _unit_record(index: ChainIndex, value: str) -> UnitRecord:
    unit = parse_unit(value)
    if not index.follows_property:
        raise HttpError(
            404,
            "PROPERTY_REGISTRY_NOT_FOUND",
            "this verifier follows no property registry",
            "本核验服务未接入不动产登记合约",
        )
    record = index.property_unit(unit)
    if record is None:
        raise HttpError(
            404,
            "UNKNOWN_UNIT",
            "no property unit with this id is registered",
            "未找到该不动产单元的登记记录",
        )
    return record


def _current(
    index: ChainIndex,
    record: UnitRecord,
    events: list[PropertyEventRecord],
    max_index_age: float,
    names: dict[bytes, str | None] | None = None,
) -> PropertyUnitView:
    names = {} if names is None else names
    mortgages = [_mortgage(index, m, names) for m in index.mortgages(record.unit, active_only=True)]
    seizures = [_seizure(index, z, names) for z in index.seizures(record.unit, active_only=True)]
    head = index.head()
    return PropertyUnitView(
        unit=_hex(record.unit),
        registeredAt=_iso(record.registered_at),
        registeredBlock=record.registered_block,
        registered=record.registered,
        registeredBy=_department(index, record.registered_by, names),
        certificate=CurrentCertificate(
            target=_hex(record.cert_target),
            root=_hex(record.cert_root),
            since=_iso(record.since),
            block=record.since_block,
            caseId=record.case_id,
        )
        if record.registered
        else None,
        owners=_owners(record.owners),
        mortgages=mortgages,
        seizures=seizures,
        frozen=bool(seizures),
        openCase=_open_case(events),
        index=IndexView(
            block=head.block_number,
            syncedAt=_iso(int(head.synced_at)) if head.synced_at is not None else None,
            fresh=head.synced_at is not None and time.time() - head.synced_at <= max_index_age,
        ),
    )


def _open_case(events: list[PropertyEventRecord]) -> CaseView | None:
    """The unit's open or returned case (transfer or correction), replayed from its events."""
    cases: dict[int, dict[str, Any]] = {}
    last: int | None = None
    for event in events:
        if event.case_id is None or event.name not in CASE_STATE_AFTER:
            continue
        case = cases.setdefault(
            event.case_id,
            {"kind": "TRANSFER", "round": 1, "roles": 0, "certificate": None, "opened": event.timestamp},
        )
        case["state"] = CASE_STATE_AFTER[event.name]
        if event.name in CASE_PROPOSALS:
            if event.name == "CorrectionOpened":
                case["kind"] = "CORRECTION"
            case["certificate"] = _certificate(event.args.get("certTarget"))
            case["round"] = int(event.args.get("round", 1))
            case["roles"] = 0
        elif event.name == "TransferReturned":
            case["roles"] = 0
        elif event.name == "TransferApproved":
            case["roles"] |= int(event.args["roles"])
        last = event.case_id
    if last is None or cases[last]["state"] not in ("OPEN", "RETURNED"):
        return None
    case = cases[last]
    return CaseView(
        id=last,
        kind=case["kind"],
        state=case["state"],
        round=case["round"],
        certificate=case["certificate"],
        openedAt=_iso(case["opened"]),
        approvedRoles=_roles(case["roles"]),
    )


def _title(title: TitleRecord) -> TitleView:
    return TitleView(
        certificate=_hex(title.cert_target),
        root=_hex(title.cert_root),
        since=_iso(title.since),
        caseId=title.case_id,
        owners=_owners(title.owners),
        supersededBy=_hex(title.superseded_by) if title.superseded_by else None,
        supersededAt=_iso(title.superseded_at) if title.superseded_at is not None else None,
        supersededCase=title.superseded_case,
        endReason=title.end_reason,
    )


def _mortgage(index: ChainIndex, mortgage: MortgageRecord, names: dict[bytes, str | None]) -> MortgageView:
    return MortgageView(
        id=mortgage.id,
        bank=_department(index, mortgage.bank, names),
        certificate=_hex(mortgage.cert_target),
        since=_iso(mortgage.registered_at),
        releasedAt=_iso(mortgage.released_at) if mortgage.released_at is not None else None,
    )


def _seizure(index: ChainIndex, seizure: SeizureRecord, names: dict[bytes, str | None]) -> SeizureView:
    return SeizureView(
        id=seizure.id,
        court=_department(index, seizure.court, names),
        ruling=_hex(seizure.ruling),
        since=_iso(seizure.registered_at),
        releasedAt=_iso(seizure.released_at) if seizure.released_at is not None else None,
    )


def _event(index: ChainIndex, event: PropertyEventRecord, names: dict[bytes, str | None]) -> PropertyEventView:
    args = event.args
    owners = args.get("owners")
    return PropertyEventView(
        block=event.block_number,
        logIndex=event.log_index,
        time=_iso(event.timestamp),
        transaction=event.tx_hash,
        event=event.name,
        caseId=event.case_id,
        department=_department(index, event.department, names) if event.department else None,
        certificate=_certificate(args.get("certTarget")),
        certificateRoot=args.get("certRoot"),
        previousCertificate=args.get("previousTarget"),
        round=args.get("round"),
        roles=_roles(int(args["roles"])) if "roles" in args else None,
        reason=args.get("reason"),
        mortgageId=args.get("mortgageId"),
        seizureId=args.get("seizureId"),
        ruling=args.get("ruling"),
        owners=(
            [OwnerView(commitment=o["commitment"], shareBasisPoints=int(o["share"])) for o in owners]
            if owners is not None
            else None
        ),
    )


def _department(index: ChainIndex, department: bytes, names: dict[bytes, str | None]) -> DepartmentRef:
    if department not in names:
        record = index.department(department)
        names[department] = record.name if record is not None else None
    return DepartmentRef(id=_hex(department), name=names[department])


def _certificate(target: str | None) -> str | None:
    """A certificate hash of an event's arguments; None for none (zero: a correction that revokes)."""
    return None if target is None or int(target, 16) == 0 else target


def _owners(owners: tuple[OwnerShare, ...]) -> list[OwnerView]:
    return [OwnerView(commitment=_hex(o.commitment), shareBasisPoints=o.share) for o in owners]


def _roles(bits: int) -> list[str]:
    return [role.name for role in Role if role.name and role & bits]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
