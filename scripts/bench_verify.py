#!/usr/bin/env python3
"""Verification speed with 1,000,000 documents anchored.

1. Starts its own Besu-like node, deploys the registry governed by a 3-of-5 development
   council (no time lock: this measures verification), which registers a department (one
   proposal); wraps 100 batches of 10,000 twenty-field business licences (1,000,000 documents),
   anchors the 100 roots, and revokes 1,000 documents (10 per batch) so the index holds real
   statuses.
2. Index catch-up: a fresh index follows the chain from the deployment block (events/s).
3. In-process cost of one verification (VerificationService.verify_bytes, index only).
4. HTTP: `python -m verifier` with N workers, loaded by wrk (a separate C process) at
   concurrency 32 for 60 s with 10,000 distinct documents (10% of them revoked): throughput and
   p50/p99 latency as wrk measures them.
5. With ``--property-units N``: the PropertyRegistry deployed and followed by the index, N
   property certificates issued and registered as units' titles, one in ten units transferred
   (its old certificate superseded by a new one), one in ten mortgaged, one in twenty seized;
   then 3. and 4. again with the property certificates (old and new) as the request bodies, so
   every verdict carries PROPERTY_STATUS (CURRENT, SUPERSEDED or FROZEN).

Usage: python scripts/bench_verify.py [--batches 100] [--batch-size 10000] [--duration 60]
                                      [--connections 32] [--workers 1 2] [--property-units 0]
Needs wrk (Debian package wrk; installed with apt-get when missing and run as root).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the project's packages before this folder's scripts

from eth_account import Account  # noqa: E402
from property_workload import deploy_governed, run_workload, setup_property  # noqa: E402 - scripts/
from system_deps import apt_install  # noqa: E402 - scripts/

from chain.client import ChainClient, connect  # noqa: E402
from chain.eip712 import sign_anchor, sign_status_change  # noqa: E402
from chain.governance import Governance  # noqa: E402
from chain.property import (  # noqa: E402
    Certificate,
    new_unit_salt,
    unit_id,
)
from chain.registry import RegistryClient  # noqa: E402
from chain.sender import TransactionSender  # noqa: E402
from chain.settings import ChainSettings  # noqa: E402
from chain.types import Action, Role, StatusChange, department_id, type_id  # noqa: E402
from chainindex import ChainIndex  # noqa: E402
from devstack.process import free_port  # noqa: E402
from devstack.stack import start_stack, stop_stack  # noqa: E402
from documents import document_to_bytes, wrap_batch  # noqa: E402
from documents.merkle import MerkleTree  # noqa: E402
from documents.samples import SAMPLE_VALIDITY, sample_business_licence, sample_record  # noqa: E402
from verification.gateway import ChainGateway  # noqa: E402
from verification.service import VerificationService  # noqa: E402

LUA = """
local bodies = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    n = n + 1
    bodies[n] = line
  end
  math.randomseed(os.time() + math.random(1000))
  counter = math.random(n)
end
request = function()
  counter = counter % n + 1
  return wrk.format("POST", "/v1/verify", {["Content-Type"] = "application/json"}, bodies[counter])
