"""chain.governance without a node: proposals as JSON, proposal files, words for people, classification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from chain.artifacts import load_artifact
from chain.errors import ChainError
from chain.governance import (
    COUNCIL,
    TIMELOCK,
    Call,
    Proposal,
    ProposalFile,
    ProposalKind,
    classify,
    decode_call,
    describe,
    new_proposal,
    proposal_digest,
    recover_proposal_signer,
    sign_proposal,
)
from chain.types import Action, Role, StatusChange, department_id, type_id

CHAIN_ID = 2018
REGISTRY = to_checksum_address("0x" + "ab" * 20)
PROPERTY = to_checksum_address("0x" + "cd" * 20)
COUNCIL_ADDRESS = to_checksum_address("0x" + "ef" * 20)
TIMELOCK_ADDRESS = to_checksum_address("0x" + "12" * 20)
HOUSING = department_id("LA-HOUSING")
HOUSING_NAME = "六安市住房和城乡建设局"
NOW = 1_800_000_000
KEY = to_checksum_address("0x" + "34" * 20)
PERMIT = type_id("permit")


def _call(contract: str, address: str, fn_name: str, *args: Any) -> Call:
    encoder = Web3().eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(contract).abi)
    return Call(address, bytes(HexBytes(encoder.encode_abi(fn_name, args=list(args)))))


def registry_call(fn_name: str, *args: Any) -> Call:
    return _call("DocumentRegistry", REGISTRY, fn_name, *args)


def change(action: Action, target: bytes = b"\x00" * 32) -> tuple[Any, ...]:
    return StatusChange(action, b"\x01" * 32, target).as_tuple()


def members(count: int = 3) -> list[LocalAccount]:
    return [Account.create() for _ in range(count)]


def sample_proposal(kind: ProposalKind = ProposalKind.SCHEDULED) -> Proposal:
    calls = [
        registry_call("addSignerKey", HOUSING, KEY, NOW, 0),
        registry_call("registerDocumentType", "permit"),
        Call(REGISTRY, b""),
    ]
    return Proposal(kind, tuple(calls), 2**200 + 7, NOW + 86_400)


def proposal_file(signers: list[LocalAccount], proposal: Proposal | None = None) -> ProposalFile:
    file = ProposalFile(CHAIN_ID, COUNCIL_ADDRESS, proposal or sample_proposal())
    for signer in signers:
        file.add_signature(sign_proposal(signer, file.proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS))
    return file


# ------------------------------------------------------------------------ proposals as JSON


@pytest.mark.parametrize("kind", list(ProposalKind))
def test_proposal_json_round_trip(kind: ProposalKind) -> None:
    proposal = sample_proposal(kind)
    raw = proposal.to_json()
    assert raw["kind"] == kind.name.lower()
    assert raw["nonce"] == str(2**200 + 7)  # a string: JSON readers lose big integers
    assert raw["calls"][2] == {"target": REGISTRY, "data": "0x"}
    again = Proposal.from_json(json.loads(json.dumps(raw)))
    assert again == proposal
    assert proposal_digest(again, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS) == proposal_digest(
        proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS
    )


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.pop("kind"),
        lambda r: r.update(kind="later"),
        lambda r: r.update(nonce="many"),
        lambda r: r.update(calls=None),
        lambda r: r["calls"][0].update(data="0xnothex"),
        lambda r: r["calls"][0].update(target="0x1234"),
        lambda r: r["calls"][0].pop("target"),
    ],
    ids=["no-kind", "bad-kind", "bad-nonce", "no-calls", "bad-data", "bad-target", "no-target"],
)
def test_proposal_from_bad_json(edit: Any) -> None:
    raw = sample_proposal().to_json()
    edit(raw)
    with pytest.raises(ValueError):
        Proposal.from_json(raw)


def test_new_proposal() -> None:
    calls = [registry_call("registerDocumentType", "permit")]
    first = new_proposal(calls, ProposalKind.SCHEDULED, now=NOW, window=600)
    second = new_proposal(calls, ProposalKind.SCHEDULED, now=NOW, window=600)
    assert first.deadline == NOW + 600
    assert first.calls == tuple(calls)
    assert first.nonce != second.nonce  # random: two proposals never collide
    assert 0 <= first.nonce < 2**128
    with pytest.raises(ValueError):
        new_proposal([], ProposalKind.IMMEDIATE)


def test_digest_binds_chain_and_council() -> None:
    proposal = sample_proposal()
    digest = proposal_digest(proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS)
    assert len(digest) == 32
    assert proposal_digest(proposal, chain_id=CHAIN_ID + 1, council=COUNCIL_ADDRESS) != digest
    assert proposal_digest(proposal, chain_id=CHAIN_ID, council=REGISTRY) != digest
    member = Account.create()
    signature = sign_proposal(member, proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS)
    assert recover_proposal_signer(proposal, signature, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS) == member.address
    assert recover_proposal_signer(proposal, signature, chain_id=1, council=COUNCIL_ADDRESS) != member.address


# ------------------------------------------------------------------------------ proposal files


def test_proposal_file_collects_checked_signatures(tmp_path: Path) -> None:
    signers = members(3)
    file = proposal_file(signers[:2])
    assert set(file.signatures) == {s.address for s in signers[:2]}
    signer = file.add_signature(sign_proposal(signers[2], file.proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS))
    assert signer == signers[2].address

    raw = file.to_json()
    assert raw["format"] == "ereg-proposal/1"
    assert (raw["chainId"], raw["council"]) == (CHAIN_ID, COUNCIL_ADDRESS)
    assert raw["digest"] == "0x" + file.digest.hex()
    assert list(raw["signatures"]) == sorted(raw["signatures"])

    path = tmp_path / "proposal.json"
    file.write(path)
    again = ProposalFile.read(path)
    assert again == file
    # Signatures come out sorted by signer, each checked; only current members' when asked.
    by_address = sorted(signers, key=lambda s: s.address)
    expected = [sign_proposal(s, file.proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS) for s in by_address]
    assert again.signature_bytes() == expected
    current = [signers[0].address.lower(), signers[2].address]
    assert again.signature_bytes(current) == [
        sign_proposal(s, file.proposal, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS)
        for s in by_address
        if s in (signers[0], signers[2])
    ]
    assert again.signature_bytes([]) == []


def test_signature_for_another_proposal_recovers_to_a_stranger() -> None:
    signer = Account.create()
    file = proposal_file([])
    other = sample_proposal(ProposalKind.IMMEDIATE)
    recovered = file.add_signature(sign_proposal(signer, other, chain_id=CHAIN_ID, council=COUNCIL_ADDRESS))
    assert recovered != signer.address
    assert file.signature_bytes([signer.address]) == []  # not a member's approval of this proposal


def test_signature_filed_under_another_member_is_refused() -> None:
    signers = members(2)
    file = proposal_file(signers[:1])
    forged = dict(file.to_json())
    forged["signatures"] = {signers[1].address: file.signatures[signers[0].address]}
    with pytest.raises(ValueError, match="was made by"):
        ProposalFile.from_json(forged).signature_bytes()


def test_edited_proposal_file_is_detected() -> None:
    signers = members(3)
    raw = proposal_file(signers).to_json()

    edited = json.loads(json.dumps(raw))
    edited["proposal"]["calls"][0]["data"] = (
        "0x" + registry_call("addSignerKey", HOUSING, signers[0].address, NOW, 0).data.hex()
    )
    with pytest.raises(ValueError, match="digest does not match"):
        ProposalFile.from_json(edited)
    for key, value in (("chainId", CHAIN_ID + 1), ("council", REGISTRY)):
        moved = json.loads(json.dumps(raw))
        moved[key] = value
        with pytest.raises(ValueError, match="digest does not match"):
            ProposalFile.from_json(moved)

    # Without the stated digest the edit is read, but no member's signature fits it any more.
    del edited["digest"]
    resealed = ProposalFile.from_json(edited)
    with pytest.raises(ValueError, match="was made by"):
        resealed.signature_bytes()


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"format": "ereg-proposal/2"}', '{"format": "ereg-proposal/1", "chainId": 1}'],
    ids=["not-json", "not-object", "other-format", "incomplete"],
)
def test_unreadable_proposal_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "proposal.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChainError, match=str(path)):
        ProposalFile.read(path)


def test_missing_proposal_file(tmp_path: Path) -> None:
    with pytest.raises(ChainError, match="no proposal file"):
        ProposalFile.read(tmp_path / "none.json")


def test_written_file_is_readable_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    proposal_file(members(1)).write(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == "ereg-proposal/1"
    assert not list(tmp_path.glob("*.tmp"))


# ------------------------------------------------------------------------------ words for people

NAMES = {HOUSING: "住建局"}


def words(call: Call) -> tuple[str, str]:
    english, chinese = describe(call, NAMES)
    assert english and chinese and english != chinese
    return english, chinese


def test_describe_department_changes() -> None:
    en, zh = words(registry_call("registerDepartment", HOUSING, HOUSING_NAME, "11341500MB0000004D", 4 | 16))
    assert en.startswith(f"register department {HOUSING_NAME}")
    assert "六安市住房和城乡建设局" in en and "11341500MB0000004D" in en and "HOUSING|BANK" in en
    assert "住建局" not in en  # the registered name is in the call: no second name from the table
    assert zh.startswith("登记部门") and "统一社会信用代码 11341500MB0000004D" in zh and "HOUSING|BANK" in zh

    en, zh = words(registry_call("setDepartmentActive", HOUSING, False))
    assert en.startswith("deactivate department 住建局") and zh.startswith("停用部门 住建局")
    en, zh = words(registry_call("setDepartmentActive", HOUSING, True))
    assert en.startswith("reactivate department 住建局") and zh.startswith("恢复部门 住建局")

    en, zh = words(registry_call("setDepartmentRoles", HOUSING, 0))
    assert en.endswith("to NONE") and "角色设为 NONE" in zh
    en, zh = words(registry_call("setDepartmentRoles", HOUSING, int(Role.HOUSING | Role.COURT)))
    assert en.endswith("to HOUSING|COURT") and "HOUSING|COURT" in zh

    # Without a name, the department's id.
    en, _ = describe(registry_call("setDepartmentActive", HOUSING, False))
    assert "0x" + HOUSING.hex() in en


def test_describe_signing_keys() -> None:
    en, zh = words(registry_call("addSignerKey", HOUSING, KEY, NOW, 0))
    assert KEY.lower() in en.lower() and "住建局" in en
    assert "2027-01-15 08:00:00 UTC" in en and "until further notice" in en
    assert zh.startswith("为 住建局") and "添加签名密钥" in zh and "长期有效" in zh
    en, zh = words(registry_call("addSignerKey", HOUSING, KEY, NOW, NOW + 86_400))
    assert "until 2027-01-16 08:00:00 UTC" in en and "至 2027-01-16 08:00:00 UTC" in zh

    en, zh = words(registry_call("retireSignerKey", KEY, NOW))
    assert en.startswith("retire signing key") and "2027-01-15 08:00:00 UTC" in en and "no longer counts" in en
    assert "停用签名密钥" in zh and "此后所签一律无效" in zh


def test_describe_document_types() -> None:
    en, zh = words(registry_call("registerDocumentType", "permit"))
    assert (en, zh) == ("register document type permit", "登记文书类型 permit")
    en, zh = words(registry_call("authorizeDocumentType", HOUSING, PERMIT))
    assert en.startswith("let 住建局") and "0x" + PERMIT.hex()[:8] in en
    assert zh.startswith("授权 住建局") and "签发文书类型" in zh
    en, zh = words(registry_call("deauthorizeDocumentType", HOUSING, PERMIT))
    assert en.startswith("stop 住建局") and zh.startswith("停止 住建局")


@pytest.mark.parametrize(
    ("action", "verb_en", "verb_zh"),
    [
        (Action.REVOKE, "revoke", "撤销"),
        (Action.SUSPEND, "suspend", "暂停"),
        (Action.REINSTATE, "reinstate", "恢复"),
        (Action.SUPERSEDE, "supersede", "替换"),
    ],
)
def test_describe_governance_status_changes(action: Action, verb_en: str, verb_zh: str) -> None:
    en, zh = words(registry_call("governChangeStatus", HOUSING, change(action)))
    assert en.startswith(f"{verb_en} batch 0x01010101") and "of 住建局 (0x" + HOUSING.hex()[:8] + "…)" in en
    assert en.endswith("(reason 0: unspecified)") and zh.endswith("（原因 0：未说明）")
    assert zh.startswith(f"{verb_zh} 住建局") and "批次 0x01010101" in zh and "batch" not in zh
    en, _ = words(registry_call("governChangeStatus", HOUSING, change(action, b"\x02" * 32)))
    assert en.startswith(f"{verb_en} document 0x02020202")


def test_describe_roles_council_time_lock_and_corrections() -> None:
    role = keccak(text="PROPERTY_REGISTRY_ROLE")
    en, zh = words(registry_call("grantRole", role, PROPERTY))
    assert en.startswith("grant PROPERTY_REGISTRY_ROLE") and PROPERTY.lower() in en.lower()
    assert "授予" in zh and "PROPERTY_REGISTRY_ROLE" in zh
    en, zh = words(registry_call("revokeRole", keccak(text="GOVERNOR_ROLE"), KEY))
    assert en.startswith("revoke GOVERNOR_ROLE") and "撤回" in zh
    en, _ = words(registry_call("grantRole", b"\x00" * 32, KEY))
    assert "DEFAULT_ADMIN_ROLE" in en

    accounts = [Account.create().address for _ in range(5)]
    en, zh = words(_call(COUNCIL, COUNCIL_ADDRESS, "setCouncil", accounts, 3, 2))
    assert en.startswith("replace the council by 3 of 5") and "2 to veto" in en
    assert "5 人中须 3 人批准，2 人可否决" in zh
    assert all(a.lower() in en.lower() for a in accounts)

    en, zh = words(_call(TIMELOCK, TIMELOCK_ADDRESS, "updateDelay", 7200))
    assert (en, zh) == ("set the time lock's delay to 7200 s", "将时间锁延迟设为 7200 秒")

    en, zh = words(_call("PropertyRegistry", PROPERTY, "approveCorrection", 42))
    assert en.startswith("approve correction case 42") and zh == "批准更正登记案件 42"


def test_describe_other_and_unknown_calls() -> None:
    en, zh = words(registry_call("anchor", b"\x01" * 32, PERMIT, 3))
    assert en.startswith("DocumentRegistry.anchor(") and "count=3" in en
    assert zh.startswith("DocumentRegistry.anchor（")
    for data in (b"\xde\xad\xbe\xef" + b"\x00" * 32, b""):
        en, zh = words(Call(REGISTRY, data))
        assert "do not sign blind" in en and "请勿盲签" in zh
        assert REGISTRY in en


def test_decode_call() -> None:
    decoded = decode_call(registry_call("addSignerKey", HOUSING, KEY, NOW, 0))
    assert (decoded.contract, decoded.function) == ("DocumentRegistry", "addSignerKey")
    assert decoded.args == {"department": HOUSING, "signer": KEY.lower(), "validFrom": NOW, "validUntil": 0}
    with pytest.raises(ValueError, match="unknown function selector"):
        decode_call(Call(REGISTRY, b"\xde\xad\xbe\xef"))


# ---------------------------------------------------------------------------------- classify

IMMEDIATE_CALLS = {
    "deactivate": registry_call("setDepartmentActive", HOUSING, False),
    "deauthorize": registry_call("deauthorizeDocumentType", HOUSING, PERMIT),
    "retireFromNow": registry_call("retireSignerKey", KEY, NOW + 60),
    "retireLater": registry_call("retireSignerKey", KEY, NOW + 86_400),
    "suspend": registry_call("governChangeStatus", HOUSING, change(Action.SUSPEND)),
}

SCHEDULED_CALLS = {
    "registerDepartment": registry_call("registerDepartment", HOUSING, HOUSING_NAME, "11341500MB0000004D", 4),
    "reactivate": registry_call("setDepartmentActive", HOUSING, True),
    "setRolesWithoutClient": registry_call("setDepartmentRoles", HOUSING, 0),
    "addSignerKey": registry_call("addSignerKey", HOUSING, KEY, NOW, 0),
    "retireSoon": registry_call("retireSignerKey", KEY, NOW + 59),  # the margin for the time a proposal takes
    "retireBackdated": registry_call("retireSignerKey", KEY, NOW - 3600),
    "registerDocumentType": registry_call("registerDocumentType", "permit"),
    "authorizeDocumentType": registry_call("authorizeDocumentType", HOUSING, PERMIT),
    "revoke": registry_call("governChangeStatus", HOUSING, change(Action.REVOKE)),
    "reinstate": registry_call("governChangeStatus", HOUSING, change(Action.REINSTATE)),
    "supersede": registry_call("governChangeStatus", HOUSING, change(Action.SUPERSEDE, b"\x02" * 32)),
    "grantRole": registry_call("grantRole", keccak(text="PROPERTY_REGISTRY_ROLE"), PROPERTY),
    "revokeRole": registry_call("revokeRole", keccak(text="GOVERNOR_ROLE"), KEY),
    "setCouncil": _call(COUNCIL, COUNCIL_ADDRESS, "setCouncil", [KEY, PROPERTY], 2, 1),
    "updateDelay": _call(TIMELOCK, TIMELOCK_ADDRESS, "updateDelay", 0),
    "approveCorrection": _call("PropertyRegistry", PROPERTY, "approveCorrection", 1),
    "unknown": Call(REGISTRY, b"\xde\xad\xbe\xef"),
    "empty": Call(REGISTRY, b""),
}


@pytest.mark.parametrize("name", list(IMMEDIATE_CALLS))
def test_protective_calls_are_immediate(name: str) -> None:
    assert classify([IMMEDIATE_CALLS[name]], now=NOW) is ProposalKind.IMMEDIATE


@pytest.mark.parametrize("name", list(SCHEDULED_CALLS))
def test_calls_that_add_power_are_scheduled(name: str) -> None:
    assert classify([SCHEDULED_CALLS[name]], now=NOW) is ProposalKind.SCHEDULED
    # One call that adds power makes the whole proposal wait.
    assert classify([*IMMEDIATE_CALLS.values(), SCHEDULED_CALLS[name]], now=NOW) is ProposalKind.SCHEDULED


def test_all_protective_calls_together_are_immediate() -> None:
    assert classify(list(IMMEDIATE_CALLS.values()), now=NOW) is ProposalKind.IMMEDIATE
    # A retirement that was "from now" becomes a backdating one when its time has passed.
    assert classify([IMMEDIATE_CALLS["retireFromNow"]], now=NOW + 1) is ProposalKind.SCHEDULED
