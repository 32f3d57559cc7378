"""Honest health: background probes of the chain, the registry's code and IPFS, read from a cache.

Liveness says the process answers, nothing more. Readiness says the verifier can decide: the
node answers, serves the configured chain id, the DocumentRegistry (and the PropertyRegistry it
follows) has code at its address, and the index synced recently. IPFS is reported too but not
required: a window check needs no IPFS, and taking every verifier out of rotation because the
daemon hangs would stop the checks that could still be answered.

The probes run in their own threads every ``health_interval`` seconds with short timeouts
(``health_timeout``), one thread for the chain and one for IPFS, so a hung backend delays
only its own probe. ``/healthz``, ``/readyz`` and ``/metrics`` read what the probes last saw
(and the local index's head) and never wait on a backend; every check carries its age, and a
check older than a few rounds counts as failing (a stuck probe is not a healthy backend).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain.client import ChainClient
from chain.errors import ChainError, WrongGenesis
from chainindex import ChainIndex
from storage.errors import StorageError
from verifier.metrics import Metrics

log = logging.getLogger("ereg.verifier.health")

#: Checks readiness needs; the others are reported only.
REQUIRED = ("chain", "chainId", "registry", "propertyRegistry", "index")


@dataclass(frozen=True)
class Check:
    """The last result of one check: passed or not, when (wall time), and why not."""

    ok: bool | None  # None: not checked yet
    checked_at: float | None = None
    detail: str | None = None

    def view(self, now: float, stale_after: float, required: bool) -> dict[str, Any]:
        age = None if self.checked_at is None else round(max(0.0, now - self.checked_at), 3)
        if self.ok is None:
            state = "unknown"
        elif age is not None and age > stale_after:
            state = "stale"
        else:
            state = "ok" if self.ok else "failing"
        return {"state": state, "required": required, "ageSeconds": age, "detail": self.detail}


@dataclass
class _Seen:
    """What the chain probe last saw (replaced whole, so readers never see half of a round)."""

    checks: dict[str, Check] = field(default_factory=dict)
    head: int | None = None


class HealthProber:
    """Probes in background threads; :meth:`report` answers from their last results."""

    def __init__(
        self,
        *,
        client: ChainClient,
        chain_id: int,
        registry_address: str,
        property_address: str | None,
        index: ChainIndex,
        metrics: Metrics,
        ipfs_probe: Callable[[], object] | None,
        store_local: bool = True,
        interval: float,
        max_index_age: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.chain_id = chain_id
        self.registry_address = registry_address
        self.property_address = property_address
        self.index = index
        self.metrics = metrics
        self.ipfs_probe = ipfs_probe
        self.interval = interval
        self.max_index_age = max_index_age
        self.clock = clock
        #: A check not refreshed within this many seconds is "stale" (its probe is stuck).
        self.stale_after = max(5.0, 5 * interval)
        local_detail = "embedded store (no IPFS node)" if store_local else "no document store configured"
        self._seen = _Seen(checks={name: Check(None) for name in self._chain_checks()})
        self._ipfs = Check(None) if ipfs_probe is not None else Check(store_local, None, local_detail)
        self._threads: list[threading.Thread] = []

    def _chain_checks(self) -> tuple[str, ...]:
        return ("chain", "chainId", "registry") + (("propertyRegistry",) if self.property_address else ())

    # ---------------------------------------------------------------------------- probes
    def start(self, stop: threading.Event) -> None:
        """Start the probe threads; they end when ``stop`` is set."""
        loops: list[tuple[str, Callable[[], None]]] = [("chain", self.probe_chain)]
        if self.ipfs_probe is not None:
            loops.append(("ipfs", self.probe_ipfs))
        for name, probe in loops:
            thread = threading.Thread(target=self._loop, args=(probe, stop), name=f"ereg-health-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, probe: Callable[[], None], stop: threading.Event) -> None:
        while not stop.is_set():
            probe()
            self.update_metrics()
            stop.wait(self.interval)

    def probe_chain(self) -> None:
        """One round: head, chain id, the registries' code; the rest fail at once when the node does not answer."""
        checks: dict[str, Check] = {}
        head: int | None = None
        try:
            head = self.client.block_number()
        except ChainError as exc:
            now = self.clock()
            reason = f"the node does not answer ({type(exc).__name__})"
            checks["chain"] = Check(False, now, reason)
            for name in self._chain_checks()[1:]:
                checks[name] = Check(False, now, "not checked: the node does not answer")
            self._seen = _Seen(checks, None)
            return
        checks["chain"] = Check(True, self.clock(), None)
        checks["chainId"] = self._timed(self._check_chain_id)
        checks["registry"] = self._timed(lambda: self._check_code(self.registry_address, "DocumentRegistry"))
        if self.property_address:
            address = self.property_address
            checks["propertyRegistry"] = self._timed(lambda: self._check_code(address, "PropertyRegistry"))
        self._seen = _Seen(checks, head)

    def probe_ipfs(self) -> None:
        assert self.ipfs_probe is not None  # noqa: S101 - started only with a probe
        try:
            self.ipfs_probe()
        except StorageError as exc:
            self._ipfs = Check(False, self.clock(), f"the IPFS node does not answer ({type(exc).__name__})")
        else:
            self._ipfs = Check(True, self.clock(), None)

    def _timed(self, check: Callable[[], str | None]) -> Check:
        """Run ``check`` (None: passed, else why not); a chain error fails it with its type's name."""
        try:
            problem = check()
        except ChainError as exc:
            return Check(False, self.clock(), f"could not be read ({type(exc).__name__})")
        return Check(problem is None, self.clock(), problem)

    def _check_chain_id(self) -> str | None:
        actual = self.client.run(lambda: int(self.client.w3.eth.chain_id))
        if actual != self.chain_id:
            return f"the node serves chain {actual}, not {self.chain_id}"
        try:
            self.client.check_genesis()  # when EREG_GENESIS_HASH is set: the very network, not only its id
        except WrongGenesis as exc:
            return exc.message
        return None

    def _check_code(self, address: str, name: str) -> str | None:
        return None if self.client.code_at(address) else f"no {name} code at {address}"

    # ---------------------------------------------------------------------------- answers
    def report(self) -> dict[str, Any]:
        """Every check with its state and age, the index, and whether the verifier is ready."""
        now = self.clock()
        seen = self._seen
        views = {name: check.view(now, self.stale_after, name in REQUIRED) for name, check in seen.checks.items()}
        views["ipfs"] = self._ipfs.view(now, self.stale_after, False)
        head = self.index.head()
        age = None if head.synced_at is None else round(max(0.0, now - head.synced_at), 3)
        fresh = age is not None and age <= self.max_index_age
        index: dict[str, Any] = {"block": head.block_number, "syncedSecondsAgo": age, "fresh": fresh}
        if seen.head is not None:
            index["lagBlocks"] = max(0, seen.head - head.block_number)
        if self.index.last_error is not None:
            index["lastError"] = type(self.index.last_error).__name__
        views["index"] = {
            "state": "ok" if fresh else ("unknown" if age is None else "failing"),
            "required": True,
            "ageSeconds": age,
            "detail": None if fresh else "the index has not synced recently",
        }
        ready = all(view["state"] == "ok" for view in views.values() if view["required"])
        healthy = ready and all(view["state"] == "ok" for view in views.values())
        chain_ok = views["chain"]["state"] == "ok"
        return {
            "status": "ok" if healthy else ("degraded" if ready else "unavailable"),
            "ready": ready,
            "chainId": self.chain_id,
            "registry": self.registry_address,
            "propertyRegistry": self.property_address,
            "chain": {"reachable": True, "head": seen.head} if chain_ok else {"reachable": False},
            "index": index,
            "checks": views,
        }

    def update_metrics(self) -> None:
        """The gauges /metrics shows, from the last results (called by the probes and by /metrics)."""
        report = self.report()
        metrics = self.metrics
        metrics.ready.set(1 if report["ready"] else 0)
        for name, view in report["checks"].items():
            metrics.health_check.labels(name).set(1 if view["state"] == "ok" else 0)
        index = report["index"]
        metrics.index_block.set(index["block"])
        if index["syncedSecondsAgo"] is not None:
            metrics.index_age.set(index["syncedSecondsAgo"])
        if "lagBlocks" in index:
            metrics.index_lag.set(index["lagBlocks"])
