"""Which verifications may run on an event loop, and the guard around each blocking backend.

Most verifications need neither the chain nor IPFS: integrity is CPU work and the index is a
local SQLite file, so a service runs them inline on its event loop (a thread hand-off would cost
more than the verification). A verification is first tried under :func:`inline_only`; the first
backend call it reaches raises :class:`BackendNeeded` instead of blocking, and the caller re-runs
the whole (pure) verification on its request pool, where backend calls are allowed. A caller
that never enters :func:`inline_only` (the CLI) simply blocks on each backend call.

Each backend sits behind its own :class:`httpkit.blocking.Bulkhead`: a hung chain node or IPFS
daemon holds at most that bulkhead's slots, and once one call timed out the breaker answers
"unavailable" at once for a cooldown, so the verdict reads ERROR without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from common.errors import EregError
from httpkit.blocking import Bulkhead
from storage import DocumentStore
from storage.errors import StorageUnavailable

T = TypeVar("T")

_INLINE: ContextVar[bool] = ContextVar("ereg_verification_inline", default=False)


class BackendNeeded(EregError):
    """Raised in inline mode where a verification would call ``backend`` (chain or IPFS).

    It is deliberately no ChainError or StorageError: no handler of the verification may mistake
    it for an outage and turn it into an ERROR fragment. The caller that entered inline mode (the
    verifier service's request logic) catches it and re-runs the verification on its pool; reaching
    an HTTP edge would be a bug (500).
    """

    code = "BACKEND_NEEDED"
    message_zh = "此项核验需访问后端服务"

    def __init__(self, backend: str) -> None:
        super().__init__(f"the verification needs the {backend} backend")
        self.backend = backend


@contextmanager
def inline_only() -> Iterator[None]:
    """While inside, a backend call raises :class:`BackendNeeded` instead of blocking."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


def backends_allowed() -> None:
    """Leave inline mode in this context (the pool's threads start from a copy of the caller's)."""
    _INLINE.set(False)


def require_backend(backend: str) -> None:
    """Raise :class:`BackendNeeded` in inline mode; nothing otherwise."""
    if _INLINE.get():
        raise BackendNeeded(backend)


class GuardedStore:
    """A :class:`~storage.base.DocumentStore` whose every call needs the pool and passes its bulkhead.

    A full or open bulkhead raises :class:`~storage.errors.StorageUnavailable` at once, which the
    verification reports as ``IPFS_UNAVAILABLE``; a call that found the store unreachable opens it.
    """

    def __init__(self, store: DocumentStore, bulkhead: Bulkhead) -> None:
        self.inner = store
        self.bulkhead = bulkhead

    def _call(self, fn: Callable[[], T]) -> T:
        require_backend("ipfs")
        return self.bulkhead.call(fn, on_busy=self._busy, trip_on=(StorageUnavailable,))

    @staticmethod
    def _busy() -> Exception:
        return StorageUnavailable("document store", "not answering (calls in flight or breaker open)")

    def get(self, cid: str) -> bytes:
        return self._call(lambda: self.inner.get(cid))

    def has(self, cid: str) -> bool:
        return self._call(lambda: self.inner.has(cid))

    def put(self, data: bytes) -> str:
        return self._call(lambda: self.inner.put(data))

    def put_many(self, blobs: Sequence[bytes]) -> list[str]:
        return self._call(lambda: self.inner.put_many(blobs))

    def pin(self, cid: str) -> None:
        self._call(lambda: self.inner.pin(cid))

    def close(self) -> None:
        self.inner.close()
