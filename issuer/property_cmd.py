"""``ereg property``: property units, transfer cases, mortgages and seizures (PropertyRegistry).

Each write acts with ``--key``, a signing key of the department whose role the step needs
(NATRES registers units and opens cases; NATRES, TAX and HOUSING approve; a BANK mortgages; a
COURT seizes; NATRES opens a correction (更正登记) that a second department, or the council,
approves). Owners are given as ``IDENTITY:SHARE`` (share in basis points, or a percentage
such as ``60%``); only salted commitments reach the chain, and the salts are printed here to be
kept with the owners' records. The PropertyRegistry is found from ``--property-registry`` /
``EREG_PROPERTY_REGISTRY_ADDRESS`` (as the services name it; ``EREG_PROPERTY_REGISTRY`` too),
else from the deployment record that ``ereg property deploy`` writes.

With ``--via URL`` (or ``EREG_RELAY_URL``) a step is not sent from the key's own account: the key
signs it (EIP-712) and the city platform's relay sends it and answers with its events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_utils.crypto import keccak

from chain.property import (
    APPROVING_ROLES,
    WHOLE_SHARE,
    ActionEvent,
    Certificate,
    Owner,
    PropertyCall,
    PropertyClient,
    certificate_unit,
    deploy_property_registry,
    new_salt,
    new_unit_salt,
    owner_commitment,
)
from chain.types import REASONS, ZERO32, Role
from issuer import parsing
from issuer.context import CliContext, get
from issuer.docs_cmd import load_document
from issuer.errors import InputError, UsageError
from issuer.proposals import DraftGovernor, add_calls, echo_added, read
from issuer.relay_client import RelayClient
from issuer.relayed import DEFAULT_DEADLINE_WINDOW, DeadlineOption, ViaOption, relay_property_step

app = typer.Typer(no_args_is_help=True)

KeyOption = Annotated[str, typer.Option("--key", "-k", help="Signing key of the acting department.")]
UnitArgument = Annotated[
    str,
    typer.Argument(
        help="The unit's 0x id, or a certificate of the unit (.ereg.json) whose unitNumber and unitSalt give it."
    ),
]
CertificateOption = Annotated[Path, typer.Option("--certificate", "-c", help="The certificate (.ereg.json).")]
OwnerOption = Annotated[
    list[str], typer.Option("--owner", "-o", help="IDENTITY:SHARE (basis points or NN%); repeat per co-owner.")
]
ReasonOption = Annotated[int, typer.Option("--reason", "-r", min=0, max=2**16 - 1, help="Reason code.")]

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_META = "ereg.property_registry"
_ROLE_NAMES = {"natres": Role.NATRES, "tax": Role.TAX, "housing": Role.HOUSING}


@app.callback()
def callback(
    ctx: typer.Context,
    property_registry: Annotated[
        str | None,
        typer.Option(
            envvar=["EREG_PROPERTY_REGISTRY_ADDRESS", "EREG_PROPERTY_REGISTRY"],
            help="PropertyRegistry address (else the deployment record).",
        ),
    ] = None,
) -> None:
    ctx.meta[_META] = property_registry


# ------------------------------------------------------------------------------ helpers
@dataclass(frozen=True)
class Outcome:
    """A step's transaction and the registry's events in it (arguments as JSON values)."""

    tx_hash: str
    events: list[ActionEvent]
    relayed: bool

    def event(self, name: str) -> dict[str, Any] | None:
        return next((e.args for e in self.events if e.name == name), None)

    def one(self, name: str) -> dict[str, Any]:
        found = self.event(name)
        if found is None:
            raise InputError(f"tx {self.tx_hash} has no {name} event")
        return found

    @property
    def where(self) -> str:
        return f"tx {self.tx_hash}, relayed" if self.relayed else f"tx {self.tx_hash}"


def _act(c: CliContext, prop: PropertyClient, key: str, call: PropertyCall, via: str | None, window: int) -> Outcome:
    """Take the step ``call`` as ``key``: sent from its account, or signed and relayed ``via`` the relay."""
    if via is None:
        receipt = prop.execute(c.sender(key), call)
        return Outcome(receipt.tx_hash, prop.action_events(receipt), relayed=False)
    answer = relay_property_step(RelayClient(via), c.account(key), prop, call, deadline_window=window)
    return Outcome(answer.tx_hash, answer.events, relayed=True)


def _registry(ctx: typer.Context) -> tuple[CliContext, PropertyClient]:
    c = get(ctx)
    address = ctx.meta.get(_META)
    if address:
        prop = PropertyClient(c.client, parsing.address(address))
        prop.ensure_deployed()
        return c, prop
    return c, PropertyClient.from_record(c.client, c.settings.deployments_dir)


def _unit(value: str) -> bytes:
    """The unit id: given as 0x and 64 hex digits, or computed from a certificate of the unit.

    A unit number alone is refused: the chain keys a unit by keccak256(unitSalt ‖ unitNumber),
    and the salt is in the unit's certificates, not in the number."""
    if _HEX32.match(value):
        return bytes.fromhex(value[2:])
    if not value.strip():
        raise UsageError("the unit is empty: give its 0x id or one of its certificates")
    path = Path(value)
    if path.suffix == ".json" or path.exists():
        unit = certificate_unit(load_document(path).data)
        if unit is None:
            raise UsageError(f"{path} names no unit: its unitNumber and unitSalt must both be disclosed")
        return unit
    raise UsageError(
        "a unit number alone names no unit: give the unit's 0x id, or one of its certificates (.ereg.json), "
        "which carries the unit's salt"
    )


