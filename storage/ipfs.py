"""Document store backed by an IPFS node (Kubo or js-ipfs) through its HTTP RPC API.

The node is untrusted: the CID it returns from ``add`` must equal the one computed
locally, and the bytes it returns from ``cat`` are hashed again before anyone sees them.

Timeouts. A node asked for content it does not hold keeps searching (js-ipfs does so even
when started with ``--offline``), so every lookup carries the RPC API's ``timeout``
parameter and the node itself gives up first; the HTTP read timeout is a few seconds
longer and only fires when the node stops answering at all. Hence:

* the node answers "timed out" / "not found"   -> :class:`BlobNotFound` (the node works, the
  content could not be found in time: it is not proof that the content does not exist);
* no connection, HTTP timeout, protocol error  -> :class:`StorageUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, cast

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import ipfshttpclient
    import requests
    import urllib3

from storage.car import car_of, fits_a_block
from storage.cid import chunker_for, compute_cid, normalize_cid, verify_cid
from storage.errors import (
    BlobNotFound,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)

DEFAULT_API = "/ip4/127.0.0.1/tcp/5001/http"
#: Bounds of one CAR sent to ``dag/import`` by :meth:`IpfsStore.put_many`.
CAR_MAX_BLOBS = 1000
CAR_MAX_BYTES = 16 * 1024 * 1024

_TRANSPORT_ERRORS = (
    ipfshttpclient.exceptions.Error,
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
)
_NOT_FOUND_MARKERS = ("timed out", "timeout", "not found", "no link named", "is not pinned")

# ipfshttpclient 0.7 hands urllib3 a `strict` argument that urllib3 2 deprecates with a
# FutureWarning on every request. The filter below is installed only while a request of
# this module runs; the counter keeps it correct when several threads overlap.
_warnings_lock = threading.Lock()
_warnings_depth = 0
_warnings_entry: Any = None


@contextlib.contextmanager
def _client_warnings_silenced() -> Iterator[None]:
    global _warnings_depth, _warnings_entry
    with _warnings_lock:
        if _warnings_depth == 0:
            warnings.filterwarnings(
                "ignore", category=FutureWarning, module=r"(urllib3|ipfshttpclient)(\..*)?$"
            )
            _warnings_entry = warnings.filters[0]
        _warnings_depth += 1
    try:
        yield
    finally:
        with _warnings_lock:
            _warnings_depth -= 1
            if _warnings_depth == 0:
                with contextlib.suppress(ValueError):  # another catch_warnings replaced it
                    cast(list[Any], warnings.filters).remove(_warnings_entry)
                _warnings_entry = None


class IpfsStore:
    """A :class:`~storage.base.DocumentStore` on an IPFS node's RPC API.

    ``api`` is the node's API multiaddr, e.g. ``/ip4/127.0.0.1/tcp/5001/http``.
    ``timeout`` bounds each operation on the node (seconds); ``has_timeout`` bounds the
    local-presence check of :meth:`has`; ``connect_timeout`` bounds opening a connection;
    ``grace`` is how much longer than the node's own deadline the HTTP client waits for an
    answer before it declares the node unavailable.
    The store is safe to share between threads (one HTTP session per thread).
    """

    def __init__(
        self,
        api: str = DEFAULT_API,
        *,
        timeout: float = 30.0,
        has_timeout: float = 2.0,
        connect_timeout: float = 5.0,
        grace: float = 5.0,
    ) -> None:
        if min(timeout, has_timeout, connect_timeout) <= 0 or grace < 0:
            raise ValueError("timeouts must be positive")
        self._api = api
        self._timeout = timeout
        self._has_timeout = has_timeout
        self._connect_timeout = connect_timeout
        self._grace = grace
        self._source = f"IPFS node {api}"
        self._local = threading.local()
        self._clients: list[Any] = []
        self._sessions: list[requests.Session] = []
        self._clients_lock = threading.Lock()
        self._closed = False
        self._client()  # validate the address now, not on first use
        self._base_url = ipfshttpclient.http_common.multiaddr_to_url_data(api, "/api/v0")[0]

    @property
    def api(self) -> str:
        return self._api

    def __repr__(self) -> str:
        return f"IpfsStore({self._api!r}, timeout={self._timeout})"

    def __enter__(self) -> IpfsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # DocumentStore -------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        expected = compute_cid(data)
        opts = {
            "cid-version": "1",
            "raw-leaves": "true",
            "chunker": chunker_for(len(data)),
            "hash": "sha2-256",
            "cid-base": "base32",
            "pin": "true",
            "timeout": _duration(self._timeout),
        }
        with self._calling("add"):
            answer = self._client().add_bytes(
                data, opts=opts, timeout=self._http_timeout(self._timeout)
            )
        returned = _answer_text(answer, "Hash")
        try:
            actual = normalize_cid(returned)
        except InvalidCid as exc:
            raise CidMismatch(expected, returned, self._source) from exc
        if actual != expected:
            raise CidMismatch(expected, actual, self._source)
        return expected

    def put_many(self, blobs: Sequence[bytes]) -> list[str]:
        """Store ``blobs`` in as few requests as a CAR allows (:mod:`storage.car`); their CIDs in order.

        Blobs of one raw block go in CARs of at most :data:`CAR_MAX_BLOBS` blobs or
        :data:`CAR_MAX_BYTES` bytes, each one ``dag/import`` that pins every blob; larger blobs
        one ``add`` each. Every CID is computed here, and the node must name each one as an
        imported and pinned root, or the call fails: a blob the node did not confirm is never
        reported stored.
        """
        cids: list[str | None] = [None] * len(blobs)
        group: list[int] = []
        size = 0
        for index, blob in enumerate(blobs):
            if not fits_a_block(blob):
                cids[index] = self.put(blob)
                continue
            if group and (len(group) >= CAR_MAX_BLOBS or size + len(blob) > CAR_MAX_BYTES):
                self._import([blobs[i] for i in group], group, cids)
                group, size = [], 0
            group.append(index)
            size += len(blob)
        if group:
            self._import([blobs[i] for i in group], group, cids)
        stored = [cid for cid in cids if cid is not None]
        if len(stored) != len(blobs):  # every blob was put or imported, or an error was raised
            raise StorageError("a batch was only partly stored", "一批文件仅部分存储")
        return stored

    def _import(self, blobs: list[bytes], indexes: list[int], cids: list[str | None]) -> None:
        car, expected = car_of(blobs)
        with self._calling("dag/import"):
            answer = self._session().post(
                self._base_url + "dag/import",
                params={"pin-roots": "true"},
                files=[("file", ("documents.car", car, "application/vnd.ipld.car"))],
                timeout=self._http_timeout(self._timeout),
            )
        if answer.status_code != 200:
            raise StorageUnavailable(self._source, f"dag/import: HTTP {answer.status_code}: {answer.text[:200]}")
        pinned: set[str] = set()
        for line in answer.text.splitlines():
            if not line.strip():
                continue
            try:
                root = json.loads(line)["Root"]
                cid, pin_error = root["Cid"]["/"], root.get("PinErrorMsg", "")
            except (ValueError, KeyError, TypeError):
                raise StorageError(
                    f"unexpected answer from the IPFS node to dag/import: {line[:200]}",
                    f"IPFS 节点对 dag/import 的回答无法识别：{line[:200]}",
                ) from None
            if pin_error:
                raise StorageUnavailable(self._source, f"dag/import could not pin {cid}: {pin_error[:200]}")
            try:
                pinned.add(normalize_cid(cid))
            except InvalidCid as exc:
                raise CidMismatch(expected[0], str(cid), self._source) from exc
        for index, cid in zip(indexes, expected, strict=True):
            if cid not in pinned:
                raise CidMismatch(cid, "(not among the roots the node imported)", self._source)
            cids[index] = cid

    def get(self, cid: str) -> bytes:
        key = normalize_cid(cid)
        with self._calling("cat", key):
            data = self._client().cat(
                key,
                opts={"timeout": _duration(self._timeout)},
                timeout=self._http_timeout(self._timeout),
            )
        if not isinstance(data, bytes):
            raise StorageUnavailable(self._source, f"cat returned {type(data).__name__}")
        verify_cid(key, data, source=self._source)
        return data

    def has(self, cid: str) -> bool:
        key = normalize_cid(cid)
        try:
            with self._calling("block/stat", key):
                # `offline` keeps Kubo to its own blockstore; js-ipfs ignores it and
                # relies on the timeout instead.
                self._client().block.stat(
                    key,
                    offline=True,
                    opts={"timeout": _duration(self._has_timeout)},
                    timeout=self._http_timeout(self._has_timeout),
                )
        except BlobNotFound:
            return False
        return True

    def pin(self, cid: str) -> None:
        key = normalize_cid(cid)
        with self._calling("pin/add", key):
            self._client().pin.add(
                key,
                opts={"timeout": _duration(self._timeout)},
                timeout=self._http_timeout(self._timeout),
            )

    def close(self) -> None:
        with self._clients_lock:
            self._closed = True
            clients, self._clients = self._clients, []
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        for client in clients:
            with _client_warnings_silenced(), contextlib.suppress(*_TRANSPORT_ERRORS):
                client.close()

    # Extras --------------------------------------------------------------------------

    def is_pinned(self, cid: str) -> bool:
        """Whether the node holds a pin (direct or recursive) for ``cid``."""
        key = normalize_cid(cid)
        try:
            with self._calling("pin/ls", key):
                answer = self._client().pin.ls(
                    key, opts={"timeout": _duration(self._has_timeout)},
                    timeout=self._http_timeout(self._has_timeout),
                )
        except BlobNotFound:  # includes "is not pinned"
            return False
        keys = answer.get("Keys", {}) if hasattr(answer, "get") else {}
        return any(normalize_cid(text) == key for text in keys)

    def pins(self) -> list[str]:
        """Every recursive pin of the node, as the node names it (the node's own files too)."""
        with self._calling("pin/ls"):
            answer = self._client().pin.ls(
                type="recursive",
                opts={"timeout": _duration(self._timeout)},
                timeout=self._http_timeout(self._timeout),
            )
        keys = answer.get("Keys", {}) if hasattr(answer, "get") else {}
        return [str(text) for text in keys]

    def version(self) -> str:
        """The node's version string; a cheap health check."""
        with self._calling("version"):
            answer = self._client().version(timeout=self._http_timeout(self._has_timeout))
        return _answer_text(answer, "Version")

    # Internals -----------------------------------------------------------------------

    def _client(self) -> Any:
        if self._closed:
            raise StorageUnavailable(self._source, "the store is closed")
        client = getattr(self._local, "client", None)
        if client is not None:
            return client
        with self._clients_lock:
            if self._closed:
                raise StorageUnavailable(self._source, "the store is closed")
            try:
                with _client_warnings_silenced():
                    # `connect()` would refuse daemons newer than 0.8; the constructor
                    # does not check the version.
                    client = ipfshttpclient.Client(
                        self._api, session=True,
                        timeout=self._http_timeout(self._timeout),
                    )
            except ipfshttpclient.exceptions.AddressError as exc:
                raise StorageUnavailable(
                    self._source, f"not a usable API multiaddr ({exc})") from exc
            self._clients.append(client)
        self._local.client = client
        return client

    def _session(self) -> requests.Session:
        """This thread's HTTP session for the calls the client library has no method for."""
        if self._closed:
            raise StorageUnavailable(self._source, "the store is closed")
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._clients_lock:
                self._sessions.append(session)
        return cast(requests.Session, session)

    def _http_timeout(self, operation: float) -> tuple[float, float]:
        return (self._connect_timeout, operation + self._grace)

    @contextlib.contextmanager
    def _calling(self, command: str, cid: str | None = None) -> Iterator[None]:
        """Run one RPC call; translate whatever it raises into the storage error tree."""
        try:
            with _client_warnings_silenced():
                yield
        except StorageError:
            raise
        except ipfshttpclient.exceptions.ErrorResponse as exc:
            message = str(exc)
            if cid is not None and any(m in message.lower() for m in _NOT_FOUND_MARKERS):
                raise BlobNotFound(cid, f"{self._source}: {message}") from exc
            raise StorageUnavailable(self._source, f"{command}: {message}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise StorageUnavailable(self._source, f"{command}: {_short(exc)}") from exc


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _answer_text(answer: object, field: str) -> str:
    if isinstance(answer, str):
        return answer
    value = answer.get(field) if hasattr(answer, "get") else None
    if not isinstance(value, str):
        raise StorageError(
            f"unexpected answer from the IPFS node: {answer!r:.200}",
            f"IPFS 节点返回了无法识别的结果：{answer!r:.200}",
        )
    return value


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
