"""``ereg property`` against the real node: a second-hand flat transferred at one window.

The CLI home gets keys of TAX, HOUSING, a court and a bank besides the conftest's governor, SAMR,
NATRES and council members' keys; the PropertyRegistry is deployed by ``ereg property deploy``
into the home's deployment record, which the other commands read, and its role is granted by
the council through a proposal carried out with ``ereg gov``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_typing import HexStr

from chain.property import PROPERTY_REGISTRY_ROLE
from chain.registry import read_deployment_record
from chain.types import Role, department_id
from documents.samples import sample_record
from tests.contracts.helpers import add_key, gov
from tests.factories import NATRES, TAX
from tests.issuer.conftest import Cli, StartRelay, write_keystore, write_records
from tests.property_setup import unit_of

pytestmark = pytest.mark.parametrize("node", ["dev"], indirect=True)

PROPERTY = "property-certificate"
MORTGAGE = "mortgage-certificate"
HOUSING = department_id("LA-HOUSING")
COURT = department_id("LA-COURT")
BANK = department_id("LA-BANK-ICBC")
#: The unit of the sample certificates (their unitNumber under their unitSalt), as the CLI takes it.
UNIT_NUMBER = str(sample_record(PROPERTY)["unitNumber"])
UNIT = "0x" + unit_of(UNIT_NUMBER).hex()
SELLERS = ("--owner", "342401198001010011:6000", "--owner", "342401198203040022:40%")
BUYER = ("--owner", "342401199005060033:10000")


def _department_key(cli: Cli, name: str, dept: bytes, title: str, credit: str, roles: Role | None) -> None:
    if roles is not None:
        cli.world.registry.register_department(gov(cli.world), dept, title, credit, roles)
    key = add_key(cli.world, dept)
    cli.world.sender(key)  # funds it on the dev chain
    write_keystore(cli.home / "keys", name, bytes(key.key))


@pytest.fixture
def prop(cli: Cli) -> Cli:
    """``cli`` with the property departments' keys and a PropertyRegistry deployed by the CLI."""
    _department_key(cli, "tax", TAX, "", "", None)
    _department_key(cli, "housing", HOUSING, "六安市住房和城乡建设局", "11341500MB0000004D", Role.HOUSING)
    _department_key(cli, "court", COURT, "六安市金安区人民法院", "11341500MB0000005E", Role.COURT)
    _department_key(cli, "bank", BANK, "中国工商银行六安分行", "91341500MA0000007G", Role.BANK)
    draft = cli.tmp / "property-role.json"
    printed = cli("property", "deploy", "--key", "governor", "--proposal", str(draft))
    assert printed.startswith("deployed PropertyRegistry at 0x"), printed
    assert "record: " in printed and "grant PROPERTY_REGISTRY_ROLE to 0x" in printed
    # until the council grants the role, the PropertyRegistry cannot lock titles
    address = printed.split()[3]
    assert not cli.world.registry.has_role(PROPERTY_REGISTRY_ROLE, address)
    cli.govern(draft)
    assert cli.world.registry.has_role(PROPERTY_REGISTRY_ROLE, address)
    again = cli.tmp / "again.json"
    assert "no proposal needed" in cli("property", "deploy", "--key", "governor", "--proposal", str(again))
    assert not again.exists()
    return cli


def issue_certificate(cli: Cli, name: str, doc_type: str = PROPERTY, key: str = "natres") -> Path:
    record = sample_record(doc_type)
    write_records(cli.tmp / name, [record], prefix=name)
    cli.issue(cli.tmp / name, out=cli.tmp / f"out-{name}", doc_type=doc_type, key=key)
    return cli.tmp / f"out-{name}" / f"{name}-000.ereg.json"