def _certificate(path: Path, unit: bytes | None = None) -> Certificate:
    """The certificate at ``path``; with ``unit``, it must not name another unit (a unit's later
    certificates carry its unit number and salt unchanged, the buyer's new one too)."""
    doc = load_document(path)
    named = certificate_unit(doc.data)
    if unit is not None and named is not None and named != unit:
        raise UsageError(
            f"{path} names unit {_hex(named)}, not {_hex(unit)}: "
            "a unit's certificates carry its unitNumber and unitSalt unchanged"
        )
    return Certificate(
        root=bytes.fromhex(doc.proof.merkle_root[2:]),
        target=bytes.fromhex(doc.proof.target_hash[2:]),
        proof=tuple(bytes.fromhex(p[2:]) for p in doc.proof.proof),
    )


def _share(text: str, spec: str) -> int:
    text = text.strip()
    try:
        if text.endswith("%"):
            value = float(text[:-1]) * 100
            if value != int(value):
                raise ValueError(text)
            return int(value)
        return int(text)
    except ValueError:
        raise UsageError(f"owner {spec!r}: the share must be basis points (e.g. 6000) or a percentage") from None


def _owners(specs: list[str]) -> tuple[list[Owner], list[bytes]]:
    """Commitments and shares of ``IDENTITY:SHARE`` specs, each with a fresh salt (returned too)."""
    if not specs:
        raise UsageError("give at least one --owner IDENTITY:SHARE")
    owners: list[Owner] = []
    salts: list[bytes] = []
    for spec in specs:
        identity, sep, share = spec.rpartition(":")
        if not sep or not identity.strip():
            raise UsageError(f"owner {spec!r}: expected IDENTITY:SHARE")
        salt = new_salt()
        owners.append(Owner(owner_commitment(identity.strip(), salt), _share(share, spec)))
        salts.append(salt)
    total = sum(o.share for o in owners)
    if total != WHOLE_SHARE:
        raise UsageError(f"the owners' shares sum to {total} basis points, not {WHOLE_SHARE}")
    return owners, salts


def _print_owners(owners: list[Owner], salts: list[bytes]) -> None:
    typer.echo("keep these salts with the owners' records (the chain holds only the commitments):")
    for index, (owner, salt) in enumerate(zip(owners, salts, strict=True), start=1):
        typer.echo(f"  owner {index}: share {owner.share} salt 0x{salt.hex()} commitment 0x{owner.commitment.hex()}")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _roles(roles: Role) -> str:
    return "+".join(r.name or "" for r in Role if r and r in roles) or "-"