end
"""


def build_chain(root: Path, batches: int, batch_size: int, sample_per_batch: int) -> dict[str, object]:
    stack = start_stack(root / "run", mode="besu", ipfs=False)
    settings = ChainSettings(rpc_url=stack.rpc_url, chain_id=stack.chain_id, deployments_dir=root / "deployments")
    client = connect(settings)
    deployer = TransactionSender(client, Account.create())
    signer = Account.create()
    relayer = TransactionSender(client, Account.create())
    governed = deploy_governed(client, deployer, settings.deployments_dir)
    deployment, registry, gov = governed.deployment, governed.registry, governed.governance
    dept = department_id("LA-SAMR")
    with gov.batch():
        registry.register_department(gov, dept, "六安市市场监督管理局", "11341500MB0000001A")
        registry.register_document_type(gov, "business-license")
        registry.authorize_document_type(gov, dept, type_id("business-license"))
        registry.add_signer_key(gov, dept, signer.address, int(time.time()) - 3600)
    issuer = {"department": "0x" + dept.hex(), "chainId": stack.chain_id, "registry": registry.address}

    samples: list[bytes] = []
    revoked: list[bytes] = []
    signed_anchors = []
    changes = []
    wrap_seconds = 0.0
    rng = random.Random(7)
    deadline = int(time.time()) + 24 * 3600
    for b in range(batches):
        records = [sample_business_licence(b * batch_size + i) for i in range(batch_size)]
        started = time.perf_counter()
        batch = wrap_batch(records, "business-license", issuer, SAMPLE_VALIDITY, check_schema=False)
        wrap_seconds += time.perf_counter() - started
        signed_anchors.append(
            sign_anchor(signer, chain_id=stack.chain_id, registry=registry.address, root=batch.root,
                        doc_type=type_id("business-license"), count=batch_size, deadline=deadline)
        )
        picks = rng.sample(range(batch_size), sample_per_batch)
        for n, index in enumerate(picks):
            doc = batch.documents[index]
            body = document_to_bytes(doc)
            samples.append(body)
            if n < 10:  # 10 revoked per batch, all of them among the request bodies
                revoked.append(body)
                change = StatusChange(Action.REVOKE, batch.root, bytes.fromhex(doc.proof.target_hash[2:]),
                                      batch.tree.proof(index), reason=1)
                changes.append(sign_status_change(signer, chain_id=stack.chain_id, registry=registry.address,
                                                  change=change, nonce=len(changes), deadline=deadline))
        print(f"\r  wrapped {b + 1}/{batches} batches", end="", flush=True)
    print()
    for i in range(0, len(signed_anchors), 50):
        registry.anchor_many(relayer, signed_anchors[i : i + 50])
    for i in range(0, len(changes), 100):
        registry.change_status_many(relayer, changes[i : i + 100])
    return {
        "stack": stack,
        "client": client,
        "gov": gov,
        "deployer": deployer,
        "registry": registry,
        "deployment_block": deployment.block_number or 0,
        "samples": samples,
        "revoked": len(revoked),
        "wrap_docs_per_second": batches * batch_size / wrap_seconds,
    }


def build_property(built: dict[str, object], units: int) -> dict[str, object]:
    """Deploy the PropertyRegistry, register ``units`` titles, transfer, mortgage and seize some
    (the shared workload of scripts/property_workload.py), with real wrapped certificates."""
    client: ChainClient = built["client"]  # type: ignore[assignment]
    registry: RegistryClient = built["registry"]  # type: ignore[assignment]
    gov: Governance = built["gov"]  # type: ignore[assignment]
    deployer: TransactionSender = built["deployer"]  # type: ignore[assignment]
    workload = setup_property(client, registry, gov, deployer, client.settings.deployments_dir)
    natres = workload.senders[Role.NATRES]
    issuer = {"department": "0x" + workload.issuer.hex(), "chainId": client.chain_id, "registry": registry.address}
    transferred = range(0, units, 10)
    records = []
    salts = [new_unit_salt() for _ in range(units)]  # each unit's own, as NATRES draws them
    for n in range(units + len(transferred)):  # the titles, then the transferred units' new ones
        record = sample_record("property-certificate")
        unit = n if n < units else transferred[n - units]  # a new certificate names the unit it moves
        record["unitNumber"] = f"341502001001GB{unit:05d}F00010001"
        record["unitSalt"] = "0x" + salts[unit].hex()
        record["certificateNumber"] = f"皖（2026）六安市不动产权第{n:07d}号"
        records.append(record)
    batch = wrap_batch(records, "property-certificate", issuer, SAMPLE_VALIDITY, check_schema=False)
    registry.anchor(natres, batch.root, type_id("property-certificate"), len(records))
    mortgage_targets = [os.urandom(32) for _ in range(units)]
    mortgage_tree = MerkleTree(mortgage_targets)
    registry.anchor(natres, mortgage_tree.root, type_id("mortgage-certificate"), units)

    def cert(i: int) -> Certificate:
        return Certificate(batch.root, bytes.fromhex(batch.documents[i].proof.target_hash[2:]),
                           tuple(batch.tree.proof(i)))

    mortgaged = range(5, units, 10)
    seized = range(3, units, 20)
    run_workload(
        workload,
        [unit_id(f"341502001001GB{n:05d}F00010001", salts[n]) for n in range(units)],
        [cert(n) for n in range(units)],
        transfers={n: cert(units + k) for k, n in enumerate(transferred)},
        mortgages={n: Certificate(mortgage_tree.root, mortgage_targets[n], tuple(mortgage_tree.proof(n)))
                   for n in mortgaged},
        seizures=seized,
    )
    bodies = [document_to_bytes(doc) for doc in batch.documents]
    return {"address": workload.prop.address, "bodies": bodies, "transferred": len(transferred),
            "mortgaged": len(mortgaged), "seized": len(seized)}


def catch_up(root: Path, built: dict[str, object]) -> tuple[int, float, Path]:
    path = root / "index.sqlite"
    index = ChainIndex(path, built["client"], built["registry"].address,  # type: ignore[attr-defined]
                       start_block=int(built["deployment_block"]),  # type: ignore[call-overload]
                       property_address=built.get("property_address"))  # type: ignore[arg-type]
    result = index.sync()
    index.close()
    return result.events, result.seconds, path


def in_process_cost(built: dict[str, object], index_path: Path, samples: list[bytes] | None = None) -> float:
    registry: RegistryClient = built["registry"]  # type: ignore[assignment]
    index = ChainIndex(index_path, registry.client, registry.address, start_block=int(built["deployment_block"]),  # type: ignore[call-overload]
                       property_address=built.get("property_address"))  # type: ignore[arg-type]
    index.sync()
    gateway = ChainGateway(lambda: registry)
    fallbacks = [0]
    chain_facts = gateway.facts

    def counted(*args: object, **kwargs: object) -> object:
        fallbacks[0] += 1
        return chain_facts(*args, **kwargs)  # type: ignore[arg-type]

    gateway.facts = counted  # type: ignore[method-assign,assignment]
    service = VerificationService(chain_id=registry.client.chain_id, registry_address=registry.address, index=index,
                                  chain=gateway, store=None)
    samples = samples if samples is not None else built["samples"]  # type: ignore[assignment]
    verdicts = {service.verify_bytes(body).verdict.value for body in samples[:200]}
    assert verdicts <= {"VALID", "INVALID"}, verdicts  # noqa: S101 - a benchmark sanity check
    if built.get("property_address"):
        codes = Counter(
            next(f.code for f in service.verify_bytes(body).fragments if f.name.value == "PROPERTY_STATUS")
            for body in samples
        )
        built["property_codes"] = dict(codes)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for body in samples[:2000]:
            service.verify_bytes(body)
        runs.append((time.perf_counter() - started) / len(samples[:2000]))
    index.close()
    built["fallbacks"] = fallbacks[0]
    built["verified"] = len(samples[:200]) + 3 * len(samples[:2000])
    return statistics.median(runs)


def http_load(root: Path, built: dict[str, object], index_path: Path, workers: int, duration: int,
              connections: int, samples: list[bytes] | None = None) -> dict[str, float]:
    stack = built["stack"]
    registry: RegistryClient = built["registry"]  # type: ignore[assignment]
    bodies = root / "bodies.jsonl"
    bodies.write_bytes(b"\n".join(samples if samples is not None else built["samples"]) + b"\n")  # type: ignore[arg-type]
    script = root / "post.lua"
    script.write_text(LUA)
    port = free_port()
    env = {
        **os.environ,
        "EREG_RPC_URL": stack.rpc_url,  # type: ignore[attr-defined]
        "EREG_CHAIN_ID": str(stack.chain_id),  # type: ignore[attr-defined]
        "EREG_REGISTRY_ADDRESS": registry.address,
        "EREG_INDEX_START_BLOCK": str(built["deployment_block"]),
        "EREG_INDEX_PATH": str(index_path),
        # one client address (wrk) makes thousands of requests a second: no per-client limit here
        "EREG_RATE_LIMIT_PER_SECOND": "0",
    }
    if built.get("property_address"):
        env["EREG_PROPERTY_REGISTRY_ADDRESS"] = str(built["property_address"])
    server = subprocess.Popen(
        [sys.executable, "-m", "verifier", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as reply:  # noqa: S310
                    if json.loads(reply.read())["ready"]:
                        break
            except OSError:  # not listening yet, or 503 while the health probes start
                time.sleep(0.1)
        # warm-up, then the measured run
        subprocess.run(["wrk", "-t2", f"-c{connections}", "-d5s", "-s", str(script), f"{base}/v1/verify",
                        "--", str(bodies)], check=True, capture_output=True)
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
             f"{base}/v1/verify", "--", str(bodies)],
            check=True, capture_output=True, text=True,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "workers": workers,
        "requests_per_second": rps,
        "p50_ms": pct("50"),
        "p90_ms": pct("90"),
        "p99_ms": pct("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def print_http(workers: int, args: argparse.Namespace, result: dict[str, float], what: str = "") -> None:
    print(f"HTTP, {what}{workers} worker(s), {args.connections} connections, {args.duration} s: "
          f"{result['requests_per_second']:,.0f} verifications/s, p50 {result['p50_ms']:.1f} ms, "
          f"p90 {result['p90_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, non-2xx {result['non_2xx']}, "
          f"timeouts {result['timeouts']}")


def ensure_wrk() -> bool:
    """wrk on PATH, installing the Debian package first when it is missing and apt-get may run."""
    return shutil.which("wrk") is not None or (apt_install(["wrk"]) and shutil.which("wrk") is not None)


def main() -> int:
    parser = argparse.ArgumentParser(description="verification speed")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--property-units", type=int, default=0)
    args = parser.parse_args()
    if not ensure_wrk():
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 1
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="ereg-bench-verify-") as tmp:
        root = Path(tmp)
        try:
            print(f"setting up {args.batches} × {args.batch_size:,} documents …")
            built = build_chain(root, args.batches, args.batch_size, sample_per_batch=100)
            print(f"  wrapped at {built['wrap_docs_per_second']:,.0f} docs/s; {len(built['samples']):,} request "
                  f"bodies, {built['revoked']} of them revoked")
            events, seconds, index_path = catch_up(root, built)
            print(f"index catch-up: {events:,} events in {seconds:.2f} s = {events / seconds:,.0f} events/s "
                  f"(scripts/bench_index.py measures 20,000)")
            cost = in_process_cost(built, index_path)
            print(f"in-process verification (index only): {cost * 1e6:,.0f} µs each = {1 / cost:,.0f}/s per core; "
                  f"chain fallbacks {built['fallbacks']} of {built['verified']:,} verifications")
            for workers in args.workers:
                result = http_load(root, built, index_path, workers, args.duration, args.connections)
                print_http(workers, args, result)
            if args.property_units:
                print(f"property: {args.property_units:,} units …")
                started = time.perf_counter()
                prop = build_property(built, args.property_units)
                built["property_address"] = prop["address"]
                print(f"  registered, {prop['transferred']} transferred, {prop['mortgaged']} mortgaged, "
                      f"{prop['seized']} seized in {time.perf_counter() - started:.0f} s")
                events, seconds, index_path = catch_up(root, built)
                print(f"index catch-up with the PropertyRegistry: {events:,} events in {seconds:.2f} s")
                bodies: list[bytes] = prop["bodies"]  # type: ignore[assignment]
                cost = in_process_cost(built, index_path, bodies)
                print(f"in-process verification of property certificates: {cost * 1e6:,.0f} µs each; "
                      f"PROPERTY_STATUS {built['property_codes']}; chain fallbacks {built['fallbacks']}")
                for workers in args.workers:
                    result = http_load(root, built, index_path, workers, args.duration, args.connections, bodies)
                    print_http(workers, args, result, "property certificates, ")
        finally:
            stop_stack(root / "run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
