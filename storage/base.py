"""The interface every document store implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class DocumentStore(Protocol):
    """A content-addressed store of (encrypted) document blobs.

    CIDs are the ones :func:`storage.cid.compute_cid` computes: the store never trusts a
    CID or bytes it did not check itself. Every method raises only
    :class:`storage.errors.StorageError` subclasses.
    """

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its CID in canonical text form.

        Raises :class:`~storage.errors.CidMismatch` if the backend files the bytes under
        another CID, :class:`~storage.errors.StorageUnavailable` if it cannot be reached.
        """
        ...

    def put_many(self, blobs: Sequence[bytes]) -> list[str]:
        """:meth:`put` of each blob, in as few requests as the backend allows; their CIDs in order.

        All or nothing for the caller: it returns only when every blob is stored, else raises
        (some blobs may be stored already; storing them again is harmless).
        """
        ...

    def get(self, cid: str) -> bytes:
        """The bytes stored under ``cid``, checked against it before being returned.

        Raises :class:`~storage.errors.InvalidCid`, :class:`~storage.errors.BlobNotFound`,
        :class:`~storage.errors.CidMismatch` or :class:`~storage.errors.StorageUnavailable`.
        """
        ...

    def has(self, cid: str) -> bool:
        """Whether the store holds ``cid`` locally (no network search)."""
        ...

    def pin(self, cid: str) -> None:
        """Keep ``cid`` from garbage collection; :class:`~storage.errors.BlobNotFound` if absent."""
        ...

    def close(self) -> None:
        """Release connections and file handles; the store is unusable afterwards."""
        ...
