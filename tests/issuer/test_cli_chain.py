"""The minimal chain commands of ``ereg`` against the real node: keys, deploy, departments, anchor, status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chain.types import department_id
from devstack.hardhat import HardhatNode, fund
from issuer.cli import app

PASSWORD = "correct horse battery"


@pytest.fixture
def cli(node: HardhatNode, tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {
        "EREG_HOME": str(tmp_path / "home"),
        "EREG_RPC_URL": node.rpc_url,
        "EREG_CHAIN_ID": str(node.chain_id),
        "EREG_KEY_PASSWORD": PASSWORD,
    }

    def run(*args: str, expect: int = 0, env_extra: dict[str, str] | None = None) -> str:
        result = runner.invoke(app, list(args), env={**env, **(env_extra or {})})
        assert result.exit_code == expect, (
            f"ereg {' '.join(args)} -> {result.exit_code}:\n{result.output}"
        )
        if expect != 0:
            assert "Traceback" not in result.output
        return result.output

    return run


def _key(cli, node: HardhatNode, name: str) -> str:  # type: ignore[no-untyped-def]
    address = cli("keys", "new", name).split()[1]
    if node.mode == "dev":
        fund(node.rpc_url, address)
    return address


def test_governance_anchor_and_status(cli, node: HardhatNode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _key(cli, node, "governor")
    signer = _key(cli, node, "samr")
    assert "deployed DocumentRegistry" in cli("deploy", "--key", "governor")
    assert "reused DocumentRegistry" in cli("deploy", "--key", "governor")
    cli(
        "dept",
        "register",
        "LA-SAMR",
        "--name",
        "六安市市场监督管理局",
        "--credit-code",
        "11341500MB0000001A",
        "--key",
        "governor",
    )
    cli(
        "dept",
        "add-key",
        "LA-SAMR",
        "samr",
        "--key",
        "governor",
        "--valid-from",
        "2020-01-01T00:00:00Z",
    )
    cli("dept", "authorize", "LA-SAMR", "business-license", "--key", "governor")
    shown = cli("dept", "show", "LA-SAMR")
    assert "六安市市场监督管理局" in shown and signer in shown
    assert f"0x{department_id('LA-SAMR').hex()}" in cli("dept", "list")

    root = "0x" + os.urandom(32).hex()
    assert "NOT_ANCHORED" in cli("status", root, expect=3)
    out = cli("anchor", root, "--type", "business-license", "--count", "100", "--key", "samr")
    assert "anchored" in out and "gas" in out
    line = cli("status", root)
    assert line.startswith("ACTIVE") and signer in line


def test_errors_are_one_line(cli, node: HardhatNode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _key(cli, node, "governor")
    _key(cli, node, "stranger")
    cli("deploy", "--key", "governor")
    root = "0x" + os.urandom(32).hex()
    # key without department
    out = cli(
        "anchor", root, "--type", "business-license", "--count", "1", "--key", "stranger", expect=1
    )
    assert out.count("\n") == 1 and "NOT_AUTHORIZED" in out
    # wrong password
    out = cli(
        "anchor",
        root,
        "--type",
        "business-license",
        "--count",
        "1",
        "--key",
        "stranger",
        expect=1,
        env_extra={"EREG_KEY_PASSWORD": "not the password"},
    )
    assert "wrong password" in out
    # unknown key
    assert "no key named" in cli(
        "anchor", root, "-t", "x", "--count", "1", "--key", "nobody", expect=1
    )
    # not governor
    out = cli(
        "dept",
        "register",
        "X",
        "--name",
        "n",
        "--credit-code",
        "11341500MB0000009Z",
        "--key",
        "stranger",
        expect=1,
    )
    assert "AccessControlUnauthorizedAccount" in out
    # bad root
    assert "64 hex digits" in cli("status", "0x1234", expect=2)
    # corrupt keystore
    keys = tmp_path / "home" / "keys"
    (keys / "broken.json").write_text("{not json")
    assert "unreadable" in cli(
        "anchor", root, "-t", "x", "--count", "1", "--key", "broken", expect=1
    )


def test_node_down_is_one_line(tmp_path: Path) -> None:
    from devstack.process import free_port

    runner = CliRunner()
    env = {
        "EREG_HOME": str(tmp_path),
        "EREG_RPC_URL": f"http://127.0.0.1:{free_port()}",
        "EREG_CHAIN_ID": "1337",
    }
    result = runner.invoke(app, ["status", "0x" + "11" * 32], env=env)
    assert result.exit_code == 1
    assert "CHAIN_UNAVAILABLE" in result.output
    assert result.output.count("\n") == 1


def test_missing_chain_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["status", "0x" + "11" * 32],
        env={"EREG_HOME": str(tmp_path), "EREG_RPC_URL": "", "EREG_CHAIN_ID": ""},
    )
    assert result.exit_code == 2
    assert "EREG_RPC_URL" in result.output


def test_keystore_is_private(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"EREG_HOME": str(tmp_path), "EREG_KEY_PASSWORD": PASSWORD}
    out = runner.invoke(app, ["keys", "new", "k1"], env=env).output
    address = out.split()[1]
    path = tmp_path / "keys" / "k1.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "keys").stat().st_mode & 0o777) == "0o700"
    text = path.read_text()
    assert address[2:].lower() in text.lower() and "scrypt" in text
    assert runner.invoke(app, ["keys", "address", "k1"], env=env).output.strip() == address
    dup = runner.invoke(app, ["keys", "new", "k1"], env=env)
    assert dup.exit_code == 1 and "exists" in dup.output


def test_prompted_password_with_confirmation(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"EREG_HOME": str(tmp_path)}
    mismatch = runner.invoke(
        app,
        ["keys", "new", "k2"],
        env=env,
        input="password-one\npassword-two\npassword-one\npassword-one\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output.lower() or "match" in mismatch.output.lower()
    assert "password-one" not in mismatch.output
