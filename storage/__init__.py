"""Document storage: an IPFS adapter, an embedded content-addressed store, local CIDs.

Use :func:`open_store` to get a :class:`DocumentStore`: an :class:`IpfsStore` when an IPFS
RPC API is configured, a :class:`ReplicatedStore` when several are (comma-separated),
otherwise an :class:`EmbeddedStore` in a local directory, so a single machine works without
any daemon. All file blobs under the CIDs of :func:`compute_cid`, and all check every blob
they return against its CID.
"""

from __future__ import annotations

import os
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
    from storage.replicated import ReplicatedStore

REPLICATION_ENV = "EREG_IPFS_REPLICATION"
"""The replication factor :func:`open_store` uses when its caller gives none (default: every node)."""

__all__ = [
    "BlobNotFound",
    "CidMismatch",
    "DocumentStore",
    "EmbeddedStore",
    "InvalidCid",
    "IpfsStore",
    "ReplicatedStore",
    "StorageError",
    "StorageUnavailable",
    "compute_cid",
    "normalize_cid",
    "open_store",
    "parse_cid",
    "verify_cid",
]


def open_store(
    ipfs_api: str | None,
    embedded_dir: Path,
    *,
    timeout: float = 30.0,
    replication: int | None = None,
    ledger: Path | None = None,
) -> DocumentStore:
    """An :class:`IpfsStore` on ``ipfs_api`` if given, else an :class:`EmbeddedStore`.

    ``ipfs_api`` may list several nodes, comma-separated (multiaddrs or ``http://host:port``):
    then a :class:`ReplicatedStore` over them that needs ``replication`` of them to accept a
    put (default: ``EREG_IPFS_REPLICATION`` in the environment, else every node), and appends
    each CID it writes to ``ledger`` (default: ``storage/written.txt`` in the directory that
    holds ``embedded_dir``; for ``ereg``, ``<home>/storage/written.txt``). One node is an
    :class:`IpfsStore` exactly as before.

    ``timeout`` (seconds) bounds each IPFS operation; it does not apply to the embedded
    store. No connection is made here: an unreachable node shows up as
    :class:`StorageUnavailable` on first use; a malformed list or factor raises
    :class:`~storage.replicated.StorageConfigError` at once.
    """
    if ipfs_api:
        # imported lazily: pulls in the HTTP client
        from storage.replicated import LEDGER_PATH, open_ipfs, parse_replication

        factor = replication if replication is not None else parse_replication(os.environ.get(REPLICATION_ENV))
        if ledger is None:
            ledger = Path(embedded_dir).parent / LEDGER_PATH
        return open_ipfs(ipfs_api, replication=factor, ledger=ledger, timeout=timeout)
    return EmbeddedStore(embedded_dir)


def __getattr__(name: str) -> object:
    if name == "IpfsStore":
        from storage.ipfs import IpfsStore

        return IpfsStore
    if name == "ReplicatedStore":
        from storage.replicated import ReplicatedStore

        return ReplicatedStore
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