# ------------------------------------------------------------------------------ deploy
ProposalOption = Annotated[
    Path,
    typer.Option(
        "--proposal",
        "-p",
        help="Draft proposal file the council's call is added to (created if missing); see `ereg gov`.",
    ),
]


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    key: Annotated[str, typer.Option("--key", "-k", help="Deployer key (it holds no role afterwards).")],
    proposal: ProposalOption,
    force: Annotated[bool, typer.Option(help="Deploy anew even if the record names a live one.")] = False,
) -> None:
    """Deploy a PropertyRegistry on the DocumentRegistry; the council's grant of its role goes into a proposal.

    Granting PROPERTY_REGISTRY_ROLE (it lets the PropertyRegistry lock, replace and revoke titles)
    adds power: the council carries it out through its time lock, like any other proposal.
    """
    c = get(ctx)
    council = c.council
    draft = DraftGovernor(proposal, c.client.chain_id, council.address, client=c.client)
    deployment = deploy_property_registry(
        c.client,
        c.sender(key),
        deployments_dir=c.settings.deployments_dir,
        document_registry=c.registry.address,
        governance=draft,
        force=force,
    )
    verb = "reused" if deployment.reused else "deployed"
    typer.echo(f"{verb} PropertyRegistry at {deployment.address} on chain {deployment.chain_id}")
    typer.echo(f"record: {deployment.record_path}")
    if draft.added:
        echo_added(proposal, read(proposal), draft.added, c.registry)
    else:
        typer.echo("it holds PROPERTY_REGISTRY_ROLE already; no proposal needed / 已具备所需角色，无需提案")


# ------------------------------------------------------------------------------- units
@app.command("new-unit-salt")
def new_unit_salt_cmd() -> None:
    """Print a fresh unit salt (32 random bytes) for a unit registered for the first time (NATRES).

    Put it in the unit's first certificate as ``unitSalt`` and keep it with the unit's records:
    every later certificate of the unit (the buyer's after a transfer, a mortgage certificate)
    carries the same value, and the unit's id on chain is keccak256(salt ‖ utf8(unit number)).
    """
    typer.echo("0x" + new_unit_salt().hex())


