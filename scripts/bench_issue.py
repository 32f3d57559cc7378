#!/usr/bin/env python3
"""Issuance speed.

1. In process: wrap + encrypt + CID of N twenty-field business licences (no I/O), in both
   suites: ereg/1 (Keccak-256, AES-256-GCM) and ereg/1-sm (SM3, SM4-GCM, one SM2 signature
   of each batch root); in this one process, and on every core: the batches sealed by
   `issuer.sealing.seal_many` in worker processes (the call `ereg issue` makes, which also
   writes each document's journal text), records sent to them and results sent back included.
2. End to end: `ereg issue` of N record files with the real js-ipfs daemon and real anchoring
   on a local Besu-like node (one process of the CLI, started as users start it). The registry
   is deployed beforehand, governed by a 3-of-5 development council (no time lock: this
   measures issuance), which registers the department, its key (made by `ereg keys new`) and
   its document type in one proposal.

Usage: python scripts/bench_issue.py [--documents 10000] [--skip-e2e] [--batch-size 1000] [--suite both] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the project's packages before this folder's scripts

from eth_account import Account  # noqa: E402
from property_workload import deploy_governed  # noqa: E402 - scripts/

from chain.client import connect  # noqa: E402
from chain.sender import TransactionSender  # noqa: E402
from chain.settings import ChainSettings  # noqa: E402
from chain.types import department_id, type_id  # noqa: E402
from devstack.stack import start_stack, stop_stack  # noqa: E402
from documents import document_to_bytes, seal, wrap_batch  # noqa: E402
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence  # noqa: E402
from documents.sm2 import Sm2PrivateKey  # noqa: E402
from documents.suite import SUITE_KECCAK, SUITE_SM, Suite  # noqa: E402
from issuer.keystore import Keystore  # noqa: E402
from issuer.sealing import seal_many  # noqa: E402
from storage.cid import compute_cid  # noqa: E402

EREG = Path(sys.executable).with_name("ereg")


def in_process(n: int, batch_size: int, suite: Suite = SUITE_KECCAK) -> float:
    records = [sample_business_licence(i) for i in range(n)]
    sm2_key = Sm2PrivateKey.generate() if suite.signed else None
    started = time.perf_counter()
    for i in range(0, n, batch_size):
        batch = wrap_batch(records[i : i + batch_size], "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY,
                           check_schema=False, suite=suite, sm2_key=sm2_key)
        for doc in batch.documents:
            _key, blob = seal(document_to_bytes(doc), suite)
            compute_cid(blob)
    return n / (time.perf_counter() - started)


def on_workers(n: int, batch_size: int, pool: Executor, suite: Suite = SUITE_KECCAK) -> float:
    records = [sample_business_licence(i) for i in range(n)]
    sm2_key = Sm2PrivateKey.generate().to_bytes() if suite.signed else None
    started = time.perf_counter()
    batches = [records[i : i + batch_size] for i in range(0, n, batch_size)]
    sealed = seal_many(pool, batches, "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY, suite.version, sm2_key)
    seconds = time.perf_counter() - started
    if sum(len(batch.cids) for batch in sealed) != n:
        raise SystemExit("a batch came back short")
    return n / seconds


def end_to_end(n: int, batch_size: int, qr: str = "both") -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ereg-bench-issue-") as tmp:
        root = Path(tmp)
        stack = start_stack(root / "run", mode="besu")
        try:
            records = root / "records"
            records.mkdir()
            for i in range(n):
                (records / f"licence-{i:06d}.json").write_text(
                    json.dumps(sample_business_licence(i), ensure_ascii=False), encoding="utf-8"
                )
            env = {
                **os.environ,
                "EREG_HOME": str(root / "home"),
                "EREG_RPC_URL": stack.rpc_url,
                "EREG_CHAIN_ID": str(stack.chain_id),
                "EREG_IPFS_API": stack.ipfs_api or "",
                "EREG_KEY_PASSWORD": "bench-password",
                "EREG_VERIFIER_URL": "http://127.0.0.1:8000",
            }

            def ereg(*args: str) -> str:
                done = subprocess.run([str(EREG), *args], env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"ereg {' '.join(args)} failed: {done.stderr.strip()}")
                return done.stdout

            ereg("keys", "new", "samr")
            signer = Keystore(root / "home" / "keys").info("samr").address
            settings = ChainSettings(
                rpc_url=stack.rpc_url,  # type: ignore[arg-type]
                chain_id=stack.chain_id,
                deployments_dir=root / "home" / "deployments",  # where `ereg issue` finds the registry
            )
            client = connect(settings)
            governed = deploy_governed(
                client, TransactionSender(client, Account.create()), client.settings.deployments_dir
            )
            registry, gov = governed.registry, governed.governance
            dept = department_id("LA-SAMR")
            now = int(client.w3.eth.get_block("latest")["timestamp"])
            with gov.batch():
                registry.register_department(gov, dept, "六安市市场监督管理局", "11341500MB0000001A")
                registry.register_document_type(gov, "business-license")
                registry.authorize_document_type(gov, dept, type_id("business-license"))
                registry.add_signer_key(gov, dept, signer, now - 60)
            started = time.perf_counter()
            ereg("issue", str(records), "-t", "business-license", "-k", "samr", "-o", str(root / "out"),
                 "--batch-size", str(batch_size), "--qr", qr)
            seconds = time.perf_counter() - started
            written = len(list((root / "out").glob("*.ereg.json")))
            if written != n:
                raise SystemExit(f"expected {n} documents, found {written}")
            return {"seconds": seconds, "documents_per_second": n / seconds}
        finally:
            stop_stack(root / "run")


def main() -> int:
    parser = argparse.ArgumentParser(description="issuance speed")
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--suite", choices=("keccak", "sm", "both"), default="both")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="worker processes for the batches")
    parser.add_argument("--qr", choices=("both", "png", "svg", "none"), default="both",
                        help="the QR images `ereg issue` draws end to end")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    suites = {"keccak": [SUITE_KECCAK], "sm": [SUITE_SM], "both": [SUITE_KECCAK, SUITE_SM]}[args.suite]
    if args.skip_in_process:
        suites = []
    for suite in suites:
        in_process(min(args.documents, 1000), args.batch_size, suite)  # warm-up
    # the suites interleaved, so that a slower stretch of the machine hits both alike
    rates: dict[str, list[float]] = {s.version: [] for s in suites}
    for _ in range(3):
        for suite in suites:
            rates[suite.version].append(in_process(args.documents, args.batch_size, suite))
    for version, got in rates.items():
        print(f"wrap + encrypt + CID ({version}), {args.documents} twenty-field licences, one process: "
              f"best {max(got):,.0f} docs/s, median {sorted(got)[1]:,.0f} docs/s")
    if suites:
        # worker processes started (and their imports done) before the clock runs, as in `ereg issue`
        # where they start with the run and seal every batch after the first while others are stored
        with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for suite in suites:
                on_workers(min(args.documents, 2 * args.workers * args.batch_size), args.batch_size, pool, suite)
            on_cores: dict[str, list[float]] = {s.version: [] for s in suites}
            for _ in range(3):
                for suite in suites:
                    on_cores[suite.version].append(on_workers(args.documents, args.batch_size, pool, suite))
        for version, got in on_cores.items():
            print(f"wrap + encrypt + CID + journal text ({version}), {args.documents} twenty-field licences, "
                  f"{args.workers} worker processes: best {max(got):,.0f} docs/s, median {sorted(got)[1]:,.0f} docs/s")
    if not args.skip_e2e:
        result = end_to_end(args.documents, args.batch_size, args.qr)
        print(f"ereg issue end to end ({args.documents} records, batches of {args.batch_size}, js-ipfs, "
              f"Besu-like node, QR {args.qr}): {result['seconds']:.1f} s, {result['documents_per_second']:,.0f} docs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
