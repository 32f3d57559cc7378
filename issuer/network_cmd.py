"""``ereg network``: a Besu QBFT network generated from the department list, and its node keys.

* ``ereg network init SPEC.toml --out DIR`` writes the genesis, the encrypted node keys, each
  node's Besu configuration, the allowlists and the deployment bundle (see :mod:`network`);
  ``--from-registry`` takes the departments' signer keys from the deployed registry instead of the
  spec (EREG_RPC_URL, EREG_CHAIN_ID, the registry of the deployment record or EREG_REGISTRY_ADDRESS).
* ``ereg network unlock-key KEY.json --out PATH`` decrypts one node key for Besu, into a path meant
  for a tmpfs (the bundle's ``ereg-unlock@`` unit runs it before the node starts).
* ``ereg network swarm-key PATH`` writes a new key for the private IPFS swarm of the Kubo nodes.

The node-key password comes from ``--password-file`` (its first line), else EREG_NODE_KEY_PASSWORD,
else a hidden prompt; it is never written anywhere. The package :mod:`network` is imported by each
command, so the rest of ``ereg`` never depends on it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from issuer.context import get
from issuer.errors import Bilingual, InputError, UsageError

if TYPE_CHECKING:
    from network.spec import NetworkSpec

#: The environment variable holding the node-key password, for automation.
NODE_KEY_PASSWORD_ENV = "EREG_NODE_KEY_PASSWORD"  # noqa: S105 - the variable's name, not a password

app = typer.Typer(no_args_is_help=True)

PasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help=f"File whose first line is the node-key password (else {NODE_KEY_PASSWORD_ENV}, else a prompt).",
    ),
]


class NetworkRegistryError(Bilingual):
    """The deployed registry does not know a department of the spec, or it has no live key."""

    code = "NETWORK_REGISTRY"


def _password(password_file: Path | None, *, confirm: bool) -> str:
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise InputError(f"no password file {password_file}", zh=f"密码文件不存在：{password_file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"password file {password_file} is unreadable ({type(exc).__name__})") from None
        if not lines or not lines[0]:
            raise InputError(f"password file {password_file} is empty", zh=f"密码文件 {password_file} 为空")
        return lines[0]
    from_env = os.environ.get(NODE_KEY_PASSWORD_ENV)
    if from_env:
        return from_env
    prompted: str = typer.prompt("Node key password", hide_input=True, confirmation_prompt=confirm)
    return prompted


@app.command("init")
def init(
    ctx: typer.Context,
    spec_file: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="The network spec (network/examples/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the network into.")],
    password_file: PasswordFileOption = None,
    force: Annotated[
        bool, typer.Option(help="Replace the generated files of a non-empty DIR (new node keys; deployments/ is kept).")
    ] = False,
    from_registry: Annotated[
        bool,
        typer.Option(
            "--from-registry",
            help="Take each department's signer keys from the deployed registry (its live keys), not the spec.",
        ),
    ] = False,
    install_dir: Annotated[
        str, typer.Option(help="Where the bundle will live on the host (the systemd units name it).")
    ] = "/opt/ereg/network",
) -> None:
    """Generate a Besu QBFT network: genesis, node keys, Besu configuration, allowlists, bundle."""
    from network.generate import generate_network
    from network.spec import load_spec

    spec = load_spec(spec_file, require_keys=not from_registry)
    if from_registry:
        spec = _keys_from_registry(ctx, spec)
    if not install_dir.startswith("/"):
        raise UsageError("--install-dir must be an absolute path", zh="--install-dir 应为绝对路径")
    if out.is_dir() and any(out.iterdir()) and not force:
        from network.errors import OutputNotEmpty

        raise OutputNotEmpty(
            f"{out} is not empty; give another directory, or --force to replace the generated files",
            f"{out} 不为空；请换一个目录，或用 --force 替换生成的文件",
        )
    password = _password(password_file, confirm=True)
    result = generate_network(spec, out, password, force=force, install_dir=install_dir)
    typer.echo(f"network {spec.name}: chain id {result.chain_id}, written to {result.out}")
    typer.echo(f"genesis hash {result.genesis_hash} (set EREG_GENESIS_HASH; confirm it on the first validator)")
    n, f = len(result.validators), spec.fault_tolerance
    typer.echo(f"{n} validator{'s' if n != 1 else ''}, {f} may fail at once (QBFT: n = 3f + 1)")
    for validator, enode in zip(result.validators, result.enodes, strict=True):
        typer.echo(f"  {validator.name:<16} {validator.address}  {enode}")
    typer.echo(f"accounts allowlist: {len(result.accounts)} (signer keys and relayers)")
    for relay in result.relays:
        made = f" (key made here: relays/{relay.name}/relayer.json)" if relay.name in result.generated_relayers else ""
        typer.echo(f"  relayer {relay.name:<12} {relay.address}{made}")
    if n < 4:
        typer.echo("note: fewer than 4 validators tolerate no failure; production wants 4 or more", err=True)


def _keys_from_registry(ctx: typer.Context, spec: NetworkSpec) -> NetworkSpec:
    """Each department's live signer keys as the deployed registry lists them."""
    from chain.types import department_id

    registry = get(ctx).registry
    known = set(registry.department_ids())
    keys: dict[str, list[str]] = {}
    for department in spec.departments:
        identifier = department_id(department.code)
        if identifier not in known:
            raise NetworkRegistryError(
                f"department {department.code} is not registered in registry {registry.address}",
                f"登记合约 {registry.address} 中没有部门 {department.code}",
            )
        live = registry.live_signer_keys(identifier)
        if not live:
            raise NetworkRegistryError(
                f"department {department.code} has no live signer key in registry {registry.address}",
                f"登记合约 {registry.address} 中部门 {department.code} 没有有效的签名密钥",
            )
        keys[department.code] = live
    return spec.with_signer_keys(keys)