def target_of(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8"))["proof"]["targetHash"])


def status_line(cli: Cli, path: Path, expect: int) -> str:
    return cli("status", str(path), expect=expect).strip()


def test_second_hand_transfer_with_seizure(prop: Cli) -> None:
    cli = prop
    unit_hex = UNIT
    old = issue_certificate(cli, "old")
    # the unit named by its certificate: the CLI computes the id from its unitNumber and unitSalt
    printed = cli("property", "register", str(old), "--certificate", str(old), *SELLERS, "--key", "natres")
    assert f"registered unit {unit_hex}" in printed
    salts = re.findall(r"owner \d: share (\d+) salt (0x[0-9a-f]{32}) commitment (0x[0-9a-f]{64})", printed)
    assert [s[0] for s in salts] == ["6000", "4000"]
    assert "342401198001010011" not in printed  # the identities are not echoed

    new = issue_certificate(cli, "new")
    printed = cli("property", "open-transfer", UNIT, "--certificate", str(new), *BUYER, "--key", "natres")
    assert printed.startswith(f"opened case 1 on unit {unit_hex}")

    # TAX and HOUSING approve in parallel; nothing changes yet
    assert "approved case 1 as TAX (round 1" in cli("property", "approve", "1", "--key", "tax")
    assert "approved case 1 as HOUSING" in cli("property", "approve", "1", "--key", "housing", "--as", "housing")
    assert status_line(cli, old, 0).startswith("ACTIVE")

    # a court seizes the unit: the last approval is refused until it releases the seizure
    assert f"seizure 1 registered on unit {unit_hex}" in cli(
        "property", "seize", UNIT, "--ruling", "(2026)皖1502执保123号", "--key", "court"
    )
    line = cli.fail("property", "approve", "1", "--key", "natres")
    assert "PropertyRegistryUnitSeized" in line and unit_hex in line
    shown = cli("property", "show", UNIT)
    assert re.search(r"^seizure 1 court 0x" + COURT.hex(), shown, re.M), shown
    assert "case 1 OPEN round 1" in shown and "approved TAX+HOUSING pending NATRES" in shown
    cli("property", "release-seizure", UNIT, "1", "--key", "court")

    printed = cli("property", "approve", "1", "--key", "natres")
    assert "approved case 1 as NATRES" in printed
    assert f"case 1 finalized: certificate {target_of(new)} is current, {target_of(old)} superseded" in printed

    old_line = status_line(cli, old, 4)
    assert old_line.startswith("SUPERSEDED") and f"successor {target_of(new)}" in old_line
    assert status_line(cli, new, 0).startswith("ACTIVE")

    lines = cli("property", "show", unit_hex).splitlines()
    assert lines[0].startswith(f"unit {unit_hex} registered ")
    assert lines[1].startswith(f"certificate {target_of(new)} root 0x")
    assert len([s for s in lines if s.startswith("owner ")]) == 1 and lines[2].endswith(" share 10000")
    assert lines[3:] == ["mortgages: none", "seizures: none", "open case: none"]

    events = [line.split()[2] for line in cli("property", "history", UNIT).splitlines()]
    assert events == [
        "UnitRegistered",
        "TransferOpened",
        "TransferApproved",
        "TransferApproved",
        "SeizureRegistered",
        "SeizureReleased",
        "TransferApproved",
        "TransferFinalized",
    ]


def test_refusals_return_resubmit_and_mortgage(prop: Cli) -> None:
    cli = prop
    old = issue_certificate(cli, "old")
    # shares must sum to 10,000; an identity:share is required (usage errors, nothing sent)
    assert "sum to 9000" in cli.fail(
        "property", "register", UNIT, "--certificate", str(old), "--owner", "a:9000", "--key", "natres", expect=2
    )
    assert "IDENTITY:SHARE" in cli.fail(
        "property", "register", UNIT, "--certificate", str(old), "--owner", "nobody", "--key", "natres", expect=2
    )
    # a TAX key may not register a unit
    line = cli.fail("property", "register", UNIT, "--certificate", str(old), *SELLERS, "--key", "tax")
    assert "PropertyRegistryUnauthorized" in line
    cli("property", "register", UNIT, "--certificate", str(old), *SELLERS, "--key", "natres")

    new = issue_certificate(cli, "new")
    cli("property", "open-transfer", UNIT, "--certificate", str(new), *BUYER, "--key", "natres")
    # a court approving as TAX, and a department approving twice, are refused with their errors
    assert "PropertyRegistryUnauthorized" in cli.fail("property", "approve", "1", "--key", "court", "--as", "tax")
    cli("property", "approve", "1", "--key", "tax")
    assert "PropertyRegistryAlreadyApproved" in cli.fail("property", "approve", "1", "--key", "tax", "--as", "tax")

    # returned, then resubmitted with corrected owners: a new round without approvals
    assert "returned case 1 (reason 10" in cli("property", "return", "1", "--reason", "10", "--key", "housing")
    corrected = issue_certificate(cli, "corrected")
    printed = cli(
        "property",
        "resubmit",
        "1",
        "--certificate",
        str(corrected),
        "--owner",
        "342401199005060033:50%",
        "--owner",
        "342401199107080044:50%",
        "--key",
        "natres",
    )
    assert "resubmitted case 1 (round 2" in printed
    assert "case 1 OPEN round 2" in cli("property", "show", UNIT)

    # a bank's mortgage blocks the transfer until the bank consents
    authorize = cli.tmp / "mortgage-type.json"
    cli("dept", "authorize", "0x" + NATRES.hex(), MORTGAGE, "--proposal", str(authorize))
    cli.govern(authorize)
    mortgage = issue_certificate(cli, "mortgage", doc_type=MORTGAGE)
    assert "mortgage 1 registered" in cli("property", "mortgage", UNIT, "--certificate", str(mortgage), "--key", "bank")
    for key in ("tax", "housing"):
        cli("property", "approve", "1", "--key", key)
    assert "PropertyRegistryMortgageNotConsented" in cli.fail("property", "approve", "1", "--key", "natres")
    assert "consented to case 1 round 2 for mortgage 1" in cli("property", "consent", "1", "1", "--key", "bank")
    assert "finalized" in cli("property", "approve", "1", "--key", "natres")
    assert status_line(cli, corrected, 0).startswith("ACTIVE")
    assert status_line(cli, old, 4).startswith("SUPERSEDED")
    shown = cli("property", "show", UNIT)
    assert shown.count("\nowner ") == 2 and "mortgage 1 bank 0x" + BANK.hex() in shown
    assert "mortgage 1 on unit" in cli("property", "release-mortgage", UNIT, "1", "--key", "bank")
    assert "mortgages: none" in cli("property", "show", UNIT)

    # cancel a fresh case; an unknown case is a one-line error
    third = issue_certificate(cli, "third")
    cli("property", "open-transfer", UNIT, "--certificate", str(third), *BUYER, "--key", "natres")
    assert "cancelled case 2" in cli("property", "cancel", "2", "--key", "natres")
    assert "PropertyRegistryUnknownCase" in cli.fail("property", "approve", "99", "--key", "tax")
    assert "NOT_REGISTERED" in cli("property", "show", "0x" + unit_of("no-such-unit").hex(), expect=3)

    # the registry named by EREG_PROPERTY_REGISTRY (or --property-registry) instead of the record
    record = read_deployment_record(cli.home / "deployments", cli.world.chain_id)
    assert record is not None
    address = record["contracts"]["PropertyRegistry"]["address"]
    assert "case: none" in cli("property", "show", UNIT, env={"EREG_PROPERTY_REGISTRY_ADDRESS": address})
    assert "case: none" in cli("property", "show", UNIT, env={"EREG_PROPERTY_REGISTRY": address})
    nowhere = "0x" + "12" * 20
    assert "no contract at" in cli.fail("property", "--property-registry", nowhere, "show", UNIT)


def test_correction_by_a_second_department_and_by_the_council(prop: Cli) -> None:
    """更正登记: NATRES opens, a second department (or the council) approves; it takes effect at once."""
    cli = prop
    unit_hex = UNIT
    old = issue_certificate(cli, "old")
    cli("property", "register", UNIT, "--certificate", str(old), *SELLERS, "--key", "natres")
    fixed = issue_certificate(cli, "fixed")
    printed = cli(
        "property", "open-correction", UNIT, "--certificate", str(fixed), "--owner", "342401198001010011:10000",
        "--reason", "1", "--key", "natres",
    )
    assert printed.startswith(f"opened correction case 1 on unit {unit_hex} to replace the title (issued in error")
    assert "salt 0x" in printed
    # the opener may not approve its own correction, nor a bank at all; a correction is no transfer
    assert "PropertyRegistryAlreadyApproved" in cli.fail("property", "approve-correction", "1", "--key", "natres")
    assert "PropertyRegistryUnauthorized" in cli.fail("property", "approve-correction", "1", "--key", "bank")
    assert "PropertyRegistryWrongCaseKind" in cli.fail("property", "approve", "1", "--key", "tax")
    assert status_line(cli, old, 0).startswith("ACTIVE")
    printed = cli("property", "approve-correction", "1", "--key", "tax")
    assert printed.startswith("approved correction case 1 (tx 0x")
    assert f"case 1: certificate {target_of(fixed)} is current, {target_of(old)} superseded" in printed
    line = status_line(cli, old, 4)
    assert line.startswith("SUPERSEDED") and "(registration corrected)" in line
    assert f"successor {target_of(fixed)}" in line
    assert status_line(cli, fixed, 0).startswith("ACTIVE")

    # a correction that revokes the title, approved by the council through its time lock
    printed = cli("property", "open-correction", UNIT, "--reason", "2", "--key", "natres")
    assert printed.startswith("opened correction case 2") and "to revoke the title" in printed
    draft = cli.tmp / "correction.json"
    printed = cli("property", "approve-correction", "2", "--proposal", str(draft))
    assert "approve correction case 2" in printed and "批准更正登记案件 2" in printed
    cli.govern(draft)
    line = status_line(cli, fixed, 4)
    assert line.startswith("REVOKED") and "(registration corrected)" in line
    events = [line.split()[2] for line in cli("property", "history", UNIT).splitlines()]
    assert events[-3:] == ["CorrectionOpened", "CorrectionApproved", "TitleCorrected"]

    # usage: one approver, and owners only with a corrected certificate
    assert "one of them" in cli.fail("property", "approve-correction", "2", expect=2)
    assert "one of them" in cli.fail(
        "property", "approve-correction", "2", "--key", "tax", "--proposal", str(draft), expect=2
    )
    line = cli.fail("property", "open-correction", UNIT, "--reason", "1", "--owner", "a:10000", "--key", "natres",
                    expect=2)
    assert "without one the title is revoked" in line


def test_second_hand_transfer_through_the_relay(prop: Cli, start_relay: StartRelay) -> None:
    """Every step signed by the acting department's key here and sent by the relay's account."""
    cli = prop
    relay = start_relay(deployments_dir=cli.home / "deployments")
    via = ("--via", relay.url)
    old = issue_certificate(cli, "old")
    printed = cli("property", "register", UNIT, "--certificate", str(old), *SELLERS, "--key", "natres", *via)
    assert ", relayed)" in printed
    tx = re.search(r"\(tx (0x[0-9a-f]{64}), relayed\)", printed)
    assert tx is not None
    assert cli.world.client.w3.eth.get_transaction(HexStr(tx.group(1)))["from"] == cli.world.relayer.address
    new = issue_certificate(cli, "new")
    printed = cli("property", "open-transfer", UNIT, "--certificate", str(new), *BUYER, "--key", "natres", *via)
    assert printed.startswith("opened case 1 on unit")
    assert "seizure 1 registered" in cli("property", "seize", UNIT, "--ruling", "裁定", "--key", "court", *via)
    assert "approved case 1 as TAX" in cli("property", "approve", "1", "--key", "tax", *via)
    assert "approved case 1 as HOUSING" in cli("property", "approve", "1", "--key", "housing", *via)
    # the relay's refusals are one-line errors carrying the registry's reason
    line = cli.fail("property", "approve", "1", "--key", "natres", *via)
    assert "HTTP 409" in line and "PropertyRegistryUnitSeized" in line
    line = cli.fail("property", "approve", "1", "--key", "tax", "--as", "tax", *via)
    assert "PropertyRegistryAlreadyApproved" in line
    assert "released" in cli("property", "release-seizure", UNIT, "1", "--key", "court", *via)
    printed = cli("property", "approve", "1", "--key", "natres", *via)
    assert f"case 1 finalized: certificate {target_of(new)} is current, {target_of(old)} superseded" in printed
    assert status_line(cli, old, 4).startswith("SUPERSEDED")
    # the relay must serve the PropertyRegistry this CLI signs for
    elsewhere = start_relay(deployments_dir=cli.tmp / "no-deployments")
    line = cli.fail("property", "seize", UNIT, "--ruling", "x", "--key", "court", "--via", elsewhere.url)
    assert "property registry none" in line


def test_correction_through_the_relay(prop: Cli, start_relay: StartRelay) -> None:
    """open-correction and approve-correction signed here, sent by the relay's account."""
    cli = prop
    relay = start_relay(deployments_dir=cli.home / "deployments")
    via = ("--via", relay.url)
    old = issue_certificate(cli, "old")
    cli("property", "register", UNIT, "--certificate", str(old), *SELLERS, "--key", "natres", *via)
    fixed = issue_certificate(cli, "fixed")
    printed = cli(
        "property", "open-correction", UNIT, "--certificate", str(fixed), *BUYER, "--reason", "1", "--key", "natres",
        *via,
    )
    assert printed.startswith("opened correction case 1") and ", relayed)" in printed
    line = cli.fail("property", "approve-correction", "1", "--key", "natres", *via)
    assert "HTTP 409" in line and "PropertyRegistryAlreadyApproved" in line
    printed = cli("property", "approve-correction", "1", "--key", "housing", *via)
    assert ", relayed)" in printed and f"certificate {target_of(fixed)} is current" in printed
    tx = re.search(r"\(tx (0x[0-9a-f]{64}), relayed\)", printed)
    assert tx is not None
    assert cli.world.client.w3.eth.get_transaction(HexStr(tx.group(1)))["from"] == cli.world.relayer.address
    assert status_line(cli, old, 4).startswith("SUPERSEDED")
    # a revoking correction: no certificate, no owners
    printed = cli("property", "open-correction", UNIT, "--reason", "2", "--key", "natres", *via)
    assert printed.startswith("opened correction case 2") and "revoke the title" in printed
    printed = cli("property", "approve-correction", "2", "--key", "tax", *via)
    assert "revoked; the unit has no title now" in printed
    assert status_line(cli, fixed, 4).startswith("REVOKED")


def test_a_unit_is_named_by_its_id_or_a_certificate_never_by_its_number(prop: Cli) -> None:
    """The chain keys a unit by keccak256(unitSalt ‖ unitNumber): a number alone is refused, a
    certificate naming another unit is refused, and NATRES gets fresh salts for new units."""
    cli = prop
    old = issue_certificate(cli, "old")
    line = cli.fail("property", "show", UNIT_NUMBER, expect=2)
    assert "a unit number alone names no unit" in line, line
    register = ("property", "register")
    line = cli.fail(*register, UNIT_NUMBER, "--certificate", str(old), *SELLERS, "--key", "natres", expect=2)
    assert "a unit number alone names no unit" in line, line
    other = "0x" + unit_of("341502001001GB00009F00090009").hex()
    line = cli.fail(*register, other, "--certificate", str(old), *SELLERS, "--key", "natres", expect=2)
    assert f"names unit {UNIT}, not {other}" in line, line
    assert "NOT_REGISTERED" in cli("property", "show", str(old), expect=3)  # nothing was registered
    salts = {cli("property", "new-unit-salt").strip() for _ in range(3)}
    assert len(salts) == 3 and all(re.fullmatch(r"0x[0-9a-f]{64}", salt) for salt in salts), salts

