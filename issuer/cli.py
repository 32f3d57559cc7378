"""``ereg``: the departments' signing tool.

Every failure a user can cause or meet (wrong password, corrupt keystore, unreadable file,
schema violation, node or IPFS down, department not authorized) ends in one line on stderr
and a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from chain.errors import ChainError, ContractRevert
from issuer import chain_cmd, dept_cmd, docs_cmd, gov_cmd, keys_cmd, property_cmd
from issuer.context import CliContext, default_home
from issuer.errors import Bilingual, IssuerError

#: Errors from the packages the CLI builds on; each becomes one line.
_DOMAIN_ERRORS: tuple[type[Exception], ...] = (IssuerError, ChainError)


def _domain_errors() -> tuple[type[Exception], ...]:
    errors = list(_DOMAIN_ERRORS)
    try:
        from documents.errors import DocumentError

        errors.append(DocumentError)
    except ImportError:  # pragma: no cover - documents is part of the project
        pass
    try:
        from storage.errors import StorageError

        errors.append(StorageError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def fail(message: str, exit_code: int) -> typer.Exit:
    """Print the one-line error and give the Exit to raise."""
    typer.echo(f"ereg: {message}", err=True)
    return typer.Exit(exit_code)


def describe(exc: BaseException) -> str:
    """The error in one line: what happened in English, then in Chinese, then its code."""
    if isinstance(exc, ContractRevert):
        council = exc.name.startswith(("GovernanceCouncil", "Timelock"))
        who, who_zh = ("the council", "治理委员会合约") if council else ("the registry", "合约")
        return f"refused by {who}: {exc} / {who_zh}拒绝了该操作"
    code = getattr(exc, "code", None)
    text = str(exc) or type(exc).__name__
    zh = getattr(exc, "message_zh", None)
    if zh and not isinstance(exc, Bilingual):
        text = f"{text} / {zh}"
    return f"{text} [{code}]" if code else text


class EregGroup(TyperGroup):
    """Turns the project's errors into one line and an exit status, for every subcommand."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _domain_errors() as exc:
            raise fail(describe(exc), getattr(exc, "exit_code", 1)) from None
        except OSError as exc:
            where = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
            raise fail(f"{where} / 文件操作失败", 1) from None


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
chain_cmd.register(app)
docs_cmd.register(app)


def main() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        typer.echo("ereg: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