@app.command("unlock-key")
def unlock_key(
    keystore: Annotated[
        Path, typer.Argument(metavar="KEY.json", help="A node's encrypted key (nodes/<name>/key.json).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where Besu reads the key: a file on a tmpfs.")],
    password_file: PasswordFileOption = None,
    owner: Annotated[
        str | None, typer.Option(help="UID:GID to own the written key (Besu's image runs as 1000:1000).")
    ] = None,
) -> None:
    """Decrypt a node key for Besu (--node-private-key-file): one line of hex, owner-only."""
    from network.nodekeys import unlock_key as unlock

    ids: tuple[int, int] | None = None
    if owner is not None:
        try:
            uid, gid = (int(part) for part in owner.split(":"))
        except ValueError:
            raise UsageError(
                "--owner must be UID:GID, e.g. 1000:1000", zh="--owner 应为 UID:GID，例如 1000:1000"
            ) from None
        ids = (uid, gid)
    if out.parent != Path() and not out.parent.is_dir():
        raise InputError(f"the directory of {out} does not exist", zh=f"{out} 所在目录不存在")
    password = _password(password_file, confirm=False)
    address = unlock(keystore, password, out)
    if ids is not None:
        os.chown(out, *ids)
    typer.echo(f"{address} unlocked into {out}")


@app.command("swarm-key")
def swarm_key(
    out: Annotated[Path, typer.Argument(help="Where to write the key (outside the bundle, e.g. /etc/ereg/).")],
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """A new key of the Kubo nodes' private swarm (its format: /key/swarm/psk/1.0.0/, base16)."""
    from network.nodekeys import write_private_file

    if out.exists() and not force:
        raise InputError(f"{out} exists already (--force replaces it)", zh=f"{out} 已存在（--force 可替换）")
    write_private_file(out, f"/key/swarm/psk/1.0.0/\n/base16/\n{secrets.token_hex(32)}\n")
    typer.echo(f"swarm key written to {out} (owner-only); give its path as EREG_IPFS_SWARM_KEY_FILE")
