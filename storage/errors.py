"""Exceptions of the storage package.

Every exception carries an English ``message`` and a Chinese ``message_zh`` so that the
outermost layer (CLI or HTTP handler) can show either without knowing the details. Code
inside the project catches the specific classes; nothing below :class:`StorageError`
escapes from a store as a foreign exception type.

::

    EregError
     └── StorageError              502  STORAGE_ERROR
          ├── StorageUnavailable   503  IPFS_UNAVAILABLE  transport failure, daemon down, timeout, disk I/O error
          ├── BlobNotFound         404  BLOB_NOT_FOUND    the store does not hold the CID (and could not fetch it)
          ├── CidMismatch          502  CID_MISMATCH      bytes do not hash to the CID (tampering or a lying server)
          └── InvalidCid           400  INVALID_CID       the text is not a CID this system uses

The statuses are what an HTTP edge answers when the error reaches it unhandled: the store is
a service's backend (502/503), except a CID the caller gave that is malformed (400) or
unknown (404).
"""

from __future__ import annotations

from common.errors import EregError


class StorageError(EregError):
    """Root of the storage exception tree."""

    code = "STORAGE_ERROR"
    message_zh = "文档存储操作失败"
    http_status = 502

    def __init__(self, message: str, message_zh: str, *, code: str | None = None) -> None:
        super().__init__(message, message_zh, code=code)


class StorageUnavailable(StorageError):
    """The storage backend could not be reached or did not answer in time."""

    code = "IPFS_UNAVAILABLE"
    message_zh = "文档存储不可用"
    http_status = 503

    def __init__(self, backend: str, detail: str) -> None:
        super().__init__(
            f"document storage is unavailable ({backend}): {detail}",
            f"文档存储不可用（{backend}）：{detail}",
        )
        self.backend = backend
        self.detail = detail


class BlobNotFound(StorageError):
    """The store does not hold the requested CID."""

    code = "BLOB_NOT_FOUND"
    message_zh = "未找到该文档"
    http_status = 404

    def __init__(self, cid: str, detail: str = "") -> None:
        suffix = f": {detail}" if detail else ""
        super().__init__(
            f"no stored document has CID {cid}{suffix}",
            f"未找到 CID 为 {cid} 的文档{suffix}",
        )
        self.cid = cid
        self.detail = detail


class CidMismatch(StorageError):
    """Bytes received or stored do not hash to the CID they were requested by."""

    code = "CID_MISMATCH"
    message_zh = "内容与 CID 不符"

    def __init__(self, expected: str, actual: str, source: str) -> None:
        super().__init__(
            f"content from {source} does not match CID {expected} (its bytes hash to {actual})",
            f"来自 {source} 的内容与 CID {expected} 不符（实际内容对应 {actual}），可能已被篡改",
        )
        self.expected = expected
        self.actual = actual
        self.source = source


class InvalidCid(StorageError):
    """The text is not a well-formed CID, or not one of the kinds this system produces."""

    code = "INVALID_CID"
    message_zh = "不是有效的文档 CID"
    http_status = 400

    def __init__(self, text: object, reason: str, reason_zh: str | None = None) -> None:
        shown = repr(text) if len(repr(text)) <= 80 else repr(text)[:77] + "..."
        super().__init__(
            f"{shown} is not a valid document CID: {reason}",
            f"{shown} 不是有效的文档 CID：{reason_zh or reason}",
        )
        self.text = text
        self.reason = reason
