"""``ereg dept``: departments, their keys and their document types.

Only the governance council changes them. The commands that would (register, add-key,
retire-key, authorize, deauthorize, set-roles, deactivate, activate) send nothing: each adds its
call to the draft proposal ``--proposal FILE`` (created if missing) and says in words what the
call will do; ``ereg gov propose FILE`` then seals the draft for the members to sign.
``show`` and ``list`` read the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain.errors import ContractRevert
from chain.governance import Call, decode_call
from chain.types import WORKFLOW_ROLES, Department, Role, key_id, type_id
from documents.sm2 import Sm2PublicKey
from issuer import parsing
from issuer.context import CliContext, get
from issuer.errors import GovernanceError, UsageError
from issuer.proposals import add_calls, echo_added, read

app = typer.Typer(no_args_is_help=True)

ProposalOption = Annotated[
    Path,
    typer.Option(
        "--proposal",
        "-p",
        help="Draft proposal file the call is added to (created if missing); seal it with `ereg gov propose`.",
    ),
]
CodeArgument = Annotated[str, typer.Argument(help="Department code (its id is keccak256 of it) or 0x id.")]


def _draft(c: CliContext, path: Path, calls: list[Call]) -> None:
    council = c.council
    pf = add_calls(path, calls, chain_id=c.client.chain_id, council=council.address, client=c.client)
    echo_added(path, pf, calls, c.registry)


def _existing(c: CliContext, dept: bytes) -> Department | None:
    try:
        return c.registry.department(dept)
    except ContractRevert as revert:
        if revert.name == "IssuerRegistryUnknownDepartment":
            return None
        raise


def _known(c: CliContext, dept: bytes) -> Department:
    found = _existing(c, dept)
    if found is None:
        raise GovernanceError(f"department 0x{dept.hex()} is not registered", f"部门 0x{dept.hex()} 尚未登记")
    return found


def _known_or_drafted(c: CliContext, dept: bytes, path: Path) -> None:
    """Registered on chain, or by a call of the same draft."""
    for call in _drafted_calls(path):
        try:
            decoded = decode_call(call)
        except ValueError:
            continue
        if decoded.function == "registerDepartment" and bytes(decoded.args["id"]) == dept:
            return
    _known(c, dept)


def _check_roles(roles: Role) -> None:
    workflow = roles & WORKFLOW_ROLES
    if workflow and (workflow & (workflow - 1)):
        raise UsageError(
            f"a department holds at most one of natres, tax and housing, not {parsing_roles(workflow)} "
            "(separation of duties)"
        )


def parsing_roles(roles: Role) -> str:
    return ",".join((r.name or "").lower() for r in Role if r and r in roles) or "none"


def _signer(c: CliContext, signer: str) -> str:
    return c.address_of(signer)


def _key_department(c: CliContext, address: str) -> bytes | None:
    """The department a signing key belongs to; None for a key the registry does not know."""
    key = c.registry.known_signer_key(address)
    return None if key is None else key.department


def _sm2_public(c: CliContext, key: str) -> bytes:
    """An SM2 public key given as 0x + 128 hex digits (x ‖ y), or the name of a local SM2 key."""
    text = key if key.startswith("0x") else c.sm2_keystore.info(key).public_key
    try:
        public = Sm2PublicKey.from_bytes(bytes.fromhex(text[2:]))
    except ValueError:
        raise UsageError(
            f"{key!r} is no SM2 public key (0x + 128 hex digits of a point of the curve) or local SM2 key",
            f"{key!r} 不是 SM2 公钥（0x 加 128 位十六进制、曲线上的点），也不是本机的 SM2 密钥",
        ) from None
    return public.to_bytes()


def _drafted_calls(path: Path) -> list[Call]:
    return list(read(path, sealed=False).proposal.calls) if path.exists() else []


@app.command("register")
def register(
    ctx: typer.Context,
    code: CodeArgument,
    name: Annotated[str, typer.Option(help="Registered name, e.g. 六安市市场监督管理局.")],
    credit_code: Annotated[str, typer.Option(help="Unified social credit code (18 characters).")],
    proposal: ProposalOption,
    roles: Annotated[str | None, typer.Option(help="Property roles: natres,tax,housing,court,bank.")] = None,
) -> None:
    """Propose registering a department."""
    c = get(ctx)
    dept = parsing.department(code)
    role_flags = parsing.roles(roles)
    _check_roles(role_flags)
    if _existing(c, dept) is not None:
        raise GovernanceError(f"department 0x{dept.hex()} is registered already", f"部门 0x{dept.hex()} 已登记")
    _draft(c, proposal, [c.registry.call("registerDepartment", dept, name, credit_code, int(role_flags))])


@app.command("add-key")
def add_key(
    ctx: typer.Context,
    code: CodeArgument,
    signer: Annotated[str, typer.Argument(help="Address of the signing key, or the name of a local key.")],
    proposal: ProposalOption,
    valid_from: Annotated[str, typer.Option(help="now, +6h, Unix time or ISO 8601.")] = "now",
    valid_until: Annotated[str | None, typer.Option(help="End of the window (default: open).")] = None,
    sm2: Annotated[
        bool, typer.Option("--sm2", help="An SM2 key (a local SM2 key's name, or 0x + x ‖ y) for ereg/1-sm roots.")
    ] = False,
) -> None:
    """Propose giving a department a signing key (or with --sm2 an SM2 key) with a validity window."""
    c = get(ctx)
    dept = parsing.department(code)
    now = c.chain_now()
    start = parsing.timestamp(valid_from, now=now)
    until = parsing.timestamp(valid_until, default_now=False, now=now) if valid_until else 0
    if until and until <= start:
        raise UsageError("--valid-until must be after --valid-from")
    if sm2:
        public = _sm2_public(c, signer)
        known = c.registry.sm2_key(key_id(public[:32], public[32:]))
        if known is not None:
            raise GovernanceError(
                f"SM2 key 0x{public.hex()[:16]}… belongs to department 0x{known.department.hex()} already",
                f"SM2 密钥 0x{public.hex()[:16]}… 已属于部门 0x{known.department.hex()}",
            )
        _known_or_drafted(c, dept, proposal)
        _draft(c, proposal, [c.registry.sm2_call("addSm2Key", dept, public[:32], public[32:], start, until)])
        return
    address = _signer(c, signer)
    existing = _key_department(c, address)
    if existing is not None:
        raise GovernanceError(
            f"key {address} belongs to department 0x{existing.hex()} already (a key serves one department, once)",
            f"密钥 {address} 已属于部门 0x{existing.hex()}（一个密钥只能登记一次）",
        )
    _draft(c, proposal, [c.registry.call("addSignerKey", dept, address, start, until)])


@app.command("retire-key")
def retire_key(
    ctx: typer.Context,
    signer: Annotated[str, typer.Argument(help="Address of the signing key, or the name of a local key.")],
    proposal: ProposalOption,
    at: Annotated[
        str,
        typer.Option(
            help="End of the key's window: now (the moment the proposal runs), +6h, Unix time or ISO 8601. "
            "Now or a time in the future is protective and may run at once; an earlier time (a compromised key) "
            "voids what the key signed since, and goes through the time lock."
        ),
    ] = "now",
    sm2: Annotated[bool, typer.Option("--sm2", help="Retire an SM2 key (its local name, or 0x + x ‖ y).")] = False,
) -> None:
    """Propose ending a key's window (rotation, or an earlier time for a compromised key)."""
    c = get(ctx)
    # "now" is the block the proposal runs in (0 on chain), not the moment of drafting: members
    # sign later, and a time already past would read as a backdated retirement.
    until = 0 if at.strip() == "now" else parsing.timestamp(at, now=c.chain_now())
    if sm2:
        public = _sm2_public(c, signer)
        kid = key_id(public[:32], public[32:])
        if c.registry.sm2_key(kid) is None:
            raise GovernanceError(
                f"SM2 key 0x{public.hex()[:16]}… is no department's", f"SM2 密钥 0x{public.hex()[:16]}… 不属于任何部门"
            )
        _draft(c, proposal, [c.registry.sm2_call("retireSm2Key", kid, until)])
        return
    address = _signer(c, signer)
    if _key_department(c, address) is None:
        raise GovernanceError(f"{address} is no department's signing key", f"{address} 不是任何部门的签名密钥")
    _draft(c, proposal, [c.registry.call("retireSignerKey", address, until)])


