"""Backends that hang or are missing: only the requests that need them wait, and never for long.

A chain node or an IPFS daemon that stops answering (SIGSTOP: the process keeps its sockets
open, connections are accepted by the kernel and never answered) is the hard case of an outage:
nothing fails fast by itself. The verifier must keep answering every verification its index can
decide, ``/livez``, ``/readyz``, ``/healthz`` and ``/metrics``; a request that needs the hung
backend holds one slot of that backend's bulkhead, and the next ones get ERROR at once; the
per-call timeouts (``request_timeout``, ``ipfs_timeout``) really bound a call into a stopped
process. Each test starts its own node or daemon (the session's shared ones are never stopped)
and always resumes it (SIGCONT) before it ends.

The order of events is what is asserted, never a duration: a request to the hung backend is
still in flight (its backend's timeout is tens of seconds) while the other requests complete.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_utils.address import to_checksum_address
from fastapi import FastAPI

from devstack.hardhat import HARDHAT_BIN, start_hardhat, stop_hardhat
from devstack.ipfs import JSIPFS, start_ipfs, stop_ipfs
from documents import document_to_bytes, wrap_batch
from documents.samples import sample_business_licence
from storage import EmbeddedStore
from storage.ipfs import IpfsStore
from tests.conftest import require
from tests.factories import BUSINESS_LICENSE, SAMR, World, build_world
from tests.verification.test_service import _issue_on, assert_verdict, iso, stored
from tests.verifier.conftest import Issued, IssueFn, verifier_settings
from verifier.app import create_app
from verifier.runtime import Runtime
from verifier.settings import VerifierSettings

pytestmark = pytest.mark.chain
JSON = {"content-type": "application/json"}


# ------------------------------------------------------------------------------ helpers
@dataclass
class Served:
    """A verifier app behind a real uvicorn server on a free loopback port."""

    base_url: str
    app: FastAPI
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=120.0)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def verify(self, body: bytes | dict[str, Any]) -> dict[str, Any]:
        if isinstance(body, bytes):
            reply = self.client.post("/v1/verify", content=body, headers=JSON)
        else:
            reply = self.client.post("/v1/verify", json=body)
        assert reply.status_code == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result

    def health(self, path: str = "/healthz") -> httpx.Response:
        reply = self.client.get(path)
        assert reply.status_code in (200, 503), reply.text
        return reply

    def wait_until(self, done: Callable[[], bool], what: str, attempts: int = 400) -> None:
        """Poll ``done`` (short sleeps) until it holds; fail naming ``what``."""
        for _ in range(attempts):
            if done():
                return
            time.sleep(0.05)
        raise AssertionError(f"never happened: {what}; /healthz: {self.health().json()}")


@contextmanager
def serve(settings: VerifierSettings, *, follow: bool = True) -> Iterator[Served]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app = create_app(settings, follow=follow)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="verifier-http", daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        assert thread.is_alive(), "the verifier did not start"
        time.sleep(0.05)
    served = Served(f"http://127.0.0.1:{sock.getsockname()[1]}", app)
    try:
        yield served
    finally:
        served.client.close()
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


class InFlight:
    """One request sent from a thread; ``done`` is set when its answer arrived."""

    def __init__(self, served: Served, body: bytes | dict[str, Any]) -> None:
        self.done = threading.Event()
        self.reply: httpx.Response | None = None
        self._body = body
        self._client = httpx.Client(base_url=served.base_url, timeout=180.0)
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def _send(self) -> None:
        try:
            if isinstance(self._body, bytes):
                self.reply = self._client.post("/v1/verify", content=self._body, headers=JSON)
            else:
                self.reply = self._client.post("/v1/verify", json=self._body)
        finally:
            self.done.set()

    def result(self) -> httpx.Response:
        self._thread.join(timeout=180)
        self._client.close()
        assert self.reply is not None, "the request got no answer"
        return self.reply


def unanchored(world: World, registry: str | None = None) -> bytes:
    """A well-formed document of the world's department that no anchor covers: only the chain can say so."""
    issuer = {
        "department": "0x" + SAMR.hex(),
        "chainId": world.chain_id,
        "registry": registry or world.registry.address,
    }
    validity = {"validFrom": iso(time.time() - 3600), "validUntil": None}
    batch = wrap_batch([sample_business_licence(7), sample_business_licence(8)], BUSINESS_LICENSE, issuer, validity)
    return document_to_bytes(batch.documents[0])


def assert_operations_answer(served: Served) -> None:
    """/livez, /readyz, /healthz and /metrics answer (whatever they say)."""
    assert served.client.get("/livez").json() == {"status": "alive"}
    served.health("/readyz")
    served.health("/healthz")
    metrics = served.client.get("/metrics")
    assert metrics.status_code == 200 and "ereg_ready" in metrics.text


