"""``ereg network``: init, unlock-key and swarm-key through the CLI's one edge (one bilingual line on
failure, a non-zero exit status). These runs use eth-account's real scrypt cost (about two seconds a
key), so each makes one key only."""

from __future__ import annotations

import json
import re
import stat
import tomllib
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner, Result

from issuer.cli import app
from network.nodekeys import new_node_key
from tests.network.conftest import CHEAP_SCRYPT_N, EXAMPLE, PASSWORD, small_spec_toml

CJK = re.compile(r"[\u4e00-\u9fff]")


def ereg(*args: str, env: dict[str, str | None] | None = None, stdin: str | None = None) -> Result:
    base: dict[str, str | None] = {"EREG_NODE_KEY_PASSWORD": None, "EREG_LANG": None}
    return CliRunner().invoke(app, list(args), env={**base, **(env or {})}, input=stdin)


def one_error_line(result: Result, exit_code: int = 1) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.output.strip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("ereg: error ["), result.output
    line = lines[0]
    assert " / " in line and CJK.search(line.split(" / ", 1)[1]), line  # English / Chinese
    return line


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "node-key-password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def test_init_writes_the_network_and_says_what_it_made(tmp_path: Path, password_file: Path) -> None:
    relayer = Account.create().address
    spec = tmp_path / "pilot.toml"
    spec.write_text(small_spec_toml(relayer_address=relayer), encoding="utf-8")
    out = tmp_path / "net"
    result = ereg("network", "init", str(spec), "--out", str(out), "--password-file", str(password_file))
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "network.json").read_text())
    assert f"genesis hash {summary['genesisHash']}" in result.output
    assert "la-samr-1" in result.output and "0 may fail at once" in result.output
    assert "fewer than 4 validators" in result.output
    keystore = json.loads((out / "nodes" / "la-samr-1" / "key.json").read_text())
    assert keystore["crypto"]["kdfparams"]["n"] == 2**18  # the real cost, not the tests' cheap one
    permissions = tomllib.loads((out / "permissions_config.toml").read_text())
    assert relayer.lower() in permissions["accounts-allowlist"]
    assert (out / "relays" / "relay-1" / "README").read_text().startswith("Put the keystore of relayer relay-1")

    # a second run into the same directory is refused, before any password is asked
    again = ereg("network", "init", str(spec), "--out", str(out))
    assert "NETWORK_OUTPUT_NOT_EMPTY" in one_error_line(again)


def test_unlock_key_writes_the_key_and_refuses_a_wrong_password(tmp_path: Path) -> None:
    node = tmp_path / "nodes" / "la-samr-1"
    key = new_node_key(PASSWORD, scrypt_n=CHEAP_SCRYPT_N)  # the generator's own, at the tests' cost
    node.mkdir(parents=True)
    (node / "key.json").write_text(json.dumps(key.keystore))
    (node / "key.pub").write_text(key.public_key + "\n")
    out = tmp_path / "run" / "key"
    out.parent.mkdir()
    unlocked = ereg(
        "network", "unlock-key", str(node / "key.json"), "--out", str(out), env={"EREG_NODE_KEY_PASSWORD": PASSWORD}
    )
    assert unlocked.exit_code == 0, unlocked.output
    assert unlocked.output.strip() == f"{key.address} unlocked into {out}"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text().startswith("0x")

    wrong = ereg(
        "network", "unlock-key", str(node / "key.json"), "--out", str(tmp_path / "k2"),
        env={"EREG_NODE_KEY_PASSWORD": "not the password"},
    )  # fmt: skip
    line = one_error_line(wrong)
    assert "[NODE_KEY_ERROR]" in line and "wrong password" in line and "密码错误" in line
    assert not (tmp_path / "k2").exists()


def test_the_shipped_example_is_refused_for_its_placeholders(tmp_path: Path, password_file: Path) -> None:
    result = ereg(
        "network", "init", str(EXAMPLE), "--out", str(tmp_path / "net"), "--password-file", str(password_file)
    )
    line = one_error_line(result)
    assert "[NETWORK_SPEC_INVALID]" in line and "department LA-SAMR: signer key" in line and "占位符" in line
    assert not (tmp_path / "net").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[network\n", "not valid TOML"),
        ('[network]\nname = "x"\n', "[network].chain_id: must be a whole number"),
        (small_spec_toml().replace('code = "LA-SAMR"', 'code = "LA-SAMR"\ncolour = "red"'), "unknown entry colour"),
    ],
)
def test_a_bad_spec_is_one_bilingual_line(tmp_path: Path, password_file: Path, text: str, words: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text, encoding="utf-8")
    result = ereg("network", "init", str(spec), "--out", str(tmp_path / "net"), "--password-file", str(password_file))
    line = one_error_line(result)
    assert "[NETWORK_SPEC_INVALID]" in line and words in line, line


def test_the_language_of_the_line_follows_ereg_lang(tmp_path: Path) -> None:
    result = ereg("network", "init", str(tmp_path / "none.toml"), "--out", str(tmp_path / "n"), env={"EREG_LANG": "zh"})
    assert result.exit_code == 1
    assert result.output.strip() == f"ereg: 错误 [NETWORK_SPEC_INVALID]：{tmp_path / 'none.toml'}：文件不存在"


def test_password_problems_are_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "pilot.toml"
    spec.write_text(small_spec_toml(relayer_address=Account.create().address), encoding="utf-8")
    missing = ereg("network", "init", str(spec), "--out", str(tmp_path / "a"), "--password-file", str(tmp_path / "no"))
    assert "[INPUT]" in one_error_line(missing)
    short = tmp_path / "short"
    short.write_text("short\n")
    too_short = ereg("network", "init", str(spec), "--out", str(tmp_path / "b"), "--password-file", str(short))
    assert "at least 8 characters" in one_error_line(too_short)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_unlock_key_usage_errors(tmp_path: Path) -> None:
    bad_owner = ereg("network", "unlock-key", str(tmp_path / "k.json"), "--out", str(tmp_path / "k"), "--owner", "me")
    assert "[USAGE]" in one_error_line(bad_owner, exit_code=2)
    no_dir = ereg("network", "unlock-key", str(tmp_path / "k.json"), "--out", str(tmp_path / "no" / "k"))
    assert "does not exist" in one_error_line(no_dir)
    not_a_key = tmp_path / "k.json"
    not_a_key.write_text("{}")
    result = ereg(
        "network", "unlock-key", str(not_a_key), "--out", str(tmp_path / "k"), env={"EREG_NODE_KEY_PASSWORD": PASSWORD}
    )
    assert "not an encrypted key" in one_error_line(result)


def test_swarm_key(tmp_path: Path) -> None:
    path = tmp_path / "swarm.key"
    assert ereg("network", "swarm-key", str(path)).exit_code == 0
    header, encoding, key = path.read_text().splitlines()
    assert (header, encoding) == ("/key/swarm/psk/1.0.0/", "/base16/") and len(bytes.fromhex(key)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "exists already" in one_error_line(ereg("network", "swarm-key", str(path)))
    assert ereg("network", "swarm-key", str(path), "--force").exit_code == 0
    assert path.read_text().splitlines()[2] != key
