"""The relay as a real process, a client that keeps it busy, and the checks of a crash run.

Used by tests/registry_api/test_crash.py (a short run in CI) and scripts/chaos_relay.py (a long
one). The relay is started with ``python -m registry_api`` in its own process group, on one
SQLite queue file, and killed with SIGKILL; nothing here reaches into the service's memory.
(Restarts after the first are fast: the next process is started ahead with its imports done and
runs the same ``registry_api.__main__.main()`` when told to; see :class:`RelayProcess`.)
What it claims after the kills is checked against two witnesses it cannot influence: the
queue file as the dead process left it, and the registry's events on chain.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.events import EventScanner
from chain.types import Action, SignedAnchor, SignedStatusChange, StatusChange
from devstack.hardhat import HardhatNode, rpc
from devstack.node import is_anvil
from devstack.process import free_port, port_open

if TYPE_CHECKING:
    from tests.factories import World

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYSTORE_PASSWORD = "relay-chaos"

# ---------------------------------------------------------------------------- the world


def relay_world(node: HardhatNode, deployments_dir: Path) -> World:
    """A registry for a crash run on ``node``: deployed as in production (the 3-of-5 council with
    its time lock, then the registry governed by it: ``tests.factories.build_world``), and a relay
    key of its own.

    The council's set-up proposal was submitted by ``world.relayer``; :func:`check_run` counts
    every transaction of the relay's key, so the relay gets a fresh key that sends nothing else.
    """
    from tests.factories import build_world  # like World, imported only where it is used

    world = build_world(node, deployments_dir)
    world.relayer = Account.create()
    world.sender(world.relayer)  # funded on the dev chain
    return world


# ---------------------------------------------------------------------------- the process


def write_keystore(account: LocalAccount, path: Path, password: str = KEYSTORE_PASSWORD) -> Path:
    """The relayer's key as an encrypted keystore file (scrypt, cheap parameters for tests)."""
    keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=2**10)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keystore), encoding="utf-8")
    path.chmod(0o600)
    return path


