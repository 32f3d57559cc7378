"""Fixtures of the relay tests: the relay app over the world's registry, with its own queue file.

``relay`` runs without the background batcher, so a test drives it round by round
(``runtime.batcher.run_once(force=True)``); ``make_relay`` builds apps with any settings,
including the background batcher.

``postgres`` is a real PostgreSQL server (Debian's ``postgresql`` package) started once for the
session in a throwaway cluster; ``postgres_url`` is a fresh database on it for one test;
``make_queue`` builds queues of each back end (SQLite file, PostgreSQL database) for the
queue's contract tests, the same location each time it is called within a test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from chain.types import SignedAnchor, SignedStatusChange
from devstack.postgres import PostgresServer, create_database, find_bin_dir, start_postgres, stop_postgres
from registry_api.app import create_app
from registry_api.queue import RequestQueue, SqliteQueue
from registry_api.queue_pg import PostgresQueue
from registry_api.runtime import Runtime
from registry_api.settings import RelaySettings
from tests.conftest import require
from tests.factories import World


def relay_settings(world: World, tmp_path: Path, **overrides: Any) -> RelaySettings:
    values: dict[str, Any] = {
        "rpc_url": world.node.rpc_url,
        "chain_id": world.chain_id,
        "registry_address": world.registry.address,
        "queue_path": tmp_path / "relay-queue.sqlite",
        "batch_age": 0.2,
        "poll_interval": 0.05,
        "retry_max": 0.5,
        "request_timeout": 2.0,
    }
    values.update(overrides)
    return RelaySettings(**values)


def runtime_of(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def anchor_json(signed: SignedAnchor, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "root": "0x" + signed.root.hex(),
        "docType": "0x" + signed.doc_type.hex(),
        "count": signed.count,
        "deadline": signed.deadline,
        "signature": "0x" + signed.signature.hex(),
    }
    body.update(extra)
    return body


def change_json(signed: SignedStatusChange, **extra: Any) -> dict[str, Any]:
    change = signed.change
    body: dict[str, Any] = {
        "action": change.action.name,
        "root": "0x" + change.root.hex(),
        "targetHash": "0x" + change.target_hash.hex(),
        "proof": ["0x" + p.hex() for p in change.proof],
        "successorRoot": "0x" + change.successor_root.hex(),
        "successor": "0x" + change.successor.hex(),
        "successorProof": ["0x" + p.hex() for p in change.successor_proof],
        "reason": change.reason,
        "nonce": str(signed.nonce),
        "deadline": signed.deadline,
        "signature": "0x" + signed.signature.hex(),
    }
    body.update(extra)
    return body


MakeRelay = Callable[..., TestClient]


@pytest.fixture
def make_relay(world: World, tmp_path: Path) -> Iterator[MakeRelay]:
    """``make_relay(run_batcher=False, relayer=None, **settings)``: a started relay app (stopped after
    the test), sending with ``relayer`` (default: the world's relayer key)."""
    with ExitStack() as stack:

        def make(*, run_batcher: bool = False, relayer: LocalAccount | None = None, **overrides: Any) -> TestClient:
            settings = relay_settings(world, tmp_path, **overrides)
            app = create_app(settings, relayer=relayer or world.relayer, run_batcher=run_batcher)
            return stack.enter_context(TestClient(app))

        yield make


@pytest.fixture
def relay(make_relay: MakeRelay) -> TestClient:
    return make_relay()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on a free loopback port, in a throwaway cluster, for the session."""
    require(
        find_bin_dir() is not None,
        "PostgreSQL is not installed (Debian package `postgresql`; scripts/system_deps.py installs it)",
    )
    require(os.geteuid() != 0 or shutil.which("runuser") is not None, "runuser is needed to start PostgreSQL as root")
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh, empty database for one test."""
    return create_database(postgres, f"test_{uuid.uuid4().hex[:16]}")


MakeQueue = Callable[..., RequestQueue]


@pytest.fixture(params=["sqlite", "postgres"])
def make_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeQueue]:
    """``make_queue()``: a queue of the parametrized back end; every call in a test opens the same
    store again (as another process would), and all are closed after the test."""
    opened: list[RequestQueue] = []
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")

        def make(**kwargs: Any) -> RequestQueue:
            opened.append(PostgresQueue(url, **kwargs))
            return opened[-1]

    else:

        def make(**kwargs: Any) -> RequestQueue:
            opened.append(SqliteQueue(tmp_path / "q.sqlite", **kwargs))
            return opened[-1]

    try:
        yield make
    finally:
        for queue in opened:
            queue.close()
