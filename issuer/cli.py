"""``ereg``: the departments' signing tool.

Every failure a user can cause or meet (wrong password, corrupt keystore, unreadable file,
schema violation, node or IPFS down, department not authorized) is an error of the project's
one tree, :class:`~common.errors.EregError`; this edge translates that root only, into one
line on stderr and a non-zero exit status, never a traceback::

    ereg: error [CHAIN_UNAVAILABLE]: the node at … is unreachable / 无法连接区块链节点   (both, the default)
    ereg: error [CHAIN_UNAVAILABLE]: the node at … is unreachable                   (en)
    ereg: 错误 [CHAIN_UNAVAILABLE]：无法连接区块链节点（the node at … is unreachable）  (zh)

``--lang`` or ``EREG_LANG`` picks the language: ``zh`` for a registry window, ``en`` for the
operators' scripts, both on one line otherwise. The code is in every form, so that a clerk can
read it out to support. In Chinese, an error whose Chinese words only name the kind of failure
keeps the English detail (a file, an address) in brackets rather than losing it.
"""

from __future__ import annotations

import enum
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from common.errors import EregError
from issuer import chain_cmd, dept_cmd, docs_cmd, gov_cmd, keys_cmd, network_cmd, property_cmd, storage_cmd, verify_cmd
from issuer.context import CliContext, default_home
from issuer.errors import FileError, IssuerError


class Lang(enum.StrEnum):
    """The language of the error line."""

    both = "both"
    en = "en"
    zh = "zh"


#: Packages whose exceptions are the framework's own flow (usage errors, ``--help``'s exit, an aborted
#: prompt): typer prints them. Told by module, as typer's versions move them between its click and its own.
_FRAMEWORK = frozenset({"click", "typer"})

_NEWLINES = re.compile(r"\s*\n\s*")


def fail(message: str, exit_code: int) -> typer.Exit:
    """Print the one-line error and give the Exit to raise."""
    typer.echo(f"ereg: {_NEWLINES.sub(' ', message)}", err=True)
    return typer.Exit(exit_code)


def describe(exc: EregError, lang: str = Lang.both) -> str:
    """The error in one line: ``error [CODE]: English``, ``错误 [CODE]：中文`` or both halves."""
    code = exc.code or EregError.code
    english = exc.describe("en")
    chinese = exc.describe("zh")
    if lang == Lang.en:
        return f"error [{code}]: {english}"
    if lang == Lang.zh:
        generic = "message_zh" not in vars(exc)  # the class's words: keep this error's detail
        if generic and english and english != chinese:
            chinese = f"{chinese}（{english}）"
        return f"错误 [{code}]：{chinese}"
    if chinese and chinese != english:
        return f"error [{code}]: {english} / {chinese}"
    return f"error [{code}]: {english}"


def _lang(ctx: Any) -> str:
    """The language asked for: the group's ``--lang`` (which reads ``EREG_LANG``), else both."""
    value = ctx.params.get("lang") if ctx is not None else None
    if value is None:
        value = os.environ.get("EREG_LANG", Lang.both)
    return value if value in set(Lang) else Lang.both


def _unexpected(exc: Exception) -> EregError:
    """A bug of ereg, as one line: its type only (its text may hold anything, a key included)."""
    name = type(exc).__name__
    return EregError(
        f"ereg failed unexpectedly ({name}); EREG_DEBUG=1 shows where",
        f"程序发生意外错误（{name}）",
        code="INTERNAL",
    )


class EregGroup(TyperGroup):
    """Turns the project's errors into one line and an exit status, for every subcommand."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EregError as exc:
            exit_code = exc.exit_code if isinstance(exc, IssuerError) else 1
            raise fail(describe(exc, _lang(ctx)), exit_code) from None
        except OSError as exc:
            raise fail(describe(FileError.of(exc), _lang(ctx)), 1) from None
        except Exception as exc:
            if type(exc).__module__.split(".")[0] in _FRAMEWORK or os.environ.get("EREG_DEBUG"):
                raise
            raise fail(describe(_unexpected(exc), _lang(ctx)), 1) from None


app = typer.Typer(
    cls=EregGroup,
    no_args_is_help=True,
    add_completion=False,
    help="e-Registry signing tool for issuing departments and governance.",
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(envvar="EREG_HOME", help="Keys and deployment records [default: ~/.ereg].")
    ] = None,
    rpc_url: Annotated[str | None, typer.Option(envvar="EREG_RPC_URL", help="JSON-RPC URL of the chain node.")] = None,
    chain_id: Annotated[int | None, typer.Option(envvar="EREG_CHAIN_ID", help="Expected chain id.")] = None,
    registry: Annotated[
        str | None,
        typer.Option(envvar="EREG_REGISTRY_ADDRESS", help="Registry address (else the deployment record)."),
    ] = None,
    deployments_dir: Annotated[Path | None, typer.Option(envvar="EREG_DEPLOYMENTS_DIR")] = None,
    council: Annotated[
        str | None,
        typer.Option(envvar="EREG_COUNCIL_ADDRESS", help="Governance council address (else the deployment record)."),
    ] = None,
    lang: Annotated[
        Lang,
        typer.Option(
            "--lang", envvar="EREG_LANG", case_sensitive=False, help="Language of error lines: en, zh or both."
        ),
    ] = Lang.both,
) -> None:
    ctx.obj = CliContext(
        home=home or default_home(),
        rpc_url=rpc_url,
        chain_id=chain_id,
        registry_address=registry,
        deployments_dir=deployments_dir,
        council_address=council,
    )


app.add_typer(keys_cmd.app, name="keys", help="Create and list encrypted signing keys.")
app.add_typer(
    dept_cmd.app, name="dept", help="Departments, signing keys, document types: shown, or drafted into proposals."
)
app.add_typer(gov_cmd.app, name="gov", help="The governance council: seal, sign, approve, execute, veto proposals.")
app.add_typer(property_cmd.app, name="property", help="Property units: registration, transfers, mortgages, seizures.")
app.add_typer(storage_cmd.app, name="storage", help="Replicated IPFS storage: check and repair the copies.")
app.add_typer(network_cmd.app, name="network", help="A Besu QBFT network from the department list; node keys.")
chain_cmd.register(app)
docs_cmd.register(app)
verify_cmd.register(app)


def main() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        typer.echo("ereg: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
