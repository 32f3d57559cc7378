"""The verifier's side of the property registry on the real node, in both chain modes.

The index follows the PropertyRegistry's chain of title next to the DocumentRegistry's events;
verdicts of property certificates carry PROPERTY_STATUS; /v1/properties answers a unit's state
and history. Property certificates are issued by the real issuance engine with the NATRES key
and registered, transferred, mortgaged and seized through the real PropertyRegistry
(tests/property_setup.py). The chain's own views (unitState, mortgageHistory, seizureHistory and
the unit's events) are the oracle of the index.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chain.artifacts import load_artifact
from chain.errors import RegistryNotFound
from chain.events import EventScanner
from chain.logs import RawLogScanner
from chain.property import CONTRACT_NAME as PROPERTY_REGISTRY
from chain.property import Certificate
from chain.sender import Receipt
from chain.types import REASON_CORRECTED, REASON_MORTGAGE_RELEASED, ZERO32, Role
from chainindex import (
    PROPERTY_EVENT_SIGNATURES,
    PROPERTY_EVENTS,
    ChainIndex,
    OwnerShare,
)
from devstack.hardhat import rpc
from devstack.process import free_port
from documents import document_to_bytes, hide_fields, parse_document
from documents.samples import sample_record
from tests.contracts.helpers import gov
from tests.factories import NATRES, PROPERTY_CERTIFICATE, SAMR, TAX, World
from tests.property_setup import (
    BANK,
    BUYER,
    CORRECTED_BUYERS,
    COURT,
    HOUSING,
    MORTGAGE_CERTIFICATE,
    SELLERS,
    UNIT_NUMBER,
    UNIT_SALT,
    Setup,
    make_setup,
    owners,
    unit_of,
)
from tests.verification.test_service import assert_bilingual, assert_verdict, fragment, iso, verify
from tests.verifier.conftest import Issued, IssueFn, verifier_settings, wait_for_index
from verifier.app import create_app
from verifier.runtime import property_registry_address
from verifier.settings import VerifierSettings

pytestmark = pytest.mark.chain

OTHER_UNIT = "341502001001GB00002F00010002"
#: The registered unit as the property endpoints take it: its id (keccak of salt and number)
UNIT_ID = "0x" + unit_of(UNIT_NUMBER).hex()
BANK_NAME = "中国工商银行六安分行"
COURT_NAME = "六安市金安区人民法院"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture
def s(world: World) -> Setup:
    return make_setup(world)


@pytest.fixture
def client(world: World, s: Setup, tmp_path: Path) -> Iterator[TestClient]:
    """The verifier app following the world's registry and the test's PropertyRegistry."""
    settings = verifier_settings(world, tmp_path, property_registry_address=s.prop.address)
    with TestClient(create_app(settings)) as app:
        yield app


# ------------------------------------------------------------------------------ helpers
def property_record(serial: int, unit_number: str = UNIT_NUMBER) -> dict[str, Any]:
    record = sample_record(PROPERTY_CERTIFICATE)
    record["unitNumber"] = unit_number
    record["certificateNumber"] = f"皖（2026）六安市不动产权第{serial:07d}号"
    return record


_serials = iter(range(1, 10_000_000))


def issue_certificate(issue: IssueFn, world: World, unit_number: str = UNIT_NUMBER) -> Issued:
    """One property certificate issued by NATRES through the real issuance engine."""
    (doc,) = issue([property_record(next(_serials), unit_number)], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key)
    return doc


def mortgage_record(serial: int, unit_number: str = UNIT_NUMBER) -> dict[str, Any]:
    record = sample_record(MORTGAGE_CERTIFICATE)
    record["unitNumber"] = unit_number
    record["certificateNumber"] = f"皖（2026）六安市不动产证明第{serial:07d}号"
    return record


def issue_mortgage_certificate(issue: IssueFn, world: World, unit_number: str = UNIT_NUMBER) -> Issued:
    """One mortgage certificate (不动产登记证明) issued by NATRES through the real issuance engine."""
    (doc,) = issue([mortgage_record(next(_serials), unit_number)], doc_type=MORTGAGE_CERTIFICATE, key=world.natres_key)
    return doc


def certificate_of(doc: Issued) -> Certificate:
    proof = doc.obj()["proof"]
    return Certificate(
        bytes.fromhex(proof["merkleRoot"][2:]),
        bytes.fromhex(proof["targetHash"][2:]),
        tuple(bytes.fromhex(p[2:]) for p in proof["proof"]),
    )


def block_time(world: World, receipt: Receipt) -> int:
    return int(world.client.w3.eth.get_block(receipt.block_number)["timestamp"])


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def shares(people: Any, basis_points: Any) -> list[dict[str, Any]]:
    return [{"commitment": hx(p.commitment), "shareBasisPoints": b} for p, b in zip(people, basis_points, strict=True)]


def register(s: Setup, cert: Certificate, unit_number: str = UNIT_NUMBER) -> tuple[bytes, Receipt]:
    unit = unit_of(unit_number)
    return unit, s.prop.register_unit(s.natres, unit, cert, owners(SELLERS, (6000, 4000)))


def transfer(s: Setup, unit: bytes, cert: Certificate) -> tuple[int, Receipt]:
    """Open a case for ``cert`` (the buyer owning it all) and approve it: the last receipt finalizes."""
    _receipt, case_id = s.prop.open_transfer(s.natres, unit, cert, owners((BUYER,), (10_000,)))
    receipt = None
    for role in (Role.TAX, Role.HOUSING, Role.NATRES):
        receipt = s.approve(case_id, role)
    assert receipt is not None
    return case_id, receipt


def property_status(client: TestClient, doc: Issued | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(verdict, its PROPERTY_STATUS fragment) of a document, once the index has caught up."""
    wait_for_index(client)
    result = verify(client, doc.raw() if isinstance(doc, Issued) else doc)
    return result, fragment(result, "PROPERTY_STATUS")


def stable(view: dict[str, Any]) -> dict[str, Any]:
    """A property view without the index's sync time (which moves on every pass)."""
    copy = json.loads(json.dumps(view))
    for holder in (copy, copy.get("current") or {}):
        if "index" in holder:
            holder["index"].pop("syncedAt", None)
    return copy  # type: ignore[no-any-return]


def open_index(world: World, s: Setup, path: Path, **options: Any) -> ChainIndex:
    assert world.deployment.block_number is not None
    return ChainIndex(
        path,
        world.client,
        world.registry.address,
        start_block=world.deployment.block_number,
        property_address=s.prop.address,
        **options,
    )