@app.command("register")
def register(
    ctx: typer.Context,
    unit: UnitArgument,
    certificate: CertificateOption,
    owner: OwnerOption,
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Register a unit with its property certificate and co-owners (NATRES)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    owners, salts = _owners(owner)
    call = PropertyCall.register_unit(unit_b, _certificate(certificate, unit_b), owners)
    outcome = _act(c, prop, key, call, via, deadline_window)
    typer.echo(f"registered unit {_hex(unit_b)} ({outcome.where})")
    _print_owners(owners, salts)


# ------------------------------------------------------------------------------ cases
@app.command("open-transfer")
def open_transfer(
    ctx: typer.Context,
    unit: UnitArgument,
    certificate: CertificateOption,
    owner: OwnerOption,
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Open a transfer case at the window with the new certificate and owners (NATRES)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    owners, salts = _owners(owner)
    call = PropertyCall.open_transfer(unit_b, _certificate(certificate, unit_b), owners)
    outcome = _act(c, prop, key, call, via, deadline_window)
    case_id = outcome.one("TransferOpened")["caseId"]
    typer.echo(f"opened case {case_id} on unit {_hex(unit_b)} ({outcome.where})")
    _print_owners(owners, salts)


@app.command("resubmit")
def resubmit(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1, help="Case id.")],
    certificate: CertificateOption,
    owner: OwnerOption,
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Resubmit a returned case, corrected; a new round starts with no approvals (NATRES)."""
    c, prop = _registry(ctx)
    owners, salts = _owners(owner)
    call = PropertyCall.resubmit_transfer(case, _certificate(certificate), owners)
    outcome = _act(c, prop, key, call, via, deadline_window)
    round_ = outcome.one("TransferResubmitted")["round"]
    typer.echo(f"resubmitted case {case} (round {round_}, {outcome.where})")
    _print_owners(owners, salts)


@app.command("approve")
def approve(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1, help="Case id.")],
    key: KeyOption,
    as_role: Annotated[
        str | None,
        typer.Option("--as", help="natres, tax or housing (default: the department's approving roles)."),
    ] = None,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Approve a transfer case; the last of NATRES, TAX and HOUSING finalizes it."""
    c, prop = _registry(ctx)
    current = prop.transfer_case(case)
    if as_role is not None:
        if as_role.lower() not in _ROLE_NAMES:
            raise UsageError(f"--as must be natres, tax or housing, not {as_role!r}")
        roles = _ROLE_NAMES[as_role.lower()]
    else:
        address = c.account(key).address
        department = c.registry.signer_key(address).department
        held = c.registry.department(department).roles if department != ZERO32 else Role.NONE
        roles = held & APPROVING_ROLES & ~current.approved_roles
        if not roles:
            roles = held & APPROVING_ROLES or Role.NATRES  # let the registry say why not
    call = PropertyCall.approve_transfer(case, current.round, roles)
    outcome = _act(c, prop, key, call, via, deadline_window)
    typer.echo(f"approved case {case} as {_roles(roles)} (round {current.round}, {outcome.where})")
    finalized = outcome.event("TransferFinalized")
    if finalized is not None:
        typer.echo(
            f"case {case} finalized: certificate {finalized['certTarget']} is current, "
            f"{finalized['previousTarget']} superseded"
        )


@app.command("reject")
def reject(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1)],
    reason: ReasonOption,
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Reject a case for good (NATRES, TAX or HOUSING)."""
    c, prop = _registry(ctx)
    outcome = _act(c, prop, key, PropertyCall.reject_transfer(case, reason), via, deadline_window)
    typer.echo(f"rejected case {case} (reason {reason}, {outcome.where})")


@app.command("return")
def return_case(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1)],
    reason: ReasonOption,
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Return a case for correction; its approvals no longer count (NATRES, TAX or HOUSING)."""
    c, prop = _registry(ctx)
    outcome = _act(c, prop, key, PropertyCall.return_transfer(case, reason), via, deadline_window)
    typer.echo(f"returned case {case} (reason {reason}, {outcome.where})")


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1)],
    key: KeyOption,
    reason: Annotated[int, typer.Option("--reason", "-r", min=0, max=2**16 - 1, help="Reason code.")] = 0,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Cancel a case at the window (NATRES)."""
    c, prop = _registry(ctx)
    outcome = _act(c, prop, key, PropertyCall.cancel_transfer(case, reason), via, deadline_window)
    typer.echo(f"cancelled case {case} ({outcome.where})")


@app.command("consent")
def consent(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1)],
    mortgage_id: Annotated[int, typer.Argument(min=1, help="The bank's mortgage id on the unit.")],
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Consent, as the mortgagee bank, to the transfer of a case in its current round (BANK)."""
    c, prop = _registry(ctx)
    round_ = prop.transfer_case(case).round
    call = PropertyCall.consent_to_transfer(case, round_, mortgage_id)
    outcome = _act(c, prop, key, call, via, deadline_window)
    typer.echo(f"consented to case {case} round {round_} for mortgage {mortgage_id} ({outcome.where})")


