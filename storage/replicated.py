"""Documents replicated over several IPFS nodes (Kubo RPC API), with a replication factor.

A :class:`ReplicatedStore` is a :class:`~storage.base.DocumentStore` over two or more
:class:`~storage.ipfs.IpfsStore` nodes and a factor ``k`` (default: every node):

* :meth:`~ReplicatedStore.put` adds and pins the blob on every node at once and succeeds when
  at least ``k`` of them filed it under the CID computed here (a node still busy a second after
  the ``k``-th finished is left to finish in the background); with fewer it raises
  :class:`ReplicationShortfall` (a :class:`~storage.errors.StorageUnavailable`) saying how
  many it reached. What was written stays written and pinned: nothing is rolled back, so a
  failed put loses nothing and a later repair completes it;
* :meth:`~ReplicatedStore.get` asks one node at a time, the one that answered last first, and
  checks every answer against the CID: a node that serves other bytes is logged and skipped;
* :meth:`~ReplicatedStore.has` is true if any node holds the blob; :meth:`~ReplicatedStore.replicas`
  names the nodes that pin it; :meth:`~ReplicatedStore.audit` and :meth:`~ReplicatedStore.repair`
  find blobs below the factor and copy them (checked against their CID) to the nodes missing them.

Optionally every CID written is appended to a :class:`WrittenLedger` (one line per CID), so that
a blob written here and since lost by every node can still be named.

Only nodes speaking the Kubo RPC API (Kubo, js-ipfs) are supported; an IPFS Cluster API is not.

The ``ereg.storage`` logger reports a node that stops answering (once, until it answers again)
and every node that served bytes not matching their CID. It carries CIDs and node addresses only.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from multiformats import CID

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import ipfshttpclient

from storage.cid import compute_cid, normalize_cid
from storage.errors import BlobNotFound, CidMismatch, StorageError, StorageUnavailable
from storage.ipfs import IpfsStore

log = logging.getLogger("ereg.storage")
log.addHandler(logging.NullHandler())  # a library: the application decides where logs go

T = TypeVar("T")

LEDGER_PATH = Path("storage") / "written.txt"
"""Where, below a home directory, :func:`open_ipfs` callers keep the ledger (``<home>/storage/written.txt``)."""

_DOCUMENT_CODECS = ("raw", "dag-pb")


# ----------------------------------------------------------------------------- errors
class StorageConfigError(StorageError):
    """The document store's configuration (node list, replication factor) is unusable."""

    code = "STORAGE_CONFIG"
    message_zh = "文档存储配置有误"
    http_status = 500


class ReplicationShortfall(StorageUnavailable):
    """A put reached fewer nodes than the replication factor; the copies written stay pinned."""

    def __init__(self, cid: str, reached: Sequence[str], failures: Sequence[tuple[str, str]],
                 total: int, factor: int) -> None:
        why = "; ".join(f"{api}: {reason}" for api, reason in failures)
        kept = (f"the {len(reached)} cop{'y' if len(reached) == 1 else 'ies'} written stay pinned"
                if reached else "nothing was written")
        kept_zh = f"已写入的 {len(reached)} 份副本保留并已固定" if reached else "未写入任何副本"
        StorageError.__init__(
            self,
            f"document storage is unavailable: {cid} reached {len(reached)} of {total} IPFS nodes, "
            f"the replication factor is {factor} ({kept}): {why}",
            f"文档存储不可用：{cid} 仅写入 {total} 个 IPFS 节点中的 {len(reached)} 个，"
            f"复制因子要求 {factor} 个（{kept_zh}）：{why}",
        )
        self.backend = f"{total} IPFS nodes"
        self.detail = why
        self.cid = cid
        self.reached = tuple(reached)
        self.factor = factor


