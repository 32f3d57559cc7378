"""Scaled out: two relay processes, each with its own relayer key, on one PostgreSQL queue, and two
verifier processes, each with its own index, on one chain.

Documents are issued through both relays at once (the issuing engine, as ``ereg issue --via``
runs it), more signed anchors are posted to one relay and again to the other, and two documents
are revoked through the second. Then: every accepted request is FINAL, carried by exactly one
mined transaction; no transaction failed (no nonce race); each relayer's nonce moved by exactly
the transactions it mined; and both verifiers, each reading the chain into its own index, give
the same verdict for every document.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from chain.types import Action, StatusChange
from devstack.process import free_port, port_open
from documents.samples import sample_business_licence
from issuer.docs_cmd import load_document
from issuer.issuing import Issuer, IssueSettings, RelayAnchoring
from issuer.relay_client import RelayClient
from issuer.relayed import Via, relay_status_change
from registry_api.queue import FINAL
from tests.factories import BUSINESS_LICENSE, World, wait_until
from tests.registry_api.conftest import anchor_json
from tests.registry_api.relay_process import REPO_ROOT, RelayProcess, relay_env, write_keystore

pytestmark = pytest.mark.chain

DOCS_PER_RUN = 4
RUNS_PER_RELAY = 3
RAW_ANCHORS = 30


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(query).fetchall())


@contextmanager
def verifier_process(world: World, run_dir: Path, store_dir: Path) -> Iterator[str]:
    """``python -m verifier`` with an index of its own, reading the blobs from ``store_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EREG_")}
    env.update(
        {
            "EREG_RPC_URL": world.node.rpc_url,
            "EREG_CHAIN_ID": str(world.chain_id),
            "EREG_REGISTRY_ADDRESS": world.registry.address,
            "EREG_INDEX_PATH": str(run_dir / "index.sqlite"),
            "EREG_INDEX_START_BLOCK": str(world.deployment.block_number),
            "EREG_INDEX_POLL_INTERVAL": "0.1",
            "EREG_STORE_DIR": str(store_dir),
            "EREG_RATE_LIMIT_PER_SECOND": "0",
        }
    )
    with (run_dir / "verifier.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "verifier", "--port", str(port), "--log-level", "warning"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_until(lambda: port_open("127.0.0.1", port, timeout=0.2) or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, (run_dir / "verifier.log").read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def caught_up(base: str, head: int) -> bool:
    try:
        health = httpx.get(f"{base}/healthz", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(health.get("ready")) and int(health["index"]["block"]) >= head


def issue_through(world: World, relay_url: str, out: Path, store_dir: Path, run: int) -> list[Path]:
    """One ``ereg issue --via`` run of DOCS_PER_RUN licences, waiting until they are FINAL."""
    from storage import EmbeddedStore

    inputs = out / f"records-{run}"
    inputs.mkdir(parents=True)
    files = []
    for i in range(DOCS_PER_RUN):
        path = inputs / f"doc-{run}-{i}.json"
        path.write_text(json.dumps(sample_business_licence(run * 100 + i), ensure_ascii=False), encoding="utf-8")
        files.append(path)
    settings = IssueSettings(
        doc_type=BUSINESS_LICENSE,
        out_dir=out / f"out-{run}",
        verifier_url="http://127.0.0.1:8000",
        valid_from=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(world.now(), int(time.time())) - 60)),
        batch_size=DOCS_PER_RUN,
    )
    via = Via(client=RelayClient(relay_url), wait_for=FINAL, wait_timeout=60.0, poll=0.1)
    Issuer(
        settings,
        registry=world.registry,
        relay=RelayAnchoring(account=world.samr_key, via=via),
        store=EmbeddedStore(store_dir),
    ).run(files)
    return [settings.out_dir / f"{p.stem}.ereg.json" for p in files]


