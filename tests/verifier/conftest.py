"""Fixtures of the verifier tests: documents issued on the real node, and a verifier app over them.

``issue`` runs the real issuance engine (wrap, encrypt, store, anchor, write) with the world's
SAMR key into a store; ``verifier`` builds the FastAPI app for the world's registry with its own
SQLite index and follows the chain in the background like the service does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from documents.samples import sample_business_licence
from documents.sm2 import Sm2PrivateKey
from documents.suite import SUITE_KECCAK, Suite
from issuer.issuing import Issuer, IssueSettings
from storage import DocumentStore, EmbeddedStore
from tests.factories import BUSINESS_LICENSE, World
from verifier.app import create_app
from verifier.settings import VerifierSettings

VERIFIER_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Issued:
    name: str
    path: Path  # the holder's <name>.ereg.json
    url: str  # the QR URL (with the key in its fragment)
    png: Path

    def raw(self) -> bytes:
        return self.path.read_bytes()

    def obj(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded


IssueFn = Callable[..., list[Issued]]


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return EmbeddedStore(tmp_path / "blocks")


@pytest.fixture
def issue(world: World, store: DocumentStore, tmp_path: Path) -> IssueFn:
    """``issue(records=None, *, count=3, doc_type=..., key=None, valid_from=None, valid_until=None,
    verifier_url=VERIFIER_URL, suite=SUITE_KECCAK, sm2_key=None)``."""
    counter = iter(range(1_000_000))

    def run(
        records: Sequence[Mapping[str, Any]] | None = None,
        *,
        count: int = 3,
        doc_type: str = BUSINESS_LICENSE,
        key: LocalAccount | None = None,
        valid_from: str | None = None,
        valid_until: str | None = None,
        store_override: DocumentStore | None = None,
        verifier_url: str = VERIFIER_URL,
        suite: Suite = SUITE_KECCAK,
        sm2_key: Sm2PrivateKey | None = None,
    ) -> list[Issued]:
        run_id = next(counter)
        records = list(records) if records is not None else [sample_business_licence(i) for i in range(count)]
        inputs = tmp_path / f"records-{run_id}"
        inputs.mkdir()
        files = []
        for i, record in enumerate(records):
            path = inputs / f"doc-{run_id}-{i:03d}.json"
            path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            files.append(path)
        out = tmp_path / f"out-{run_id}"
        settings = IssueSettings(
            doc_type=doc_type,
            out_dir=out,
            verifier_url=verifier_url,
            # validity is judged by the verifier's wall clock; earlier tests may have moved the
            # chain's clock ahead (evm_increaseTime), so take the earlier of the two
            valid_from=valid_from
            or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(world.now(), int(time.time())) - 60)),
            valid_until=valid_until,
            batch_size=len(files),
            suite=suite,
        )
        Issuer(
            settings,
            registry=world.registry,
            sender=world.sender(key or world.samr_key),
            store=store_override or store,
            sm2_key=sm2_key,
        ).run(files)
        return [
            Issued(
                name=p.stem,
                path=out / f"{p.stem}.ereg.json",
                url=(out / f"{p.stem}.qr.url").read_text().strip(),
                png=out / f"{p.stem}.qr.png",
            )
            for p in files
        ]

    return run


def verifier_settings(world: World, tmp_path: Path, **overrides: Any) -> VerifierSettings:
    values: dict[str, Any] = {
        "rpc_url": world.node.rpc_url,
        "chain_id": world.chain_id,
        "registry_address": world.registry.address,
        "index_path": tmp_path / "index.sqlite",
        "index_start_block": world.deployment.block_number,
        "index_poll_interval": 0.1,
        "store_dir": tmp_path / "blocks",
        "request_timeout": 2.0,
        "health_interval": 0.1,
        # a test client is one address making hundreds of requests a second
        "rate_limit_per_second": 0,
    }
    values.update(overrides)
    return VerifierSettings(**values)


def wait_for_index(client: TestClient, timeout: float = 20.0) -> None:
    """Until the app says it is ready and its index holds the chain's head as of this call.

    The head is read from the chain here, not from /healthz: the health prober's view of the
    head may be a round old, and the test wants everything it did so far in the index.
    """
    head = client.app.state.runtime.index.client.block_number()  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = client.get("/healthz").json()
        if health.get("ready") and health["index"]["block"] >= head:
            return
        time.sleep(0.05)
    raise AssertionError(f"index did not catch up with block {head}: {client.get('/healthz').json()}")


@pytest.fixture
def verifier(world: World, tmp_path: Path) -> Iterator[TestClient]:
    """The verifier app on the world's registry (embedded store in tmp_path/blocks)."""
    app = create_app(verifier_settings(world, tmp_path))
    with TestClient(app) as client:
        yield client
