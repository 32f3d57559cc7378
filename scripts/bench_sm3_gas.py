#!/usr/bin/env python3
"""Gas of SM3 on chain (the "ereg/1-sm" suite) on a fresh local node, as a Markdown table.

Starts its own node (Hardhat's dev mode, or Anvil: free gas, Berlin), deploys a 3-of-5 council
(a development council: no time lock to wait out) and the DocumentRegistry, which deploys the
Sm3Merkle and the Sm2KeyRegistry; has the council register a department with a key and a type.
Then sends transactions and reads ``gasUsed`` from their receipts:

* ``Sm3Merkle.sm3`` of 33 and 64 bytes (a leaf's message, a node's message);
* ``Sm3Merkle.verify`` with proofs of depth 0, 1, 5, 10, 14, 17 and 20 (batches of 1 to 1,048,576);
* ``changeStatus`` revoking one document of a batch of 1,000 and of 1,000,000 (proof depth 20),
  SM3 tree and keccak tree (the trees are built here in full: the 1,000,000-document SM3 tree
  takes a few seconds).

"execution" is ``gasUsed`` less the transaction's intrinsic gas (21,000 and its calldata); for the
deployment, the whole.

Usage: python scripts/bench_sm3_gas.py [--node hardhat|anvil] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes
from eth_account import Account
from property_workload import deploy_governed
from web3.contract.contract import ContractFunction

from chain.artifacts import load_artifact
from chain.client import connect
from chain.registry import RegistryClient
from chain.sender import Receipt, TransactionSender
from chain.settings import ChainSettings
from chain.types import Action, StatusChange, department_id, type_id
from devstack.node import fund, stop_node
from devstack.stack import start_chain
from documents.merkle import MerkleTree

DEPTHS = (0, 1, 5, 10, 14, 17, 20)
BATCHES = (1_000, 1_000_000)
DOC_TYPE = "business-license"


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_pair(a: bytes, b: bytes) -> bytes:
    return sm3(a + b if a < b else b + a)


def sm3_tree(targets: Sequence[bytes], index: int) -> tuple[bytes, list[bytes]]:
    """Root of the SM3 batch tree of ``targets`` and the proof of ``targets[index]``."""
    level = [sm3(b"\x00" + t) for t in targets]
    proof: list[bytes] = []
    while len(level) > 1:
        if index ^ 1 < len(level):
            proof.append(level[index ^ 1])
        nxt = [sm3_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, index = nxt, index // 2
    return level[0], proof


def intrinsic(data: bytes) -> int:
    return 21_000 + sum(16 if byte else 4 for byte in data)


def measure(node_kind: str) -> list[tuple[str, int, int]]:
    """(operation, gasUsed, execution gas) of every figure."""
    rows: list[tuple[str, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="ereg-sm3-gas-") as tmp:
        node = start_chain(Path(tmp), mode="anvil" if node_kind == "anvil" else "dev")
        try:
            settings = ChainSettings(
                rpc_url=node.rpc_url, chain_id=node.chain_id, deployments_dir=Path(tmp) / "deployments"
            )
            client = connect(settings)
            deployer, signer = Account.create(), Account.create()
            if not node.free_gas:
                for account in (deployer, signer):
                    fund(node.rpc_url, account.address)
            governed = deploy_governed(client, TransactionSender(client, deployer), settings.deployments_dir)
            registry, gov = governed.registry, governed.governance
            deployed = int(client.w3.eth.get_transaction_receipt(governed.deployment.tx_hash)["gasUsed"])  # type: ignore[arg-type]
            rows.append(("deploy DocumentRegistry (and its Sm3Merkle and Sm2KeyRegistry)", deployed, deployed))
            dept = department_id("LA-SAMR")
            with gov.batch():
                registry.register_department(gov, dept, "六安市市场监督管理局", "11341500MB1234567X")
                registry.register_document_type(gov, DOC_TYPE)
                registry.authorize_document_type(gov, dept, type_id(DOC_TYPE))
                registry.add_signer_key(gov, dept, signer.address, int(time.time()) - 3600)
            sender = TransactionSender(client, signer)
            merkle = client.contract("Sm3Merkle", registry.sm3_merkle_address())
            artifact = load_artifact("Sm3Merkle")

            def row(name: str, fn: ContractFunction) -> None:
                receipt: Receipt = sender.transact(fn, artifact)
                data = bytes.fromhex(fn._encode_transaction_data()[2:])
                rows.append((name, receipt.gas_used, receipt.gas_used - intrinsic(data)))

            for size in (33, 64):
                row(f"`sm3`, {size} bytes", merkle.functions.sm3(os.urandom(size)))
            for depth in DEPTHS:
                target = os.urandom(32)
                proof = [os.urandom(32) for _ in range(depth)]
                root = sm3(b"\x00" + target)
                for sibling in proof:
                    root = sm3_pair(root, sibling)
                verify = merkle.functions.verify(proof, root, target)
                if not verify.call():
                    raise SystemExit(f"the SM3 proof of depth {depth} does not verify on chain")
                row(f"`verify`, depth {depth} (batch of up to {2**depth:,})", verify)
            for count in BATCHES:
                targets = [os.urandom(32) for _ in range(count)]
                revoke_rows(rows, registry, sender, "SM3", count, targets, *sm3_tree(targets, 5))
                keccak = MerkleTree(targets)
                revoke_rows(rows, registry, sender, "keccak", count, targets, keccak.root, keccak.proof(5))
        finally:
            stop_node(node)
    return rows


def revoke_rows(
    rows: list[tuple[str, int, int]],
    registry: RegistryClient,
    sender: TransactionSender,
    suite: str,
    count: int,
    targets: Sequence[bytes],
    root: bytes,
    proof: list[bytes],
) -> None:
    registry.anchor(sender, root, type_id(DOC_TYPE), count)
    change = StatusChange(Action.REVOKE, root, targets[5], proof, reason=2)
    receipt = registry.change_status(sender, change)
    fn = registry.contract.functions.changeStatus(change.as_tuple())
    data = bytes.fromhex(fn._encode_transaction_data()[2:])
    name = f"`changeStatus` revoke one document, {suite} batch of {count:,} (depth {len(proof)})"
    rows.append((name, receipt.gas_used, receipt.gas_used - intrinsic(data)))


def sizes() -> list[tuple[str, int]]:
    return [
        (name, (len(load_artifact(name).deployed_bytecode) - 2) // 2)
        for name in ("DocumentRegistry", "Sm3Merkle", "Sm2KeyRegistry")
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", choices=["hardhat", "anvil"], default="hardhat")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.node)
    if args.json:
        print(json.dumps({"gas": {name: used for name, used, _ in rows}, "sizes": dict(sizes())}, indent=2))
        return 0
    width = max(len(name) for name, _, _ in rows)
    print(f"| {'operation':<{width}} | {'gasUsed':>10} | {'execution':>10} |")
    print(f"|{'-' * (width + 2)}|{'-' * 11}:|{'-' * 11}:|")
    for name, used, execution in rows:
        print(f"| {name:<{width}} | {used:>10,} | {execution:>10,} |")
    print()
    print("| contract | runtime bytes (limit 24,576) |")
    print("|---|---:|")
    for name, size in sizes():
        print(f"| {name} | {size:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