def test_two_relays_and_two_verifiers_on_one_chain(world: World, tmp_path: Path, postgres_url: str) -> None:
    keys: list[LocalAccount] = [world.new_account(), world.new_account()]
    for key in keys:
        world.sender(key)  # funded on the dev chain
    start_nonces = [int(world.client.w3.eth.get_transaction_count(k.address)) for k in keys]
    store_dir = tmp_path / "blocks"
    with ExitStack() as stack:
        relays = []
        for n, key in enumerate(keys):
            env = relay_env(
                rpc_url=world.node.rpc_url,
                chain_id=world.chain_id,
                registry_address=world.registry.address,
                queue_path=tmp_path / f"unused-{n}.sqlite",
                keystore=write_keystore(key, tmp_path / f"relayer-{n}.json"),
                settings={"queue_url": postgres_url, "batch_size": 10, "batch_age": 0.2, "poll_interval": 0.05},
            )
            relay = RelayProcess(env, tmp_path / f"relay-{n}", prewarm=False)
            stack.callback(relay.stop)
            relays.append(relay)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda r: r.start(timeout=60), relays))

        # 1. documents through both relays at once, signed anchors to one and again to the other
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(issue_through, world, relays[n % 2].url, tmp_path / "issued", store_dir, n)
                for n in range(2 * RUNS_PER_RELAY)
            ]
            ids: list[str] = []
            signed = [world.sign_anchor(os.urandom(32)) for _ in range(RAW_ANCHORS)]
            for n, item in enumerate(signed):
                body = [anchor_json(item)]
                first = httpx.post(f"{relays[n % 2].url}/v1/anchors", json=body, timeout=10)
                assert first.status_code == 202, first.text
                again = httpx.post(f"{relays[(n + 1) % 2].url}/v1/anchors", json=body, timeout=10)
                request_id = first.json()["requests"][0]["id"]
                assert again.json()["requests"][0]["id"] == request_id and again.json()["requests"][0]["duplicate"]
                ids.append(request_id)
            documents = [path for run in runs for path in run.result()]

        # 2. two documents revoked through the second relay
        via = Via(client=RelayClient(relays[1].url), wait_for=FINAL, wait_timeout=60.0, poll=0.1)
        revoked = documents[1:6:4]
        for path in revoked:
            doc = load_document(path)
            change = StatusChange(
                Action.REVOKE,
                bytes.fromhex(doc.proof.merkle_root[2:]),
                bytes.fromhex(doc.proof.target_hash[2:]),
                [bytes.fromhex(p[2:]) for p in doc.proof.proof],
            )
            assert "FINAL" in relay_status_change(via, world.samr_key, world.registry, change)

        def states() -> Counter[str]:
            return Counter(
                httpx.get(f"{relays[n % 2].url}/v1/requests/{i}", timeout=10).json()["state"]
                for n, i in enumerate(ids)
            )

        assert wait_until(lambda: states() == Counter({FINAL: RAW_ANCHORS}), timeout=60), states()

        # 3. the queue and the chain: once each, no failed transaction, nonces as mined
        txs = rows(postgres_url, "SELECT tx_hash, state FROM transactions")
        assert {state for _, state in txs} == {"MINED"}, Counter(state for _, state in txs)
        requests = rows(postgres_url, "SELECT state, COUNT(*) FROM requests GROUP BY state")
        expected = RAW_ANCHORS + 2 * RUNS_PER_RELAY + len(revoked)
        assert dict(requests) == {FINAL: expected}
        carried = rows(
            postgres_url,
            "SELECT r.public_id, COUNT(*) FROM requests r JOIN transaction_requests l ON l.request_id = r.id"
            " JOIN transactions t ON t.tx_hash = l.tx_hash AND t.state = 'MINED' GROUP BY r.public_id",
        )
        assert len(carried) == expected and {count for _, count in carried} == {1}
        by_sender: Counter[str] = Counter()
        for tx_hash, _ in txs:
            by_sender[str(world.client.w3.eth.get_transaction(tx_hash)["from"]).lower()] += 1
        sent = {
            k.address.lower(): world.client.w3.eth.get_transaction_count(k.address) - start
            for k, start in zip(keys, start_nonces, strict=True)
        }
        assert sent == {k.address.lower(): by_sender[k.address.lower()] for k in keys}
        assert all(count > 0 for count in sent.values()), sent  # both batchers carried some
        anchored: Counter[bytes] = Counter()
        event = world.registry.contract.events.BatchAnchored()
        for tx_hash, _ in txs:
            receipt = world.client.w3.eth.get_transaction_receipt(tx_hash)
            anchored.update(bytes(log["args"]["root"]) for log in event.process_receipt(receipt, errors=DISCARD))
        roots = {bytes.fromhex(load_document(p).proof.merkle_root[2:]) for p in documents}
        assert anchored == Counter({s.root: 1 for s in signed} | {root: 1 for root in roots})

        # 4. two verifiers, two indexes, one chain: the same verdicts
        bases = [stack.enter_context(verifier_process(world, tmp_path / f"verifier-{n}", store_dir)) for n in range(2)]
        head = world.client.block_number()
        assert wait_until(lambda: all(caught_up(b, head) for b in bases), timeout=60)
        tampered = json.loads(documents[0].read_text(encoding="utf-8"))
        tampered["data"] = {**tampered["data"], "tampered": "yes"}
        bodies = [p.read_bytes() for p in documents] + [json.dumps(tampered).encode()]
        verdicts: list[list[dict[str, Any]]] = []
        with httpx.Client(timeout=20) as client:
            for base in bases:
                answers = []
                for body in bodies:
                    reply = client.post(f"{base}/v1/verify", content=body, headers={"content-type": "application/json"})
                    assert reply.status_code == 200, reply.text
                    answer = reply.json()
                    answer.pop("checkedAt")
                    answers.append(answer)
                verdicts.append(answers)
        assert verdicts[0] == verdicts[1]
        summary = [a["verdict"] for a in verdicts[0]]
        revoked_at = {documents.index(p) for p in revoked}
        assert summary == [
            "INVALID" if i in revoked_at or i == len(documents) else "VALID" for i in range(len(bodies))
        ], summary
