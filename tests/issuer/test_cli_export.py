"""``ereg export --format vc``: a document (issued or disclosed) as a W3C VC 2.0 signed by its department.

The credential is read back with PyJWT and the key its did:key names (not the project's reader),
and the rebuilt document is the file that was exported.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import base58
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account

from documents import document_to_dict, parse_document
from documents.samples import sample_business_licence
from documents.vc import document_of, open_credential, unenvelope
from tests.contracts.helpers import add_key
from tests.factories import SAMR
from tests.issuer.conftest import Cli, write_keystore, write_records
from tests.issuer.test_cli_verify import fragments

pytestmark = pytest.mark.chain


def public_key(did: str) -> ec.EllipticCurvePublicKey:
    raw = base58.b58decode(did.removeprefix("did:key:z"))
    assert raw[:2] == b"\xe7\x01"
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), raw[2:])


def issued(cli: Cli, count: int = 2) -> Path:
    names = write_records(cli.tmp / "records", [sample_business_licence(i) for i in range(count)])
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "records", out=out)
    return out / f"{names[0]}.ereg.json"


def test_export_writes_a_credential_a_jose_library_checks(cli: Cli) -> None:
    document = issued(cli)
    printed = cli("export", str(document), "--format", "vc", "--key", "samr")
    target = document.with_name(document.name.removesuffix(".ereg.json") + ".vc.jwt")
    assert str(target) in printed and cli.world.samr_key.address in printed
    token = target.read_text(encoding="ascii").strip()
    header = jwt.get_unverified_header(token)
    did = header["kid"].split("#")[0]
    claims = jwt.decode(token, public_key(did), algorithms=["ES256K"], options={"verify_iat": False})
    assert claims["issuer"]["id"] == did
    assert document_to_dict(document_of(claims)) == document_to_dict(parse_document(document.read_bytes()))
    assert abs(claims["iat"] - cli.world.now()) < 120


def test_export_of_a_disclosed_copy_and_as_an_envelope(cli: Cli) -> None:
    document = issued(cli)
    cli("disclose", str(document), "--hide", "/phone")
    disclosed = document.with_name(document.name.removesuffix(".ereg.json") + ".disclosed.ereg.json")
    out = cli.tmp / "licence.vc.json"
    cli("export", str(disclosed), "--key", "samr", "--envelope", "--out", str(out))
    wrapped = json.loads(out.read_text(encoding="utf-8"))
    assert wrapped["type"] == "EnvelopedVerifiableCredential"
    credential = open_credential(unenvelope(wrapped)).credential
    assert "phone" not in credential["credentialSubject"]
    assert document_to_dict(document_of(credential)) == document_to_dict(parse_document(disclosed.read_bytes()))


def test_export_refuses_a_key_of_another_department(cli: Cli) -> None:
    document = issued(cli)
    line = cli.fail("export", str(document), "--key", "natres")
    assert "NOT_AUTHORIZED" in line and cli.world.natres_key.address in line
    assert not list(document.parent.glob("*.vc.jwt"))


def test_export_refuses_a_key_outside_its_window(cli: Cli) -> None:
    document = issued(cli)
    future = add_key(cli.world, SAMR, valid_from=cli.world.now() + 86_400)  # SAMR's, but not yet valid
    write_keystore(cli.home / "keys", "future", bytes(future.key))
    line = cli.fail("export", str(document), "--key", "future")
    assert "NOT_AUTHORIZED" in line and "valid now" in line


def test_export_refuses_a_tampered_file(cli: Cli) -> None:
    document = issued(cli)
    obj = json.loads(document.read_bytes())
    obj["data"]["name"] = "冒名有限公司"
    document.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    line = cli.fail("export", str(document), "--key", "samr")
    assert "TAMPERED" in line


# ------------------------------------------------------------------- ereg verify on it
def test_ereg_verify_reads_the_exported_credential(cli: Cli) -> None:
    document = issued(cli)
    cli("export", str(document), "--key", "samr")
    token_file = document.with_name(document.name.removesuffix(".ereg.json") + ".vc.jwt")
    envelope_file = cli.tmp / "licence.vc.json"
    cli("export", str(document), "--key", "samr", "--envelope", "--out", str(envelope_file))
    for path in (token_file, envelope_file):
        printed = cli("verify", str(path), "--lang", "en")
        found = fragments(printed)
        assert found["CREDENTIAL"][:2] == ("VALID", "OK"), printed
        assert found["DOCUMENT_STATUS"][:2] == ("VALID", "OK")
        assert printed.splitlines()[0].startswith("VALID")
    verdict = json.loads(cli("verify", str(token_file), "--json"))
    assert [f["name"] for f in verdict["fragments"]][:2] == ["CREDENTIAL", "DOCUMENT_INTEGRITY"]

    # a claim changed in the JWT: the signature no longer holds, exit status 1
    header, payload, signature = token_file.read_text(encoding="ascii").strip().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["credentialSubject"]["name"] = "冒名有限公司"
    changed = base64.urlsafe_b64encode(json.dumps(claims, ensure_ascii=False).encode()).rstrip(b"=").decode()
    forged = cli.tmp / "forged.vc.jwt"
    forged.write_text(f"{header}.{changed}.{signature}", encoding="ascii")
    found = fragments(cli("verify", str(forged), "--lang", "zh", expect=1))
    assert found["CREDENTIAL"][:2] == ("INVALID", "VC_SIGNATURE_INVALID")

    # revoked: the credential says what the chain says, exit status 1
    cli("revoke", str(document), "--key", "samr", "--reason", "2")
    found = fragments(cli("verify", str(envelope_file), "--lang", "en", expect=1))
    assert found["CREDENTIAL"][:2] == ("VALID", "OK")
    assert found["DOCUMENT_STATUS"][:2] == ("INVALID", "REVOKED")


def test_export_refuses_a_key_the_registry_does_not_know(cli: Cli) -> None:
    document = issued(cli)
    write_keystore(cli.home / "keys", "stranger", bytes(Account.create().key))
    line = cli.fail("export", str(document), "--key", "stranger")
    assert "NOT_AUTHORIZED" in line
