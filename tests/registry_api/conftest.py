"""Fixtures of the relay tests: the relay app over the world's registry, with its own queue file.

``relay`` runs without the background batcher, so a test drives it round by round
(``runtime.batcher.run_once(force=True)``); ``make_relay`` builds apps with any settings,
including the background batcher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chain.types import SignedAnchor, SignedStatusChange
from registry_api.app import Runtime, create_app
from registry_api.settings import RelaySettings
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
    """``make_relay(run_batcher=False, **settings)``: a started relay app (stopped after the test)."""
    with ExitStack() as stack:

        def make(*, run_batcher: bool = False, **overrides: Any) -> TestClient:
            settings = relay_settings(world, tmp_path, **overrides)
            app = create_app(settings, relayer=world.relayer, run_batcher=run_batcher)
            return stack.enter_context(TestClient(app))

        yield make


@pytest.fixture
def relay(make_relay: MakeRelay) -> TestClient:
    return make_relay()