def assert_property_matches_chain(s: Setup, index: ChainIndex, unit: bytes) -> None:
    """The index's unit, mortgages, seizures and events equal the PropertyRegistry's own views."""
    state = s.prop.unit_state(unit)
    record = index.property_unit(unit)
    assert record is not None and record.registered == state.registered
    if state.registered:
        assert (record.cert_root, record.cert_target) == (state.cert_root, state.cert_target)
        assert record.owners == tuple(OwnerShare(o.commitment, o.share) for o in state.owners)
        assert (record.registered_by, record.registered_at) == (state.registered_by, state.registered_at)
    else:  # a correction revoked its title
        assert (record.cert_root, record.cert_target, record.owners) == (ZERO32, ZERO32, ())
    mortgages = [
        (m.id, m.bank, m.cert_root, m.cert_target, m.registered_at, m.released_at or 0) for m in index.mortgages(unit)
    ]
    assert mortgages == [
        (m.id, m.bank, m.cert_root, m.cert_target, m.registered_at, m.released_at)
        for m in s.prop.mortgage_history(unit)
    ]
    assert [m.id for m in index.mortgages(unit, active_only=True)] == [m.id for m in state.mortgages]
    seizures = [(z.id, z.court, z.ruling, z.registered_at, z.released_at or 0) for z in index.seizures(unit)]
    assert seizures == [(z.id, z.court, z.ruling, z.registered_at, z.released_at) for z in s.prop.seizure_history(unit)]
    assert [z.id for z in index.seizures(unit, active_only=True)] == [z.id for z in state.seizures]
    current = [t for t in index.titles(unit) if t.current]
    assert [t.cert_target for t in current] == ([state.cert_target] if state.registered else [])
    for title in index.titles(unit):  # locked in the DocumentRegistry while it is the title, as the chain says
        locked = s.world.registry.document_status(NATRES, title.cert_root, title.cert_target).title_locked
        assert index.title_locked(NATRES, title.cert_root, title.cert_target) == locked == title.current
    ours = [(e.name, e.block_number, e.log_index, e.tx_hash) for e in index.property_events(unit)]
    theirs = [(e.name, e.block_number, e.log_index, e.tx_hash.lower()) for e in s.prop.history(unit)]
    assert ours == theirs


# ------------------------------------------------------------------ verdicts of titles
def test_transfer_supersedes_the_old_certificate(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:
    old_doc = issue_certificate(issue, world)
    old = certificate_of(old_doc)
    # issued but not registered yet: a certificate that names no registered title is not valid
    result, prop = property_status(client, old_doc)
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("INVALID", "NOT_REGISTERED"))
    assert prop["details"] == {"pendingCases": []}

    unit, registered = register(s, old)
    result, prop = property_status(client, old_doc)
    assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("VALID", "CURRENT"))
    assert prop["details"] == {
        "unit": hx(unit),
        "since": iso(block_time(world, registered)),
        "caseId": None,
        "owners": shares(SELLERS, (6000, 4000)),
        "mortgages": [],
        "seizures": [],
    }

    new_doc = issue_certificate(issue, world)
    new = certificate_of(new_doc)
    _receipt, case_id = s.prop.open_transfer(s.natres, unit, new, owners((BUYER,), (10_000,)))
    s.approve(case_id, Role.TAX)
    # the buyer's certificate is no title while the case is open; the seller's still is
    result, prop = property_status(client, new_doc)
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("INVALID", "NOT_REGISTERED"))
    assert prop["details"] == {"pendingCases": [{"unit": hx(unit), "caseId": case_id, "state": "OPEN"}]}
    assert property_status(client, old_doc)[1]["code"] == "CURRENT"

    s.approve(case_id, Role.HOUSING)
    finalized = s.approve(case_id, Role.NATRES)
    when = iso(block_time(world, finalized))
    result, prop = property_status(client, old_doc)
    assert_verdict(
        result, "INVALID", DOCUMENT_STATUS=("INVALID", "SUPERSEDED"), PROPERTY_STATUS=("INVALID", "SUPERSEDED")
    )
    assert result["status"]["successor"] == hx(new.target)
    assert prop["details"] == {
        "unit": hx(unit),
        "supersededBy": hx(new.target),
        "supersededAt": when,
        "caseId": case_id,
    }

    result, prop = property_status(client, new_doc)
    assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("VALID", "CURRENT"))
    assert prop["details"] == {
        "unit": hx(unit),
        "since": when,
        "caseId": case_id,
        "owners": shares((BUYER,), (10_000,)),
        "mortgages": [],
        "seizures": [],
    }
    # the fragment comes after the document's own checks, and only for property certificates
    assert [f["name"] for f in result["fragments"]][-2:] == ["ISSUER_IDENTITY", "PROPERTY_STATUS"]
    (licence,) = issue(count=1)
    wait_for_index(client)
    assert "PROPERTY_STATUS" not in {f["name"] for f in verify(client, licence.raw())["fragments"]}


