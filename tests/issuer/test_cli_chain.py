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
    address = str(cli("keys", "new", name).split()[1])
    if node.mode == "dev":
        fund(node.rpc_url, address)
    return address


def _dev_council(cli, node: HardhatNode) -> str:  # type: ignore[no-untyped-def]
    """Deployer, one council member and a development council (1 of 1, no delay) with its registry."""
    _key(cli, node, "governor")
    member = _key(cli, node, "member")
    printed = cli(
        "deploy", "--key", "governor", "--member", "member", "--threshold", "1", "--delay", "0", "--dev-council"
    )
    assert "deployed GovernanceCouncil" in printed and "deployed DocumentRegistry" in printed
    assert "warning: a development council" in printed and "仅限本地测试链使用" in printed
    return member


def test_governance_anchor_and_status(cli, node: HardhatNode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signer = _key(cli, node, "samr")
    _dev_council(cli, node)
    dev = ("--member", "member", "--threshold", "1", "--delay", "0", "--dev-council")
    again = cli("deploy", "--key", "governor", *dev)
    assert "reused GovernanceCouncil" in again and "reused DocumentRegistry" in again
    draft = str(tmp_path / "p.json")
    printed = cli(
        "dept",
        "register",
        "LA-SAMR",
        "--name",
        "六安市市场监督管理局",
        "--credit-code",
        "11341500MB0000001A",
        "--proposal",
        draft,
    )
    assert "register department 六安市市场监督管理局" in printed and "登记部门 六安市市场监督管理局" in printed
    cli("dept", "add-key", "LA-SAMR", "samr", "--valid-from", "2020-01-01T00:00:00Z", "--proposal", draft)
    cli("dept", "authorize", "LA-SAMR", "business-license", "--proposal", draft)
    assert "Scheduled" in cli("gov", "propose", draft)
    assert "signed by" in cli("gov", "sign", draft, "--key", "member", "--yes")
    assert "carried out" in cli("gov", "execute", draft, "--key", "governor")  # no delay: scheduled and run
    shown = cli("dept", "show", "LA-SAMR")
    assert "六安市市场监督管理局" in shown and signer in shown
    assert f"0x{department_id('LA-SAMR').hex()}" in cli("dept", "list")

    root = "0x" + os.urandom(32).hex()
    assert "NOT_ANCHORED" in cli("status", root, "--department", "LA-SAMR", expect=3)
    out = cli("anchor", root, "--type", "business-license", "--count", "100", "--key", "samr")
    assert "anchored" in out and "gas" in out
    line = cli("status", root, "--department", "LA-SAMR")
    assert line.startswith("ACTIVE") and signer in line
    # the same root is another department's record, not anchored by it
    assert "NOT_ANCHORED" in cli("status", root, "--department", "LA-NATRES", expect=3)
    assert "--department" in cli("status", root, expect=2)


def test_errors_are_one_line(cli, node: HardhatNode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _key(cli, node, "stranger")
    _dev_council(cli, node)
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
    # a 1-of-1 council only as a development council
    out = cli("deploy", "--key", "stranger", "--member", "stranger", "--threshold", "1", "--force", expect=2)
    assert out.count("\n") == 1 and "one person" in out and "一人说了算" in out
    # a proposal no member approved
    draft = str(tmp_path / "p.json")
    cli("dept", "register", "X", "--name", "n", "--credit-code", "11341500MB0000009Z", "--proposal", draft)
    cli("gov", "propose", draft)
    out = cli("gov", "execute", draft, "--key", "stranger", expect=1)
    assert out.count("\n") == 1 and "not enough approvals: 0 of 1" in out and "批准不足" in out
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
    result = runner.invoke(app, ["status", "0x" + "11" * 32, "--department", "LA-SAMR"], env=env)
    assert result.exit_code == 1
    assert "CHAIN_UNAVAILABLE" in result.output
    assert result.output.count("\n") == 1


def test_missing_chain_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["status", "0x" + "11" * 32, "--department", "LA-SAMR"],
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