# ----------------------------------------------------------------------- configuration
def parse_api_list(text: str) -> list[str]:
    """The nodes of a comma-separated list of RPC APIs, each as a multiaddr.

    An entry is a multiaddr (``/ip4/127.0.0.1/tcp/5001/http``) or ``http(s)://host:port``.
    Empty entries and the same node twice are refused: a node listed twice would count as two
    replicas.
    """
    entries = [entry.strip() for entry in text.split(",")]
    if not text.strip() or any(not entry for entry in entries):
        raise StorageConfigError(
            f"IPFS API list {text!r}: an entry is empty (give node addresses separated by commas)",
            f"IPFS 接口列表 {text!r} 中有空项（节点地址之间用逗号分隔）",
        )
    apis = [to_multiaddr(entry) for entry in entries]
    seen: set[str] = set()
    for api in apis:
        if api in seen:
            raise StorageConfigError(
                f"IPFS API list {text!r} names the node {api} twice",
                f"IPFS 接口列表 {text!r} 重复列出节点 {api}",
            )
        seen.add(api)
    return apis


def to_multiaddr(entry: str) -> str:
    """An RPC API as the HTTP client takes it: a multiaddr as is, ``http(s)://host:port`` converted."""
    if entry.startswith("/"):
        return entry.rstrip("/")
    parts = urlsplit(entry)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or port == -1 \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise StorageConfigError(
            f"{entry!r} is not an IPFS RPC API: give http://host:port or a multiaddr",
            f"{entry!r} 不是 IPFS RPC 接口：请给出 http://主机:端口 或 multiaddr",
        )
    host = parts.hostname
    try:
        protocol = "ip4" if ipaddress.ip_address(host).version == 4 else "ip6"
    except ValueError:
        protocol = "dns"
    return f"/{protocol}/{host}/tcp/{port or (443 if parts.scheme == 'https' else 80)}/{parts.scheme}"


def parse_replication(text: str | int | None) -> int | None:
    """A replication factor from a setting (``None`` or empty: every node)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        factor = int(text)
    except ValueError:
        factor = 0
    if factor < 1:
        raise StorageConfigError(
            f"replication factor {text!r}: give a whole number of nodes, at least 1",
            f"复制因子 {text!r} 无效：须为不小于 1 的整数",
        )
    return factor


def check_factor(factor: int | None, nodes: int) -> int:
    """``factor`` (default: ``nodes``) if it is between 1 and the number of nodes."""
    if factor is None:
        return nodes
    if not 1 <= factor <= nodes:
        raise StorageConfigError(
            f"replication factor {factor} needs {factor} IPFS nodes, {nodes} configured",
            f"复制因子 {factor} 需要 {factor} 个 IPFS 节点，只配置了 {nodes} 个",
        )
    return factor


def open_ipfs(
    api: str,
    *,
    replication: int | None = None,
    ledger: Path | None = None,
    timeout: float = 30.0,
    has_timeout: float = 2.0,
    connect_timeout: float = 5.0,
    grace: float = 5.0,
) -> IpfsStore | ReplicatedStore:
    """The store on ``api``: one :class:`IpfsStore` for one node, a :class:`ReplicatedStore` for a list.

    One node with no factor (or factor 1) is exactly an :class:`IpfsStore`, ledger or not. The
    timeouts are each node's (see :class:`IpfsStore`).
    """
    apis = parse_api_list(api)
    factor = check_factor(replication, len(apis))

    def node(address: str) -> IpfsStore:
        return IpfsStore(address, timeout=timeout, has_timeout=has_timeout, connect_timeout=connect_timeout,
                         grace=grace)

    if len(apis) == 1:
        return node(apis[0])
    nodes: list[IpfsStore] = []
    try:
        for address in apis:
            nodes.append(node(address))
        return ReplicatedStore(nodes, replication=factor, ledger=ledger)
    except BaseException:
        for opened in nodes:
            opened.close()
        raise


# --------------------------------------------------------------------------- the ledger
class WrittenLedger:
    """An append-only file of the CIDs written through a store, one per line.

    Each line is written with one ``write`` on a file opened for appending (so lines from
    several threads or processes never interleave) and synced to disk before the put returns.
    If the line cannot be written the put fails, though its blob is stored: a home that cannot
    keep its ledger should not go on issuing.
    A last line cut short by a crash is ignored when reading. CIDs only: no key, no content.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"WrittenLedger({str(self.path)!r})"

    def record_many(self, cids: Sequence[str]) -> None:
        """Append every CID of ``cids`` in one write and one fsync; :class:`StorageUnavailable` if the
        file cannot be written (the blobs stay stored)."""
        if not cids:
            return
        line = "".join(normalize_cid(cid) + "\n" for cid in cids).encode("ascii")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # one write() of the lines on an O_APPEND descriptor lands whole, after every other:
            # no lock, so that concurrent puts sync their lines together
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StorageUnavailable(f"ledger {self.path}", f"cannot append: {exc.strerror or exc}") from exc

    def cids(self) -> list[str]:
        """Every CID recorded, once each, in the order first written."""
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageUnavailable(f"ledger {self.path}", f"cannot read: {exc.strerror or exc}") from exc
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        elif lines:
            lines.pop()  # no newline at the end: torn by a crash
        found: dict[str, None] = {}
        for line in lines:
            if not line.strip():
                continue
            try:
                found[normalize_cid(line.strip())] = None
            except StorageError:
                log.warning("ledger %s holds a line that is not a CID; ignored", self.path)
        return list(found)


