"""``ereg`` with the ``ereg/1-sm`` suite: an SM2 key created encrypted, registered for a department
through the council, a batch issued with ``--suite sm`` and verified; bad combinations in one line."""

from __future__ import annotations

import json
from pathlib import Path

from documents.hashing import keccak256
from documents.samples import sample_business_licence
from tests.factories import SAMR
from tests.issuer.conftest import PASSWORD, Cli, write_records

SM2_ENV = {"EREG_SM2_KDF_ITERATIONS": "10000"}  # the floor: each command derives in milliseconds


def new_sm2_key(cli: Cli, name: str) -> str:
    out = cli("keys", "new", name, "--sm2", env=SM2_ENV)
    words = out.split()
    assert words[:2] == [name, "sm2"] and words[2].startswith("0x") and len(words[2]) == 130, out
    return words[2]


def register(cli: Cli, name: str, draft: Path) -> None:
    cli("dept", "add-key", "LA-SAMR", name, "--sm2", "--valid-from", "2020-01-01T00:00:00Z", "--proposal", str(draft))
    cli.govern(draft)


def test_sm2_key_is_encrypted_listed_and_registered(cli: Cli) -> None:
    public = new_sm2_key(cli, "samr-sm2")
    path = cli.home / "keys" / "sm2" / "samr-sm2.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["publicKey"] == public and stored["crypto"]["kdf"] == "pbkdf2-hmac-sm3"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert f"samr-sm2 sm2 {public}" in cli("keys", "list")
    assert cli("keys", "address", "samr-sm2", "--sm2").strip() == public
    assert "already" in cli.fail("keys", "new", "samr-sm2", "--sm2", env=SM2_ENV)
    register(cli, "samr-sm2", cli.tmp / "sm2-key.json")
    record = cli.world.registry.sm2_key(keccak256(bytes.fromhex(public[2:])))
    assert record is not None and record.department == SAMR
    # the same key again: refused before any proposal is drafted
    line = cli.fail("dept", "add-key", "LA-SAMR", "samr-sm2", "--sm2", "--proposal", str(cli.tmp / "again.json"))
    assert "already" in line, line


def test_issue_in_the_sm_suite_and_verify(cli: Cli) -> None:
    new_sm2_key(cli, "samr-sm2")
    register(cli, "samr-sm2", cli.tmp / "sm2-key.json")
    names = write_records(cli.tmp / "records", [sample_business_licence(i) for i in range(3)])
    out = cli.tmp / "out"
    printed = cli("issue", str(cli.tmp / "records"), "--type", "business-license", "--key", "samr", "--out", str(out),
                  "--suite", "sm", "--sm2-key", "samr-sm2", env=SM2_ENV)
    assert "issued 3 documents" in printed, printed
    doc = json.loads((out / f"{names[0]}.ereg.json").read_text(encoding="utf-8"))
    assert doc["version"] == "ereg/1-sm" and doc["proof"]["signature"]["alg"] == "SM2"
    url = (out / f"{names[0]}.qr.url").read_text(encoding="utf-8").strip()
    assert len(url.split("#k=")[1]) == 22
    verdict = cli("verify", str(out / f"{names[0]}.ereg.json"), "--json", expect=0)
    parsed = json.loads(verdict)
    assert parsed["verdict"] == "VALID", verdict
    identity = next(f for f in parsed["fragments"] if f["name"] == "ISSUER_IDENTITY")
    assert identity["details"]["sm2Key"] == doc["proof"]["signature"]["key"]
    # resuming that output directory in the other suite is refused
    line = cli.fail("issue", str(cli.tmp / "records"), "--type", "business-license", "--key", "samr",
                    "--out", str(out))
    assert "suite" in line, line


def test_bad_suite_options_are_one_line(cli: Cli) -> None:
    write_records(cli.tmp / "records", [sample_business_licence(0)])
    base = ["issue", str(cli.tmp / "records"), "--type", "business-license", "--key", "samr", "--out",
            str(cli.tmp / "out")]
    assert "--sm2-key" in cli.fail(*base, "--suite", "sm", expect=2)
    assert "unknown --suite" in cli.fail(*base, "--suite", "sha256", expect=2)
    new_sm2_key(cli, "loose")
    assert "--suite sm" in cli.fail(*base, "--sm2-key", "loose", expect=2)
    # a key no department has: nothing is stored or anchored
    line = cli.fail(*base, "--suite", "sm", "--sm2-key", "loose", env=SM2_ENV)
    assert "not registered" in line, line
    assert cli.anchored_roots() == []
    line = cli.fail(*base, "--suite", "sm", "--sm2-key", "loose", env={**SM2_ENV, "EREG_KEY_PASSWORD": "wrong one!"})
    assert "wrong password" in line, line
    assert "no SM2 key named" in cli.fail(*base, "--suite", "sm", "--sm2-key", "nobody")
    assert PASSWORD  # the fixture's password opens the keys above