@app.command("authorize")
def authorize(
    ctx: typer.Context,
    code: CodeArgument,
    doc_type: Annotated[str, typer.Argument(help="Document type name, e.g. business-license.")],
    proposal: ProposalOption,
) -> None:
    """Propose letting a department issue a document type (registering the type if it is new)."""
    c = get(ctx)
    dept = parsing.department(code)
    calls = []
    drafted = {_registered_type(call) for call in _drafted_calls(proposal)}
    if not c.registry.is_document_type(type_id(doc_type)) and doc_type not in drafted:
        calls.append(c.registry.call("registerDocumentType", doc_type))
    calls.append(c.registry.call("authorizeDocumentType", dept, type_id(doc_type)))
    _draft(c, proposal, calls)


def _registered_type(call: Call) -> str | None:
    try:
        decoded = decode_call(call)
    except ValueError:
        return None
    return str(decoded.args["name"]) if decoded.function == "registerDocumentType" else None


@app.command("deauthorize")
def deauthorize(
    ctx: typer.Context,
    code: CodeArgument,
    doc_type: Annotated[str, typer.Argument(help="Document type name.")],
    proposal: ProposalOption,
) -> None:
    """Propose stopping a department issuing a document type (protective: may run at once)."""
    c = get(ctx)
    dept = parsing.department(code)
    _draft(c, proposal, [c.registry.call("deauthorizeDocumentType", dept, type_id(doc_type))])


