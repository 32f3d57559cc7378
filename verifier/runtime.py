"""The verifier's runtime and its wiring: what a request needs, built once per process.

Settings, the chain client, the index and its follower thread, the verification service with
its chain gateway and document store (each behind its bulkhead), the request pool, the health
prober and the metrics. Nothing here connects at build time: the follower, the prober and the
fallback path connect on first use, so the service starts (and answers ERROR, "not ready")
while the chain or IPFS is down.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from chain.client import connect
from chain.errors import RegistryNotFound
from chain.property import recorded_property_registry
from chain.registry import read_deployment_record, recorded_address
from chainindex import ChainIndex
from httpkit.blocking import Bulkhead, WorkerPool
from storage import DocumentStore, EmbeddedStore
from storage.errors import StorageError
from verification.backends import GuardedStore
from verification.gateway import ChainGateway
from verification.service import VerificationService
from verifier.health import HealthProber
from verifier.metrics import Metrics
from verifier.settings import VerifierSettings

log = logging.getLogger("ereg.verifier")

#: How much longer than its own deadline the HTTP client waits for the IPFS node's answer.
IPFS_GRACE = 1.0


@dataclass
class Runtime:
    """Everything a request needs; built once per process in the app's lifespan."""

    settings: VerifierSettings
    registry_address: str
    property_address: str | None
    index: ChainIndex
    service: VerificationService
    store: DocumentStore | None
    chain: ChainGateway
    metrics: Metrics
    pool: WorkerPool
    health: HealthProber
    stop_event: threading.Event = field(default_factory=threading.Event)
    follower: threading.Thread | None = None
    lock_file: IO[str] | None = None


def property_registry_address(settings: VerifierSettings, registry_address: str) -> str | None:
    """The PropertyRegistry to follow: the setting, else the deployment record's if it works with
    ``registry_address``; None when there is none (the verifier then checks documents only)."""
    if settings.property_registry_address:
        return settings.property_registry_address
    try:
        recorded = recorded_property_registry(
            settings.deployments_dir, settings.chain_id, document_registry=registry_address
        )
    except RegistryNotFound as exc:
        log.info("no PropertyRegistry followed: %s", exc)
        return None
    return recorded.address


def open_document_store(
    settings: VerifierSettings, *, timeout: float, grace: float = IPFS_GRACE
) -> DocumentStore | None:
    """The IPFS node's store (each operation bounded by ``timeout`` + ``grace``), else the embedded one, else none.

    Several nodes (a comma-separated ``ipfs_api``) are one replicated store: a read asks them in
    turn, the one that answered last first, and skips one that is down or serves wrong bytes.
    """
    if settings.ipfs_api:
        from storage.replicated import open_ipfs  # imported lazily: pulls in the HTTP client

        return open_ipfs(
            settings.ipfs_api,
            replication=settings.ipfs_replication,
            timeout=timeout,
            has_timeout=timeout,
            connect_timeout=min(timeout, 5.0),
            grace=grace,
        )
    if settings.store_dir:
        return EmbeddedStore(settings.store_dir)
    return None


def build_runtime(settings: VerifierSettings) -> Runtime:
    registry_address = settings.registry_address or recorded_address(settings.deployments_dir, settings.chain_id)
    property_address = property_registry_address(settings, registry_address)
    start_block = settings.index_start_block
    if start_block is None:
        record = read_deployment_record(settings.deployments_dir, settings.chain_id) or {}
        start_block = int(record.get("contracts", {}).get("DocumentRegistry", {}).get("blockNumber") or 0)
    client = connect(settings, check_chain=False)
    index = ChainIndex(
        settings.index_path,
        client,
        registry_address,
        start_block=start_block,
        confirmations=settings.confirmations,
        chunk_size=settings.log_chunk_size,
        property_address=property_address,
    )
    cooldown = settings.backend_cooldown
    gateway = ChainGateway.on_client(
        client,
        registry_address,
        property_address,
        bulkhead=Bulkhead("chain", settings.chain_concurrency, cooldown=cooldown),
    )
    store = open_document_store(settings, timeout=settings.ipfs_timeout)
    guarded = None
    if store is not None:
        guarded = GuardedStore(store, Bulkhead("ipfs", settings.ipfs_concurrency, cooldown=cooldown))
    service = VerificationService(
        chain_id=settings.chain_id,
        registry_address=registry_address,
        index=index,
        chain=gateway,
        store=guarded,
        max_index_age=settings.max_index_age,
    )
    metrics = Metrics()
    health = HealthProber(
        client=connect(settings.model_copy(update={"request_timeout": settings.health_timeout}), check_chain=False),
        chain_id=settings.chain_id,
        registry_address=registry_address,
        property_address=index.property_address,
        index=index,
        metrics=metrics,
        ipfs_probe=_ipfs_probe(settings),
        store_local=store is not None,
        interval=settings.health_interval,
        max_index_age=settings.max_index_age,
    )
    return Runtime(
        settings=settings,
        registry_address=registry_address,
        property_address=index.property_address,
        index=index,
        service=service,
        store=guarded,
        chain=gateway,
        metrics=metrics,
        pool=WorkerPool("verify", workers=settings.workers, queue=settings.worker_queue),
        health=health,
    )


def _ipfs_probe(settings: VerifierSettings) -> Callable[[], object] | None:
    """A cheap call on the IPFS node with the probe's short timeout; None without a node.

    With several nodes the probe passes while any of them answers (a read needs one).
    """
    if not settings.ipfs_api:
        return None
    from storage.replicated import open_ipfs

    probe_store = open_ipfs(
        settings.ipfs_api,
        replication=settings.ipfs_replication,
        timeout=settings.health_timeout,
        has_timeout=settings.health_timeout,
        connect_timeout=settings.health_timeout,
        grace=0.0,
    )

    probe: Callable[[], object] = probe_store.version
    return probe


def start(runtime: Runtime, *, follow: bool) -> None:
    """The health probes, and the index follower unless ``follow`` is off or another worker follows."""
    runtime.health.start(runtime.stop_event)
    if follow:
        _start_follower(runtime)


def _start_follower(runtime: Runtime) -> None:
    """Follow the chain in this process unless another worker already does (an flock decides)."""
    lock_path = Path(runtime.settings.index_path).with_suffix(".follow.lock")
    lock_file = lock_path.open("w")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.close()
        return
    runtime.lock_file = lock_file

    def follow() -> None:
        runtime.index.follow(runtime.stop_event, runtime.settings.index_poll_interval)

    runtime.follower = threading.Thread(target=follow, name="ereg-index-follower", daemon=True)
    runtime.follower.start()


def stop(runtime: Runtime) -> None:
    """Stop the threads (each ends within one backend timeout), the pool, then close the index and store."""
    runtime.stop_event.set()
    runtime.pool.close()
    if runtime.follower is not None:
        runtime.follower.join(timeout=10)
    runtime.health.join(timeout=5)
    if runtime.lock_file is not None:
        runtime.lock_file.close()
    runtime.index.close()
    if runtime.store is not None:
        with suppress(StorageError):
            runtime.store.close()