# -------------------------------------------------------------------------- corrections
@app.command("open-correction")
def open_correction(
    ctx: typer.Context,
    unit: UnitArgument,
    reason: ReasonOption,
    key: KeyOption,
    certificate: Annotated[
        Path | None,
        typer.Option("--certificate", "-c", help="The corrected certificate (.ereg.json); none: revoke the title."),
    ] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option("--owner", "-o", help="IDENTITY:SHARE of the corrected title; repeat per co-owner."),
    ] = None,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Open a correction case (更正登记, NATRES): a corrected certificate and owners, or none to revoke the title.

    It takes effect when a second department (NATRES, TAX, HOUSING or COURT) or the council approves it.
    """
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    if certificate is None:
        if owner:
            raise UsageError("owners come with a corrected --certificate; without one the title is revoked")
        owners: list[Owner] = []
        salts: list[bytes] = []
        cert = None
    else:
        owners, salts = _owners(owner or [])
        cert = _certificate(certificate, unit_b)
    call = PropertyCall.open_correction(unit_b, cert, owners, reason)
    outcome = _act(c, prop, key, call, via, deadline_window)
    case_id = outcome.one("CorrectionOpened")["caseId"]
    what = "replace the title" if cert is not None else "revoke the title"
    words = REASONS.get(reason, (f"reason {reason}", ""))[0]
    typer.echo(f"opened correction case {case_id} on unit {_hex(unit_b)} to {what} ({words}; {outcome.where})")
    if cert is not None:
        _print_owners(owners, salts)


@app.command("approve-correction")
def approve_correction(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1, help="Correction case id.")],
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="Signing key of the approving (second) department.")
    ] = None,
    proposal: Annotated[
        Path | None,
        typer.Option("--proposal", "-p", help="Instead of a department: add the council's approval to this draft."),
    ] = None,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Approve a correction case: by a second department (NATRES, TAX, HOUSING or COURT) or by the council.

    It takes effect at once: the title is replaced (the old one superseded) or revoked.
    """
    if (key is None) == (proposal is None):
        raise UsageError("give --key (a department approves) or --proposal (the council approves), one of them")
    c, prop = _registry(ctx)
    if proposal is not None:
        if via is not None:
            raise UsageError("--via relays a department's step; the council's approval goes through `ereg gov`")
        calls = [prop.approve_correction_call(case)]
        pf = add_calls(proposal, calls, chain_id=c.client.chain_id, council=c.council.address, client=c.client)
        echo_added(proposal, pf, calls, c.registry)
        return
    assert key is not None  # noqa: S101 - checked above
    outcome = _act(c, prop, key, PropertyCall.approve_correction(case), via, deadline_window)
    typer.echo(f"approved correction case {case} ({outcome.where})")
    corrected = outcome.event("TitleCorrected")
    if corrected is not None:
        target = corrected["certTarget"]
        if int(str(target), 16) == 0:
            typer.echo(f"case {case}: title {corrected['previousTarget']} revoked; the unit has no title now")
        else:
            typer.echo(f"case {case}: certificate {target} is current, {corrected['previousTarget']} superseded")