@app.command("set-roles")
def set_roles(
    ctx: typer.Context,
    code: CodeArgument,
    roles: Annotated[
        str, typer.Option(help="The department's roles afterwards: natres,tax,housing,court,bank or none.")
    ],
    proposal: ProposalOption,
) -> None:
    """Propose setting a department's property roles (only withdrawing roles may run at once)."""
    c = get(ctx)
    dept = parsing.department(code)
    role_flags = Role.NONE if roles.strip().lower() == "none" else parsing.roles(roles)
    _check_roles(role_flags)
    _known_or_drafted(c, dept, proposal)
    _draft(c, proposal, [c.registry.call("setDepartmentRoles", dept, int(role_flags))])


@app.command("deactivate")
def deactivate(ctx: typer.Context, code: CodeArgument, proposal: ProposalOption) -> None:
    """Propose deactivating a department: it can no longer anchor or change statuses (may run at once)."""
    c = get(ctx)
    dept = parsing.department(code)
    _known_or_drafted(c, dept, proposal)
    _draft(c, proposal, [c.registry.call("setDepartmentActive", dept, False)])


@app.command("activate")
def activate(ctx: typer.Context, code: CodeArgument, proposal: ProposalOption) -> None:
    """Propose reactivating a department (adds power: through the time lock)."""
    c = get(ctx)
    dept = parsing.department(code)
    _known_or_drafted(c, dept, proposal)
    _draft(c, proposal, [c.registry.call("setDepartmentActive", dept, True)])


@app.command("show")
def show(ctx: typer.Context, code: CodeArgument) -> None:
    """A department's record, keys and document types."""
    c = get(ctx)
    dept = _known(c, parsing.department(code))
    state = "active" if dept.active else "inactive"
    roles = "|".join(r.name or "" for r in Role if r and r in dept.roles) or "NONE"
    typer.echo(f"{dept.name} 0x{dept.id.hex()} credit code {dept.credit_code} {state} roles {roles}")
    for signer in c.registry.live_signer_keys(dept.id):
        window = c.registry.signer_key(signer)
        until = parsing.format_time(window.valid_until) if window.valid_until else "open"
        typer.echo(f"  key {signer} {parsing.format_time(window.valid_from)} .. {until}")
    for doc_type in c.registry.authorized_types(dept.id):
        typer.echo(f"  type 0x{doc_type.hex()}")


@app.command("list")
def list_departments(ctx: typer.Context) -> None:
    """Every registered department."""
    c = get(ctx)
    for dept_id in c.registry.department_ids():
        dept = c.registry.department(dept_id)
        typer.echo(f"0x{dept.id.hex()} {dept.name} {'active' if dept.active else 'inactive'}")
