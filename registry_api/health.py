"""Readiness of the relay, probed in the background and read by requests without waiting.

``/healthz``, ``/readyz`` and ``/metrics`` must answer while the node or the queue hangs: they
read the :class:`Readiness` a prober thread last made. The prober asks, every
``health_interval`` seconds and with its own client whose calls give up after
``health_timeout``: is the node reachable, on the configured chain id, with the
DocumentRegistry's code at its address (and the PropertyRegistry's, when one is configured or
recorded)? Does the queue answer? The batcher's state is read live (a thread's liveness and a
timestamp cost nothing). A probe still waiting on a backend after ``health_slow`` seconds (a
node or a queue nearby answers in milliseconds) is itself a "not ready", before its calls give
up: a hung backend never leaves a stale "ok" standing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chain.client import ChainClient
from chain.errors import ChainError, RegistryNotFound, WrongGenesis
from chain.property import recorded_property_registry
from registry_api.batcher import Batcher
from registry_api.metrics import RelayMetrics
from registry_api.queue import RequestQueue

log = logging.getLogger("ereg.relay.health")


@dataclass(frozen=True)
class ChainView:
    """What the node said at the last probe (``error``: the chain error's code, if any)."""

    reachable: bool = False
    chain_id: int | None = None
    right_chain: bool | None = None
    head: int | None = None
    registry_code: bool | None = None
    property_registry: str | None = None
    property_registry_code: bool | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return bool(
            self.reachable and self.right_chain and self.registry_code and self.property_registry_code is not False
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "chainId": self.chain_id,
            "rightChain": self.right_chain,
            "head": self.head,
            "registryCode": self.registry_code,
            "propertyRegistryCode": self.property_registry_code,
            "error": self.error,
        }


@dataclass(frozen=True)
class QueueView:
    reachable: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        # "queue" stays the counts by state, as clients of /healthz read it
        return {"queue": dict(self.counts), "queueReachable": self.reachable, "queueError": self.error}


@dataclass(frozen=True)
class Probe:
    """One completed probe, stamped with the monotonic time it finished."""

    chain: ChainView
    queue: QueueView
    finished: float


class HealthProber:
    """Probes the relay's backends from its own thread; :meth:`view` never waits on one."""

    def __init__(
        self,
        client: ChainClient,
        *,
        registry_address: str,
        property_address: str | None,
        deployments_dir: Path,
        queue: RequestQueue,
        batcher: Batcher,
        metrics: RelayMetrics,
        interval: float,
        timeout: float,
        slow: float,
        batcher_max_age: float,
    ) -> None:
        self.client = client  # its own client: calls give up after ``timeout``
        self.registry_address = registry_address
        self.property_address = property_address
        self.deployments_dir = deployments_dir
        self.queue = queue
        self.batcher = batcher
        self.metrics = metrics
        self.interval = interval
        self.timeout = timeout
        self.slow = slow
        self.batcher_max_age = batcher_max_age
        #: A probe makes at most four calls to the node and one to the queue.
        self.stale_after = interval + 5 * timeout
        self.batcher_thread: threading.Thread | None = None
        self.batcher_started: float | None = None
        self._last: Probe | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        #: The backend the running probe waits on ("chain" or "queue") and since when.
        self._waiting: tuple[str, float] | None = None

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="ereg-relay-health", daemon=True)
        self._thread.start()

    def wait_first(self, timeout: float) -> bool:
        """Wait (at start-up) until the first probe is in, at most ``timeout`` seconds."""
        return self._first.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.stale_after)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.probe_once()
            self._stop.wait(self.interval)

    def probe_once(self) -> Probe:
        """Probe the node and the queue now (the prober's thread; tests may call it)."""
        self._wait_on("chain")
        chain = self._probe_chain()
        self._wait_on("queue")
        queue = self._probe_queue()
        probe = Probe(chain, queue, time.monotonic())
        with self._lock:
            self._last = probe
            self._waiting = None
        self._first.set()
        for state, count in probe.queue.counts.items():
            self.metrics.requests.labels(state).set(count)
        return probe

    def _wait_on(self, backend: str) -> None:
        with self._lock:
            self._waiting = (backend, time.monotonic())

    def _right_genesis(self) -> bool:
        """Block 0 is the configured genesis (always true when EREG_GENESIS_HASH is not set)."""
        try:
            self.client.check_genesis()
        except WrongGenesis:
            return False
        return True

    def _probe_chain(self) -> ChainView:
        client = self.client
        try:
            chain_id = client.run(lambda: int(client.w3.eth.chain_id))
            right = chain_id == client.chain_id and self._right_genesis()
            head = client.block_number()
            registry_code = bool(client.code_at(self.registry_address))
            prop_address, prop_code = self._property_registry() if right else (None, None)
        except ChainError as exc:
            return ChainView(reachable=False, error=exc.code)
        except Exception as exc:  # noqa: BLE001 - a probe reports, it never dies
            log.warning("chain probe failed: %s", type(exc).__name__)
            return ChainView(reachable=False, error="PROBE_FAILED")
        return ChainView(
            reachable=True,
            chain_id=chain_id,
            right_chain=right,
            head=head,
            registry_code=registry_code,
            property_registry=prop_address if prop_code else None,
            property_registry_code=prop_code,
            error=None if right else "WRONG_CHAIN",
        )

    def _property_registry(self) -> tuple[str | None, bool | None]:
        """(address, code present); (None, None) when the relay has none configured or recorded."""
        address = self.property_address
        if address is None:
            try:
                recorded = recorded_property_registry(
                    self.deployments_dir, self.client.chain_id, document_registry=self.registry_address
                )
            except RegistryNotFound:
                return None, None
            address = recorded.address
        return address, bool(self.client.code_at(address))

    def _probe_queue(self) -> QueueView:
        try:
            return QueueView(reachable=True, counts=self.queue.counts())
        except Exception as exc:  # noqa: BLE001 - SQLite or PostgreSQL errors alike: not ready, say which
            log.warning("queue probe failed: %s", type(exc).__name__)
            return QueueView(reachable=False, error=type(exc).__name__)

    # ------------------------------------------------------------------- the view
    def view(self) -> dict[str, Any]:
        """Readiness as JSON: ``ready``, ``status`` and what each check saw; no backend is asked."""
        now = time.monotonic()
        with self._lock:
            last, waiting = self._last, self._waiting
        batcher = self._batcher_view()
        if last is None:
            return {"status": "starting", "ready": False, "checkedSecondsAgo": None, **self._parts(None), **batcher}
        age = now - last.finished
        hung = waiting[0] if waiting is not None and now - waiting[1] > self.slow else None
        if age > self.stale_after:
            hung = hung or "chain"  # the prober itself is stuck: nothing it saw still holds
        ready = last.chain.ok and last.queue.reachable and batcher["batcher"]["ok"] and hung is None
        body = {
            "status": "ok" if ready else "degraded",
            "ready": ready,
            "checkedSecondsAgo": round(age, 3),
            **self._parts(last),
            **batcher,
        }
        if hung == "chain":
            body["chain"] = {**body["chain"], "reachable": False, "error": "NOT_ANSWERING"}
        elif hung == "queue":
            body["queueReachable"], body["queueError"] = False, "NOT_ANSWERING"
        return body

    @staticmethod
    def _parts(last: Probe | None) -> dict[str, Any]:
        chain = last.chain if last is not None else ChainView()
        queue = last.queue if last is not None else QueueView()
        return {"chain": chain.as_json(), **queue.as_json(), "propertyRegistry": chain.property_registry}

    def _batcher_view(self) -> dict[str, Any]:
        batcher = self.batcher
        thread = self.batcher_thread
        last = batcher.last_round
        running = thread is not None and thread.is_alive()
        since = last if last is not None else self.batcher_started
        age = None if since is None else time.time() - since
        # no batcher thread (tests drive rounds by hand): nothing to be stuck
        ok = thread is None or (running and (age is None or age <= self.batcher_max_age))
        return {
            "batcher": {
                "running": running,
                "ok": ok,
                "lastRoundSecondsAgo": None if last is None else round(time.time() - last, 3),
                "lastError": None if batcher.last_error is None else batcher.last_error.code,
            }
        }
