"""Fixtures of the ``ereg`` document tests: a CLI home holding the world's keys, on the real node.

``cli`` is a home directory whose keystore holds the deployed world's governor (the deployer, who
holds no role), SAMR and NATRES keys and the five council members' keys ``member1`` …
``member5`` (scrypt with a low work factor, so that each command decrypts in milliseconds), and
the environment that points ``ereg`` at the world's node, registry and council. Its store is the embedded one
unless a test asks for the real js-ipfs daemon with ``@pytest.mark.parametrize("cli", ["ipfs"],
indirect=True)``.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account import Account
from typer.testing import CliRunner, Result

from chain.events import Event, EventScanner
from devstack.ipfs import IpfsDaemon
from issuer.cli import app
from registry_api.app import create_app
from storage import DocumentStore, EmbeddedStore
from tests.factories import World
from tests.registry_api.conftest import relay_settings

PASSWORD = "correct horse battery"
VERIFIER_URL = "http://127.0.0.1:8000"
KEYS = ("governor", "samr", "natres")
MEMBERS = tuple(f"member{i}" for i in range(1, 6))


def one_line_error(output: str) -> str:
    """The single ``ereg: ...`` line of a failed command (and nothing else)."""
    assert "Traceback" not in output, output
    lines = output.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{output}"
    assert lines[0].startswith("ereg: "), output
    return lines[0]


def write_records(directory: Path, records: Sequence[Mapping[str, Any]], prefix: str = "rec") -> list[str]:
    """Write ``records`` as ``<prefix>-NNN.json`` files; return their stems in issuing order."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for index, record in enumerate(records):
        name = f"{prefix}-{index:03d}"
        (directory / f"{name}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        names.append(name)
    return names


@dataclass
class Cli:
    """``ereg`` run in-process against the world's node, with helpers to look at the results."""

    world: World
    home: Path
    tmp: Path
    env: dict[str, str | None]
    ipfs: IpfsDaemon | None
    start_block: int
    runner: CliRunner = field(default_factory=CliRunner)

    @property
    def store_kind(self) -> str:
        return "ipfs" if self.ipfs else "embedded"

    def invoke(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        return self.runner.invoke(app, list(args), env={**self.env, **(env or {})})

    def __call__(self, *args: str, expect: int = 0, env: Mapping[str, str | None] | None = None) -> str:
        """Run ``ereg args``; assert the exit status; return what it printed."""
        result = self.invoke(*args, env=env)
        assert result.exit_code == expect, (
            f"ereg {' '.join(args)} -> {result.exit_code} (expected {expect}):\n{result.output}\n{result.exception!r}"
        )
        return result.output

    def fail(self, *args: str, expect: int = 1, env: Mapping[str, str | None] | None = None) -> str:
        """Run a command that must fail with one ``ereg: ...`` line; return that line."""
        result = self.invoke(*args, env=env)
        assert result.exit_code == expect, (
            f"ereg {' '.join(args)} -> {result.exit_code} (expected {expect}):\n{result.output}\n{result.exception!r}"
        )
        # handled by the CLI (typer.Exit), not an exception that escaped it
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return one_line_error(result.output)

    def issue(
        self,
        *paths: Path,
        out: Path,
        doc_type: str = "business-license",
        key: str = "samr",
        batch_size: int | None = None,
        expect: int = 0,
        env: Mapping[str, str | None] | None = None,
        extra: Sequence[str] = (),
    ) -> str:
        args = ["issue", *map(str, paths), "--type", doc_type, "--key", key, "--out", str(out), *extra]
        if batch_size is not None:
            args += ["--batch-size", str(batch_size)]
        if expect == 0:
            return self(*args, env=env)
        return self.fail(*args, expect=expect, env=env)

    def govern(self, draft: Path, *, members: Sequence[str] = MEMBERS[:3], sender: str = "member1") -> str:
        """The whole ceremony for ``draft``: seal it (unless sealed), sign by ``members``, execute and,
        when scheduled, move the node's clock past the delay and execute again; returns the last output."""
        if json.loads(draft.read_text(encoding="utf-8"))["proposal"]["deadline"] == 0:
            self("gov", "propose", str(draft))
        for member in members:
            self("gov", "sign", str(draft), "--key", member, "--yes")
        printed = self("gov", "execute", str(draft), "--key", sender)
        if json.loads(draft.read_text(encoding="utf-8"))["proposal"]["kind"] == "scheduled":
            self.world.increase_time(self.world.council.min_delay() + 1)
            printed = self("gov", "execute", str(draft), "--key", sender)
        assert "carried out" in printed, printed
        return printed

    def store(self) -> DocumentStore:
        if self.ipfs is not None:
            from storage.ipfs import IpfsStore

            return IpfsStore(self.ipfs.api, timeout=20.0)
        return EmbeddedStore(self.home / "blocks")

    def events(self, name: str | None = None) -> list[Event]:
        """The registry's events since this fixture was set up (optionally of one name)."""
        scanner = EventScanner(self.world.client, self.world.registry.artifact, self.world.registry.address)
        head = self.world.client.block_number()
        found = list(scanner.scan(self.start_block + 1, head)) if head > self.start_block else []
        return [e for e in found if name is None or e.name == name]

    def anchored_roots(self) -> list[str]:
        """Roots of the BatchAnchored events since set-up, in order (duplicates kept)."""
        return ["0x" + bytes(e.args["root"]).hex() for e in self.events("BatchAnchored")]


def write_keystore(directory: Path, name: str, key: bytes, password: str = PASSWORD) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, stat.S_IRWXU)
    keystore = Account.encrypt(key, password, kdf="scrypt", iterations=2**10)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(keystore), encoding="utf-8")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


