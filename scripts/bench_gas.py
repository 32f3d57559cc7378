#!/usr/bin/env python3
"""Gas of the registry's operations on a fresh local Hardhat node (both chain modes).

Starts its own node on a free loopback port, deploys, registers a department with a key, and
prints the gas used by: deploy, direct anchor, relayed anchor, anchorMany of 10 roots, revoke
of a whole batch, and revoke of one document (leaf + proof in a 1,024-document batch).

Usage: python scripts/bench_gas.py [--mode dev|besu] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account

from chain.client import connect
from chain.deploy import deploy_registry
from chain.eip712 import sign_anchor
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from chain.types import Action, StatusChange, department_id, type_id
from devstack.hardhat import fund, start_hardhat, stop_hardhat
from documents.merkle import MerkleTree

OPENATTESTATION_ISSUE_GAS = 47_858


def measure(mode: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="ereg-gas-") as tmp:
        node = start_hardhat(Path(tmp), mode=mode)  # type: ignore[arg-type]
        try:
            settings = ChainSettings(
                rpc_url=node.rpc_url,
                chain_id=node.chain_id,
                deployments_dir=Path(tmp) / "deployments",
            )
            client = connect(settings)
            governor = Account.create()
            signer = Account.create()
            relayer = Account.create()
            for account in (governor, signer, relayer):
                fund(node.rpc_url, account.address)
            gov = TransactionSender(client, governor)
            deployment = deploy_registry(client, gov, deployments_dir=settings.deployments_dir)
            registry = RegistryClient(client, deployment.address)
            deploy_gas = client.w3.eth.get_transaction_receipt(deployment.tx_hash)["gasUsed"]  # type: ignore[arg-type]

            dept = department_id("LA-SAMR")
            doc_type = type_id("business-license")
            registry.register_department(gov, dept, "六安市市场监督管理局", "11341500MB1234567X")
            registry.register_document_type(gov, "business-license")
            registry.authorize_document_type(gov, dept, doc_type)
            registry.add_signer_key(gov, dept, signer.address, int(time.time()) - 60)

            dept_sender = TransactionSender(client, signer)
            relay_sender = TransactionSender(client, relayer)
            figures: dict[str, int] = {"deploy": int(deploy_gas)}

            roots = [os.urandom(32) for _ in range(16)]
            figures["anchor (direct)"] = registry.anchor(
                dept_sender, roots[0], doc_type, 10_000
            ).gas_used
            deadline = int(time.time()) + 3600
            signed = sign_anchor(
                signer,
                chain_id=client.chain_id,
                registry=registry.address,
                root=roots[1],
                doc_type=doc_type,
                count=10_000,
                deadline=deadline,
            )
            figures["anchorSigned (relayed)"] = registry.anchor_signed(
                relay_sender, signed
            ).gas_used
            many = [
                sign_anchor(
                    signer,
                    chain_id=client.chain_id,
                    registry=registry.address,
                    root=root,
                    doc_type=doc_type,
                    count=10_000,
                    deadline=deadline,
                )
                for root in roots[2:12]
            ]
            figures["anchorMany (10 roots)"] = registry.anchor_many(relay_sender, many).gas_used
            figures["revoke batch"] = registry.change_status(
                dept_sender, StatusChange(Action.REVOKE, roots[0], reason=1)
            ).gas_used

            targets = [os.urandom(32) for _ in range(1024)]
            tree = MerkleTree(targets)
            registry.anchor(dept_sender, tree.root, doc_type, len(targets))
            figures["revoke one document (1,024-batch, 10-hash proof)"] = registry.change_status(
                dept_sender,
                StatusChange(Action.REVOKE, tree.root, targets[5], tree.proof(5), reason=2),
            ).gas_used
            return figures
        finally:
            stop_hardhat(node)


def main() -> int:
    parser = argparse.ArgumentParser(description="gas of the registry's operations")
    parser.add_argument("--mode", choices=["dev", "besu", "both"], default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    modes = ["dev", "besu"] if args.mode == "both" else [args.mode]
    results = {mode: measure(mode) for mode in modes}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    names = list(next(iter(results.values())))
    print(f"{'operation':<52}" + "".join(f"{m:>12}" for m in modes))
    for name in names:
        print(f"{name:<52}" + "".join(f"{results[m][name]:>12,}" for m in modes))
    print(
        f"{'OpenAttestation DocumentStore issue(root), reference':<52}{OPENATTESTATION_ISSUE_GAS:>12,}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