# ----------------------------------------------------------------- registry not found
def test_a_registry_address_without_code_is_error_and_not_ready(world: World, tmp_path: Path) -> None:
    """A fresh chain, a wrong address or a node still resyncing: no code at the registry's
    address. Every verification is ERROR (DOCUMENT_STATUS REGISTRY_NOT_FOUND), never a 500 and
    never INVALID; /readyz and /healthz say not ready and why."""
    empty = to_checksum_address("0x" + os.urandom(20).hex())
    assert not world.client.code_at(empty)
    settings = verifier_settings(world, tmp_path, registry_address=empty)
    doc = unanchored(world, registry=empty)
    with serve(settings) as served:
        for _ in range(20):
            result = served.verify(doc)
            assert_verdict(
                result,
                "ERROR",
                DOCUMENT_INTEGRITY=("VALID", "OK"),
                DOCUMENT_STATUS=("ERROR", "REGISTRY_NOT_FOUND"),
                ISSUER_IDENTITY=("ERROR", "CHAIN_UNAVAILABLE"),
            )
        as_qr_less_wrapper = served.verify({"document": doc.decode()})
        assert as_qr_less_wrapper["verdict"] == "ERROR"
        served.wait_until(lambda: served.health().json()["checks"]["registry"]["state"] == "failing", "probed")
        for path in ("/readyz", "/healthz"):
            reply = served.health(path)
            assert reply.status_code == 503, reply.text
            body = reply.json()
            assert body["ready"] is False and body["status"] == "unavailable"
            registry = body["checks"]["registry"]
            assert registry["state"] == "failing" and registry["required"] is True
            assert "no DocumentRegistry code" in registry["detail"]
            assert body["checks"]["chain"]["state"] == "ok", "the node itself answers"


def test_a_node_of_another_genesis_is_not_ready(world: World, tmp_path: Path) -> None:
    """Right chain id, wrong genesis (another network that took the same id): /readyz says so."""
    settings = verifier_settings(world, tmp_path, genesis_hash="0x" + "ab" * 32)
    with serve(settings) as served:
        served.wait_until(lambda: served.health().json()["checks"]["chainId"]["state"] == "failing", "probed")
        reply = served.health("/readyz")
        assert reply.status_code == 503 and reply.json()["ready"] is False, reply.text
        assert "genesis" in reply.json()["checks"]["chainId"]["detail"]
    right = world.client.w3.eth.get_block(0)["hash"]
    with serve(verifier_settings(world, tmp_path / "right", genesis_hash="0x" + bytes(right).hex())) as served:
        served.wait_until(lambda: served.health().json()["checks"]["chainId"]["state"] == "ok", "probed")


