"""Content-addressed document store in a local directory (no daemon needed).

Blobs are kept under the same CIDs an IPFS node would give them, so documents issued on a
single machine can later be moved to IPFS without changing a QR code. Layout::

    <root>/blocks/<two characters of the CID>/<cid>

The shard is the next-to-last two characters of the base32 CID (as in Kubo's flatfs),
which spreads blobs over 1,024 directories. Writes go to a temporary file in the same
directory, are flushed to disk and then renamed into place, so a reader never sees half a
blob and a crash leaves at most a stray ``*.tmp`` file. Reads are checked against the CID:
a file changed on disk raises :class:`~storage.errors.CidMismatch`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from storage.cid import compute_cid, normalize_cid, verify_cid
from storage.errors import BlobNotFound, CidMismatch, StorageUnavailable

_BACKEND = "embedded store"


class EmbeddedStore:
    """A :class:`~storage.base.DocumentStore` in a directory; safe across threads and processes.

    ``durable`` (default) fsyncs each blob and its directory before :meth:`put` returns;
    turning it off trades crash safety for speed (tests, throw-away data).
    """

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self._root = Path(root)
        self._blocks = self._root / "blocks"
        self._durable = durable
        try:
            self._blocks.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(_BACKEND, f"cannot create {self._blocks}: {exc}") from exc

    @property
    def root(self) -> Path:
        return self._root

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self._root)!r})"

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def path_of(self, cid: str) -> Path:
        """Where the blob of ``cid`` is (or would be) kept."""
        key = normalize_cid(cid)
        return self._blocks / key[-3:-1] / key

    # DocumentStore -------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        cid = compute_cid(data)
        path = self._blocks / cid[-3:-1] / cid
        if self._intact(cid, path):
            return cid
        try:
            path.parent.mkdir(exist_ok=True)
            tmp = path.parent / f".{cid}.{os.getpid()}.{threading.get_ident()}.tmp"
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    if self._durable:
                        handle.flush()
                        os.fsync(handle.fileno())
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            if self._durable:
                _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageUnavailable(_BACKEND, f"cannot write {path}: {exc}") from exc
        return cid

    def put_many(self, blobs: Sequence[bytes]) -> list[str]:
        """:meth:`put` of each blob, in order (files on a local disk gain nothing from batching)."""
        return [self.put(blob) for blob in blobs]

    def get(self, cid: str) -> bytes:
        path = self.path_of(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(normalize_cid(cid), f"not in {self._root}") from exc
        except OSError as exc:
            raise StorageUnavailable(_BACKEND, f"cannot read {path}: {exc}") from exc
        verify_cid(path.name, data, source=f"{_BACKEND} file {path}")
        return data

    def has(self, cid: str) -> bool:
        return self.path_of(cid).is_file()

    def pin(self, cid: str) -> None:
        """Nothing is ever collected here; only checks that the blob is present."""
        if not self.has(cid):
            raise BlobNotFound(normalize_cid(cid), f"not in {self._root}")

    def close(self) -> None:
        """Nothing to release (files are opened per call)."""

    # Internals -----------------------------------------------------------------------

    def _intact(self, cid: str, path: Path) -> bool:
        """True if ``path`` already holds the right bytes (a damaged copy gets rewritten)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageUnavailable(_BACKEND, f"cannot read {path}: {exc}") from exc
        try:
            verify_cid(cid, data, source=str(path))
        except CidMismatch:
            return False
        return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
