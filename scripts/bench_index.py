#!/usr/bin/env python3
"""Catch-up speed of the verifier's chain index on a fresh local node (besu mode by default).

Starts its own Hardhat node on a free loopback port, deploys a 3-of-5 development council (no
time lock: this measures the index, not governance) and the registry it governs, has the
council register a department with a key and a document type (one proposal), then creates
registry events quickly: batches of signed anchors relayed with ``anchorMany`` (100 roots a
transaction) and about one status change (revoke, suspend, reinstate) for every nine anchors,
relayed with ``changeStatusMany``. It then times a full catch-up of a fresh index from the
deployment block and prints events, seconds and events per second.

With ``--property-units N`` it also deploys the PropertyRegistry, registers N units and
transfers each once (open, TAX, HOUSING and NATRES approvals; the last supersedes the old
certificate), mining 50 to 100 transactions a block as a busy QBFT network would, and the index
follows both registries: about 8 more events a unit (six of the chain of title, and the
DocumentRegistry's supersede and title locks).

Usage: python scripts/bench_index.py [--events 20000] [--property-units 0] [--mode besu|dev]
                                     [--chunk-size 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from property_workload import PROPERTY_CERTIFICATE, Governed, deploy_governed, run_workload, setup_property

from chain.client import ChainClient, connect
from chain.eip712 import sign_anchor, sign_status_change
from chain.property import (
    Certificate,
)
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from chain.types import Action, Role, SignedAnchor, SignedStatusChange, StatusChange, department_id, type_id
from chainindex import ChainIndex
from devstack.hardhat import fund, start_hardhat, stop_hardhat
from documents.merkle import MerkleTree

PER_TRANSACTION = 100
DOC_TYPE = "business-license"


@dataclass(frozen=True)
class Setup:
    client: ChainClient
    registry: RegistryClient
    start_block: int
    seconds: float
    governed: Governed
    deployer: TransactionSender
    tmp: Path


@dataclass(frozen=True)
class _Signing:
    """What a signing worker needs (picklable)."""

    key: bytes
    chain_id: int
    registry: str
    doc_type: bytes
    deadline: int


def _sign_anchors(job: tuple[_Signing, list[bytes]]) -> list[SignedAnchor]:
    signing, roots = job
    account = Account.from_key(signing.key)
    return [
        sign_anchor(
            account,
            chain_id=signing.chain_id,
            registry=signing.registry,
            root=root,
            doc_type=signing.doc_type,
            count=1_000,
            deadline=signing.deadline,
        )
        for root in roots
    ]


def _sign_changes(job: tuple[_Signing, list[tuple[StatusChange, int]]]) -> list[SignedStatusChange]:
    signing, changes = job
    account = Account.from_key(signing.key)
    return [
        sign_status_change(
            account,
            chain_id=signing.chain_id,
            registry=signing.registry,
            change=change,
            nonce=nonce,
            deadline=signing.deadline,
        )
        for change, nonce in changes
    ]


def _changes_for(roots: list[bytes], step: int) -> list[StatusChange]:
    """A mix of whole-batch changes whose order within one transaction is valid."""
    changes: list[StatusChange] = []
    for i, root in enumerate(roots):
        kind = (step + i) % 3
        if kind == 0:
            changes.append(StatusChange(Action.REVOKE, root, reason=1))
        elif kind == 1:
            changes.append(StatusChange(Action.SUSPEND, root, reason=6))
        else:
            changes.append(StatusChange(Action.SUSPEND, root, reason=6))
            changes.append(StatusChange(Action.REINSTATE, root, reason=7))
    return changes


def create_events(client: ChainClient, tmp: Path, events: int) -> Setup:
    """Deploy, configure one department, and create about ``events`` registry events.

    Nine in ten are anchors (``anchorMany``, 100 signed roots a transaction), the rest status
    changes (``changeStatusMany``; each also emits an ignored NonceUsed event). Signatures are
    made in worker processes while the node mines.
    """
    deployer: LocalAccount = Account.create()
    signer: LocalAccount = Account.create()
    relayer: LocalAccount = Account.create()
    for account in (deployer, signer, relayer):
        fund(str(client.settings.rpc_url).rstrip("/"), account.address)
    gov_sender = TransactionSender(client, deployer)
    governed = deploy_governed(client, gov_sender, tmp / "deployments")
    deployment = governed.deployment
    if deployment.block_number is None:
        raise RuntimeError("the deployment record has no block number")
    registry, gov = governed.registry, governed.governance
    dept = department_id("LA-SAMR")
    doc_type = type_id(DOC_TYPE)
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    with gov.batch():
        registry.register_department(gov, dept, "六安市市场监督管理局", "11341500MB1234567X")
        registry.register_document_type(gov, DOC_TYPE)
        registry.authorize_document_type(gov, dept, doc_type)
        registry.add_signer_key(gov, dept, signer.address, now - 3600)
    relay = TransactionSender(client, relayer)
    signing = _Signing(bytes(signer.key), client.chain_id, registry.address, doc_type, now + 24 * 3600)
    started = time.perf_counter()

    anchor_count = int(events * 0.9)
    roots = [os.urandom(32) for _ in range(anchor_count)]
    anchor_jobs = [(signing, roots[i : i + PER_TRANSACTION]) for i in range(0, len(roots), PER_TRANSACTION)]
    change_jobs: list[tuple[_Signing, list[tuple[StatusChange, int]]]] = []
    planned = anchor_count
    step = 0
    while planned < events and step * (PER_TRANSACTION // 2) < len(roots):
        batch = roots[step * (PER_TRANSACTION // 2) : (step + 1) * (PER_TRANSACTION // 2)]
        changes = _changes_for(batch, step)[: events - planned]
        change_jobs.append((signing, [(c, step * 1_000 + i) for i, c in enumerate(changes)]))
        planned += len(changes)
        step += 1

    last_hash: str | None = None
    gas_per_anchor = gas_per_change = 0
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for signed in pool.map(_sign_anchors, anchor_jobs):
            fn = registry.contract.functions.anchorMany([s.as_tuple() for s in signed])
            gas = None if not gas_per_anchor else gas_per_anchor * len(signed) + 100_000
            last_hash = relay.submit(fn, registry.artifact, gas=gas)
            if not gas_per_anchor:
                used = relay.wait(last_hash, registry.artifact).gas_used
                gas_per_anchor = used * 13 // (10 * len(signed))
        for signed_changes in pool.map(_sign_changes, change_jobs):
            fn = registry.contract.functions.changeStatusMany([s.as_tuple() for s in signed_changes])
            gas = None if not gas_per_change else gas_per_change * len(signed_changes) + 100_000
            last_hash = relay.submit(fn, registry.artifact, gas=gas)
            if not gas_per_change:
                used = relay.wait(last_hash, registry.artifact).gas_used
                gas_per_change = used * 15 // (10 * len(signed_changes))
    if last_hash is not None:
        relay.wait(last_hash, registry.artifact)
    return Setup(client, registry, deployment.block_number, time.perf_counter() - started, governed, gov_sender, tmp)


def create_property_events(setup: Setup, units: int) -> tuple[str, float, list[tuple[bytes, bytes]]]:
    """Deploy the PropertyRegistry, register ``units`` units and transfer each once (the shared
    workload of scripts/property_workload.py). Returns the registry's address, the seconds taken
    and each unit with its current certificate's target."""
    started = time.perf_counter()
    workload = setup_property(
        setup.client, setup.registry, setup.governed.governance, setup.deployer, setup.tmp / "deployments"
    )
    # every certificate (old and new for each unit) in one anchored batch
    targets = [os.urandom(32) for _ in range(2 * units)]
    tree = MerkleTree(targets)
    setup.registry.anchor(workload.senders[Role.NATRES], tree.root, type_id(PROPERTY_CERTIFICATE), len(targets))

    def cert(i: int) -> Certificate:
        return Certificate(tree.root, targets[i], tuple(tree.proof(i)))

    unit_ids = [keccak(text=f"341502001001GB{n:06d}F00010001") for n in range(units)]
    titles = [cert(2 * n) for n in range(units)]
    run_workload(workload, unit_ids, titles, transfers={n: cert(2 * n + 1) for n in range(units)})
    current = [(u, targets[2 * n + 1]) for n, u in enumerate(unit_ids)]
    return workload.prop.address, time.perf_counter() - started, current


