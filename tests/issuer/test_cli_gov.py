"""``ereg deploy`` with its council and ``ereg gov``: proposals from a draft to their effect on chain.

The council members' keys are the world's five members (``member1`` … ``member5`` in the CLI
home). Members sign offline: ``ereg gov sign`` runs with the chain node unreachable. The time
lock's delay passes by moving the node's clock, never by sleeping.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from chain.governance import CouncilClient, Proposal, ProposalFile, ProposalKind, proposal_digest
from chain.types import department_id
from devstack.process import free_port
from issuer.cli import app
from tests.factories import SAMR
from tests.issuer.conftest import MEMBERS, Cli, write_keystore

pytestmark = pytest.mark.parametrize("node", ["dev"], indirect=True)

SAMR_NAME = "六安市市场监督管理局"
DEPT = "LA-CULTURE"
DEPT_NAME = "六安市文化和旅游局"
DEPT_CREDIT = "11341500MB0000011X"
#: The chain is unreachable here: what runs with it needs no node.
OFFLINE = {"EREG_RPC_URL": f"http://127.0.0.1:{free_port()}"}


def register_draft(
    cli: Cli, path: Path, code: str = DEPT, name: str = DEPT_NAME, env: Mapping[str, str | None] | None = None
) -> str:
    return cli(
        "dept", "register", code, "--name", name, "--credit-code", DEPT_CREDIT, "--proposal", str(path), env=env
    )


def sign(cli: Cli, path: Path, *members: str) -> None:
    for member in members:
        printed = cli("gov", "sign", str(path), "--key", member, "--yes", env=OFFLINE)
        assert "signed by 0x" in printed, printed


def raw(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def digest_of(printed: str) -> str:
    found = re.search(r"digest / 摘要: (0x[0-9a-f]{64})", printed)
    assert found, printed
    return found.group(1)


def bilingual(line: str) -> None:
    """A one-line error in English and Chinese."""
    assert " / " in line and re.search(r"[\u4e00-\u9fff]", line), line


# ------------------------------------------------------------------------ the ceremony
def test_deploy_register_sign_offline_schedule_wait_execute(cli: Cli) -> None:
    """A fresh council and registry by ``ereg deploy``, a department registered through a proposal."""
    env = {"EREG_REGISTRY_ADDRESS": None, "EREG_COUNCIL_ADDRESS": None}
    members = [arg for m in MEMBERS for arg in ("--member", m)]
    printed = cli("deploy", "--key", "governor", *members, "--threshold", "3", env=env)
    council = re.search(r"deployed GovernanceCouncil at (0x[0-9a-fA-F]{40}) on chain \d+: 3 of 5 members approve, "
                        r"2 veto", printed)
    registry = re.search(r"deployed DocumentRegistry at (0x[0-9a-fA-F]{40}) governed by the council", printed)
    assert council and registry, printed
    assert "time lock (TimelockController) at 0x" in printed and "delay 172800 s" in printed
    assert "reused GovernanceCouncil" in cli("deploy", "--key", "governor", *members, "--threshold", "3", env=env)

    draft = cli.tmp / "register.json"
    printed = cli(
        "dept", "register", "LA-SAMR", "--name", SAMR_NAME, "--credit-code", "11341500MB0000001A",
        "--proposal", str(draft), env=env,
    )
    assert f"register department {SAMR_NAME}" in printed and f"登记部门 {SAMR_NAME}" in printed
    cli("dept", "add-key", "LA-SAMR", "samr", "--valid-from", "2020-01-01T00:00:00Z", "--proposal", str(draft), env=env)
    printed = cli("dept", "authorize", "LA-SAMR", "business-license", "--proposal", str(draft), env=env)
    assert "register document type business-license" in printed and "登记文书类型 business-license" in printed
    assert "4 call(s) in all" in printed
    assert raw(draft)["proposal"]["deadline"] == 0  # a draft: nothing to sign yet
    line = cli.fail("gov", "sign", str(draft), "--key", "member1", "--yes", env=OFFLINE)
    assert "draft" in line and "ereg gov propose" in line

    printed = cli("gov", "propose", str(draft), env=env)
    assert "Scheduled" in printed and "定时执行" in printed and "time lock delay / 时间锁延迟: 172800 s" in printed
    assert f"为 {SAMR_NAME} (0x" in printed  # the department's name comes from the same proposal
    digest = digest_of(printed)
    sealed = ProposalFile.read(draft)
    assert sealed.council == council.group(1) and sealed.chain_id == cli.world.chain_id
    assert "0x" + sealed.digest.hex() == digest
    on_chain = CouncilClient(cli.world.client, council.group(1))
    assert on_chain.proposal_digest(sealed.proposal) == sealed.digest  # the contract computes the same id
    # sealed: no more calls
    line = cli.fail("dept", "authorize", "LA-SAMR", "food-business-license", "--proposal", str(draft), env=env)
    assert "is sealed" in line and "已封存" in line
    bilingual(line)

    # members sign offline, one after confirming at the prompt; one who declines signs nothing
    declined = cli.runner.invoke(
        app, ["gov", "sign", str(draft), "--key", "member2"], env={**cli.env, **OFFLINE}, input="n\n"
    )
    assert declined.exit_code == 1 and "not signed / 未签署" in declined.output
    assert raw(draft)["signatures"] == {}
    confirmed = cli.runner.invoke(
        app, ["gov", "sign", str(draft), "--key", "member2"], env={**cli.env, **OFFLINE}, input="y\n"
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert f"register department {SAMR_NAME}" in confirmed.output and "Sign this proposal?" in confirmed.output
    sign(cli, draft, "member4", "member5")
    signers = [cli.world.members[i].address for i in (1, 3, 4)]
    assert sorted(raw(draft)["signatures"]) == sorted(signers)

    shown = cli("gov", "show", str(draft), env=env)
    assert "signatures of members in the file / 文件中委员签名: 3" in shown
    assert "approvals / 批准数: 3 of 3 needed" in shown and "state / 状态: PENDING" in shown

    printed = cli("gov", "execute", str(draft), "--key", "member1", env=env)
    assert "scheduled" in printed and "ready at" in printed
    ready = re.search(r"ready at (\S+);", printed)
    assert ready, printed
    shown = cli("gov", "show", str(draft), env=env)
    assert f"state / 状态: WAITING: waiting in the time lock until {ready.group(1)}" in shown
    line = cli.fail("gov", "execute", str(draft), "--key", "member1", env=env)
    assert "not ready" in line and ready.group(1) in line and "尚不能执行" in line and "NOT_READY" in line
    assert cli("dept", "list", env=env) == ""  # nothing registered yet

    cli.world.increase_time(172_800 + 1)
    printed = cli("gov", "execute", str(draft), "--key", "member3", env=env)
    assert "carried out" in printed and "已执行" in printed
    shown = cli("dept", "show", "LA-SAMR", env=env)
    assert SAMR_NAME in shown and "active" in shown and cli.world.samr_key.address in shown
    assert "DONE" in cli("gov", "show", str(draft), env=env)
    line = cli.fail("gov", "execute", str(draft), "--key", "member1", env=env)
    assert "cannot execute: done" in line
    listed = cli("gov", "list", env=env)
    assert re.search(rf"^{digest} SCHEDULED DONE ready \S+ block \d+", listed, re.M), listed
    assert f"register department {SAMR_NAME}" in listed

    # the new registry works: SAMR's key anchors there
    root = "0x" + os.urandom(32).hex()
    assert "anchored" in cli("anchor", root, "--type", "business-license", "--count", "1", "--key", "samr", env=env)
    assert cli("status", root, "--department", "LA-SAMR", env=env).startswith("ACTIVE")
    assert registry.group(1) != cli.world.registry.address


def test_one_of_one_and_no_delay_need_the_dev_council(cli: Cli) -> None:
    env = {"EREG_REGISTRY_ADDRESS": None, "EREG_COUNCIL_ADDRESS": None}
    line = cli.fail("deploy", "--key", "governor", "--member", "member1", "--threshold", "1", expect=2, env=env)
    assert "one person" in line and "一人说了算" in line and "--dev-council" in line
    bilingual(line)
    members = ("--member", "member1", "--member", "member2", "--member", "member3")
    line = cli.fail("deploy", "--key", "governor", *members, "--threshold", "2", "--delay", "0", expect=2, env=env)
    assert "--delay 0" in line and "零延迟" in line
    line = cli.fail("deploy", "--key", "governor", *members, "--threshold", "4", expect=2, env=env)
    assert "more than the 3 member(s)" in line
    assert not (cli.home / "deployments").exists()  # nothing was deployed

    printed = cli(
        "deploy", "--key", "governor", "--member", "member1", "--threshold", "1", "--delay", "0", "--dev-council",
        env=env,
    )
    assert "warning: a development council" in printed and "仅限本地测试链使用" in printed
    assert "1 of 1 members approve, 1 veto" in printed
    # a draft made for the world's registry is not sealed for this council
    elsewhere = cli.tmp / "elsewhere.json"
    register_draft(cli, elsewhere)
    line = cli.fail("gov", "propose", str(elsewhere), env=env)
    assert f"drafted for council {cli.world.council.address}" in line and "请重新起草" in line
    draft = cli.tmp / "dev.json"
    register_draft(cli, draft, env=env)
    cli("gov", "propose", str(draft), env=env)
    sign(cli, draft, "member1")
    printed = cli("gov", "execute", str(draft), "--key", "member1", env=env)
    assert "scheduled" in printed and "carried out" in printed  # no delay: at once
    assert DEPT_NAME in cli("dept", "show", DEPT, env=env)


# ------------------------------------------------------------------------- refusals
def test_two_signatures_are_not_enough_and_on_chain_approvals_count(cli: Cli) -> None:
    draft = cli.tmp / "p.json"
    register_draft(cli, draft)
    cli("gov", "propose", str(draft))
    sign(cli, draft, "member1", "member2")
    # a signature by someone who is no member does not count either
    sign(cli, draft, "samr")
    shown = cli("gov", "show", str(draft))
    assert "not members, not counted / 非委员签名（不计）: " + cli.world.samr_key.address in shown
    line = cli.fail("gov", "execute", str(draft), "--key", "member1")
    assert "not enough approvals: 2 of 3" in line and "1 more needed" in line and "批准不足" in line
    assert "NOT_ENOUGH_APPROVALS" in line
    bilingual(line)

    # a third member approves on chain instead of signing
    line = cli.fail("gov", "approve", str(draft), "--key", "samr")
    assert "is not a member" in line
    printed = cli("gov", "approve", str(draft), "--key", "member3")
    assert "approved 0x" in printed and "approvals / 批准数: 3 of 3 needed" in printed
    assert "approvals on chain / 链上批准: 1" in cli("gov", "show", str(draft))
    assert "scheduled" in cli("gov", "execute", str(draft), "--key", "member1")

    # two members veto it in the time lock: it never runs
    line = cli.fail("gov", "cancel", str(draft), "--key", "member4")
    assert "a veto needs 2 members' keys, 1 given" in line
    printed = cli("gov", "cancel", str(draft), "--key", "member4", "--key", "member5")
    assert "vetoed 0x" in printed and f"register department {DEPT_NAME}" in printed
    assert "VETOED" in cli("gov", "show", str(draft))
    cli.world.increase_time(cli.world.council.min_delay() + 1)
    line = cli.fail("gov", "execute", str(draft), "--key", "member1")
    assert "cannot execute: vetoed" in line and "已被否决" in line
    assert "VETOED" in cli("gov", "list")
    assert cli.world.registry.department_ids().count(department_id(DEPT)) == 0


def test_immediate_is_refused_for_a_proposal_that_adds_power(cli: Cli) -> None:
    draft = cli.tmp / "p.json"
    register_draft(cli, draft)
    cli("dept", "deactivate", "LA-SAMR", "--proposal", str(draft))  # protective, but the register adds power
    line = cli.fail("gov", "propose", str(draft), "--immediate")
    assert "cannot be Immediate: call(s) 1 add power" in line and "不能立即执行" in line
    bilingual(line)
    assert raw(draft)["proposal"]["deadline"] == 0  # still a draft
    assert "not both" in cli.fail("gov", "propose", str(draft), "--immediate", "--scheduled", expect=2)
    # a protective proposal may still be sealed as Scheduled
    protective = cli.tmp / "protective.json"
    cli("dept", "deauthorize", "LA-SAMR", "food-business-license", "--proposal", str(protective))
    assert "Scheduled" in cli("gov", "propose", str(protective), "--scheduled")
    assert raw(protective)["proposal"]["kind"] == "scheduled"


def test_a_tampered_proposal_is_refused_by_sign_and_execute(cli: Cli) -> None:
    draft = cli.tmp / "p.json"
    register_draft(cli, draft)
    cli("gov", "propose", str(draft))
    sign(cli, draft, "member1", "member2", "member3")
    honest = raw(draft)

    # the call edited, the stated digest left: the digest gives it away
    edited = json.loads(json.dumps(honest))
    data = edited["proposal"]["calls"][0]["data"]
    edited["proposal"]["calls"][0]["data"] = data.replace(DEPT_CREDIT.encode().hex(), b"91341500MA00000666".hex())
    assert edited["proposal"]["calls"][0]["data"] != data
    draft.write_text(json.dumps(edited), encoding="utf-8")
    for args in (("gov", "sign", str(draft), "--key", "member4", "--yes"), ("gov", "execute", str(draft), "--key",
                                                                              "member1")):
        line = cli.fail(*args, env=OFFLINE if args[1] == "sign" else None)
        assert "was altered after sealing" in line and "封存后被改动" in line and "PROPOSAL_TAMPERED" in line

    # the digest recomputed as well: the members' signatures no longer sign it
    pf = ProposalFile.from_json({**edited, "digest": ""})
    edited["digest"] = "0x" + proposal_digest(pf.proposal, chain_id=pf.chain_id, council=pf.council).hex()
    draft.write_text(json.dumps(edited), encoding="utf-8")
    for args in (("gov", "sign", str(draft), "--key", "member4", "--yes"), ("gov", "execute", str(draft), "--key",
                                                                              "member1")):
        line = cli.fail(*args, env=OFFLINE if args[1] == "sign" else None)
        assert "does not sign this proposal" in line and "PROPOSAL_TAMPERED" in line

    # the kind switched to Immediate: refused too
    switched = json.loads(json.dumps(honest))
    switched["proposal"]["kind"] = "immediate"
    draft.write_text(json.dumps(switched), encoding="utf-8")
    assert "altered after sealing" in cli.fail("gov", "execute", str(draft), "--key", "member1")
    # a file that is no proposal at all
    draft.write_text("{not json", encoding="utf-8")
    assert "unreadable" in cli.fail("gov", "show", str(draft))
    assert department_id(DEPT) not in cli.world.registry.department_ids()

    # the honest file still goes through
    draft.write_text(json.dumps(honest), encoding="utf-8")
    assert "scheduled" in cli("gov", "execute", str(draft), "--key", "member1")


def test_deactivate_as_immediate_takes_effect_at_once(cli: Cli) -> None:
    draft = cli.tmp / "stop.json"
    printed = cli("dept", "deactivate", "LA-SAMR", "--proposal", str(draft))
    assert f"deactivate department {SAMR_NAME}" in printed and f"停用部门 {SAMR_NAME}" in printed
    printed = cli("gov", "propose", str(draft), "--immediate")
    assert "Immediate" in printed and "立即执行" in printed
    sign(cli, draft, "member3", "member4", "member5")
    before = cli.world.now()
    printed = cli("gov", "execute", str(draft), "--key", "member2")
    assert "carried out" in printed and "scheduled" not in printed
    assert cli.world.now() - before < cli.world.council.min_delay()  # no time lock
    assert "inactive" in cli("dept", "show", "LA-SAMR")
    assert cli.world.registry.department(SAMR).active is False
    root = "0x" + os.urandom(32).hex()
    line = cli.fail("anchor", root, "--type", "business-license", "--count", "1", "--key", "samr")
    assert "NOT_AUTHORIZED" in line
    assert "DONE: done: carried out at once" in cli("gov", "show", str(draft))
    assert re.search(r"^0x[0-9a-f]{64} IMMEDIATE DONE block \d+", cli("gov", "list"), re.M)

    # and reactivating adds power: through the time lock
    again = cli.tmp / "again.json"
    cli("dept", "activate", "LA-SAMR", "--proposal", str(again))
    assert "Scheduled" in cli("gov", "propose", str(again))
    cli.govern(again)
    assert cli.world.registry.department(SAMR).active is True


def test_retire_key_immediate_when_in_the_future_and_set_roles(cli: Cli) -> None:
    draft = cli.tmp / "retire.json"
    printed = cli("dept", "retire-key", "samr", "--at", "+2h", "--proposal", str(draft))
    assert "retire signing key " + cli.world.samr_key.address in printed  # checksummed, as people compare it
    assert "Immediate" in cli("gov", "propose", str(draft))
    cli.govern(draft)
    until = cli.world.registry.signer_key(cli.world.samr_key.address).valid_until
    assert until > cli.world.now()

    roles = cli.tmp / "roles.json"
    line = cli.fail("dept", "set-roles", "LA-SAMR", "--roles", "natres,tax", "--proposal", str(roles), expect=2)
    assert "at most one of natres, tax and housing" in line
    line = cli.fail("dept", "set-roles", "LA-NOWHERE", "--roles", "court", "--proposal", str(roles))
    assert "is not registered" in line and "尚未登记" in line
    cli("dept", "set-roles", "LA-SAMR", "--roles", "court", "--proposal", str(roles))
    assert "Scheduled" in cli("gov", "propose", str(roles))  # adding a role adds power
    cli.govern(roles)
    assert "COURT" in cli("dept", "show", "LA-SAMR")


def test_retire_key_now_takes_effect_when_the_proposal_runs(cli: Cli) -> None:
    """The emergency retirement: drafted and signed some time before it runs, still protective."""
    draft = cli.tmp / "retire-now.json"
    printed = cli("dept", "retire-key", "samr", "--proposal", str(draft))  # --at now, the default
    assert "the moment this proposal runs" in printed and "本提案执行之时" in printed
    assert "Immediate" in cli("gov", "propose", str(draft))
    cli.world.increase_time(600)  # the members take ten minutes to sign
    cli.govern(draft)
    key = cli.world.registry.signer_key(cli.world.samr_key.address)
    assert key.valid_until == cli.world.now()  # the block the proposal ran in, not the drafting time


def test_gov_errors_are_one_line(cli: Cli) -> None:
    missing = cli.tmp / "missing.json"
    line = cli.fail("gov", "show", str(missing))
    assert "no proposal file" in line and "找不到提案文件" in line
    other = cli.tmp / "other.json"
    other.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    assert "is not an ereg-proposal/1 file" in cli.fail("gov", "propose", str(other))
    # a member key that cannot be decrypted
    write_keystore(cli.home / "keys", "member-x", os.urandom(32), password="another password")
    draft = cli.tmp / "p.json"
    register_draft(cli, draft)
    cli("gov", "propose", str(draft))
    assert "no key named 'nobody'" in cli.fail("gov", "sign", str(draft), "--key", "nobody", "--yes", env=OFFLINE)
    # the words come first, then the password: a wrong one ends in one error line, nothing written
    result = cli.invoke("gov", "sign", str(draft), "--key", "member-x", "--yes", env=OFFLINE)
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("ereg: error [WRONG_PASSWORD]: wrong password for key 'member-x'") and "密码错误" in last
    assert raw(draft)["signatures"] == {}
    # a proposal for another chain
    pf = ProposalFile.read(draft)
    moved = ProposalFile(pf.chain_id + 1, pf.council, pf.proposal)
    moved.write(draft)
    assert "is for chain" in cli.fail("gov", "execute", str(draft), "--key", "member1")
    # an expired proposal is signed by nobody
    expired = ProposalFile(pf.chain_id, pf.council, Proposal(ProposalKind.SCHEDULED, pf.proposal.calls, 7, 1))
    expired.write(draft)
    assert "expired" in cli.fail("gov", "sign", str(draft), "--key", "member1", "--yes", env=OFFLINE)