def relay_env(
    *,
    rpc_url: str,
    chain_id: int,
    registry_address: str,
    queue_path: Path,
    keystore: Path,
    password: str = KEYSTORE_PASSWORD,
    settings: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """The environment of a relay process: EREG_* settings (extra ones by their lower-case name)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EREG_")}
    env.update(
        {
            "EREG_RPC_URL": rpc_url,
            "EREG_CHAIN_ID": str(chain_id),
            "EREG_REGISTRY_ADDRESS": registry_address,
            "EREG_QUEUE_PATH": str(queue_path),
            "EREG_RELAYER_KEYSTORE": str(keystore),
            "EREG_RELAYER_PASSWORD": password,
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name, value in (settings or {}).items():
        env[f"EREG_{name.upper()}"] = str(value)
    return env


#: A relay process that imports the service's modules first (web3, eth_account, FastAPI: most of
#: a cold start), then waits for one line on stdin and runs ``python -m registry_api``'s main.
#: Until that line it has not read its settings, opened the queue or bound the port.
_PREWARMED = """
import sys
import registry_api.__main__, registry_api.app, uvicorn
if sys.stdin.readline().strip() != "go":
    sys.exit(0)
sys.argv = ["registry_api", *sys.argv[1:]]
sys.exit(registry_api.__main__.main())
"""


class RelayProcess:
    """``python -m registry_api`` on a fixed port; started, SIGKILLed and restarted at will.

    With ``prewarm`` the next process is started ahead and has its imports done when it is
    told to go (a fast restart); it is the same service code from ``main()`` on. The first
    start is cold (plain ``python -m registry_api``, in :attr:`cold_times`); the others are in
    :attr:`start_times`.
    """

    def __init__(self, env: Mapping[str, str], run_dir: Path, *, port: int | None = None, prewarm: bool = True) -> None:
        self.env = dict(env)
        self.run_dir = run_dir
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self.log_file = run_dir / "relay.log"
        self.prewarm = prewarm
        self.proc: subprocess.Popen[bytes] | None = None
        self._spare: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.start_times: list[float] = []
        self.cold_times: list[float] = []  # plain ``python -m registry_api`` starts
        self._cold = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> float:
        """Start the relay; return once it answers HTTP (its start-up time in seconds)."""
        began = self.spawn()
        return self.wait_ready(began, timeout)

    def _args(self) -> list[str]:
        return ["--port", str(self.port), "--log-level", "warning"]

    def _popen(self, argv: list[str], stdin: int) -> subprocess.Popen[bytes]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            return subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=stdin,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def warm_spare(self) -> None:
        """Start the next relay process ahead (imports only), unless one waits already."""
        if self.prewarm and (self._spare is None or self._spare.poll() is not None):
            self._spare = self._popen([sys.executable, "-c", _PREWARMED, *self._args()], subprocess.PIPE)

    def spawn(self) -> float:
        """Start the process without waiting for it; the monotonic time it was started."""
        if self.running:
            raise RuntimeError("the relay is already running")
        began = time.monotonic()
        spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is None and spare.stdin is not None:
            spare.stdin.write(b"go\n")
            spare.stdin.close()
            self.proc = spare
            self.warm_spare()  # the next one imports while this one runs
        else:
            self.proc = self._popen([sys.executable, "-m", "registry_api", *self._args()], subprocess.DEVNULL)
            self._cold = True
        self.starts += 1
        return began

    def wait_ready(self, began: float, timeout: float = 30.0) -> float:
        """Wait until the relay listens (uvicorn binds after the app's start-up); its start-up time."""
        if self.proc is None:
            raise RuntimeError("the relay was not started")
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the relay exited with {self.proc.returncode}; see {self.log_file}")
            if self.answers():
                elapsed = time.monotonic() - began
                (self.cold_times if self._cold else self.start_times).append(elapsed)
                self._cold = False
                self.warm_spare()
                return elapsed
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"the relay did not answer within {timeout:.0f} s; see {self.log_file}")

    def answers(self) -> bool:
        """It accepts connections (no chain access: this holds while the node is stopped too)."""
        return port_open(self.host, self.port, timeout=0.2)

    def kill(self) -> None:
        """SIGKILL, no warning: the process gets no chance to finish anything."""
        self._signal(signal.SIGKILL)
        self.warm_spare()

    def stop(self) -> None:
        """A clean stop (SIGTERM; SIGKILL if it takes too long); a waiting spare process ends too."""
        if self.running:
            self._signal(signal.SIGTERM, wait=10.0)
            if self.running:
                self._signal(signal.SIGKILL)
        spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is None and spare.stdin is not None:
            spare.stdin.close()  # it reads end of file and exits without starting
            try:
                spare.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(spare.pid, signal.SIGKILL)
                spare.wait()

    def _signal(self, sig: signal.Signals, wait: float = 10.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)  # its own process group, started above
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            if sig != signal.SIGKILL:
                return
            raise


# -------------------------------------------------------------------------- the queue file


@dataclass(frozen=True)
class StoredRequest:
    id: str  # the request id the relay gives out (the row's integer key stays in the file)
    kind: str
    root: str
    dedup_key: str
    state: str
    tx_hash: str | None
    reason: str | None


def _connect(queue_path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(queue_path), timeout=30.0, isolation_level=None)
    db.execute("PRAGMA busy_timeout=30000")
    return db


def stored_requests(queue_path: Path) -> dict[str, StoredRequest]:
    """Every request in the queue file, read as a second process would."""
    if not queue_path.exists():
        return {}
    db = _connect(queue_path)
    try:
        rows = db.execute("SELECT public_id, kind, root, dedup_key, state, tx_hash, reason FROM requests").fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet: killed during its first start
        rows = []
    finally:
        db.close()
    return {str(r[0]): StoredRequest(str(r[0]), r[1], str(r[2]).lower(), r[3], r[4], r[5], r[6]) for r in rows}


@dataclass(frozen=True)
class QueueSnapshot:
    """Counts of request and outbox states: where the relay was when it died."""

    requests: dict[str, int]
    transactions: dict[str, int]

    def describe(self) -> str:
        req = ",".join(f"{k}={v}" for k, v in sorted(self.requests.items()))
        txs = ",".join(f"{k}={v}" for k, v in sorted(self.transactions.items()))
        return f"requests[{req}] tx[{txs}]"


def queue_snapshot(queue_path: Path) -> QueueSnapshot:
    if not queue_path.exists():
        return QueueSnapshot({}, {})
    db = _connect(queue_path)
    try:
        requests = dict(db.execute("SELECT state, COUNT(*) FROM requests GROUP BY state").fetchall())
        transactions = dict(db.execute("SELECT state, COUNT(*) FROM transactions GROUP BY state").fetchall())
    except sqlite3.OperationalError:
        requests, transactions = {}, {}
    finally:
        db.close()
    return QueueSnapshot(
        {str(k): int(v) for k, v in requests.items()}, {str(k): int(v) for k, v in transactions.items()}
    )


class QueueWatcher:
    """Polls the queue file (a reader in WAL mode never blocks the relay's writes)."""

    def __init__(self, queue_path: Path) -> None:
        self.queue_path = queue_path
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and self.queue_path.exists():
            self._db = _connect(self.queue_path)
        return self._db

    def count(self, sql: str) -> int:
        db = self._conn()
        if db is None:
            return 0
        try:
            return int(db.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


# ----------------------------------------------------------------------------- the client


def to_hex(value: bytes) -> str:
    return "0x" + value.hex()


def anchor_body(signed: SignedAnchor) -> dict[str, Any]:
    return {
        "root": to_hex(signed.root),
        "docType": to_hex(signed.doc_type),
        "count": signed.count,
        "deadline": signed.deadline,
        "signature": to_hex(signed.signature),
    }


def change_body(signed: SignedStatusChange) -> dict[str, Any]:
    change = signed.change
    return {
        "action": change.action.name,
        "root": to_hex(change.root),
        "targetHash": to_hex(change.target_hash),
        "proof": [to_hex(p) for p in change.proof],
        "successorRoot": to_hex(change.successor_root),
        "successor": to_hex(change.successor),
        "successorProof": [to_hex(p) for p in change.successor_proof],
        "reason": change.reason,
        "nonce": str(signed.nonce),
        "deadline": signed.deadline,
        "signature": to_hex(signed.signature),
    }


Kind = Literal["anchor", "status"]


@dataclass(frozen=True)
class Item:
    """One signed message the client sent; ``key`` names it (one anchor and one suspension per root)."""

    kind: Kind
    root: str
    body: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.root}"


#: The connection was refused: the request never reached a relay.
NOT_DELIVERED = "NOT_DELIVERED"


@dataclass
class ClientLog:
    """What the client knows: every item sent, and what became of it as far as it heard."""

    items: dict[str, Item] = field(default_factory=dict)
    accepted: dict[str, str] = field(default_factory=dict)  # key -> request id (a 202)
    unanswered: dict[str, Item] = field(default_factory=dict)  # sent, connection dropped
    refused: dict[str, str] = field(default_factory=dict)  # key -> error code (no 202)
    retried: int = 0
    duplicates_answered: int = 0  # 202 with duplicate: true (a retry of a stored request)
    posts: int = 0

    def accepted_ids(self) -> set[str]:
        return set(self.accepted.values())


class ChaosClient(threading.Thread):
    """Keeps POSTing signed anchors (single and several per request) and suspensions of FINAL roots.

    Connection failures are expected (the relay is killed under it); an unanswered item is
    sometimes sent again, byte for byte, as a real client would.
    """

    def __init__(
        self,
        world: World,
        url: str,
        *,
        seed: int,
        chain_time: int,
        pause: tuple[float, float] = (0.01, 0.05),
        max_items: int = 12,
        status_share: float = 0.2,
    ) -> None:
        super().__init__(name="relay-chaos-client", daemon=True)
        self.world = world
        self.url = url
        self.random = random.Random(seed)
        self.chain_time = chain_time
        self.mono = time.monotonic()
        self.pause = pause
        self.max_items = max_items
        self.status_share = status_share
        self.log = ClientLog()
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.posting = threading.Event()  # set while a POST is on the wire
        self.paused = threading.Event()
        self.errors: list[str] = []
        self._final_roots: list[str] = []  # accepted anchors seen FINAL, not yet suspended
        self._unchecked: list[str] = []  # accepted anchors not yet seen FINAL

    def deadline(self) -> int:
        """An hour ahead of the chain's clock, without asking the node (it may be stopped)."""
        return self.chain_time + int(time.monotonic() - self.mono) + 3600

    def run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(10.0, connect=1.0)) as http:
            while not self.stop_event.is_set():
                if self.paused.is_set():
                    time.sleep(0.02)
                    continue
                try:
                    self._step(http)
                except Exception as exc:  # noqa: BLE001 - recorded; the test fails on any
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(self.random.uniform(*self.pause))

    def _step(self, http: httpx.Client) -> None:
        roll = self.random.random()
        with self.lock:
            retry = list(self.log.unanswered.values())
        if retry and roll < 0.15:
            item = self.random.choice(retry)
            with self.lock:
                self.log.retried += 1
            self._post(http, [item])
            return
        if self._unchecked and self.random.random() < 0.3:
            self._learn_final(http)
        if self._final_roots and roll < 0.15 + self.status_share:
            root = self._final_roots.pop(self.random.randrange(len(self._final_roots)))
            change = StatusChange(Action.SUSPEND, bytes.fromhex(root[2:]), reason=self.random.randint(1, 9))
            signed = self.world.sign_change(change, deadline=self.deadline())
            self._post(http, [Item("status", root, change_body(signed))])
            return
        count = 1 if self.random.random() < 0.4 else self.random.randint(2, self.max_items)
        self._post(http, self.new_anchors(count))

    def new_anchors(self, count: int) -> list[Item]:
        items = []
        for _ in range(count):
            signed = self.world.sign_anchor(
                os.urandom(32), count=self.random.randint(1, 10_000), deadline=self.deadline()
            )
            items.append(Item("anchor", to_hex(signed.root), anchor_body(signed)))
        return items

    def post_now(self, count: int) -> list[str]:
        """Post ``count`` new anchors from the caller's thread; their ids if accepted."""
        items = self.new_anchors(count)
        with httpx.Client(timeout=10.0) as http:
            self._post(http, items)
        with self.lock:
            return [self.log.accepted[i.key] for i in items if i.key in self.log.accepted]

    def _learn_final(self, http: httpx.Client) -> None:
        """Ask for a few accepted anchors; those FINAL may be suspended."""
        with self.lock:
            ids = [(root, self.log.accepted[f"anchor:{root}"]) for root in self._unchecked[:5]]
        for root, request_id in ids:
            try:
                reply = http.get(f"{self.url}/v1/requests/{request_id}")
            except httpx.TransportError:
                return
            if reply.status_code == 200 and reply.json()["state"] == "FINAL":
                with self.lock:
                    self._unchecked.remove(root)
                    self._final_roots.append(root)

    def _post(self, http: httpx.Client, items: list[Item]) -> None:
        kind = items[0].kind
        path = "/v1/anchors" if kind == "anchor" else "/v1/status-changes"
        with self.lock:
            for item in items:
                self.log.items.setdefault(item.key, item)
            self.log.posts += 1
        self.posting.set()
        try:
            reply = http.post(f"{self.url}{path}", json=[i.body for i in items])
        except httpx.ConnectError:
            self._record(items, code=NOT_DELIVERED)
            self._wait_for_relay()
            return
        except httpx.TransportError:  # sent, and the relay died before it answered
            self._record(items, code=None)
            return
        finally:
            self.posting.clear()
        if reply.status_code == 202:
            answered = reply.json()["requests"]
            with self.lock:
                for item, answer in zip(items, answered, strict=True):
                    if answer["root"].lower() != item.root:
                        self.errors.append(f"the answer names {answer['root']} for {item.root}")
                    self.log.accepted[item.key] = str(answer["id"])
                    self.log.unanswered.pop(item.key, None)
                    self.log.refused.pop(item.key, None)
                    if answer["duplicate"]:
                        self.log.duplicates_answered += 1
                    if item.kind == "anchor":
                        self._unchecked.append(item.root)
            return
        try:
            code = str(reply.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            code = f"HTTP_{reply.status_code}"
        self._record(items, code=code)

    def _wait_for_relay(self) -> None:
        """The relay is down: wait until it listens again (cheaply: its start-up needs the CPU)."""
        address = httpx.URL(self.url)
        while not self.stop_event.is_set() and not port_open(address.host, address.port or 80, timeout=0.1):
            time.sleep(0.02)

    def _record(self, items: list[Item], *, code: str | None) -> None:
        with self.lock:
            for item in items:
                if item.key in self.log.accepted:
                    continue  # a retry of an item already accepted: nothing new learnt
                if code is None:
                    self.log.unanswered[item.key] = item
                    self.log.refused.pop(item.key, None)
                elif item.key not in self.log.unanswered:
                    self.log.refused[item.key] = code

    def snapshot(self) -> ClientLog:
        with self.lock:
            return ClientLog(
                items=dict(self.log.items),
                accepted=dict(self.log.accepted),
                unanswered=dict(self.log.unanswered),
                refused=dict(self.log.refused),
                retried=self.log.retried,
                duplicates_answered=self.log.duplicates_answered,
                posts=self.log.posts,
            )


# ------------------------------------------------------------------------ kill scheduling

#: Where a kill is aimed: during start-up (schema, first reconciliation round), at a random
#: moment, in the middle of a POST, with a transaction recorded but perhaps not sent, with one
#: sent and awaiting its receipt, with requests mined and awaiting their confirmations; and
#: "committed": right after a POST's requests were committed, before (or while) it answers.
STRATEGIES = ("random", "accepting", "committed", "prepared", "sent", "confirming", "starting")

_WATCH_SQL = {
    "prepared": "SELECT COUNT(*) FROM transactions WHERE state = 'PREPARED'",
    "sent": "SELECT COUNT(*) FROM transactions WHERE state = 'SENT'",
    "confirming": "SELECT COUNT(*) FROM requests WHERE state = 'ANCHORED'",
}


def wait_for_moment(
    strategy: str,
    rng: random.Random,
    *,
    client: ChaosClient,
    watcher: QueueWatcher,
    limit: float = 3.0,
) -> bool:
    """Sleep until the moment ``strategy`` aims at (True) or ``limit`` seconds passed (False)."""
    end = time.monotonic() + limit
    if strategy == "random":
        time.sleep(rng.uniform(0.0, min(limit, 1.5)))
        return True
    if strategy == "accepting":
        while time.monotonic() < end:
            if client.posting.wait(timeout=0.05):
                time.sleep(rng.uniform(0.0, 0.08))  # somewhere in the chain checks, the commit or the answer
                return True
        return False
    if strategy == "committed":
        newest = "SELECT COALESCE(MAX(id), 0) FROM requests"
        base = watcher.count(newest)
        while time.monotonic() < end:
            if watcher.count(newest) > base:
                return True
            time.sleep(0.001)
        return False
    sql = _WATCH_SQL[strategy]
    while time.monotonic() < end:
        if watcher.count(sql) > 0:
            time.sleep(rng.uniform(0.0, 0.005))
            return True
        time.sleep(0.002)
    return False


# ------------------------------------------------------------------------------ the checks


@dataclass
class ChainFacts:
    """What the chain says, from the registry's events since its deployment."""

    anchored: dict[str, list[str]]  # root -> tx hash of each BatchAnchored event
    suspended: dict[str, list[str]]  # root -> tx hash of each whole-batch DocumentSuspended event
    relayer_transactions: int  # the relayer's nonce: transactions it got mined


def chain_facts(world: World, relayer: str) -> ChainFacts:
    client = world.client
    scanner = EventScanner(client, world.registry.artifact, world.registry.address)
    start = world.deployment.block_number or 0
    head = client.block_number()
    anchored: dict[str, list[str]] = {}
    suspended: dict[str, list[str]] = {}
    for event in scanner.scan(start, head):
        if event.name == "BatchAnchored":
            anchored.setdefault(to_hex(bytes(event.args["root"])), []).append(event.tx_hash)
        elif event.name == "DocumentSuspended" and bytes(event.args["targetHash"]) == bytes(32):
            suspended.setdefault(to_hex(bytes(event.args["root"])), []).append(event.tx_hash)
    nonce = int(client.w3.eth.get_transaction_count(relayer))  # type: ignore[arg-type]
    return ChainFacts(anchored=anchored, suspended=suspended, relayer_transactions=nonce)


@dataclass
class Verdict:
    problems: list[str]
    duplicates: int
    final: int

    @property
    def ok(self) -> bool:
        return not self.problems


def check_run(log: ClientLog, stored: Mapping[str, StoredRequest], chain: ChainFacts) -> Verdict:
    """Every promise of a crash-safe relay, checked against the queue file and the chain.

    - an accepted (202) request is stored, FINAL, and on chain exactly once;
    - an unanswered one is absent (and not on chain) or FINAL (and on chain exactly once);
    - a refused one is absent and not on chain;
    - nothing is on chain that the client did not send, nothing is stored that it did not send;
    - no request is left behind (QUEUED, SUBMITTED, ANCHORED) or REJECTED;
    - every transaction of the relayer carried events (a doubled send would revert or be empty).
    """
    problems: list[str] = []
    by_key: dict[str, list[StoredRequest]] = {}
    for req in stored.values():
        by_key.setdefault(f"{req.kind}:{req.root}", []).append(req)

    def on_chain(key: str) -> list[str]:
        kind, _, root = key.partition(":")
        return (chain.anchored if kind == "anchor" else chain.suspended).get(root, [])

    for key, request_id in log.accepted.items():
        found = stored.get(request_id)
        if found is None:
            problems.append(f"{key}: accepted as request {request_id}, which is not stored")
            continue
        if f"{found.kind}:{found.root}" != key:
            problems.append(f"{key}: request {request_id} is stored as {found.kind}:{found.root}")
        if found.state != "FINAL":
            problems.append(f"{key}: request {request_id} is {found.state} ({found.reason})")
        if len(on_chain(key)) != 1:
            problems.append(f"{key}: accepted, on chain {len(on_chain(key))} times")
    for key in log.unanswered:
        reqs = by_key.get(key, [])
        if not reqs:
            if on_chain(key):
                problems.append(f"{key}: unanswered and not stored, yet on chain")
            continue
        if any(r.state != "FINAL" for r in reqs):
            problems.append(f"{key}: unanswered, stored half-way: {[r.state for r in reqs]}")
        if len(on_chain(key)) != 1:
            problems.append(f"{key}: unanswered and stored, on chain {len(on_chain(key))} times")
    for key, code in log.refused.items():
        if by_key.get(key):
            problems.append(f"{key}: refused ({code}) but stored")
        if on_chain(key):
            problems.append(f"{key}: refused ({code}) but on chain")
    for key, reqs in by_key.items():
        if key not in log.items:
            problems.append(f"{key}: stored, never sent by the client")
        if len(reqs) > 1:
            problems.append(f"{key}: stored {len(reqs)} times")
    for req in stored.values():
        if req.state != "FINAL":
            problems.append(f"request {req.id} ({req.kind}:{req.root}) ended {req.state} ({req.reason})")
    duplicates = 0
    for kind, events in (("anchor", chain.anchored), ("status", chain.suspended)):
        for root, hashes in events.items():
            key = f"{kind}:{root}"
            if key not in log.items:
                problems.append(f"{key}: on chain, never sent by the client")
            if len(hashes) > 1:
                duplicates += len(hashes) - 1
                problems.append(f"{key}: on chain {len(hashes)} times ({', '.join(hashes)})")
    carried = {h for events in (chain.anchored, chain.suspended) for hashes in events.values() for h in hashes}
    if chain.relayer_transactions != len(carried):
        problems.append(
            f"the relayer got {chain.relayer_transactions} transactions mined, {len(carried)} of them carried"
            " requests: a transaction was wasted (sent twice, or reverted)"
        )
    final = sum(1 for r in stored.values() if r.state == "FINAL")
    return Verdict(problems=problems, duplicates=duplicates, final=final)


def check_stored_now(log: ClientLog, queue_path: Path) -> list[str]:
    """Right after a kill: every request that got a 202 is in the queue file."""
    stored = stored_requests(queue_path)
    return [
        f"{key}: 202 with id {request_id}, missing from the queue file after the kill"
        for key, request_id in log.accepted.items()
        if request_id not in stored
    ]


# --------------------------------------------------------------------------- orchestration


def set_block_time(rpc_url: str, milliseconds: int) -> None:
    """Interval mining (0: mine on every transaction): a sent transaction waits for its block.

    Hardhat takes the interval in milliseconds, Anvil in whole seconds (so at least 1 s there)."""
    if milliseconds <= 0:
        rpc(rpc_url, "evm_setIntervalMining", [0])
        rpc(rpc_url, "evm_setAutomine", [True])
        return
    interval = max(1, -(-milliseconds // 1000)) if is_anvil(rpc_url) else milliseconds
    rpc(rpc_url, "evm_setAutomine", [False])
    rpc(rpc_url, "evm_setIntervalMining", [interval])


def wait_all_final(url: str, ids: Iterable[str], timeout: float) -> dict[str, str]:
    """Poll GET /v1/requests/{id} until all are FINAL or REJECTED; the states of those that are not FINAL."""
    pending = set(ids)
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0) as http:
        while pending and time.monotonic() < deadline:
            for request_id in sorted(pending):
                try:
                    reply = http.get(f"{url}/v1/requests/{request_id}")
                except httpx.TransportError:
                    break
                state = (
                    reply.json().get("state", f"HTTP_{reply.status_code}") if reply.status_code == 200 else "MISSING"
                )
                states[request_id] = state
                if state in ("FINAL", "REJECTED"):
                    pending.discard(request_id)
            if pending:
                time.sleep(0.1)
    return {i: s for i, s in states.items() if s != "FINAL"} | {i: states.get(i, "UNKNOWN") for i in pending}


@dataclass
class CycleRecord:
    strategy: str
    hit: bool  # the aimed-at moment came (else killed at the time limit)
    start_seconds: float | None  # None: killed before it answered
    at_kill: QueueSnapshot


def coverage(cycles: list[CycleRecord]) -> dict[str, int]:
    """How many kills found the outbox or the queue in each interesting state."""
    counts: Counter[str] = Counter()
    for c in cycles:
        counts[f"aim:{c.strategy}{'' if c.hit else '(missed)'}"] += 1
        if c.at_kill.transactions.get("PREPARED"):
            counts["dead with tx PREPARED"] += 1
        if c.at_kill.transactions.get("SENT"):
            counts["dead with tx SENT"] += 1
        if c.at_kill.requests.get("ANCHORED"):
            counts["dead with requests ANCHORED"] += 1
        if c.at_kill.requests.get("QUEUED"):
            counts["dead with requests QUEUED"] += 1
    return dict(sorted(counts.items()))


def run_cycles(
    relay: RelayProcess,
    client: ChaosClient,
    queue_path: Path,
    *,
    cycles: int,
    rng: random.Random,
    on_cycle: Callable[[int, CycleRecord], None] | None = None,
) -> tuple[list[CycleRecord], list[str]]:
    """``cycles`` times: start the relay, wait for the chosen moment, SIGKILL it, check the file."""
    records: list[CycleRecord] = []
    problems: list[str] = []
    watcher = QueueWatcher(queue_path)
    try:
        for number in range(cycles):
            strategy = STRATEGIES[number % len(STRATEGIES)] if number < len(STRATEGIES) else rng.choice(STRATEGIES)
            start_seconds: float | None = None
            if strategy == "starting":
                typical = statistics.median(relay.start_times or relay.cold_times or [1.5])
                relay.spawn()
                time.sleep(rng.uniform(0.5 * typical, 1.2 * typical))
                hit = not relay.answers()
            else:
                start_seconds = relay.start()
                hit = wait_for_moment(strategy, rng, client=client, watcher=watcher)
            relay.kill()
            at_kill = queue_snapshot(queue_path)
            problems += check_stored_now(client.snapshot(), queue_path)
            record = CycleRecord(strategy, hit, start_seconds, at_kill)
            records.append(record)
            if on_cycle is not None:
                on_cycle(number, record)
    finally:
        watcher.close()
    return records, problems


@dataclass
class ChaosReport:
    """Everything a crash run saw; :attr:`problems` empty means every promise held."""

    cycles: list[CycleRecord]
    log: ClientLog
    verdict: Verdict
    problems: list[str]
    start_times: list[float]
    cold_times: list[float]
    pause: dict[str, Any]
    seconds: float

    def summary(self) -> str:
        log = self.log
        starts = sorted(self.start_times)
        unanswered_stored = self.pause.get("unanswered_stored", 0)
        lines = [
            f"cycles (SIGKILL + restart): {len(self.cycles)}",
            f"client: {log.posts} POSTs, {len(log.items)} signed messages, {len(log.accepted)} accepted (202:"
            f" {sum(1 for k in log.accepted if k.startswith('anchor:'))} anchors,"
            f" {sum(1 for k in log.accepted if k.startswith('status:'))} suspensions),"
            f" {len(log.unanswered)} unanswered ({unanswered_stored} of them stored),"
            f" {len(log.refused)} refused or not delivered, {log.retried} resent,"
            f" {log.duplicates_answered} answered as duplicates",
            f"final: {self.verdict.final} requests FINAL; duplicates on chain: {self.verdict.duplicates}",
            f"relay start-up: cold (python -m registry_api) {', '.join(f'{t:.2f}' for t in self.cold_times)} s;"
            f" restart of a pre-imported process median {statistics.median(starts):.2f} s, max {starts[-1]:.2f} s"
            if starts
            else "",
            f"kills: {coverage(self.cycles)}",
            f"node stopped: { ({k: v for k, v in self.pause.items() if k != 'unanswered_stored'}) }"
            if "seconds" in self.pause
            else "",
            f"problems: {len(self.problems)}",
            *(f"  - {p}" for p in self.problems[:30]),
            f"time: {self.seconds:.1f} s",
        ]
        return "\n".join(line for line in lines if line)


@contextmanager
def node_stopped(node: HardhatNode) -> Iterator[None]:
    """The node frozen (SIGSTOP to its process group), and always thawed (SIGCONT)."""
    os.killpg(node.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(node.process.pid, signal.SIGCONT)


def run_chaos(
    world: World,
    run_dir: Path,
    *,
    cycles: int,
    seed: int,
    pause_seconds: float = 3.0,
    block_time_ms: int = 250,
    drain_timeout: float = 120.0,
    prewarm: bool = True,
    on_cycle: Callable[[int, CycleRecord], None] | None = None,
    **relay_settings: object,
) -> ChaosReport:
    """The crash run: kill/restart cycles under a busy client, a stopped node, then the checks.

    ``world`` is a registry on a node of the caller's own (its mining mode is changed, and it
    is frozen for ``pause_seconds``).
    """
    began = time.monotonic()
    node = world.node
    rng = random.Random(seed)
    queue_path = run_dir / "relay-queue.sqlite"
    settings: dict[str, object] = {
        "batch_size": 8,
        "batch_age": 0.2,
        "confirmations": 2,
        "poll_interval": 0.05,
        "retry_max": 0.5,
        "request_timeout": 1.0,
    }
    settings.update(relay_settings)
    env = relay_env(
        rpc_url=node.rpc_url,
        chain_id=world.chain_id,
        registry_address=world.registry.address,
        queue_path=queue_path,
        keystore=write_keystore(world.relayer, run_dir / "relayer-keystore.json"),
        settings=settings,
    )
    relay = RelayProcess(env, run_dir, prewarm=prewarm)
    set_block_time(node.rpc_url, block_time_ms)
    client = ChaosClient(world, relay.url, seed=seed, chain_time=world.now())
    problems: list[str] = []
    pause: dict[str, Any] = {}
    client.start()
    try:
        try:
            records, kill_problems = run_cycles(relay, client, queue_path, cycles=cycles, rng=rng, on_cycle=on_cycle)
            problems += kill_problems
            relay.start()
            if pause_seconds > 0:
                pause = stop_the_node(world.node, relay, client, queue_path, pause_seconds)
                problems += pause.pop("problems")
            time.sleep(1.0)  # the client goes on a little after the node is back
        finally:
            client.stop_event.set()
            client.join(timeout=30)
        log = client.snapshot()
        problems += [f"client: {e}" for e in client.errors]
        not_final = wait_all_final(relay.url, log.accepted.values(), timeout=drain_timeout)
        problems += [f"request {i} still {state} after {drain_timeout:.0f} s" for i, state in not_final.items()]
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline:  # unanswered but stored requests settle too
            if all(r.state in ("FINAL", "REJECTED") for r in stored_requests(queue_path).values()):
                break
            time.sleep(0.1)
    finally:
        relay.stop()
    stored = stored_requests(queue_path)
    pause["unanswered_stored"] = sum(1 for r in stored.values() if f"{r.kind}:{r.root}" in log.unanswered)
    verdict = check_run(log, stored, chain_facts(world, world.relayer.address))
    problems += verdict.problems
    return ChaosReport(
        cycles=records,
        log=log,
        verdict=verdict,
        problems=problems,
        start_times=relay.start_times,
        cold_times=relay.cold_times,
        pause=pause,
        seconds=time.monotonic() - began,
    )


def stop_the_node(
    node: HardhatNode, relay: RelayProcess, client: ChaosClient, queue_path: Path, seconds: float
) -> dict[str, Any]:
    """Freeze the node under a running relay; kill and restart the relay meanwhile.

    While the node is away nothing may be REJECTED or lost: requests wait, new ones are refused
    with 503 and not stored, and a relay started meanwhile comes up and waits too.
    """
    problems: list[str] = []
    time.sleep(0.5)
    held = client.post_now(5)  # queued for sure when the node stops (the batch age is not reached)
    before = stored_requests(queue_path)
    with node_stopped(node):
        time.sleep(seconds / 2)
        with httpx.Client(timeout=5.0) as http:
            health = http.get(f"{relay.url}/healthz").status_code
        relay.kill()
        restart = relay.start()
        time.sleep(seconds / 2)
        during = stored_requests(queue_path)
    rejected = [r for r in during.values() if r.state == "REJECTED"]
    problems += [f"request {r.id} REJECTED while the node was stopped: {r.reason}" for r in rejected]
    problems += [f"request {i} vanished while the node was stopped" for i in before if i not in during]
    if health != 503:
        problems.append(f"/healthz answered {health} while the node was stopped")
    waiting = sum(1 for r in during.values() if r.state not in ("FINAL", "REJECTED"))
    if len(held) != 5:
        problems.append(f"the anchors posted just before the node stopped were not all accepted: {held}")
    problems += [
        f"request {i} settled while the node was stopped" for i in held if i in during and during[i].state == "FINAL"
    ]
    return {
        "seconds": seconds,
        "healthz": health,
        "restart_seconds": round(restart, 2),
        "waiting_requests": waiting,
        "held_requests": held,
        "problems": problems,
    }
