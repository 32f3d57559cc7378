#!/usr/bin/env python3
"""Sustained throughput of the relay: signed roots accepted and anchored per second.

Starts its own Hardhat node (besu mode: free gas, Berlin, behind the Besu-like gateway) on a
free loopback port, deploys the registry governed by a 3-of-5 development council (no time lock:
this measures the relay, not governance), has the council register one department and its
signing keys (one proposal), and starts the relay as its own process (``python -m registry_api``,
SQLite queue, default batching: 200 roots per transaction or 2 s). Roots are signed beforehand in
worker processes (EIP-712, one department key per worker), so the clock measures the relay, not
the signing. Then many client threads POST batches of signed roots for ``--duration`` seconds;
afterwards the script waits until every accepted request is FINAL.

Printed: roots accepted per second (202 answers, stored and fsynced), roots anchored per
second (first POST until the last request is FINAL), documents per second behind them at
``--docs-per-root`` (10,000) documents per root, transactions per minute on chain (the
relayer's transactions during that time), gas per root, and POST latency.

Usage: python scripts/bench_relay.py [--duration 60] [--clients 8] [--items 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from property_workload import deploy_governed

from chain.client import connect
from chain.eip712 import sign_anchor
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from chain.types import department_id, type_id
from devstack.hardhat import fund, start_hardhat, stop_hardhat

DOC_TYPE = "business-license"
RELAYER_PASSWORD = "bench-relayer"  # noqa: S105 - a throwaway account on a throwaway chain


# ---------------------------------------------------------------------------- signing
def _sign_chunk(key: bytes, chain_id: int, registry: str, count: int, docs: int, deadline: int) -> list[dict[str, Any]]:
    """``count`` fresh roots signed by ``key`` (runs in a worker process)."""
    account = Account.from_key(key)
    doc_type = type_id(DOC_TYPE)
    out = []
    for _ in range(count):
        root = os.urandom(32)
        signed = sign_anchor(
            account, chain_id=chain_id, registry=registry, root=root, doc_type=doc_type, count=docs, deadline=deadline
        )
        out.append(
            {
                "root": "0x" + root.hex(),
                "docType": "0x" + doc_type.hex(),
                "count": docs,
                "deadline": deadline,
                "signature": "0x" + signed.signature.hex(),
            }
        )
    return out


def presign(keys: list[LocalAccount], chain_id: int, registry: str, total: int, docs: int) -> list[dict[str, Any]]:
    deadline = int(time.time()) + 6 * 3600
    chunk = 500
    jobs = []
    with ProcessPoolExecutor(max_workers=max(1, min(len(keys), os.cpu_count() or 1))) as pool:
        for n in range(0, total, chunk):
            key = keys[(n // chunk) % len(keys)]
            jobs.append(
                pool.submit(_sign_chunk, bytes(key.key), chain_id, registry, min(chunk, total - n), docs, deadline)
            )
        return [item for job in jobs for item in job.result()]


# -------------------------------------------------------------------------- the stack
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    rpc_url: str
    chain_id: int
    registry: RegistryClient
    keys: list[LocalAccount]
    relayer: LocalAccount
    department: bytes


def build_stack(run_dir: Path, node_url: str, chain_id: int, key_count: int) -> Stack:
    settings = ChainSettings(rpc_url=node_url, chain_id=chain_id, deployments_dir=run_dir / "deployments")
    client = connect(settings)
    governor: LocalAccount = Account.create()
    relayer: LocalAccount = Account.create()
    keys: list[LocalAccount] = [Account.create() for _ in range(key_count)]
    for account in (governor, relayer):
        fund(node_url, account.address)
    governed = deploy_governed(client, TransactionSender(client, governor), settings.deployments_dir)
    registry, gov = governed.registry, governed.governance
    dept = department_id("LA-SAMR")
    start = int(client.w3.eth.get_block("latest")["timestamp"]) - 3600
    with gov.batch():
        registry.register_department(gov, dept, "六安市市场监督管理局", "11341500MB0000001A")
        registry.register_document_type(gov, DOC_TYPE)
        registry.authorize_document_type(gov, dept, type_id(DOC_TYPE))
        for key in keys:
            registry.add_signer_key(gov, dept, key.address, start)
    return Stack(node_url, chain_id, registry, keys, relayer, dept)


def start_relay(run_dir: Path, stack: Stack, port: int, env_extra: dict[str, str]) -> subprocess.Popen[bytes]:
    keystore = run_dir / "relayer.json"
    encrypted = Account.encrypt(stack.relayer.key, RELAYER_PASSWORD, kdf="scrypt", iterations=2**10)
    keystore.write_text(json.dumps(encrypted))
    env = {
        **os.environ,
        "EREG_RPC_URL": stack.rpc_url,
        "EREG_CHAIN_ID": str(stack.chain_id),
        "EREG_REGISTRY_ADDRESS": stack.registry.address,
        "EREG_QUEUE_PATH": str(run_dir / "relay-queue.sqlite"),
        "EREG_RELAYER_KEYSTORE": str(keystore),
        "EREG_RELAYER_PASSWORD": RELAYER_PASSWORD,
        **env_extra,
    }
    log = (run_dir / "relay.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "registry_api", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
    )
    give_up = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the relay exited with {process.returncode}; see {run_dir / 'relay.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if time.monotonic() > give_up:
            process.kill()
            raise SystemExit("the relay did not answer /healthz within 60 s")
        time.sleep(0.2)


# ------------------------------------------------------------------------- the clients
@dataclass
class Load:
    items: list[dict[str, Any]]
    batch: int
    next_index: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    exhausted: bool = False

    def take(self) -> list[dict[str, Any]] | None:
        with self.lock:
            if self.next_index >= len(self.items):
                self.exhausted = True
                return None
            chunk = self.items[self.next_index : self.next_index + self.batch]
            self.next_index += len(chunk)
            return chunk


def client_loop(url: str, load: Load, stop_at: float) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() < stop_at:
            chunk = load.take()
            if chunk is None:
                return
            started = time.monotonic()
            response = http.post("/v1/anchors", json=chunk)
            elapsed = time.monotonic() - started
            with load.lock:
                load.latencies.append(elapsed)
                if response.status_code == 202:
                    load.accepted += len(response.json()["requests"])
                else:
                    code = response.json().get("error", {}).get("code", str(response.status_code))
                    load.refused[code] = load.refused.get(code, 0) + len(chunk)


def queue_counts(url: str) -> dict[str, int]:
    body = httpx.get(f"{url}/healthz", timeout=10).json()
    counts: dict[str, int] = body["queue"]
    return counts


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ------------------------------------------------------------------------------- main
def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ereg-bench-relay-") as tmp:
        run_dir = Path(tmp)
        node = start_hardhat(run_dir / "node", mode=args.mode)
        relay: subprocess.Popen[bytes] | None = None
        try:
            stack = build_stack(run_dir, node.rpc_url, node.chain_id, args.keys)
            total = args.max_roots
            t0 = time.monotonic()
            items = presign(stack.keys, stack.chain_id, stack.registry.address, total, args.docs_per_root)
            sign_seconds = time.monotonic() - t0
            print(f"signed {len(items)} roots in {sign_seconds:.1f} s beforehand", file=sys.stderr)

            # what the relay's acceptance costs per root on this node: two view calls (can_anchor, document_status)
            t0 = time.monotonic()
            for _ in range(50):
                stack.registry.can_anchor(stack.keys[0].address, type_id(DOC_TYPE))
                stack.registry.document_status(stack.department, os.urandom(32))
            view_call_ms = (time.monotonic() - t0) / 100 * 1000

            port = free_port()
            relay = start_relay(run_dir, stack, port, {"EREG_BATCH_SIZE": str(args.batch_size)})
            url = f"http://127.0.0.1:{port}"
            client = stack.registry.client
            relayer = stack.relayer.address
            nonce_before = client.w3.eth.get_transaction_count(relayer)  # type: ignore[arg-type]
            head_before = client.block_number()

            load = Load(items=items, batch=args.items)
            start = time.monotonic()
            stop_at = start + args.duration
            threads = [
                threading.Thread(target=client_loop, args=(url, load, stop_at), daemon=True)
                for _ in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            accept_seconds = time.monotonic() - start

            give_up = time.monotonic() + args.settle_timeout
            while True:
                counts = queue_counts(url)
                open_requests = sum(v for k, v in counts.items() if k not in ("FINAL", "REJECTED"))
                if open_requests == 0 or time.monotonic() > give_up:
                    break
                time.sleep(0.2)
            anchor_seconds = time.monotonic() - start
            nonce_after = client.w3.eth.get_transaction_count(relayer)  # type: ignore[arg-type]
            head_after = client.block_number()
            gas = 0
            for number in range(head_before + 1, head_after + 1):
                block = client.w3.eth.get_block(number)
                gas += int(block["gasUsed"])
            transactions = nonce_after - nonce_before
            final = counts.get("FINAL", 0)
            return {
                "mode": args.mode,
                "duration_s": round(accept_seconds, 2),
                "clients": args.clients,
                "items_per_post": args.items,
                "batch_size": args.batch_size,
                "keys": args.keys,
                "roots_accepted": load.accepted,
                "roots_refused": load.refused,
                "roots_final": final,
                "roots_rejected": counts.get("REJECTED", 0),
                "roots_open_at_end": open_requests,
                "presigned_exhausted": load.exhausted,
                "accepted_roots_per_s": round(load.accepted / accept_seconds, 1),
                "anchor_seconds": round(anchor_seconds, 2),
                "anchored_roots_per_s": round(final / anchor_seconds, 1),
                "documents_per_root": args.docs_per_root,
                "anchored_documents_per_s": round(final * args.docs_per_root / anchor_seconds),
                "transactions": transactions,
                "transactions_per_min": round(transactions / (anchor_seconds / 60), 1),
                "roots_per_transaction": round(final / transactions, 1) if transactions else None,
                "gas_per_root": round(gas / final) if final else None,
                "post_latency_p50_ms": round(statistics.median(load.latencies) * 1000, 1) if load.latencies else None,
                "post_latency_p99_ms": round(percentile(load.latencies, 0.99) * 1000, 1),
                "view_call_ms": round(view_call_ms, 2),
            }
        finally:
            if relay is not None:
                relay.terminate()
                try:
                    relay.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    relay.kill()
            stop_hardhat(node)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sustained POSTs (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--items", type=int, default=50, help="signed roots per POST")
    parser.add_argument("--keys", type=int, default=4, help="department signing keys (and signing workers)")
    parser.add_argument("--batch-size", type=int, default=200, help="the relay's roots per transaction")
    parser.add_argument("--docs-per-root", type=int, default=10_000)
    parser.add_argument("--max-roots", type=int, default=None, help="roots signed beforehand (default: by duration)")
    parser.add_argument("--settle-timeout", type=float, default=600.0, help="longest wait for FINAL after the load")
    parser.add_argument("--mode", choices=("besu", "dev"), default="besu")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.max_roots is None:
        args.max_roots = int(max(2_000, args.duration * 150))
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"relay bench ({result['mode']} mode node, SQLite queue, batches of {result['batch_size']} roots)")
    print(f"  load: {result['clients']} clients x {result['items_per_post']} signed roots per POST, "
          f"{result['duration_s']} s")
    print(f"  accepted: {result['roots_accepted']} roots, {result['accepted_roots_per_s']} roots/s "
          f"(POST p50 {result['post_latency_p50_ms']} ms, p99 {result['post_latency_p99_ms']} ms)")
    print(f"  one view call (eth_call) on this node, sequential: {result['view_call_ms']} ms")
    if result["roots_refused"]:
        print(f"  refused: {result['roots_refused']}")
    if result["presigned_exhausted"]:
        print("  note: every pre-signed root was sent before the time was up; raise --max-roots")
    print(f"  anchored (FINAL): {result['roots_final']} roots in {result['anchor_seconds']} s, "
          f"{result['anchored_roots_per_s']} roots/s = {result['anchored_documents_per_s']:,} documents/s "
          f"at {result['documents_per_root']:,} documents per root")
    print(f"  chain: {result['transactions']} transactions, {result['transactions_per_min']} per minute, "
          f"{result['roots_per_transaction']} roots per transaction, {result['gas_per_root']} gas per root")
    if result["roots_rejected"] or result["roots_open_at_end"]:
        print(f"  NOT SETTLED: {result['roots_rejected']} rejected, {result['roots_open_at_end']} still open")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