def measure(mode: str, events: int, chunk_size: int, property_units: int = 0) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ereg-index-") as name:
        tmp = Path(name)
        node = start_hardhat(tmp, mode=mode)  # type: ignore[arg-type]
        try:
            settings = ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, deployments_dir=tmp / "deployments")
            client = connect(settings)
            setup = create_events(client, tmp, events)
            property_address, property_seconds, current = None, 0.0, []
            if property_units:
                property_address, property_seconds, current = create_property_events(setup, property_units)
            index = ChainIndex(
                tmp / "index.sqlite",
                client,
                setup.registry.address,
                start_block=setup.start_block,
                chunk_size=chunk_size,
                property_address=property_address,
            )
            try:
                result = index.sync()
                # the index did follow the chain of title: every unit's current certificate is the new one
                for unit, target in current:
                    record = index.property_unit(unit)
                    if record is None or record.cert_target != target:
                        raise SystemExit(f"unit 0x{unit.hex()} is not indexed with its current certificate")
            finally:
                index.close()
            return {
                "events": result.events,
                "applied": result.applied,
                "blocks": result.to_block - result.from_block + 1,
                "seconds": result.seconds,
                "events_per_second": result.events / result.seconds if result.seconds else 0.0,
                "setup_seconds": setup.seconds + property_seconds,
            }
        finally:
            stop_hardhat(node)


def main() -> int:
    parser = argparse.ArgumentParser(description="catch-up speed of the verifier's chain index")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--property-units", type=int, default=0, help="units registered and transferred once")
    parser.add_argument("--mode", choices=["dev", "besu"], default="besu")
    parser.add_argument("--chunk-size", type=int, default=1_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.mode, args.events, args.chunk_size, args.property_units)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"mode {args.mode}: {int(figures['events']):,} registry events "
        f"({int(figures['applied']):,} indexed, the rest NonceUsed/RoleGranted) in {int(figures['blocks']):,} blocks"
        + (f", {args.property_units:,} property units transferred" if args.property_units else "")
    )
    print(f"created in {figures['setup_seconds']:.1f} s")
    print(f"catch-up: {figures['seconds']:.2f} s, {figures['events_per_second']:,.0f} events/s (target >= 5,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
