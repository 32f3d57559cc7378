#!/usr/bin/env python3
"""Gas of the governance paths on a fresh local Hardhat node (both chain modes).

Starts its own node on a free loopback port and measures, from the receipts: the council's
deployment (a 3-of-5 GovernanceCouncil, veto 2, 48 hours of time lock, deploying its
TimelockController), the DocumentRegistry's deployment, the Scheduled set-up proposal
(departments, a key, document types), an Immediate proposal of one call (deactivate a
department) with three members' EIP-712 signatures and the same with three on-chain approvals
(and one ``approve``), a Scheduled proposal of one call (reactivate the department: its
scheduling ``execute`` and its ``executeScheduled``), a Scheduled proposal of ten calls (two
departments onboarded: registered, a key each, two new document types authorized to both), and
a veto of a scheduled proposal (two signatures; cancels it in the time lock). The delay is
waited out by moving the node's clock. Then the registry's own figures of scripts/bench_gas.py
(anchor direct and relayed, anchorMany, revokes) on the same node.

Usage: python scripts/bench_governance.py [--mode dev|besu|both] [--json]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_gas import registry_figures, run
from eth_account import Account
from property_workload import COUNCIL_SIZE, COUNCIL_THRESHOLD, COUNCIL_VETO, deploy_governed

from chain.client import ChainClient, connect
from chain.governance import Call, Governance, OperationState, ProposalKind, new_proposal, sign_veto
from chain.sender import Receipt, TransactionSender
from chain.settings import ChainSettings
from chain.types import department_id, type_id
from devstack.hardhat import fund, start_hardhat, stop_hardhat

#: The production delay the council is deployed with here (waited out by moving the clock).
DELAY = 48 * 3600


def chain_now(client: ChainClient) -> int:
    return int(client.w3.eth.get_block("latest")["timestamp"])


def scheduled(gov: Governance, calls: list[Call]) -> tuple[Receipt, Receipt]:
    """Schedule ``calls`` as one proposal (3 signatures), wait out the delay, execute it."""
    council = gov.council
    proposal = new_proposal(calls, ProposalKind.SCHEDULED, now=chain_now(council.client))
    schedule = council.execute(gov.relayer, proposal, gov.signatures(proposal))
    if council.operation_state(proposal) is not OperationState.WAITING:
        raise SystemExit("the proposal is not waiting in the time lock")
    gov.wait_until_ready(proposal)
    return schedule, council.execute_scheduled(gov.relayer, proposal)


def measure(mode: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="ereg-gov-gas-") as tmp:
        node = start_hardhat(Path(tmp), mode=mode)  # type: ignore[arg-type]
        try:
            settings = ChainSettings(
                rpc_url=node.rpc_url,  # type: ignore[arg-type]
                chain_id=node.chain_id,
                deployments_dir=Path(tmp) / "deployments",
            )
            client = connect(settings)
            deployer, signer, relayer = Account.create(), Account.create(), Account.create()
            members = [Account.create() for _ in range(COUNCIL_SIZE)]
            for account in (deployer, signer, relayer, *members):
                fund(node.rpc_url, account.address)  # members pay for their on-chain approvals
            governed = deploy_governed(
                client, TransactionSender(client, deployer), settings.deployments_dir, delay=DELAY, members=members
            )
            registry, gov, council = governed.registry, governed.governance, governed.council
            if council.min_delay() != DELAY or council.development():
                raise SystemExit("the council is not the production-shaped one")
            figures: dict[str, int] = {}

            def receipt_gas(tx_hash: str | None) -> int:
                return int(client.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]

            figures["deploy GovernanceCouncil (3 of 5, with its TimelockController)"] = receipt_gas(
                governed.council_deployment.tx_hash
            )
            figures["deploy DocumentRegistry"] = receipt_gas(governed.deployment.tx_hash)

            samr, spare = department_id("LA-SAMR"), department_id("LA-SPARE")
            setup = [
                registry.call("registerDepartment", samr, "六安市市场监督管理局", "11341500MB1234567X", 0),
                registry.call("registerDepartment", spare, "六安市备用部门", "11341500MB7654321X", 0),
                registry.call("registerDocumentType", "business-license"),
                registry.call("authorizeDocumentType", samr, type_id("business-license")),
                registry.call("addSignerKey", samr, signer.address, chain_now(client) - 60, 0),
            ]
            schedule, run = scheduled(gov, setup)
            figures[f"Scheduled, {len(setup)} calls (set-up): execute (schedules)"] = schedule.gas_used
            figures[f"Scheduled, {len(setup)} calls (set-up): executeScheduled"] = run.gas_used

            deactivate = [registry.call("setDepartmentActive", spare, False)]
            proposal = new_proposal(deactivate, ProposalKind.IMMEDIATE, now=chain_now(client))
            figures["Immediate, 1 call (deactivate), 3 signatures"] = council.execute(
                gov.relayer, proposal, gov.signatures(proposal)
            ).gas_used
            if registry.department(spare).active:
                raise SystemExit("the Immediate proposal did not deactivate the department")

            reactivate = [registry.call("setDepartmentActive", spare, True)]
            schedule, run = scheduled(gov, reactivate)
            figures["Scheduled, 1 call (reactivate): execute (schedules)"] = schedule.gas_used
            figures["Scheduled, 1 call (reactivate): executeScheduled"] = run.gas_used

            proposal = new_proposal(deactivate, ProposalKind.IMMEDIATE, now=chain_now(client))
            digest = council.digest(proposal)
            approvals = [council.approve(TransactionSender(client, m), digest) for m in members[:COUNCIL_THRESHOLD]]
            figures["approve (one member, on chain)"] = approvals[0].gas_used
            figures["Immediate, 1 call (deactivate), 3 on-chain approvals"] = council.execute(
                gov.relayer, proposal, []
            ).gas_used

            onboard: list[Call] = []
            new_types = ("food-business-license", "pharmacy-license")
            for n, code in enumerate(("LA-HEALTH", "LA-CULTURE")):
                dept = department_id(code)
                onboard.append(registry.call("registerDepartment", dept, code, f"11341500MB000010{n}X", 0))
                onboard.append(registry.call("addSignerKey", dept, Account.create().address, chain_now(client), 0))
            onboard += [registry.call("registerDocumentType", name) for name in new_types]
            onboard += [
                registry.call("authorizeDocumentType", department_id(code), type_id(name))
                for code in ("LA-HEALTH", "LA-CULTURE")
                for name in new_types
            ]
            assert len(onboard) == 10  # noqa: S101 - the row's label says so
            schedule, run = scheduled(gov, onboard)
            figures["Scheduled, 10 calls (onboard 2 departments): execute (schedules)"] = schedule.gas_used
            figures["Scheduled, 10 calls (onboard 2 departments): executeScheduled"] = run.gas_used

            doomed = new_proposal(reactivate, ProposalKind.SCHEDULED, now=chain_now(client))
            council.execute(gov.relayer, doomed, gov.signatures(doomed))
            deadline = chain_now(client) + 3600
            vetoes = [
                sign_veto(m, council.digest(doomed), deadline, chain_id=client.chain_id, council=council.address)
                for m in members[-COUNCIL_VETO:]
            ]
            figures["veto (2 signatures) of a scheduled proposal (cancels it)"] = council.veto(
                gov.relayer, doomed, deadline, vetoes
            ).gas_used
            if council.operation_state(doomed) is not OperationState.UNSET:
                raise SystemExit("the veto did not cancel the scheduled proposal")

            figures.update(registry_figures(registry, signer, TransactionSender(client, relayer)))
            return figures
        finally:
            stop_hardhat(node)


def main() -> int:
    return run("gas of the governance paths and of the registry's operations", measure, width=66)

if __name__ == "__main__":
    sys.exit(main())
