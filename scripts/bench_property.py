#!/usr/bin/env python3
"""Transactions and gas of the property workflow on a fresh local Hardhat node (Besu-like mode).

Starts its own node on a free loopback port, deploys a 3-of-5 development council (no time lock:
this measures the property workflow, not governance), the DocumentRegistry it governs and the
PropertyRegistry; one council proposal registers NATRES, TAX, HOUSING, a bank and a court with
one key each, the certificate types and the PropertyRegistry's role. It anchors certificates in
batches of four (proofs of two hashes) and measures: registering a unit with two co-owners; a
second-hand transfer from the opened case through the three approvals to finalization (counting
its transactions); a mortgage registered, consented to and released; a seizure registered and
released; a correction (更正登记) opened by NATRES and approved by a second department. Then the
same transfer relayed: every step signed by the acting department's key (EIP-712) and sent
through ``executeSigned`` by a relayer account holding no department key, as the platform's
relay sends it. Last, the latency a window sees: 10 transfers (register, open, three approvals)
through the relay service's HTTP API (uvicorn on a loopback port, the `ereg --via` client), each
step timed from signing to the answer with its events.

Usage: python scripts/bench_property.py [--mode besu|dev] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from property_workload import deploy_governed

from chain.client import connect
from chain.property import (
    Certificate,
    Owner,
    PropertyCall,
    PropertyClient,
    deploy_property_registry,
    new_unit_salt,
    owner_commitment,
    sign_action,
    unit_id,
)
from chain.registry import RegistryClient
from chain.sender import Receipt, TransactionSender
from chain.settings import ChainSettings
from chain.types import REASON_CORRECTED, Role, department_id, type_id
from devstack.hardhat import fund, start_hardhat, stop_hardhat
from documents.merkle import MerkleTree
from issuer.relay_client import RelayClient, StepAnswer
from issuer.relayed import relay_property_step
from registry_api.app import create_app
from registry_api.settings import RelaySettings

PROPERTY = "property-certificate"
MORTGAGE = "mortgage-certificate"
DEPARTMENTS = {
    # key: (code, name, credit code, roles)
    "natres": ("LA-NATRES", "六安市自然资源和规划局", "11341500MB0000002B", Role.NATRES),
    "tax": ("LA-TAX", "国家税务总局六安市税务局", "11341500MB0000003C", Role.TAX),
    "housing": ("LA-HOUSING", "六安市住房和城乡建设局", "11341500MB0000004D", Role.HOUSING),
    "court": ("LA-COURT", "六安市金安区人民法院", "11341500MB0000005E", Role.COURT),
    "bank": ("LA-BANK-ICBC", "中国工商银行六安分行", "91341500MA0000007G", Role.BANK),
}

#: One row of the table: (transactions, gas).
Figure = tuple[int, int]

#: Seconds per step through the relay service, by step (filled by measure()).
timings: dict[str, list[float]] = {}


def owners(*shares: int) -> list[Owner]:
    return [Owner(owner_commitment(f"3424011980010100{i:02d}", os.urandom(16)), s) for i, s in enumerate(shares)]


def time_relay_service(
    settings: ChainSettings,
    registry: RegistryClient,
    prop: PropertyClient,
    keys: dict[str, LocalAccount],
    relayer: LocalAccount,
    certificate: Callable[[], Certificate],
) -> dict[str, list[float]]:
    """Seconds per step of 10 transfers through the relay service's HTTP API."""
    relay_settings = RelaySettings(
        rpc_url=settings.rpc_url,
        chain_id=settings.chain_id,
        registry_address=registry.address,
        property_registry_address=prop.address,
        deployments_dir=settings.deployments_dir,
        queue_path=settings.deployments_dir.parent / "relay-queue.sqlite",
    )
    app = create_app(relay_settings, relayer=relayer, run_batcher=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    window = RelayClient(f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30)
    timings: dict[str, list[float]] = {}

    def timed(label: str, key: str, call: PropertyCall) -> StepAnswer:
        started = time.perf_counter()
        answer = relay_property_step(window, keys[key], prop, call)
        timings.setdefault(label, []).append(time.perf_counter() - started)
        return answer

    try:
        for n in range(10):
            unit = unit_id(f"341502001001GB00002F{n:08d}", new_unit_salt())
            timed("register unit", "natres", PropertyCall.register_unit(unit, certificate(), owners(6000, 4000)))
            answer = timed(
                "open transfer case", "natres", PropertyCall.open_transfer(unit, certificate(), owners(10_000))
            )
            case_id = int(next(e.args["caseId"] for e in answer.events if e.name == "TransferOpened"))
            for name, role in (("tax", Role.TAX), ("housing", Role.HOUSING), ("natres", Role.NATRES)):
                timed(f"approve as {role.name}", name, PropertyCall.approve_transfer(case_id, 1, role))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return timings


def measure(mode: str) -> dict[str, Figure]:
    with tempfile.TemporaryDirectory(prefix="ereg-property-") as tmp:
        node = start_hardhat(Path(tmp), mode=mode)  # type: ignore[arg-type]
        try:
            settings = ChainSettings(
                rpc_url=node.rpc_url,  # type: ignore[arg-type]
                chain_id=node.chain_id,
                deployments_dir=Path(tmp) / "deployments",
            )
            client = connect(settings)
            governor: LocalAccount = Account.create()
            keys: dict[str, LocalAccount] = {name: Account.create() for name in DEPARTMENTS}
            for account in (governor, *keys.values()):
                fund(node.rpc_url, account.address)
            deployer = TransactionSender(client, governor)
            governed = deploy_governed(client, deployer, settings.deployments_dir)
            registry, gov = governed.registry, governed.governance
            start = int(client.w3.eth.get_block("latest")["timestamp"]) - 60
            with gov.batch():
                for doc_type in (PROPERTY, MORTGAGE):
                    registry.register_document_type(gov, doc_type)
                for name, (code, title, credit, roles) in DEPARTMENTS.items():
                    dept = department_id(code)
                    registry.register_department(gov, dept, title, credit, roles)
                    registry.add_signer_key(gov, dept, keys[name].address, start)
                for doc_type in (PROPERTY, MORTGAGE):
                    registry.authorize_document_type(gov, department_id("LA-NATRES"), type_id(doc_type))
                deployment = deploy_property_registry(
                    client,
                    deployer,
                    deployments_dir=settings.deployments_dir,
                    document_registry=registry.address,
                    governance=gov,
                )
            prop = PropertyClient(client, deployment.address)
            send = {name: TransactionSender(client, key) for name, key in keys.items()}

            def certificate(doc_type: str = PROPERTY) -> Certificate:
                targets = [os.urandom(32) for _ in range(4)]
                tree = MerkleTree(targets)
                registry.anchor(send["natres"], tree.root, type_id(doc_type), len(targets))
                return Certificate(tree.root, targets[2], tuple(tree.proof(2)))

            figures: dict[str, Figure] = {}
            unit = unit_id("341502001001GB00001F00010001", new_unit_salt())
            receipt = prop.register_unit(send["natres"], unit, certificate(), owners(6000, 4000))
            figures["register unit (2 co-owners)"] = (1, receipt.gas_used)

            receipt, case_id = prop.open_transfer(send["natres"], unit, certificate(), owners(10_000))
            steps = [("open transfer case (1 owner)", receipt.gas_used)]
            for name, role in (("tax", Role.TAX), ("housing", Role.HOUSING), ("natres", Role.NATRES)):
                receipt = prop.approve_transfer(send[name], case_id, 1, role)
                last = bool(prop.receipt_events(receipt, "TransferFinalized"))
                steps.append(
                    (f"approve as {role.name}" + (" (finalizes, supersedes)" if last else ""), receipt.gas_used)
                )
            if not last:
                raise SystemExit("the third approval did not finalize the case")
            for label, gas in steps:
                figures[f"  {label}"] = (1, gas)
            figures["transfer: open -> 3 approvals -> final"] = (len(steps), sum(g for _, g in steps))

            receipt, mortgage_id = prop.register_mortgage(send["bank"], unit, certificate(MORTGAGE))
            figures["register mortgage"] = (1, receipt.gas_used)
            receipt, case_id = prop.open_transfer(send["natres"], unit, certificate(), owners(5000, 5000))
            consent = prop.consent_to_transfer(send["bank"], case_id, 1, mortgage_id)
            figures["bank consent to a transfer"] = (1, consent.gas_used)
            prop.cancel_transfer(send["natres"], case_id, 0)
            figures["release mortgage"] = (1, prop.release_mortgage(send["bank"], unit, mortgage_id).gas_used)

            receipt, seizure_id = prop.register_seizure(send["court"], unit, os.urandom(32))
            figures["register seizure"] = (1, receipt.gas_used)
            figures["release seizure"] = (1, prop.release_seizure(send["court"], unit, seizure_id).gas_used)

            receipt, case_id = prop.open_correction(
                send["natres"], unit, certificate(), owners(10_000), REASON_CORRECTED
            )
            figures["open correction (new certificate, 1 owner)"] = (1, receipt.gas_used)
            receipt = prop.approve_correction(send["housing"], case_id)
            if not prop.receipt_events(receipt, "TitleCorrected"):
                raise SystemExit("the second department's approval did not correct the title")
            figures["approve correction (2nd dept., replaces title)"] = (1, receipt.gas_used)

            relayer_account: LocalAccount = Account.create()
            fund(node.rpc_url, relayer_account.address)
            relayer = TransactionSender(client, relayer_account)

            def relayed(key: str, call: PropertyCall) -> Receipt:
                deadline = int(client.w3.eth.get_block("latest")["timestamp"]) + 3600
                signed = sign_action(
                    keys[key],
                    chain_id=client.chain_id,
                    registry=prop.address,
                    data=prop.calldata(call),
                    nonce=secrets.randbits(64),  # as `ereg --via` picks them: a fresh bitmap word each
                    deadline=deadline,
                )
                return prop.execute_signed(relayer, signed)

            other = unit_id("341502001001GB00001F00010002", new_unit_salt())
            receipt = relayed("natres", PropertyCall.register_unit(other, certificate(), owners(6000, 4000)))
            figures["relayed: register unit (2 co-owners)"] = (1, receipt.gas_used)
            receipt = relayed("natres", PropertyCall.open_transfer(other, certificate(), owners(10_000)))
            case_id = int(prop.receipt_event(receipt, "TransferOpened")["caseId"])
            steps = [("open transfer case", receipt.gas_used)]
            for name, role in (("tax", Role.TAX), ("housing", Role.HOUSING), ("natres", Role.NATRES)):
                receipt = relayed(name, PropertyCall.approve_transfer(case_id, 1, role))
                last = bool(prop.receipt_events(receipt, "TransferFinalized"))
                steps.append((f"approve as {role.name}" + (" (finalizes)" if last else ""), receipt.gas_used))
            if not last:
                raise SystemExit("the third relayed approval did not finalize the case")
            for label, gas in steps:
                figures[f"  relayed: {label}"] = (1, gas)
            figures["relayed transfer: open -> 3 approvals -> final"] = (len(steps), sum(g for _, g in steps))
            timings.update(time_relay_service(settings, registry, prop, keys, relayer_account, certificate))
            return figures
        finally:
            stop_hardhat(node)


def main() -> int:
    parser = argparse.ArgumentParser(description="transactions and gas of the property workflow")
    parser.add_argument("--mode", choices=["dev", "besu"], default="besu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.mode)
    latency = {
        step: {"median_ms": round(statistics.median(v) * 1000, 1), "max_ms": round(max(v) * 1000, 1), "n": len(v)}
        for step, v in timings.items()
    }
    if args.json:
        rows = {name.strip(): {"transactions": t, "gas": g} for name, (t, g) in figures.items()}
        print(json.dumps({"gas": rows, "relay_latency": latency}, indent=2))
        return 0
    print(f"property workflow on a local Hardhat node ({args.mode} mode)")
    print(f"{'step':<48}{'transactions':>14}{'gas':>12}")
    for name, (transactions, gas) in figures.items():
        print(f"{name:<48}{transactions:>14}{gas:>12,}")
    print("\nthrough the relay service (HTTP, signed by the department key; sign -> answer with events)")
    print(f"{'step':<48}{'median ms':>14}{'max ms':>12}")
    for step, row in latency.items():
        print(f"{step:<48}{row['median_ms']:>14}{row['max_ms']:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