def test_seizure_freezes_and_its_release_restores(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:
    doc = issue_certificate(issue, world)
    unit, _ = register(s, certificate_of(doc))
    ruling = os.urandom(32)
    seized, seizure_id = s.prop.register_seizure(s.court, unit, ruling)
    result, prop = property_status(client, doc)
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("INVALID", "FROZEN"))
    assert prop["details"]["seizures"] == [
        {
            "id": seizure_id,
            "court": {"id": hx(COURT), "name": COURT_NAME},
            "ruling": hx(ruling),
            "since": iso(block_time(world, seized)),
        }
    ]
    assert prop["details"]["owners"] == shares(SELLERS, (6000, 4000))
    assert "查封" in prop["message_zh"] and "seized" in prop["message"]

    s.prop.release_seizure(s.court, unit, seizure_id)
    result, prop = property_status(client, doc)
    assert_verdict(result, "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
    assert prop["details"]["seizures"] == []


def test_mortgage_is_listed_and_never_invalidates(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:
    doc = issue_certificate(issue, world)
    unit, _ = register(s, certificate_of(doc))
    evidence = s.certificate(MORTGAGE_CERTIFICATE)
    mortgaged, mortgage_id = s.prop.register_mortgage(s.bank, unit, evidence)
    result, prop = property_status(client, doc)
    assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("VALID", "CURRENT"))
    assert prop["details"]["mortgages"] == [
        {
            "id": mortgage_id,
            "bank": {"id": hx(BANK), "name": BANK_NAME},
            "certificate": hx(evidence.target),
            "since": iso(block_time(world, mortgaged)),
        }
    ]
    s.prop.release_mortgage(s.bank, unit, mortgage_id)
    result, prop = property_status(client, doc)
    assert_verdict(result, "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
    assert prop["details"]["mortgages"] == []


def test_integrity_failure_skips_property_status(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:
    doc = issue_certificate(issue, world)
    register(s, certificate_of(doc))
    tampered = doc.obj()
    tampered["data"]["location"] = "示例市别处1号"
    result, prop = property_status(client, json.dumps(tampered, ensure_ascii=False).encode())
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))
    assert prop["status"] == "SKIPPED"


def test_without_a_property_registry_nothing_changes(world: World, issue: IssueFn, tmp_path: Path) -> None:
    """No PropertyRegistry configured nor recorded: no PROPERTY_STATUS, /v1/properties says so."""
    doc = issue_certificate(issue, world)
    settings = verifier_settings(world, tmp_path, deployments_dir=tmp_path / "no-deployments")
    with TestClient(create_app(settings)) as client:
        assert client.app.state.runtime.property_address is None  # type: ignore[attr-defined]
        wait_for_index(client)
        result = verify(client, doc.raw())
        assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
        assert "PROPERTY_STATUS" not in {f["name"] for f in result["fragments"]}
        assert_error(client.get(f"/v1/properties/{UNIT_ID}"), 404, "PROPERTY_REGISTRY_NOT_FOUND")


def mortgage_status(client: TestClient, doc: Issued | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(verdict, its MORTGAGE_STATUS fragment) of a document, once the index has caught up."""
    wait_for_index(client)
    result = verify(client, doc.raw() if isinstance(doc, Issued) else doc)
    return result, fragment(result, "MORTGAGE_STATUS")


def test_mortgage_certificate_is_active_until_released(
    world: World, s: Setup, issue: IssueFn, client: TestClient
) -> None:
    """MORTGAGE_STATUS: NOT_REGISTERED (authentic, evidences no mortgage), ACTIVE once a bank
    registers it on the unit, RELEASED (and the certificate revoked, reason 10) once released."""
    unit, _ = register(s, certificate_of(issue_certificate(issue, world)))
    doc = issue_mortgage_certificate(issue, world)
    result, status = mortgage_status(client, doc)
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("VALID", "OK"),
        MORTGAGE_STATUS=("INVALID", "NOT_REGISTERED"),
    )
    assert "抵押" in status["message_zh"] and "mortgage" in status["message"]
    assert status["message"] != "This certificate is not the registered title of any property unit."
    assert [f["name"] for f in result["fragments"]][-2:] == ["ISSUER_IDENTITY", "MORTGAGE_STATUS"]
    assert "PROPERTY_STATUS" not in {f["name"] for f in result["fragments"]}

    registered, mortgage_id = s.prop.register_mortgage(s.bank, unit, certificate_of(doc))
    result, status = mortgage_status(client, doc)
    assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), MORTGAGE_STATUS=("VALID", "ACTIVE"))
    assert status["details"] == {
        "unit": hx(unit),
        "mortgageId": mortgage_id,
        "bank": {"id": hx(BANK), "name": BANK_NAME},
        "since": iso(block_time(world, registered)),
        "releasedAt": None,
    }

    released = s.prop.release_mortgage(s.bank, unit, mortgage_id)
    result, status = mortgage_status(client, doc)
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"), MORTGAGE_STATUS=("INVALID", "RELEASED"))
    assert fragment(result, "DOCUMENT_STATUS")["details"]["reason"] == REASON_MORTGAGE_RELEASED
    assert status["details"]["releasedAt"] == iso(block_time(world, released))
    assert status["details"]["mortgageId"] == mortgage_id
    assert "注销" in status["message_zh"] and "released" in status["message"]
    # the integrity of a mortgage certificate fails first: MORTGAGE_STATUS is skipped
    tampered = doc.obj()
    tampered["data"]["location"] = "示例市别处1号"
    result, status = mortgage_status(client, json.dumps(tampered, ensure_ascii=False).encode())
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))
    assert status["status"] == "SKIPPED"


def test_mortgage_status_from_the_chain(world: World, s: Setup, issue: IssueFn, tmp_path: Path) -> None:
    """An index synced before the mortgage: ACTIVE and RELEASED come from mortgageHistory of the
    unit the certificate discloses; with the number hidden there is nothing to ask (ERROR), until
    the chain itself says the certificate was revoked for the release."""
    settings = verifier_settings(world, tmp_path, property_registry_address=s.prop.address, max_index_age=0.05)
    unit, _ = register(s, certificate_of(issue_certificate(issue, world)))
    doc = issue_mortgage_certificate(issue, world)
    hidden = document_to_bytes(hide_fields(parse_document(doc.raw()), ["/unitNumber"]))
    with TestClient(create_app(settings, follow=False)) as app:
        index: ChainIndex = app.app.state.runtime.index  # type: ignore[attr-defined]
        index.sync()
        synced = index.head().block_number
        wait_until_stale(settings.max_index_age)
        assert_verdict(verify(app, doc.raw()), "INVALID", MORTGAGE_STATUS=("INVALID", "NOT_REGISTERED"))
        _r, mortgage_id = s.prop.register_mortgage(s.bank, unit, certificate_of(doc))
        result = verify(app, doc.raw())
        assert_verdict(result, "VALID", MORTGAGE_STATUS=("VALID", "ACTIVE"))
        details = fragment(result, "MORTGAGE_STATUS")["details"]
        assert (details["unit"], details["mortgageId"], details["bank"]) == (
            hx(unit),
            mortgage_id,
            {"id": hx(BANK), "name": BANK_NAME},
        )
        result = verify(app, hidden)
        assert_verdict(result, "ERROR", DOCUMENT_STATUS=("VALID", "OK"), MORTGAGE_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
        s.prop.release_mortgage(s.bank, unit, mortgage_id)
        assert_verdict(verify(app, doc.raw()), "INVALID", MORTGAGE_STATUS=("INVALID", "RELEASED"))
        assert_verdict(
            verify(app, hidden),
            "INVALID",
            DOCUMENT_STATUS=("INVALID", "REVOKED"),
            MORTGAGE_STATUS=("INVALID", "RELEASED"),
        )
        assert index.head().block_number == synced, "the answers came from the chain, not the index"


def test_certificate_naming_another_unit_is_invalid(
    world: World, s: Setup, issue: IssueFn, client: TestClient, tmp_path: Path
) -> None:
    """A property certificate disclosing OTHER_UNIT's number, registered as the title of UNIT:
    UNIT_MISMATCH (index and chain alike); with the number hidden, the chain's link decides as
    before. The same for a mortgage certificate."""
    doc = issue_certificate(issue, world, unit_number=OTHER_UNIT)
    unit, _ = register(s, certificate_of(doc))  # registered on UNIT_NUMBER
    result, prop = property_status(client, doc)
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("INVALID", "UNIT_MISMATCH"))
    assert prop["details"] == {"unit": hx(unit_of(OTHER_UNIT)), "registeredUnit": hx(unit)}
    assert "单元" in prop["message_zh"] and "unit" in prop["message"]
    hidden = document_to_bytes(hide_fields(parse_document(doc.raw()), ["/unitNumber"]))
    assert_verdict(verify(client, hidden), "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))

    pledge = issue_mortgage_certificate(issue, world, unit_number=OTHER_UNIT)
    _r, mortgage_id = s.prop.register_mortgage(s.bank, unit, certificate_of(pledge))
    result, status = mortgage_status(client, pledge)
    assert_verdict(result, "INVALID", MORTGAGE_STATUS=("INVALID", "UNIT_MISMATCH"))
    assert status["details"] == {"unit": hx(unit_of(OTHER_UNIT)), "registeredUnit": hx(unit)}
    assert mortgage_id == 1

    # the chain path: an index that knows the links but is too old to answer the status
    stale = verifier_settings(world, tmp_path / "stale", property_registry_address=s.prop.address, max_index_age=0.05)
    with TestClient(create_app(stale, follow=False)) as app:
        app.app.state.runtime.index.sync()  # type: ignore[attr-defined]
        wait_until_stale(stale.max_index_age)
        assert_verdict(verify(app, doc.raw()), "INVALID", PROPERTY_STATUS=("INVALID", "UNIT_MISMATCH"))
        assert_verdict(verify(app, hidden), "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
        assert_verdict(verify(app, pledge.raw()), "INVALID", MORTGAGE_STATUS=("INVALID", "UNIT_MISMATCH"))


def test_the_unit_is_the_salted_commitment_the_certificate_carries(
    world: World, s: Setup, issue: IssueFn, client: TestClient
) -> None:
    """The chain's unit id is keccak256(unitSalt ‖ unitNumber), not the number's plain hash: a
    certificate with the right number and another salt names another unit (UNIT_MISMATCH); with
    the salt hidden there is nothing to compare, as with the number hidden; the property
    endpoints answer the id and refuse the number."""
    record = property_record(11)
    assert record["unitSalt"] == "0x" + UNIT_SALT.hex()
    record["unitSalt"] = "0x" + os.urandom(32).hex()  # the right number, another unit's salt
    (doc,) = issue([record], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key)
    unit, _ = register(s, certificate_of(doc))  # on the tests' unit: UNIT_NUMBER under UNIT_SALT
    assert unit == keccak(UNIT_SALT + UNIT_NUMBER.encode()) != keccak(text=UNIT_NUMBER)
    wait_for_index(client)
    result, prop = property_status(client, doc)
    assert_verdict(result, "INVALID", PROPERTY_STATUS=("INVALID", "UNIT_MISMATCH"))
    named = keccak(bytes.fromhex(record["unitSalt"][2:]) + UNIT_NUMBER.encode())
    assert prop["details"]["unit"] == hx(named) and prop["details"]["registeredUnit"] == hx(unit)
    salt_hidden = document_to_bytes(hide_fields(parse_document(doc.raw()), ["/unitSalt"]))
    result = verify(client, salt_hidden)
    assert fragment(result, "PROPERTY_STATUS")["code"] != "UNIT_MISMATCH", result
    assert client.get(f"/v1/properties/{hx(unit)}").status_code == 200
    assert_error(client.get(f"/v1/properties/{UNIT_NUMBER}"), 400, "UNIT_NUMBER_REFUSED")
    assert_error(client.get(f"/v1/properties/{hx(keccak(text=UNIT_NUMBER))}"), 404, "UNKNOWN_UNIT")


def test_corrections_replace_and_revoke_titles(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:
    """A correction case (更正登记) replaces the title (the old certificate CORRECTED, the new one
    CURRENT); one approved by the council revokes it (the unit then has no title); registered again,
    the unit has a title again. The index follows, as the chain says."""
    first_doc = issue_certificate(issue, world)
    first = certificate_of(first_doc)
    unit, _ = register(s, first)
    fixed_doc = issue_certificate(issue, world)
    fixed = certificate_of(fixed_doc)
    _r, case_id = s.prop.open_correction(s.natres, unit, fixed, owners(CORRECTED_BUYERS, (5000, 5000)), 3)
    wait_for_index(client)
    assert client.get(f"/v1/properties/{UNIT_ID}").json()["openCase"] == {
        "id": case_id,
        "kind": "CORRECTION",
        "state": "OPEN",
        "round": 1,
        "certificate": hx(fixed.target),
        "openedAt": client.get(f"/v1/properties/{UNIT_ID}").json()["openCase"]["openedAt"],
        "approvedRoles": [],
    }
    result, prop = property_status(client, fixed_doc)
    assert_verdict(result, "INVALID", PROPERTY_STATUS=("INVALID", "NOT_REGISTERED"))
    assert prop["details"]["pendingCases"] == [{"unit": hx(unit), "caseId": case_id, "state": "OPEN"}]

    approved = s.prop.approve_correction(s.tax, case_id)
    when = iso(block_time(world, approved))
    result, prop = property_status(client, first_doc)
    assert_verdict(
        result, "INVALID", DOCUMENT_STATUS=("INVALID", "SUPERSEDED"), PROPERTY_STATUS=("INVALID", "CORRECTED")
    )
    assert fragment(result, "DOCUMENT_STATUS")["details"]["reason"] == REASON_CORRECTED
    assert prop["details"] == {
        "unit": hx(unit),
        "supersededBy": hx(fixed.target),
        "supersededAt": when,
        "caseId": case_id,
    }
    assert "更正" in prop["message_zh"] and "corrected" in prop["message"]
    result, prop = property_status(client, fixed_doc)
    assert_verdict(result, "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
    assert (prop["details"]["caseId"], prop["details"]["since"]) == (case_id, when)
    assert prop["details"]["owners"] == shares(CORRECTED_BUYERS, (5000, 5000))
    index: ChainIndex = client.app.state.runtime.index  # type: ignore[attr-defined]
    assert_property_matches_chain(s, index, unit)

    _r, revoking = s.prop.open_correction(s.natres, unit, None, [], 4)
    revoked = gov(world).run([s.prop.approve_correction_call(revoking)])
    assert revoked is not None
    result, prop = property_status(client, fixed_doc)
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"), PROPERTY_STATUS=("INVALID", "CORRECTED"))
    assert prop["details"] == {
        "unit": hx(unit),
        "supersededBy": None,
        "supersededAt": iso(block_time(world, revoked)),
        "caseId": revoking,
    }
    current = client.get(f"/v1/properties/{UNIT_ID}").json()
    assert (current["registered"], current["certificate"], current["owners"], current["openCase"]) == (
        False,
        None,
        [],
        None,
    )
    assert_property_matches_chain(s, index, unit)

    again_doc = issue_certificate(issue, world)
    again = certificate_of(again_doc)
    s.prop.register_unit(s.natres, unit, again, owners((BUYER,), (10_000,)))
    result, prop = property_status(client, again_doc)
    assert_verdict(result, "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
    assert prop["details"]["caseId"] is None and prop["details"]["owners"] == shares((BUYER,), (10_000,))
    assert property_status(client, fixed_doc)[1]["code"] == "CORRECTED"
    history = client.get(f"/v1/properties/{UNIT_ID}/history").json()
    assert history["current"]["registered"] is True
    assert history["current"]["certificate"]["target"] == hx(again.target)
    assert [(t["certificate"], t["supersededBy"], t["supersededCase"], t["endReason"]) for t in history["titles"]] == [
        (hx(first.target), hx(fixed.target), case_id, REASON_CORRECTED),
        (hx(fixed.target), None, revoking, REASON_CORRECTED),
        (hx(again.target), None, None, None),
    ]
    events = history["events"]
    assert [e["event"] for e in events] == [
        "UnitRegistered",
        "CorrectionOpened",
        "CorrectionApproved",
        "TitleCorrected",
        "CorrectionOpened",
        "CorrectionApproved",
        "TitleCorrected",
        "UnitRegistered",
    ]
    assert events[2]["department"]["id"] == hx(TAX) and events[3]["department"]["id"] == hx(TAX)
    assert events[5]["department"] is None and events[6]["department"] is None  # the council
    assert (events[4]["certificate"], events[4]["reason"], events[6]["certificate"]) == (None, 4, None)
    assert (events[3]["certificate"], events[3]["previousCertificate"]) == (hx(fixed.target), hx(first.target))
    assert_property_matches_chain(s, index, unit)
    with open_index(world, s, Path(str(index.path) + ".fresh")) as fresh:
        fresh.sync()
        for table in ("units", "titles", "property_events", "certificate_units", "title_locks", "status_events"):
            assert fresh.snapshot()[table] == index.snapshot()[table], table


# ------------------------------------------------------------------- chain fallback path
def wait_until_stale(max_index_age: float) -> None:
    """Let an index synced once (and never again) pass its freshness window: from then on every
    verdict must come from the chain, however fast the steps after it run."""
    time.sleep(max_index_age + 0.02)


def test_stale_index_reads_the_unit_from_the_chain(world: World, s: Setup, issue: IssueFn, tmp_path: Path) -> None:
    """An index synced once and never again: verdicts come from unitState on the chain."""
    settings = verifier_settings(world, tmp_path, property_registry_address=s.prop.address, max_index_age=0.05)
    old_doc = issue_certificate(issue, world)
    unit, _ = register(s, certificate_of(old_doc))
    with TestClient(create_app(settings, follow=False)) as client:
        index: ChainIndex = client.app.state.runtime.index  # type: ignore[attr-defined]
        index.sync()
        synced = index.head().block_number
        wait_until_stale(settings.max_index_age)
        assert index.property_unit(unit) is not None
        # after the sync: a transfer to a certificate the index never saw, then a seizure
        new_doc = issue_certificate(issue, world)
        new = certificate_of(new_doc)
        case_id, finalized = transfer(s, unit, new)
        _receipt, seizure_id = s.prop.register_seizure(s.court, unit, os.urandom(32))

        result = verify(client, old_doc.raw())
        assert_verdict(
            result, "INVALID", DOCUMENT_STATUS=("INVALID", "SUPERSEDED"), PROPERTY_STATUS=("INVALID", "SUPERSEDED")
        )
        details = fragment(result, "PROPERTY_STATUS")["details"]
        assert details["supersededBy"] == hx(new.target)
        assert details["supersededAt"] == iso(block_time(world, finalized))

        # found through the unit number the certificate discloses
        result = verify(client, new_doc.raw())
        assert_verdict(result, "INVALID", PROPERTY_STATUS=("INVALID", "FROZEN"))
        details = fragment(result, "PROPERTY_STATUS")["details"]
        assert details["unit"] == hx(unit)
        assert details["owners"] == shares((BUYER,), (10_000,))
        assert details["seizures"][0]["id"] == seizure_id
        assert details["seizures"][0]["court"] == {"id": hx(COURT), "name": COURT_NAME}

        # the same certificate with its unit number hidden: nothing to ask the chain about
        hidden = hide_fields(parse_document(new_doc.raw()), ["/unitNumber"])
        result = verify(client, document_to_bytes(hidden))
        assert_verdict(result, "ERROR", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
        s.prop.release_seizure(s.court, unit, seizure_id)
        assert_verdict(verify(client, new_doc.raw()), "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
        assert index.head().block_number == synced, "the answers came from the chain, not the index"
    assert case_id > 0


def test_fresh_index_answers_without_the_chain(world: World, s: Setup, issue: IssueFn, tmp_path: Path) -> None:
    """The hot path: with a fresh index, a verifier whose node is down still answers CURRENT (any
    chain call would have failed); once the index is stale, the answer is ERROR, never INVALID."""
    doc = issue_certificate(issue, world)
    unit, _ = register(s, certificate_of(doc))
    s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    path = tmp_path / "index.sqlite"
    with open_index(world, s, path) as index:
        index.sync()
    down = f"http://127.0.0.1:{free_port()}"
    fresh = verifier_settings(
        world, tmp_path, rpc_url=down, request_timeout=0.5, property_registry_address=s.prop.address, index_path=path
    )
    with TestClient(create_app(fresh, follow=False)) as client:
        result = verify(client, doc.raw())
        assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("VALID", "CURRENT"))
        assert fragment(result, "PROPERTY_STATUS")["details"]["mortgages"][0]["bank"]["name"] == BANK_NAME
    stale = fresh.model_copy(update={"max_index_age": 0.001})
    with TestClient(create_app(stale, follow=False)) as client:
        result = verify(client, doc.raw())
        assert_verdict(
            result,
            "ERROR",
            DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
            PROPERTY_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
        )


def test_a_property_registry_address_without_code_is_error_never_invalid(
    world: World, issue: IssueFn, tmp_path: Path
) -> None:
    """A misconfigured address would index nothing (every title NOT_REGISTERED): the index refuses
    to sync instead, /healthz says so, and property certificates verify ERROR."""
    doc = issue_certificate(issue, world)
    settings = verifier_settings(world, tmp_path, property_registry_address="0x" + "12" * 20)
    with TestClient(create_app(settings)) as client:
        index: ChainIndex = client.app.state.runtime.index  # type: ignore[attr-defined]
        with pytest.raises(RegistryNotFound):
            index.sync()
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["index"]["syncedSecondsAgo"] is None
        result = verify(client, doc.raw())
        assert_verdict(result, "ERROR", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))


# ------------------------------------------------------------------------------ the API
def assert_error(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "message_zh"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"].isascii()
    assert_bilingual({"message": body["error"]["message"], "message_zh": body["error"]["message_zh"], "fragments": []})


def test_history_is_the_chain_of_title_in_order(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:
    first_doc = issue_certificate(issue, world)
    first = certificate_of(first_doc)
    unit, registered = register(s, first)
    evidence = s.certificate(MORTGAGE_CERTIFICATE)
    _r, mortgage_id = s.prop.register_mortgage(s.bank, unit, evidence)
    proposed = certificate_of(issue_certificate(issue, world))
    _r, case_id = s.prop.open_transfer(s.natres, unit, proposed, owners((BUYER,), (10_000,)))
    s.approve(case_id, Role.TAX)
    s.prop.return_transfer(s.housing, case_id, 10)
    corrected = certificate_of(issue_certificate(issue, world))
    s.prop.resubmit_transfer(s.natres, case_id, corrected, owners(CORRECTED_BUYERS, (5000, 5000)))
    s.prop.consent_to_transfer(s.bank, case_id, 2, mortgage_id)
    s.approve(case_id, Role.HOUSING, 2)
    s.approve(case_id, Role.TAX, 2)
    wait_for_index(client)
    # mid-case: the current state names the open case and its approvals of this round
    current = client.get(f"/v1/properties/{UNIT_ID}").json()
    assert current["openCase"] == {
        "id": case_id,
        "kind": "TRANSFER",
        "state": "OPEN",
        "round": 2,
        "certificate": hx(corrected.target),
        "openedAt": current["openCase"]["openedAt"],
        "approvedRoles": ["TAX", "HOUSING"],
    }
    assert current["certificate"]["target"] == hx(first.target)
    finalized = s.approve(case_id, Role.NATRES, 2)
    _r, seizure_id = s.prop.register_seizure(s.court, unit, os.urandom(32))
    wait_for_index(client)

    by_id = client.get(f"/v1/properties/{UNIT_ID}/history")
    assert by_id.status_code == 200, by_id.text
    history = by_id.json()
    assert stable(client.get(f"/v1/properties/{hx(unit)}/history").json()) == stable(history)
    upper = hx(unit).upper().replace("0X", "0x")
    assert stable(client.get(f"/v1/properties/{upper}/history").json()) == stable(history)
    assert history["unit"] == hx(unit)

    # every event of the unit, in chain order, as the chain itself lists them
    events = history["events"]
    chain_events = list(s.prop.history(unit))
    assert [(e["event"], e["block"], e["logIndex"], e["transaction"]) for e in events] == [
        (e.name, e.block_number, e.log_index, e.tx_hash.lower()) for e in chain_events
    ]
    assert [e["event"] for e in events] == [
        "UnitRegistered",
        "MortgageRegistered",
        "TransferOpened",
        "TransferApproved",
        "TransferReturned",
        "TransferResubmitted",
        "TransferConsented",
        "TransferApproved",
        "TransferApproved",
        "TransferApproved",
        "TransferFinalized",
        "SeizureRegistered",
    ]
    positions = [(e["block"], e["logIndex"]) for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for event, onchain in zip(events, chain_events, strict=True):
        assert event["time"] == iso(int(world.client.w3.eth.get_block(onchain.block_number)["timestamp"]))
    registered_event, mortgage_event, opened, approved, returned, resubmitted, consented = events[:7]
    finalized_event, seized = events[10:]
    assert registered_event["department"] == {
        "id": hx(s.prop.unit_state(unit).registered_by),
        "name": "六安市自然资源和规划局",
    }
    assert registered_event["certificate"] == hx(first.target) and registered_event["certificateRoot"] == hx(first.root)
    assert registered_event["owners"] == shares(SELLERS, (6000, 4000))
    assert registered_event["caseId"] is None and registered_event["block"] == registered.block_number
    assert (mortgage_event["mortgageId"], mortgage_event["certificate"]) == (mortgage_id, hx(evidence.target))
    assert mortgage_event["department"] == {"id": hx(BANK), "name": BANK_NAME}
    assert (opened["caseId"], opened["certificate"], opened["owners"]) == (
        case_id,
        hx(proposed.target),
        shares((BUYER,), (10_000,)),
    )
    assert (approved["round"], approved["roles"], approved["department"]["name"]) == (
        1,
        ["TAX"],
        "国家税务总局六安市税务局",
    )
    assert (returned["reason"], returned["department"]["id"]) == (10, hx(HOUSING))
    assert (resubmitted["round"], resubmitted["certificate"]) == (2, hx(corrected.target))
    assert (consented["mortgageId"], consented["round"], consented["department"]["id"]) == (mortgage_id, 2, hx(BANK))
    assert finalized_event["transaction"] == finalized.tx_hash.lower()
    assert (finalized_event["caseId"], finalized_event["round"]) == (case_id, 2)
    assert finalized_event["certificate"] == hx(corrected.target)
    assert finalized_event["previousCertificate"] == hx(first.target)
    assert finalized_event["department"]["name"] == "六安市自然资源和规划局"  # the approval that completed it
    assert seized["seizureId"] == seizure_id and seized["department"] == {"id": hx(COURT), "name": COURT_NAME}

    # titles: every certificate the unit had, the first superseded by the second
    assert [(t["certificate"], t["caseId"], t["supersededBy"], t["supersededCase"]) for t in history["titles"]] == [
        (hx(first.target), None, hx(corrected.target), case_id),
        (hx(corrected.target), case_id, None, None),
    ]
    assert history["titles"][1]["owners"] == shares(CORRECTED_BUYERS, (5000, 5000))
    assert history["titles"][0]["supersededAt"] == finalized_event["time"] == history["titles"][1]["since"]

    # the current summary: the same as GET /v1/properties/{unit}
    summary = history["current"]
    assert stable(client.get(f"/v1/properties/{UNIT_ID}").json()) == stable(summary)
    assert summary["certificate"] == {
        "target": hx(corrected.target),
        "root": hx(corrected.root),
        "since": finalized_event["time"],
        "block": finalized.block_number,
        "caseId": case_id,
    }
    assert summary["owners"] == shares(CORRECTED_BUYERS, (5000, 5000))
    assert [m["id"] for m in summary["mortgages"]] == [mortgage_id]
    assert [z["id"] for z in summary["seizures"]] == [seizure_id] and summary["frozen"] is True
    assert summary["openCase"] is None
    assert summary["index"]["fresh"] is True and summary["index"]["block"] >= seized["block"]
    assert summary["registeredBy"]["name"] == "六安市自然资源和规划局"
    # released mortgages and seizures stay in the history, not in the current state
    s.prop.release_seizure(s.court, unit, seizure_id)
    wait_for_index(client)
    after = client.get(f"/v1/properties/{UNIT_ID}/history").json()
    assert after["seizures"][0]["releasedAt"] is not None and after["current"]["seizures"] == []
    assert after["events"][-1]["event"] == "SeizureReleased"
    index: ChainIndex = client.app.state.runtime.index  # type: ignore[attr-defined]
    assert_property_matches_chain(s, index, unit)


@pytest.mark.parametrize(
    ("unit", "status", "code"),
    [
        ("0x" + "ab" * 32, 404, "UNKNOWN_UNIT"),  # well formed, never registered
        # a plain unit number, registered or not, is refused: ids cannot be derived from numbers
        (UNIT_NUMBER, 400, "UNIT_NUMBER_REFUSED"),
        (OTHER_UNIT, 400, "UNIT_NUMBER_REFUSED"),
        ("341502001001gb00001f00010001", 422, "INVALID_UNIT"),  # lower case
        ("341502001001GB00001F0001000", 422, "INVALID_UNIT"),  # 27 characters
        ("0x1234", 422, "INVALID_UNIT"),
        ("0x" + "zz" * 32, 422, "INVALID_UNIT"),
        ("不动产", 422, "INVALID_UNIT"),
        ("x" * 201, 422, "INVALID_REQUEST"),
    ],
)
def test_unknown_and_malformed_units(client: TestClient, unit: str, status: int, code: str) -> None:
    for path in (f"/v1/properties/{unit}", f"/v1/properties/{unit}/history"):
        assert_error(client.get(path), status, code)


def test_openapi_lists_the_property_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/v1/properties/{unit}", "/v1/properties/{unit}/history"):
        operation = spec["paths"][path]["get"]
        assert {"200", "400", "404", "422"} <= set(operation["responses"]), operation
        assert operation["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    history = spec["components"]["schemas"]["PropertyHistory"]
    assert {"unit", "current", "titles", "mortgages", "seizures", "events"} <= set(history["properties"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("path", ["/v1/properties/{unit}", "/v1/properties/{unit}/history"])
def test_generated_units_get_no_5xx_and_conform_to_the_spec(
    world: World, s: Setup, tmp_path: Path, path: str, mode: GenerationMode
) -> None:
    """Schemathesis against the verifier's own OpenAPI document: whatever unit comes in, the answer
    is a declared status (200 for the spec's examples, which name the registered unit; else 404 or
    422) with a body that conforms to the spec, and never a 5xx."""
    register(s, s.certificate())
    app = create_app(verifier_settings(world, tmp_path, property_registry_address=s.prop.address))
    try:
        operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path]["GET"]
        statuses: Counter[int] = Counter()

        @seed(20260502)
        @settings(
            max_examples=40,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case) -> None:
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            statuses[response.status_code] += 1

        run()
    finally:
        shutdown_lifespans()
    assert sum(statuses.values()) == 40, statuses
    assert not [code for code in statuses if code >= 500], statuses
    if mode is GenerationMode.POSITIVE:
        assert statuses[200] >= 1 and statuses.keys() <= {200, 400, 404, 422}, statuses  # the spec's examples
    else:
        assert all(400 <= code < 500 for code in statuses), statuses


def test_property_registry_from_the_deployment_record(world: World, s: Setup, tmp_path: Path) -> None:
    base: dict[str, Any] = {
        "rpc_url": world.node.rpc_url,
        "chain_id": world.chain_id,
        "deployments_dir": world.settings.deployments_dir,
    }
    recorded = VerifierSettings(**base)
    assert property_registry_address(recorded, world.registry.address) == s.prop.address
    explicit = VerifierSettings(**base, property_registry_address="0x" + "12" * 20)
    assert property_registry_address(explicit, world.registry.address) == "0x" + "12" * 20
    # a record whose PropertyRegistry works with another DocumentRegistry is not followed
    assert property_registry_address(recorded, "0x" + "34" * 20) is None
    elsewhere = tmp_path / "deployments"
    elsewhere.mkdir()
    record = json.loads((world.settings.deployments_dir / f"{world.chain_id}.json").read_text())
    del record["contracts"][PROPERTY_REGISTRY]
    (elsewhere / f"{world.chain_id}.json").write_text(json.dumps(record))
    assert (
        property_registry_address(VerifierSettings(**{**base, "deployments_dir": elsewhere}), "0x" + "56" * 20) is None
    )
    # the app built from the record follows it
    settings = verifier_settings(world, tmp_path, deployments_dir=world.settings.deployments_dir)
    with TestClient(create_app(settings, follow=False)) as app:
        assert app.app.state.runtime.property_address == s.prop.address  # type: ignore[attr-defined]
        assert app.get("/healthz").json()["propertyRegistry"] == s.prop.address


# ---------------------------------------------------------------------------- the index
def test_property_decoding_equals_web3_decoding(world: World, s: Setup) -> None:
    """The fixed layouts decode every chain-of-title event as the ABI decoder does; the layouts'
    signatures are the artifact's; other events of the PropertyRegistry come back nameless."""
    artifact = load_artifact(PROPERTY_REGISTRY)
    signatures = {
        str(abi["name"]): f"{abi['name']}({','.join(_abi_type(i) for i in abi['inputs'])})"
        for abi in artifact.event_abis()
    }
    assert {name: signatures.get(name) for name in PROPERTY_EVENT_SIGNATURES} == PROPERTY_EVENT_SIGNATURES
    start = world.client.block_number() + 1
    unit, _ = s.register()
    other, _ = s.register(unit_of(OTHER_UNIT))
    _r, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    case_id, _ = s.open(unit)
    s.prop.return_transfer(s.tax, case_id, 65_535)
    s.prop.resubmit_transfer(s.natres, case_id, s.certificate(), owners(CORRECTED_BUYERS, (3333, 6667)))
    s.prop.consent_to_transfer(s.bank, case_id, 2, mortgage_id)
    s.prop.approve_transfer(s.natres, case_id, 2, Role.NATRES)
    s.prop.approve_transfer(s.tax, case_id, 2, Role.TAX)
    s.prop.approve_transfer(s.housing, case_id, 2, Role.HOUSING)
    s.prop.release_mortgage(s.bank, unit, mortgage_id)
    other_case, _ = s.open(other)
    s.prop.reject_transfer(s.housing, other_case, 3)
    third, _ = s.open(other)
    s.prop.cancel_transfer(s.natres, third, 4)
    _r, seizure_id = s.prop.register_seizure(s.court, other, os.urandom(32))
    s.prop.release_seizure(s.court, other, seizure_id)
    _r, corrected = s.prop.open_correction(s.natres, other, s.certificate(), owners(CORRECTED_BUYERS, (5000, 5000)), 3)
    s.prop.approve_correction(s.tax, corrected)
    _r, revoking = s.prop.open_correction(s.natres, other, None, [], 65_535)
    gov(world).run([s.prop.approve_correction_call(revoking)])  # the council, through the time lock
    end = world.client.block_number()

    fast = RawLogScanner(
        world.client, world.registry.artifact, world.registry.address, 1_000, property_address=s.prop.address
    )
    generic = EventScanner(world.client, artifact, s.prop.address, chunk_size=1_000)
    ours = [e for e in fast.scan(start, end) if e.name in PROPERTY_EVENTS]
    theirs = [e for e in generic.scan(start, end) if e.name in PROPERTY_EVENTS]
    assert {e.name for e in ours} == PROPERTY_EVENTS
    assert len(ours) == len(theirs) == 24
    for mine, web3s in zip(ours, theirs, strict=True):
        assert mine.name == web3s.name
        assert (mine.block_number, mine.log_index, mine.block_hash, mine.tx_hash) == (
            web3s.block_number,
            web3s.log_index,
            web3s.block_hash,
            web3s.tx_hash,
        )
        assert _plain(mine.args) == _plain(web3s.args), mine.name
    # the DocumentRegistry's supersession by the finalization came in the same requests
    documents = [e for e in fast.scan(start, end) if e.name not in PROPERTY_EVENTS]
    assert {"DocumentSuperseded", "DocumentRevoked", "TitleLocked"} <= {e.name for e in documents}
    web3_documents = EventScanner(world.client, world.registry.artifact, world.registry.address, chunk_size=1_000)
    assert documents == [e for e in web3_documents.scan(start, end) if e.name]
    unknown = {
        "topics": ["0x" + "ab" * 32, "0x" + "00" * 32],
        "data": "0x",
        "blockNumber": "0x5",
        "logIndex": "0x1",
        "blockHash": "0x" + "11" * 32,
        "transactionHash": "0x" + "22" * 32,
        "address": s.prop.address.lower(),
    }
    assert fast.decode(unknown).name == ""


def _abi_type(arg: Any) -> str:
    if arg["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in arg["components"]) + ")" + arg["type"][len("tuple") :]
    return str(arg["type"])


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in dict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def test_index_follows_every_kind_of_change(world: World, s: Setup, tmp_path: Path) -> None:
    """Synced step by step, and with tiny chunks: both equal the chain's views and each other."""
    live = open_index(world, s, tmp_path / "live.sqlite")
    live.sync()
    unit, first = s.register()
    other, other_cert = s.register(unit_of(OTHER_UNIT))
    live.sync()
    assert_property_matches_chain(s, live, unit)
    assert [t.unit for t in live.titles_by_target(first.target)] == [unit]
    assert [(link.unit, link.kind) for link in live.certificate_links(other_cert.target)] == [(other, "title")]
    _r, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    case_id, new = s.open(unit)
    assert live.sync().applied >= 3  # anchor of the certificate, mortgage, opening
    assert [(link.unit, link.kind, link.case_id) for link in live.certificate_links(new.target)] == [
        (unit, "proposed", case_id)
    ]
    s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id)
    for role in (Role.HOUSING, Role.NATRES, Role.TAX):
        s.approve(case_id, role)
    _r, seizure_id = s.prop.register_seizure(s.court, other, os.urandom(32))
    s.prop.release_mortgage(s.bank, unit, mortgage_id)
    world.mine(1_100)
    s.prop.register_seizure(s.other_court, other, os.urandom(32))
    s.prop.release_seizure(s.court, other, seizure_id)
    live.sync(max_blocks=500)
    live.sync()
    for u in (unit, other):
        assert_property_matches_chain(s, live, u)
    record = live.property_unit(unit)
    assert record is not None and record.case_id == case_id and record.cert_target == new.target
    assert record.owners == (OwnerShare(BUYER.commitment, 10_000),)
    (old_title,) = live.titles_by_target(first.target)
    assert (old_title.superseded_by, old_title.superseded_case) == (new.target, case_id)
    assert [e.name for e in live.case_events(case_id)][-1] == "TransferFinalized"
    snapshot = live.snapshot()
    assert len(snapshot["units"]) == 2 and len(snapshot["titles"]) == 3
    assert len(snapshot["mortgages"]) == 1 and len(snapshot["seizures"]) == 2

    with open_index(world, s, tmp_path / "small-chunks.sqlite", chunk_size=3) as small:
        small.sync()
        assert small.snapshot() == snapshot
    result = live.rebuild()
    assert result.from_block == world.deployment.block_number
    assert live.snapshot() == snapshot
    live.close()


def test_reorg_rolls_property_rows_back(world: World, s: Setup, tmp_path: Path) -> None:
    """Registration, supersession, releases and new rows of a lost branch are all undone: the
    index equals a fresh index of the surviving chain."""
    url = world.node.rpc_url
    unit, first = s.register()
    other, _ = s.register(unit_of(OTHER_UNIT))
    _r, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    _r, seizure_id = s.prop.register_seizure(s.court, other, os.urandom(32))
    with open_index(world, s, tmp_path / "index.sqlite") as index:
        index.sync()
        before = index.snapshot()
        fork = rpc(url, "evm_snapshot")
        try:
            third, _ = s.register(unit_of("341502001001GB00003F00010003"))
            s.prop.release_seizure(s.court, other, seizure_id)
            case_id, new = s.open(unit)
            s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id)
            for role in (Role.TAX, Role.HOUSING, Role.NATRES):
                s.approve(case_id, role)
            s.prop.release_mortgage(s.bank, unit, mortgage_id)
            s.prop.register_mortgage(s.other_bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
            index.sync()
            assert index.property_unit(third) is not None
            record = index.property_unit(unit)
            assert record is not None and record.cert_target == new.target
            assert not index.seizures(other, active_only=True)
            height = world.client.block_number()
        finally:
            rpc(url, "evm_revert", [fork])
            world.reset_local_state()
        kept_case, kept = s.open(unit)  # the surviving branch: a case is opened, nothing more
        world.mine(max(1, height - world.client.block_number() + 3))
        assert world.client.block_number() > height

        result = index.sync()
        assert result.reorged
        assert index.property_unit(third) is None
        record = index.property_unit(unit)
        assert record is not None and (record.cert_target, record.case_id) == (first.target, None)
        assert record.owners == tuple(OwnerShare(p.commitment, b) for p, b in zip(SELLERS, (6000, 4000), strict=True))
        (title,) = index.titles(unit)
        assert title.current and title.superseded_block is None
        assert [m.id for m in index.mortgages(unit, active_only=True)] == [mortgage_id]
        assert [z.id for z in index.seizures(other, active_only=True)] == [seizure_id]
        assert index.titles_by_target(new.target) == []
        assert [link.case_id for link in index.certificate_links(kept.target)] == [kept_case]
        for u in (unit, other):
            assert_property_matches_chain(s, index, u)
        with open_index(world, s, tmp_path / "fresh.sqlite") as fresh:
            fresh.sync()
            assert index.snapshot() == fresh.snapshot()
        after = index.snapshot()
        for table in ("units", "titles", "mortgages", "seizures"):
            assert after[table] == before[table], table
        assert not index.sync().reorged


def test_reorg_rolls_corrections_back(world: World, s: Setup, tmp_path: Path) -> None:
    """A correction and a registration again on a lost branch are undone: a replaced title is
    current again, and a unit whose title a kept correction revoked has none again."""
    url = world.node.rpc_url
    unit, first = s.register()
    other, other_cert = s.register(unit_of(OTHER_UNIT))
    _r, revoking = s.prop.open_correction(s.natres, other, None, [], 4)
    s.prop.approve_correction(s.tax, revoking)  # kept: OTHER_UNIT has no title
    with open_index(world, s, tmp_path / "index.sqlite") as index:
        index.sync()
        before = index.snapshot()
        unregistered = index.property_unit(other)
        assert unregistered is not None and not unregistered.registered and unregistered.case_id == revoking
        fork = rpc(url, "evm_snapshot")
        try:
            fixed = s.certificate()
            _r, case_id = s.prop.open_correction(s.natres, unit, fixed, owners(CORRECTED_BUYERS, (5000, 5000)), 3)
            s.prop.approve_correction(s.housing, case_id)
            _again, again = s.register(other)
            index.sync()
            assert index.property_unit(unit).cert_target == fixed.target  # type: ignore[union-attr]
            registered = index.property_unit(other)
            assert registered is not None and registered.registered and registered.cert_target == again.target
            height = world.client.block_number()
        finally:
            rpc(url, "evm_revert", [fork])
            world.reset_local_state()
        world.mine(max(1, height - world.client.block_number() + 3))

        assert index.sync().reorged
        record = index.property_unit(unit)
        assert record is not None and (record.cert_target, record.case_id) == (first.target, None)
        assert index.property_unit(other) == unregistered
        (title,) = index.titles(unit)
        assert title.current and title.end_reason is None
        (ended,) = index.titles(other)
        assert (ended.cert_target, ended.superseded_by, ended.end_reason) == (other_cert.target, None, REASON_CORRECTED)
        for u in (unit, other):
            assert_property_matches_chain(s, index, u)
        after = index.snapshot()
        for table in ("units", "titles", "mortgages", "seizures", "title_locks"):
            assert after[table] == before[table], table
        with open_index(world, s, tmp_path / "fresh.sqlite") as fresh:
            fresh.sync()
            assert index.snapshot() == fresh.snapshot()


def test_another_property_registry_rebuilds_the_index(world: World, s: Setup, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    s.register()
    with open_index(world, s, path) as index:
        index.sync()
        expected = index.snapshot()
        assert len(expected["units"]) == 1
    meta = sqlite3.connect(path)
    stored = dict(meta.execute("SELECT key, value FROM meta").fetchall())
    meta.close()
    assert stored["property_address"] == s.prop.address
    assert world.deployment.block_number is not None
    # the same file opened for documents only: rebuilt, no property rows
    with ChainIndex(path, world.client, world.registry.address, start_block=world.deployment.block_number) as plain:
        assert plain.snapshot()["anchors"] == []
        plain.sync()
        assert plain.snapshot()["units"] == [] and not plain.follows_property
        assert plain.snapshot()["anchors"] == expected["anchors"]
    with open_index(world, s, path) as again:
        assert again.snapshot()["units"] == []
        again.sync()
        assert again.snapshot() == expected


def test_index_with_a_property_registry_keeps_document_rows(world: World, s: Setup, tmp_path: Path) -> None:
    """Following a PropertyRegistry changes nothing of the document tables."""
    tree, _ = world.anchor_batch(3)
    s.register()
    assert world.deployment.block_number is not None
    with (
        open_index(world, s, tmp_path / "with.sqlite") as with_property,
        ChainIndex(
            tmp_path / "without.sqlite",
            world.client,
            world.registry.address,
            start_block=world.deployment.block_number,
        ) as without,
    ):
        with_property.sync()
        without.sync()
        a, b = with_property.snapshot(), without.snapshot()
        for table in ("anchors", "status_events", "governance_events", "departments", "signer_keys"):
            assert a[table] == b[table], table
        assert with_property.anchor(SAMR, tree.root) is not None


def test_chain_down_is_error_for_property_status_too(world: World, s: Setup, issue: IssueFn, tmp_path: Path) -> None:
    doc = issue_certificate(issue, world)
    unit, _ = register(s, certificate_of(doc))
    pledge = issue_mortgage_certificate(issue, world)
    s.prop.register_mortgage(s.bank, unit, certificate_of(pledge))
    settings = verifier_settings(
        world,
        tmp_path,
        rpc_url=f"http://127.0.0.1:{free_port()}",
        request_timeout=0.5,
        property_registry_address=s.prop.address,
    )
    with TestClient(create_app(settings)) as client:
        result = verify(client, doc.raw())
        assert_verdict(
            result,
            "ERROR",
            DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
            PROPERTY_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
        )
        result = verify(client, pledge.raw())
        assert_verdict(
            result,
            "ERROR",
            DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
            MORTGAGE_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
        )