# ----------------------------------------------------------------- mortgages, seizures
@app.command("mortgage")
def mortgage(
    ctx: typer.Context,
    unit: UnitArgument,
    certificate: CertificateOption,
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Register the bank's mortgage on a unit, evidenced by a mortgage certificate (BANK)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    call = PropertyCall.register_mortgage(unit_b, _certificate(certificate, unit_b))
    outcome = _act(c, prop, key, call, via, deadline_window)
    mortgage_id = outcome.one("MortgageRegistered")["mortgageId"]
    typer.echo(f"mortgage {mortgage_id} registered on unit {_hex(unit_b)} ({outcome.where})")


@app.command("release-mortgage")
def release_mortgage(
    ctx: typer.Context,
    unit: UnitArgument,
    mortgage_id: Annotated[int, typer.Argument(min=1)],
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Release the bank's own mortgage (BANK)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    outcome = _act(c, prop, key, PropertyCall.release_mortgage(unit_b, mortgage_id), via, deadline_window)
    typer.echo(f"mortgage {mortgage_id} on unit {_hex(unit_b)} released ({outcome.where})")


def _ruling(value: str) -> bytes:
    if _HEX32.match(value):
        return bytes.fromhex(value[2:])
    if not value.strip():
        raise UsageError("the ruling is empty")
    return keccak(text=value.strip())


@app.command("seize")
def seize(
    ctx: typer.Context,
    unit: UnitArgument,
    ruling: Annotated[str, typer.Option("--ruling", help="The ruling's hash (0x…), or its text to be hashed.")],
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Seize (查封) a unit by a court ruling (COURT)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    outcome = _act(c, prop, key, PropertyCall.register_seizure(unit_b, _ruling(ruling)), via, deadline_window)
    seizure_id = outcome.one("SeizureRegistered")["seizureId"]
    typer.echo(f"seizure {seizure_id} registered on unit {_hex(unit_b)} ({outcome.where})")


@app.command("release-seizure")
def release_seizure(
    ctx: typer.Context,
    unit: UnitArgument,
    seizure_id: Annotated[int, typer.Argument(min=1)],
    key: KeyOption,
    via: ViaOption = None,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Release the court's own seizure (COURT)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    outcome = _act(c, prop, key, PropertyCall.release_seizure(unit_b, seizure_id), via, deadline_window)
    typer.echo(f"seizure {seizure_id} on unit {_hex(unit_b)} released ({outcome.where})")


# -------------------------------------------------------------------------------- views
@app.command("show")
def show(ctx: typer.Context, unit: UnitArgument) -> None:
    """A unit's current state in one view (exit 3 when the unit is not registered)."""
    _c, prop = _registry(ctx)
    unit_b = _unit(unit)
    state = prop.unit_state(unit_b)
    if not state.registered:
        typer.echo(f"unit {_hex(unit_b)} NOT_REGISTERED")
        raise typer.Exit(3)
    typer.echo(
        f"unit {_hex(unit_b)} registered {parsing.format_time(state.registered_at)} by {_hex(state.registered_by)}"
    )
    typer.echo(f"certificate {_hex(state.cert_target)} root {_hex(state.cert_root)}")
    for o in state.owners:
        typer.echo(f"owner {_hex(o.commitment)} share {o.share}")
    for m in state.mortgages:
        consented = " consented to the open case" if m.consented_to_open_case else ""
        typer.echo(
            f"mortgage {m.id} bank {_hex(m.bank)} certificate {_hex(m.cert_target)} "
            f"since {parsing.format_time(m.registered_at)}{consented}"
        )
    for s in state.seizures:
        typer.echo(
            f"seizure {s.id} court {_hex(s.court)} ruling {_hex(s.ruling)} since {parsing.format_time(s.registered_at)}"
        )
    if not state.mortgages:
        typer.echo("mortgages: none")
    if not state.seizures:
        typer.echo("seizures: none")
    case = state.open_case
    if case is None:
        typer.echo("open case: none")
        return
    pending = APPROVING_ROLES & ~case.approved_roles
    typer.echo(
        f"case {case.id} {case.state.name} round {case.round} certificate {_hex(case.cert_target)} "
        f"approved {_roles(case.approved_roles)} pending {_roles(pending)}"
    )
    for o in case.owners:
        typer.echo(f"  new owner {_hex(o.commitment)} share {o.share}")


@app.command("history")
def history(ctx: typer.Context, unit: UnitArgument) -> None:
    """The unit's chain of title: every event keyed by it, oldest first."""
    _c, prop = _registry(ctx)
    unit_b = _unit(unit)
    found = False
    for event in prop.history(unit_b):
        found = True
        details = []
        for name, value in event.args.items():
            if name == "unitId":
                continue
            if name == "owners":
                rendered = ",".join(f"{_hex(bytes(o['commitment']))}:{o['share']}" for o in value)
            elif isinstance(value, bytes | bytearray):
                rendered = _hex(bytes(value))
            else:
                rendered = str(value)
            details.append(f"{name}={rendered}")
        typer.echo(f"block {event.block_number} {event.name} {' '.join(details)} tx {event.tx_hash}")
    if not found:
        raise InputError(f"no events for unit {_hex(unit_b)}")


__all__ = ["app"]
