"""``ereg property``: property units, transfer cases, mortgages and seizures (PropertyRegistry).

Each write acts with ``--key``, a signing key of the department whose role the step needs
(NATRES registers units and opens cases; NATRES, TAX and HOUSING approve; a BANK mortgages; a
COURT seizes). Owners are given as ``IDENTITY:SHARE`` (share in basis points, or a percentage
such as ``60%``); only salted commitments reach the chain, and the salts are printed here to be
kept with the owners' records. The PropertyRegistry is found from ``--property-registry`` /
``EREG_PROPERTY_REGISTRY``, else from the deployment record that ``ereg property deploy`` writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from eth_utils.crypto import keccak

from chain.property import (
    APPROVING_ROLES,
    WHOLE_SHARE,
    Certificate,
    Owner,
    PropertyClient,
    deploy_property_registry,
    new_salt,
    owner_commitment,
    unit_id,
)
from chain.types import ZERO32, Role
from issuer import parsing
from issuer.context import CliContext, get
from issuer.docs_cmd import load_document
from issuer.errors import InputError, UsageError

app = typer.Typer(no_args_is_help=True)

KeyOption = Annotated[str, typer.Option("--key", "-k", help="Signing key of the acting department.")]
UnitArgument = Annotated[str, typer.Argument(help="Unit number (不动产单元号), or its 0x id.")]
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
        typer.Option(envvar="EREG_PROPERTY_REGISTRY", help="PropertyRegistry address (else the deployment record)."),
    ] = None,
) -> None:
    ctx.meta[_META] = property_registry


# ------------------------------------------------------------------------------ helpers
def _registry(ctx: typer.Context) -> tuple[CliContext, PropertyClient]:
    c = get(ctx)
    address = ctx.meta.get(_META)
    if address:
        prop = PropertyClient(c.client, parsing.address(address))
        prop.ensure_deployed()
        return c, prop
    return c, PropertyClient.from_record(c.client, c.settings.deployments_dir)


def _unit(value: str) -> bytes:
    if _HEX32.match(value):
        return bytes.fromhex(value[2:])
    if not value.strip():
        raise UsageError("the unit number is empty")
    return unit_id(value)


def _certificate(path: Path) -> Certificate:
    doc = load_document(path)
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
@app.command("deploy")
def deploy(
    ctx: typer.Context,
    key: Annotated[str, typer.Option("--key", "-k", help="Key holding the DocumentRegistry's admin role.")],
    force: Annotated[bool, typer.Option(help="Deploy anew even if the record names a live one.")] = False,
) -> None:
    """Deploy a PropertyRegistry on the DocumentRegistry and let it supersede certificates."""
    c = get(ctx)
    deployment = deploy_property_registry(
        c.client,
        c.sender(key),
        deployments_dir=c.settings.deployments_dir,
        document_registry=c.registry.address,
        force=force,
    )
    verb = "reused" if deployment.reused else "deployed"
    typer.echo(f"{verb} PropertyRegistry at {deployment.address} on chain {deployment.chain_id}")
    typer.echo(f"record: {deployment.record_path}")


# ------------------------------------------------------------------------------- units
@app.command("register")
def register(
    ctx: typer.Context, unit: UnitArgument, certificate: CertificateOption, owner: OwnerOption, key: KeyOption
) -> None:
    """Register a unit with its property certificate and co-owners (NATRES)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    owners, salts = _owners(owner)
    receipt = prop.register_unit(c.sender(key), unit_b, _certificate(certificate), owners)
    typer.echo(f"registered unit {_hex(unit_b)} (tx {receipt.tx_hash})")
    _print_owners(owners, salts)