# ----------------------------------------------------------------------------- audits
@dataclass(frozen=True)
class NodePins:
    """What one node pins (document CIDs only), or why it could not be asked."""

    api: str
    pins: frozenset[str] | None
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.pins is not None


@dataclass(frozen=True)
class BlobReplicas:
    """Where one blob is pinned, among the configured nodes."""

    cid: str
    holders: tuple[str, ...]
    """Nodes that pin it."""
    missing: tuple[str, ...]
    """Nodes that answered and do not pin it."""
    unknown: tuple[str, ...]
    """Nodes that could not be asked."""
    in_ledger: bool = False

    @property
    def count(self) -> int:
        return len(self.holders)


@dataclass(frozen=True)
class Audit:
    """Every known blob and its replicas, against a factor."""

    factor: int
    nodes: tuple[NodePins, ...]
    blobs: tuple[BlobReplicas, ...]

    @property
    def short(self) -> list[BlobReplicas]:
        """Blobs pinned somewhere, on fewer nodes than the factor."""
        return [blob for blob in self.blobs if 0 < blob.count < self.factor]

    @property
    def lost(self) -> list[BlobReplicas]:
        """Blobs the ledger names that no node (of those that answered) pins."""
        return [blob for blob in self.blobs if blob.count == 0]

    @property
    def unreachable(self) -> list[NodePins]:
        return [node for node in self.nodes if not node.reachable]

    @property
    def reachable(self) -> int:
        return sum(1 for node in self.nodes if node.reachable)

    @property
    def ok(self) -> bool:
        """Every blob at the factor, none lost, and enough nodes answering to keep it so."""
        return not self.short and not self.lost and self.reachable >= self.factor


@dataclass(frozen=True)
class Repair:
    """What :meth:`ReplicatedStore.repair` did for one blob."""

    cid: str
    source: str | None
    """The node the checked copy came from (None: no node had an intact copy)."""
    copied_to: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    """Nodes it could not be copied to, and why."""
    holders_after: int