# ------------------------------------------------------------------------- a hung node
def test_a_stopped_chain_node_delays_only_what_needs_the_chain(tmp_path: Path) -> None:
    require(HARDHAT_BIN.exists(), "Hardhat is not installed (run `npm ci` in hardhat_local)")
    node = start_hardhat(tmp_path / "chain", mode="dev")
    stopped = False
    try:
        world = build_world(node, tmp_path / "deployments")
        docs = _issue_on(world, tmp_path / "issued", EmbeddedStore(tmp_path / "blocks"), 3)
        needs_chain = unanchored(world)
        # the first call into the stopped node waits out a long timeout; one slot for the chain
        settings = verifier_settings(
            world,
            tmp_path,
            request_timeout=60.0,
            max_index_age=600.0,
            chain_concurrency=1,
            request_deadline=120.0,
            health_timeout=0.5,
        )
        with serve(settings) as served:
            head = world.client.block_number()
            served.wait_until(lambda: served.health().json()["index"]["block"] >= head, "the index caught up")
            assert_verdict(served.verify(docs[0].raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
            assert_verdict(served.verify(needs_chain), "INVALID", DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"))

            os.killpg(node.process.pid, signal.SIGSTOP)
            stopped = True
            hung = InFlight(served, needs_chain)
            bulkhead = served.runtime.chain._bulkhead
            assert bulkhead is not None
            served.wait_until(lambda: bulkhead.in_flight == 1, "the chain-bound request reached the node")

            # while it waits on the node: the index answers, the operations endpoints answer
            assert_verdict(served.verify(docs[0].raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
            assert served.client.get("/livez").status_code == 200
            assert not hung.done.is_set(), "the chain-bound request is still waiting on the node"
            for _ in range(3):
                for doc in docs:
                    assert_verdict(served.verify(doc.raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
                    assert_verdict(served.verify({"document": doc.obj()}), "VALID")
                assert_operations_answer(served)
            # another request needing the chain finds its bulkhead full: ERROR at once, no queue
            busy = served.verify(needs_chain)
            assert_verdict(busy, "ERROR", DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
            served.wait_until(
                lambda: served.health().json()["checks"]["chain"]["state"] == "failing", "the prober saw the node hang"
            )
            health = served.health()
            assert health.status_code == 503 and health.json()["chain"] == {"reachable": False}
            assert not hung.done.is_set(), "the chain-bound request is still waiting on the node"

            os.killpg(node.process.pid, signal.SIGCONT)
            stopped = False
            reply = hung.result()
            assert reply.status_code == 200, reply.text
            assert reply.json()["verdict"] in ("INVALID", "ERROR"), reply.text  # never VALID, never a 500

        # the per-call timeout bounds a call into a stopped node: ERROR, then the breaker answers at once
        short = verifier_settings(world, tmp_path / "short", request_timeout=1.0, max_index_age=600.0)
        (tmp_path / "short").mkdir()
        with serve(short) as served:
            served.wait_until(lambda: served.health().json()["ready"], "ready")
            os.killpg(node.process.pid, signal.SIGSTOP)
            stopped = True
            for _ in range(3):
                assert_verdict(served.verify(needs_chain), "ERROR", DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
            assert_verdict(served.verify(docs[1].raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
            assert_operations_answer(served)
    finally:
        if stopped:
            os.killpg(node.process.pid, signal.SIGCONT)
        stop_hardhat(node)


# ------------------------------------------------------------------------ a hung daemon
@pytest.mark.parametrize("node", ["dev"], indirect=True)
def test_a_stopped_ipfs_daemon_delays_only_what_needs_storage(world: World, issue: IssueFn, tmp_path: Path) -> None:
    require(JSIPFS.exists(), f"js-ipfs is not installed ({JSIPFS} missing; run `npm ci` in hardhat_local)")
    run_dir = tmp_path / "ipfs"
    daemon = start_ipfs(run_dir)
    stopped = False
    try:
        with IpfsStore(daemon.api, timeout=20.0) as ipfs:
            docs: list[Issued] = issue(count=3, store_override=ipfs)
        settings = verifier_settings(
            world,
            tmp_path,
            ipfs_api=daemon.api,
            ipfs_timeout=30.0,
            ipfs_concurrency=1,
            request_deadline=120.0,
            health_timeout=0.5,
        )
        with serve(settings) as served:
            head = world.client.block_number()
            served.wait_until(lambda: served.health().json()["index"]["block"] >= head, "the index caught up")
            assert_verdict(served.verify({"qr": docs[0].url}), "VALID", STORAGE=("VALID", "OK"))

            os.killpg(daemon.pid, signal.SIGSTOP)
            stopped = True
            hung = InFlight(served, {"qr": docs[1].url})
            store = served.runtime.store
            assert store is not None
            bulkhead = store.bulkhead  # type: ignore[attr-defined]
            served.wait_until(lambda: bulkhead.in_flight == 1, "the QR check reached the daemon")

            assert_verdict(served.verify(docs[0].raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
            assert served.client.get("/livez").status_code == 200
            assert not hung.done.is_set(), "the QR check is still waiting on the daemon"
            for _ in range(3):
                for doc in docs:  # window checks need no IPFS
                    assert_verdict(served.verify(doc.raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
                assert_operations_answer(served)
            busy = served.verify({"qr": docs[2].url})
            assert_verdict(busy, "ERROR", STORAGE=("ERROR", "IPFS_UNAVAILABLE"))
            assert_verdict(served.verify(stored(docs[2])), "ERROR", STORAGE=("ERROR", "IPFS_UNAVAILABLE"))
            blob = served.client.get(f"/v1/documents/{docs[2].obj()['proof']['cid']}")
            assert blob.status_code == 503 and blob.json()["error"]["code"] == "IPFS_UNAVAILABLE"
            served.wait_until(
                lambda: served.health().json()["checks"]["ipfs"]["state"] == "failing", "the prober saw the daemon hang"
            )
            health = served.health()
            assert health.status_code == 200, "IPFS is reported, not required: window checks still work"
            assert health.json()["status"] == "degraded" and health.json()["ready"] is True
            assert not hung.done.is_set(), "the QR check is still waiting on the daemon"

            os.killpg(daemon.pid, signal.SIGCONT)
            stopped = False
            reply = hung.result()
            assert reply.status_code == 200, reply.text

        # ipfs_timeout bounds a call into a stopped daemon: the QR check is ERROR within the deadline
        short = verifier_settings(world, tmp_path / "short", ipfs_api=daemon.api, ipfs_timeout=1.0)
        (tmp_path / "short").mkdir()
        with serve(short) as served:
            os.killpg(daemon.pid, signal.SIGSTOP)
            stopped = True
            for doc in docs:
                assert_verdict(served.verify({"qr": doc.url}), "ERROR", STORAGE=("ERROR", "IPFS_UNAVAILABLE"))
            assert_verdict(served.verify(docs[0].raw()), "VALID")
    finally:
        if stopped:
            os.killpg(daemon.pid, signal.SIGCONT)
        stop_ipfs(run_dir)
