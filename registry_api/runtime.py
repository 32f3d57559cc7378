"""The relay's runtime: everything a request needs, built once per process, and its threads.

The app's lifespan builds a :class:`Runtime` (no connection is made: the service starts, and
answers 503, while the chain is down), starts the batcher and the health prober, and stops
them. Routes reach it through ``registry_api.api.deps`` only; nothing here knows of routes.

Blocking work runs in two bounded pools of its own, each call with a deadline: ``chain_pool``
for every request that needs the node (a hung node fills it, and further such requests get
503 BUSY at once instead of queueing without end) and ``queue_pool`` for the few that need the
queue only, so they are answered while the node hangs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eth_account.signers.local import LocalAccount

from chain.client import connect
from chain.registry import RegistryClient, recorded_address
from httpkit.blocking import WorkerPool
from httpkit.ratelimit import RateLimiter
from registry_api.batcher import Batcher
from registry_api.health import HealthProber
from registry_api.metrics import RelayMetrics
from registry_api.property import PropertyRelay
from registry_api.queue import RequestQueue, SqliteQueue
from registry_api.queue_pg import PostgresQueue
from registry_api.relay import Relay
from registry_api.settings import RelaySettings

T = TypeVar("T")

#: Threads and waiting places of the queue-only pool: reads of one indexed row each.
QUEUE_WORKERS = 4
QUEUE_WAITING = 64


@dataclass
class Runtime:
    """Everything a request needs; built once per process in the app's lifespan."""

    settings: RelaySettings
    registry: RegistryClient
    queue: RequestQueue
    relay: Relay
    batcher: Batcher
    metrics: RelayMetrics
    property: PropertyRelay
    health: HealthProber
    chain_pool: WorkerPool
    queue_pool: WorkerPool
    thread: threading.Thread | None = None

    async def on_chain(self, fn: Callable[[], T], *, deadline: float | None = None) -> T:
        """``fn()`` (which reads or writes the chain) in the chain pool, within the request deadline."""
        return await self.chain_pool.run(fn, deadline=deadline or self.settings.request_deadline)

    async def on_queue(self, fn: Callable[[], T]) -> T:
        """``fn()`` (which reads the queue only) in the queue pool, within the request deadline."""
        return await self.queue_pool.run(fn, deadline=self.settings.request_deadline)

    def start(self, *, run_batcher: bool) -> None:
        """Start the batcher (unless told not to) and the health prober; wait for the first probe
        a bounded time, so that a relay that just started says what it sees, not "starting"."""
        if run_batcher:
            self.thread = threading.Thread(target=self.batcher.run, name="ereg-relay-batcher", daemon=True)
            self.health.batcher_thread = self.thread
            self.health.batcher_started = time.time()
            self.thread.start()
        self.health.start()
        self.health.wait_first(self.health.stale_after)

    def stop(self) -> None:
        self.batcher.stop_event.set()
        self.health.stop()
        if self.thread is not None:
            self.thread.join(timeout=30)
        self.chain_pool.close()
        self.queue_pool.close()
        self.queue.close()


def open_queue(settings: RelaySettings) -> RequestQueue:
    """PostgreSQL when ``EREG_QUEUE_URL`` is set (several instances may share it), else the SQLite file."""
    if settings.queue_url is not None:
        return PostgresQueue(settings.queue_url.get_secret_value(), lease=settings.queue_lease)
    return SqliteQueue(settings.queue_path)


def key_limiter(settings: RelaySettings) -> RateLimiter | None:
    """The bucket per department key (signed items per second), or None when turned off."""
    if settings.key_rate_limit_per_second <= 0:
        return None
    return RateLimiter(settings.key_rate_limit_per_second, settings.key_rate_limit_burst)


def open_held_queue(settings: RelaySettings, account: LocalAccount) -> RequestQueue:
    """The queue, holding ``account`` as this instance's relayer key (RELAYER_KEY_IN_USE if a live
    instance on the same PostgreSQL queue holds it: each instance needs a key of its own)."""
    queue = open_queue(settings)
    try:
        queue.hold_relayer(account.address)
    except BaseException:
        queue.close()
        raise
    return queue


def build_runtime(
    settings: RelaySettings,
    relayer: LocalAccount | None = None,
    *,
    metrics: RelayMetrics | None = None,
    queue: RequestQueue | None = None,
) -> Runtime:
    """No chain connection is made here: the service starts, and answers 503, while the chain is
    down. The queue is opened (or ``queue``, opened by :func:`open_held_queue`, is taken) and holds
    the relayer key before anything else."""
    account = relayer or settings.relayer_account()
    queue = queue or open_held_queue(settings, account)
    try:
        client = connect(settings.chain_settings(), check_chain=False)
        address = settings.registry_address or recorded_address(settings.deployments_dir, settings.chain_id)
        registry = RegistryClient(client, address)
    except BaseException:
        queue.close()  # and with it the relayer key
        raise
    metrics = metrics or RelayMetrics()
    limiter = key_limiter(settings)
    relay = Relay(
        registry,
        queue,
        chain_id=settings.chain_id,
        relayer_address=account.address,
        deadline_margin=settings.deadline_margin,
        key_limiter=limiter,
        department_quota=settings.department_queue_quota,
        quota_retry_after=settings.batch_age,
    )
    batcher = Batcher(
        registry,
        queue,
        account,
        batch_size=settings.batch_size,
        batch_age=settings.batch_age,
        poll_interval=settings.poll_interval,
        retry_max=settings.retry_max,
        metrics=metrics,
    )
    # Property steps are sent at once (not queued) by the batcher's sender: one nonce counter per key.
    property_relay = PropertyRelay(
        client,
        batcher.sender,
        address=settings.property_registry_address,
        document_registry=registry.address,
        deployments_dir=settings.deployments_dir,
        deadline_margin=settings.deadline_margin,
        wait=settings.property_wait,
        steps=queue,
        steps_kept=settings.property_steps_kept,
        lookback_chunks=settings.property_lookback_chunks,
        key_limiter=limiter,
    )
    # The prober's own client: its calls give up after health_timeout, whatever request_timeout is.
    probe_client = connect(settings.model_copy(update={"request_timeout": settings.health_timeout}), check_chain=False)
    health = HealthProber(
        probe_client,
        registry_address=registry.address,
        property_address=settings.property_registry_address,
        deployments_dir=settings.deployments_dir,
        queue=queue,
        batcher=batcher,
        metrics=metrics,
        interval=settings.health_interval,
        timeout=settings.health_timeout,
        slow=settings.health_slow,
        batcher_max_age=settings.batcher_max_age,
    )
    return Runtime(
        settings=settings,
        registry=registry,
        queue=queue,
        relay=relay,
        batcher=batcher,
        metrics=metrics,
        property=property_relay,
        health=health,
        chain_pool=WorkerPool("relay-chain", workers=settings.workers, queue=settings.worker_queue),
        queue_pool=WorkerPool("relay-queue", workers=QUEUE_WORKERS, queue=QUEUE_WAITING),
    )