# ------------------------------------------------------------------------------ store
class ReplicatedStore:
    """A :class:`~storage.base.DocumentStore` over several IPFS nodes with a replication factor.

    ``nodes`` are :class:`IpfsStore` objects on distinct APIs (the store closes them);
    ``replication`` is how many must hold a blob for :meth:`put` to succeed (default: all);
    ``ledger``, if given, is the file every CID written is appended to; ``linger`` is how long a
    put that reached the factor still waits for slower nodes (seconds). Safe across threads.
    """

    def __init__(
        self,
        nodes: Sequence[IpfsStore],
        *,
        replication: int | None = None,
        ledger: Path | WrittenLedger | None = None,
        max_workers: int | None = None,
        linger: float = 1.0,
    ) -> None:
        if not nodes:
            raise StorageConfigError("no IPFS node configured", "未配置 IPFS 节点")
        apis = [node.api for node in nodes]
        if len(set(apis)) != len(apis):
            raise StorageConfigError(f"an IPFS node is listed twice: {', '.join(apis)}",
                                     f"IPFS 节点重复：{', '.join(apis)}")
        self._nodes = tuple(nodes)
        self._factor = check_factor(replication, len(nodes))
        self._ledger = ledger if isinstance(ledger, WrittenLedger) or ledger is None else WrittenLedger(ledger)
        self._pool = ThreadPoolExecutor(max_workers=max_workers or min(32, 8 * len(nodes)),
                                        thread_name_prefix="ereg-replica")
        self._preferred = 0
        self._failing: set[str] = set()
        self._lagging: set[str] = set()
        self._state_lock = threading.Lock()
        self._closed = False
        self._linger = linger

    # ---------------------------------------------------------------------- properties
    @property
    def nodes(self) -> tuple[IpfsStore, ...]:
        return self._nodes

    @property
    def apis(self) -> tuple[str, ...]:
        return tuple(node.api for node in self._nodes)

    @property
    def replication(self) -> int:
        return self._factor

    @property
    def ledger(self) -> WrittenLedger | None:
        return self._ledger

    def __repr__(self) -> str:
        return f"ReplicatedStore({list(self.apis)!r}, replication={self._factor})"

    def __enter__(self) -> ReplicatedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- DocumentStore
    def put(self, data: bytes) -> str:
        cid = compute_cid(data)
        self._settle([cid], self._put_on_every_node(data))
        return cid

    def put_many(self, blobs: Sequence[bytes]) -> list[str]:
        """:meth:`put` of a batch: each node stores all of it in its fewest requests
        (:meth:`IpfsStore.put_many`), and the batch succeeds when ``replication`` nodes hold all of
        it. A node that fails part of the batch counts as not holding it. Unlike :meth:`put`, it
        waits for every node (a batch is one request per node, not one per blob)."""
        if not blobs:
            return []
        cids = [compute_cid(blob) for blob in blobs]
        self._settle(cids, self._on_every_node(lambda node: node.put_many(blobs)))
        return cids

    def get(self, cid: str) -> bytes:
        key = normalize_cid(cid)  # an invalid CID is refused before any request
        start = self._preferred
        errors: list[tuple[IpfsStore, StorageError]] = []
        for index in [(start + offset) % len(self._nodes) for offset in range(len(self._nodes))]:
            node = self._nodes[index]
            try:
                data = node.get(key)
            except CidMismatch as exc:
                log.warning("IPFS node %s served bytes that do not match %s (they hash to %s); asking the next node",
                            node.api, key, exc.actual)
                errors.append((node, exc))
                continue
            except StorageError as exc:
                self._note(node, exc)
                errors.append((node, exc))
                continue
            self._note(node, None)
            self._preferred = index
            return data
        if any(isinstance(exc, StorageUnavailable) for _node, exc in errors):
            # the blob may be on a node that does not answer: not proof that it is gone
            raise StorageUnavailable(
                f"{len(self._nodes)} IPFS nodes",
                f"no node served {key}: " + "; ".join(f"{node.api}: {_reason(exc)}" for node, exc in errors),
            )
        for _node, failure in errors:
            if isinstance(failure, CidMismatch):
                raise failure
        raise BlobNotFound(key, f"on none of the {len(self._nodes)} IPFS nodes")

    def has(self, cid: str) -> bool:
        key = normalize_cid(cid)
        answered = False
        for _node, outcome in self._on_every_node(lambda node: node.has(key), stop_when=lambda found: found is True):
            if outcome is True:
                return True
            if not isinstance(outcome, StorageUnavailable):
                answered = True
        if not answered:
            raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "no node answered")
        return False

    def pin(self, cid: str) -> None:
        """Pin ``cid`` on every node that holds it; :class:`BlobNotFound` if none does."""
        key = normalize_cid(cid)

        def pin_if_held(node: IpfsStore) -> bool:
            if not node.has(key):
                return False
            node.pin(key)
            return True

        outcomes = self._on_every_node(pin_if_held)
        pinned = sum(1 for _node, outcome in outcomes if outcome is True)
        if pinned:
            if pinned < self._factor:
                log.warning("%s is pinned on %d of %d IPFS nodes, below the replication factor %d",
                            key, pinned, len(self._nodes), self._factor)
            return
        if all(isinstance(outcome, StorageUnavailable) for _node, outcome in outcomes):
            raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "no node answered")
        raise BlobNotFound(key, f"on none of the {len(self._nodes)} IPFS nodes")

    def close(self) -> None:
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        for node in self._nodes:
            node.close()

    # ------------------------------------------------------------------------- extras
    def replicas(self, cid: str) -> list[str]:
        """The nodes that pin ``cid`` (those that cannot be asked are left out, and logged)."""
        key = normalize_cid(cid)
        held = []
        for node, outcome in self._on_every_node(lambda node: node.is_pinned(key)):
            if outcome is True:
                held.append(node.api)
        return held

    def version(self) -> str:
        """The version of the first node that answers; :class:`StorageUnavailable` if none does."""
        errors: list[str] = []
        for node, outcome in self._on_every_node(lambda node: node.version(),
                                                 stop_when=lambda answer: isinstance(answer, str)):
            if isinstance(outcome, str):
                return outcome
            errors.append(f"{node.api}: {_reason(outcome)}")
        raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "; ".join(errors) or "no node answered")

    def pinned(self) -> list[NodePins]:
        """Every node's recursive pins of document CIDs (CIDv1, raw or dag-pb), or why it could not say."""
        result = []
        for node, outcome in self._on_every_node(_document_pins):
            if isinstance(outcome, StorageError):
                result.append(NodePins(node.api, None, _reason(outcome)))
            else:
                result.append(NodePins(node.api, outcome))
        return result

    def audit(self, known: Iterable[str] = (), *, factor: int | None = None) -> Audit:
        """Where every blob is: those the nodes pin plus ``known`` (and the ledger's), against ``factor``."""
        factor = check_factor(factor if factor is not None else self._factor, len(self._nodes))
        nodes = self.pinned()
        written = self._ledger.cids() if self._ledger is not None else []
        ledger = set(written)
        every = dict.fromkeys([*written, *(normalize_cid(cid) for cid in known)])
        every.update(dict.fromkeys(sorted(set().union(*(listed.pins or () for listed in nodes)))))
        blobs = []
        for cid in every:
            blobs.append(BlobReplicas(
                cid=cid,
                holders=tuple(n.api for n in nodes if n.pins is not None and cid in n.pins),
                missing=tuple(n.api for n in nodes if n.pins is not None and cid not in n.pins),
                unknown=tuple(n.api for n in nodes if n.pins is None),
                in_ledger=cid in ledger,
            ))
        return Audit(factor=factor, nodes=tuple(nodes), blobs=tuple(blobs))

    def repair(self, blob: BlobReplicas) -> Repair:
        """Copy ``blob`` from a node that has an intact copy to every answering node that misses it, pinned.

        The copy is read from the holders in turn (each answer checked against the CID); a blob
        no node pins is looked for on every node first (an unpinned block may still be there).
        """
        by_api = {node.api: node for node in self._nodes}
        sources = [by_api[api] for api in blob.holders]
        if not sources:
            sources = [node for node, outcome in self._on_every_node(lambda node: node.has(blob.cid))
                       if outcome is True]
        data: bytes | None = None
        source: str | None = None
        for node in sources:
            try:
                data = node.get(blob.cid)
            except CidMismatch as exc:
                log.warning("IPFS node %s served bytes that do not match %s (they hash to %s); not copied from it",
                            node.api, blob.cid, exc.actual)
                continue
            except StorageError as exc:
                self._note(node, exc)
                continue
            source = node.api
            break
        if data is None:
            return Repair(blob.cid, None, (), tuple((api, "no intact copy to copy from") for api in blob.missing),
                          blob.count)
        targets = [by_api[api] for api in blob.missing if api != source]
        if not blob.holders and source is not None:
            targets.append(by_api[source])  # held but unpinned: pin it where it was found
        copied: list[str] = []
        failed: list[tuple[str, str]] = []
        payload = data
        for node, outcome in self._on_every_node(lambda node: node.put(payload), targets):
            if isinstance(outcome, StorageError):
                failed.append((node.api, _reason(outcome)))
            else:
                copied.append(node.api)
        return Repair(blob.cid, source, tuple(copied), tuple(failed), blob.count + len(copied))

    # ----------------------------------------------------------------------- internals
    def _settle(self, cids: Sequence[str], outcomes: Sequence[tuple[IpfsStore, object]]) -> None:
        """After a write of ``cids`` to the nodes: record them in the ledger if any node took them,
        and raise unless ``replication`` nodes did (a batch is named by its first CID)."""
        reached = [node.api for node, outcome in outcomes if not isinstance(outcome, StorageError)]
        failures = [(node.api, outcome) for node, outcome in outcomes if isinstance(outcome, StorageError)]
        if reached and self._ledger is not None:
            self._ledger.record_many(cids)
        if len(reached) >= self._factor:
            return
        if not reached and failures and all(isinstance(exc, CidMismatch) for _api, exc in failures):
            raise failures[0][1]
        raise ReplicationShortfall(cids[0], reached, [(api, _reason(exc)) for api, exc in failures],
                                   len(self._nodes), self._factor)

    def _on_every_node(
        self,
        call: Callable[[IpfsStore], T],
        nodes: Sequence[IpfsStore] | None = None,
        *,
        stop_when: Callable[[T], bool] | None = None,
    ) -> list[tuple[IpfsStore, T | StorageError]]:
        """``call`` on each node at once; each node's result or StorageError, in node order.

        With ``stop_when``, returns as soon as one result satisfies it (the other calls finish
        in the background), that result first.
        """
        if self._closed:
            raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "the store is closed")
        targets = list(self._nodes if nodes is None else nodes)
        try:
            futures = {self._pool.submit(call, node): node for node in targets}
        except RuntimeError as exc:  # shut down by close() in another thread
            raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "the store is closed") from exc
        done: dict[Future[T], T | StorageError] = {}
        pending: set[Future[T]] = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    done[future] = future.result()
                except StorageError as exc:
                    done[future] = exc
                outcome = done[future]
                self._note(futures[future], outcome if isinstance(outcome, StorageError) else None)
            if stop_when is not None:
                for future in finished:
                    outcome = done[future]
                    if not isinstance(outcome, StorageError) and stop_when(outcome):
                        return [(futures[future], outcome)]
        return [(futures[future], done[future]) for future in futures]

    def _put_on_every_node(self, data: bytes) -> list[tuple[IpfsStore, str | StorageError]]:
        """Add ``data`` on every node at once; the outcomes of those that finished.

        Once the factor is reached, the nodes still busy get ``linger`` seconds more; a node
        slower than that (a hung one) is left to finish in the background instead of holding up
        every put for its whole timeout. It is still written to; its outcome is only logged.
        """
        if self._closed:
            raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "the store is closed")
        try:
            futures = {self._pool.submit(node.put, data): node for node in self._nodes}
        except RuntimeError as exc:  # shut down by close() in another thread
            raise StorageUnavailable(f"{len(self._nodes)} IPFS nodes", "the store is closed") from exc
        outcomes: dict[Future[str], str | StorageError] = {}
        pending: set[Future[str]] = set(futures)
        give_up: float | None = None
        while pending:
            timeout = None if give_up is None else max(0.0, give_up - time.monotonic())
            finished, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not finished:
                break
            for future in finished:
                try:
                    outcomes[future] = future.result()
                except StorageError as exc:
                    outcomes[future] = exc
                outcome = outcomes[future]
                self._note(futures[future], outcome if isinstance(outcome, StorageError) else None)
            accepted = sum(1 for outcome in outcomes.values() if not isinstance(outcome, StorageError))
            if give_up is None and accepted >= self._factor:
                give_up = time.monotonic() + self._linger
        with self._state_lock:
            for future in _finished_in_time(futures, pending):
                self._lagging.discard(futures[future].api)
            newly_lagging = [futures[f] for f in pending if futures[f].api not in self._lagging]
            self._lagging.update(node.api for node in newly_lagging)
        for node in newly_lagging:
            log.warning("IPFS node %s is still storing after the others finished; puts no longer wait for it "
                        "beyond %.1f s", node.api, self._linger)
        for future in pending:
            future.add_done_callback(functools.partial(self._note_late, futures[future]))
        return [(futures[future], outcomes[future]) for future in futures if future in outcomes]

    def _note_late(self, node: IpfsStore, future: Future[str]) -> None:
        exc = future.exception() if not future.cancelled() else None
        self._note(node, exc if isinstance(exc, StorageError) else None)

    def _note(self, node: IpfsStore, exc: StorageError | None) -> None:
        """Log a node that stops answering (once) and one that answers again."""
        with self._state_lock:
            if isinstance(exc, StorageUnavailable):
                if node.api in self._failing:
                    return
                self._failing.add(node.api)
            elif node.api in self._failing:
                self._failing.discard(node.api)
            else:
                return
        if isinstance(exc, StorageUnavailable):
            log.warning("IPFS node %s does not answer (%s); carrying on with the other nodes", node.api, _reason(exc))
        else:
            log.info("IPFS node %s answers again", node.api)