# ------------------------------------------------------------------------------ cases
@app.command("open-transfer")
def open_transfer(
    ctx: typer.Context, unit: UnitArgument, certificate: CertificateOption, owner: OwnerOption, key: KeyOption
) -> None:
    """Open a transfer case at the window with the new certificate and owners (NATRES)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    owners, salts = _owners(owner)
    receipt, case_id = prop.open_transfer(c.sender(key), unit_b, _certificate(certificate), owners)
    typer.echo(f"opened case {case_id} on unit {_hex(unit_b)} (tx {receipt.tx_hash})")
    _print_owners(owners, salts)


@app.command("resubmit")
def resubmit(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1, help="Case id.")],
    certificate: CertificateOption,
    owner: OwnerOption,
    key: KeyOption,
) -> None:
    """Resubmit a returned case, corrected; a new round starts with no approvals (NATRES)."""
    c, prop = _registry(ctx)
    owners, salts = _owners(owner)
    receipt = prop.resubmit_transfer(c.sender(key), case, _certificate(certificate), owners)
    typer.echo(f"resubmitted case {case} (round {prop.transfer_case(case).round}, tx {receipt.tx_hash})")
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
) -> None:
    """Approve a transfer case; the last of NATRES, TAX and HOUSING finalizes it."""
    c, prop = _registry(ctx)
    current = prop.transfer_case(case)
    sender = c.sender(key)
    if as_role is not None:
        if as_role.lower() not in _ROLE_NAMES:
            raise UsageError(f"--as must be natres, tax or housing, not {as_role!r}")
        roles = _ROLE_NAMES[as_role.lower()]
    else:
        department = c.registry.signer_key(sender.address).department
        held = c.registry.department(department).roles if department != ZERO32 else Role.NONE
        roles = held & APPROVING_ROLES & ~current.approved_roles
        if not roles:
            roles = held & APPROVING_ROLES or Role.NATRES  # let the registry say why not
    receipt = prop.approve_transfer(sender, case, current.round, roles)
    finalized = prop.receipt_events(receipt, "TransferFinalized")
    typer.echo(f"approved case {case} as {_roles(roles)} (round {current.round}, tx {receipt.tx_hash})")
    if finalized:
        event = finalized[0]
        typer.echo(
            f"case {case} finalized: certificate {_hex(bytes(event['certTarget']))} is current, "
            f"{_hex(bytes(event['previousTarget']))} superseded"
        )


@app.command("reject")
def reject(
    ctx: typer.Context, case: Annotated[int, typer.Argument(min=1)], reason: ReasonOption, key: KeyOption
) -> None:
    """Reject a case for good (NATRES, TAX or HOUSING)."""
    c, prop = _registry(ctx)
    receipt = prop.reject_transfer(c.sender(key), case, reason)
    typer.echo(f"rejected case {case} (reason {reason}, tx {receipt.tx_hash})")


@app.command("return")
def return_case(
    ctx: typer.Context, case: Annotated[int, typer.Argument(min=1)], reason: ReasonOption, key: KeyOption
) -> None:
    """Return a case for correction; its approvals no longer count (NATRES, TAX or HOUSING)."""
    c, prop = _registry(ctx)
    receipt = prop.return_transfer(c.sender(key), case, reason)
    typer.echo(f"returned case {case} (reason {reason}, tx {receipt.tx_hash})")


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1)],
    key: KeyOption,
    reason: Annotated[int, typer.Option("--reason", "-r", min=0, max=2**16 - 1, help="Reason code.")] = 0,
) -> None:
    """Cancel a case at the window (NATRES)."""
    c, prop = _registry(ctx)
    receipt = prop.cancel_transfer(c.sender(key), case, reason)
    typer.echo(f"cancelled case {case} (tx {receipt.tx_hash})")


@app.command("consent")
def consent(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(min=1)],
    mortgage_id: Annotated[int, typer.Argument(min=1, help="The bank's mortgage id on the unit.")],
    key: KeyOption,
) -> None:
    """Consent, as the mortgagee bank, to the transfer of a case in its current round (BANK)."""
    c, prop = _registry(ctx)
    round_ = prop.transfer_case(case).round
    receipt = prop.consent_to_transfer(c.sender(key), case, round_, mortgage_id)
    typer.echo(f"consented to case {case} round {round_} for mortgage {mortgage_id} (tx {receipt.tx_hash})")


# ----------------------------------------------------------------- mortgages, seizures
@app.command("mortgage")
def mortgage(ctx: typer.Context, unit: UnitArgument, certificate: CertificateOption, key: KeyOption) -> None:
    """Register the bank's mortgage on a unit, evidenced by a mortgage certificate (BANK)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    receipt, mortgage_id = prop.register_mortgage(c.sender(key), unit_b, _certificate(certificate))
    typer.echo(f"mortgage {mortgage_id} registered on unit {_hex(unit_b)} (tx {receipt.tx_hash})")


@app.command("release-mortgage")
def release_mortgage(
    ctx: typer.Context, unit: UnitArgument, mortgage_id: Annotated[int, typer.Argument(min=1)], key: KeyOption
) -> None:
    """Release the bank's own mortgage (BANK)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    receipt = prop.release_mortgage(c.sender(key), unit_b, mortgage_id)
    typer.echo(f"mortgage {mortgage_id} on unit {_hex(unit_b)} released (tx {receipt.tx_hash})")


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
) -> None:
    """Seize (查封) a unit by a court ruling (COURT)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    receipt, seizure_id = prop.register_seizure(c.sender(key), unit_b, _ruling(ruling))
    typer.echo(f"seizure {seizure_id} registered on unit {_hex(unit_b)} (tx {receipt.tx_hash})")


@app.command("release-seizure")
def release_seizure(
    ctx: typer.Context, unit: UnitArgument, seizure_id: Annotated[int, typer.Argument(min=1)], key: KeyOption
) -> None:
    """Release the court's own seizure (COURT)."""
    c, prop = _registry(ctx)
    unit_b = _unit(unit)
    receipt = prop.release_seizure(c.sender(key), unit_b, seizure_id)
    typer.echo(f"seizure {seizure_id} on unit {_hex(unit_b)} released (tx {receipt.tx_hash})")


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