@pytest.fixture
def cli(request: pytest.FixtureRequest, world: World, tmp_path: Path) -> Cli:
    """A CLI home with the world's keys; embedded store, or js-ipfs when parametrized with "ipfs"."""
    kind = getattr(request, "param", "embedded")
    assert kind in ("ipfs", "embedded"), kind
    daemon: IpfsDaemon | None = request.getfixturevalue("ipfs_daemon") if kind == "ipfs" else None
    home = tmp_path / "home"
    accounts = {"governor": world.governor, "samr": world.samr_key, "natres": world.natres_key}
    accounts.update(zip(MEMBERS, world.members, strict=True))
    for name, account in accounts.items():
        write_keystore(home / "keys", name, bytes(account.key))
    env: dict[str, str | None] = {
        "EREG_HOME": str(home),
        "EREG_RPC_URL": world.node.rpc_url,
        "EREG_CHAIN_ID": str(world.chain_id),
        "EREG_REGISTRY_ADDRESS": world.registry.address,
        "EREG_COUNCIL_ADDRESS": world.council.address,
        "EREG_KEY_PASSWORD": PASSWORD,
        "EREG_VERIFIER_URL": VERIFIER_URL,
        "EREG_IPFS_API": daemon.api if daemon else None,
        "EREG_KEYS_DIR": None,
        "EREG_DEPLOYMENTS_DIR": None,
    }
    return Cli(
        world=world,
        home=home,
        tmp=tmp_path,
        env=env,
        ipfs=daemon,
        start_block=world.client.block_number(),
    )


# ----------------------------------------------------------------------- a real relay
@dataclass
class RunningRelay:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def get(self, path: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.url + path, timeout=10).json()
        return body

    def requests_for(self, root: str) -> list[dict[str, Any]]:
        body = self.get(f"/v1/anchors/{root}")
        requests: list[dict[str, Any]] = body.get("requests", [])
        return requests


StartRelay = Callable[..., RunningRelay]


@pytest.fixture
def start_relay(world: World, tmp_path: Path) -> Iterator[StartRelay]:
    """``start_relay(**settings)``: the relay app served by uvicorn in a thread, batcher running."""
    started: list[RunningRelay] = []

    def start(**overrides: Any) -> RunningRelay:
        queue_dir = tmp_path / f"relay-{len(started)}"
        queue_dir.mkdir()
        settings = relay_settings(world, queue_dir, **overrides)
        app = create_app(settings, relayer=world.relayer, run_batcher=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        give_up = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < give_up, "the relay did not start"
            time.sleep(0.02)
        relay = RunningRelay(f"http://127.0.0.1:{port}", server, thread)
        started.append(relay)
        return relay

    try:
        yield start
    finally:
        for relay in started:
            relay.server.should_exit = True
        for relay in started:
            relay.thread.join(timeout=30)


@pytest.fixture
def relay(start_relay: StartRelay) -> RunningRelay:
    return start_relay()