def _finished_in_time(futures: dict[Future[str], IpfsStore], pending: set[Future[str]]) -> list[Future[str]]:
    return [future for future in futures if future not in pending]


def _document_pins(node: IpfsStore) -> frozenset[str]:
    """The recursive pins of ``node`` that are document CIDs (CIDv1, sha2-256, raw or dag-pb).

    What a node pins for itself (js-ipfs pins its CIDv0 welcome files) is left out.
    """
    found = set()
    for text in node.pins():
        with contextlib.suppress(ValueError, LookupError, TypeError):
            cid = CID.decode(text)
            if cid.version == 1 and cid.codec.name in _DOCUMENT_CODECS and cid.hashfun.name == "sha2-256":
                found.add(normalize_cid(text))
    return frozenset(found)


def _reason(exc: StorageError) -> str:
    """A short reason for one node's failure, without the HTTP client's long text."""
    if isinstance(exc, CidMismatch):
        return f"its bytes hash to {exc.actual}"
    if isinstance(exc, BlobNotFound):
        return "not found"
    if isinstance(exc, StorageUnavailable):
        cause = exc.__cause__
        rpc_errors = ipfshttpclient.exceptions
        if isinstance(cause, rpc_errors.TimeoutError | TimeoutError):
            return "timed out"
        if cause is not None and not isinstance(cause, StorageError | rpc_errors.ErrorResponse):
            return f"unreachable ({type(cause).__name__})"
        return _short(exc.detail)
    return _short(exc.message)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
