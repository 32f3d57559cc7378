"""Document storage: an IPFS adapter, an embedded content-addressed store, local CIDs.

Use :func:`open_store` to get a :class:`DocumentStore`: an :class:`IpfsStore` when an IPFS
RPC API is configured, otherwise an :class:`EmbeddedStore` in a local directory, so a
single machine works without any daemon. Both file blobs under the CIDs of
:func:`compute_cid`, and both check every blob they return against its CID.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from storage.base import DocumentStore
from storage.cid import compute_cid, normalize_cid, parse_cid, verify_cid
from storage.embedded import EmbeddedStore
from storage.errors import (
    BlobNotFound,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)

if TYPE_CHECKING:
    from storage.ipfs import IpfsStore

__all__ = [
    "BlobNotFound",
    "CidMismatch",
    "DocumentStore",
    "EmbeddedStore",
    "InvalidCid",
    "IpfsStore",
    "StorageError",
    "StorageUnavailable",
    "compute_cid",
    "normalize_cid",
    "open_store",
    "parse_cid",
    "verify_cid",
]


def open_store(ipfs_api: str | None, embedded_dir: Path, *, timeout: float = 30.0) -> DocumentStore:
    """An :class:`IpfsStore` on ``ipfs_api`` if given, else an :class:`EmbeddedStore`.

    ``timeout`` (seconds) bounds each IPFS operation; it does not apply to the embedded
    store. No connection is made here: an unreachable node shows up as
    :class:`StorageUnavailable` on first use.
    """
    if ipfs_api:
        from storage.ipfs import IpfsStore  # imported lazily: pulls in the HTTP client

        return IpfsStore(ipfs_api, timeout=timeout)
    return EmbeddedStore(embedded_dir)


def __getattr__(name: str) -> object:
    if name == "IpfsStore":
        from storage.ipfs import IpfsStore

        return IpfsStore
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
