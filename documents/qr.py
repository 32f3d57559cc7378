"""QR payload: ``<verifier base>/q/<cid>#k=<base64url(key), no padding>``.

The key travels in the URL fragment, which browsers never send to a server.

* the base URL must be ``https://``; plain ``http://`` is accepted only for a loopback host
  (``localhost``, ``127.0.0.1``, ``[::1]``), which the local demo stack serves;
* the base may carry a path prefix (``https://verify.example.gov.cn/ereg``) but no query,
  fragment or user info; a trailing ``/`` is dropped;
* the CID is a CIDv1 in base32 lowercase multibase (``b`` + ``[a-z2-7]``), as the storage
  layer produces;
* the key is 32 bytes (AES-256, suite ``ereg/1``: 43 base64url characters without ``=``
  padding) or 16 bytes (SM4, suite ``ereg/1-sm``: 22 characters); its length names the cipher.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from .errors import QrUrlError

__all__ = ["QrPayload", "build_qr_url", "parse_qr_url"]

_CID_RE = re.compile(r"b[a-z2-7]{10,200}")
_KEY_RE = re.compile(r"[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{22}")
_KEY_SIZES = (32, 16)
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class QrPayload(NamedTuple):
    base_url: str
    cid: str
    key: bytes


def _error(message: str, message_zh: str, code: str) -> QrUrlError:
    return QrUrlError(message, message_zh, code=code)


def _check_base(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http"):
        raise _error("verifier URL must use https", "核验地址必须使用 https", "BAD_SCHEME")
    if not parts.hostname:
        raise _error("verifier URL has no host", "核验地址缺少主机名", "BAD_BASE_URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise _error(
            "plain http is allowed only for localhost; use https",
            "仅本机地址允许使用 http，其他地址请使用 https",
            "BAD_SCHEME",
        )
    if parts.query or parts.fragment or parts.username or parts.password or "#" in base_url:
        raise _error(
            "verifier URL must not carry a query, fragment or user info",
            "核验地址不得包含查询串、片段或用户信息",
            "BAD_BASE_URL",
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _check_cid(cid: str) -> str:
    if not _CID_RE.fullmatch(cid):
        raise _error(
            "CID must be a base32 CIDv1 (b followed by a-z, 2-7)",
            "CID 必须是 base32 编码的 CIDv1（b 开头，仅含 a-z、2-7）",
            "BAD_CID",
        )
    return cid


def _encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


def build_qr_url(verifier_base_url: str, cid: str, key: bytes) -> str:
    """Build the citizen QR URL for a stored document."""
    if len(key) not in _KEY_SIZES:
        raise _error(
            "key must be 32 (AES-256) or 16 (SM4) bytes", "密钥必须为 32 字节（AES-256）或 16 字节（SM4）", "BAD_KEY"
        )
    return f"{_check_base(verifier_base_url)}/q/{_check_cid(cid)}#k={_encode_key(key)}"


def parse_qr_url(url: str) -> QrPayload:
    """Split a QR URL into ``(base_url, cid, key)``; raise :class:`QrUrlError` if invalid."""
    if not isinstance(url, str) or len(url) > 2048:
        raise _error("not a QR URL", "不是有效的二维码地址", "BAD_URL")
    head, sep, fragment = url.partition("#")
    if not sep or not fragment:
        raise _error(
            "URL has no #k= fragment carrying the key",
            "地址缺少携带密钥的 #k= 片段",
            "MISSING_KEY",
        )
    if not fragment.startswith("k="):
        raise _error("fragment must be k=<key>", "片段格式必须为 k=<密钥>", "MISSING_KEY")
    encoded = fragment[2:]
    if not _KEY_RE.fullmatch(encoded):
        raise _error(
            "key must be 32 or 16 bytes in base64url without padding (43 or 22 characters)",
            "密钥必须是 32 或 16 字节、无填充的 base64url 编码（43 或 22 个字符）",
            "BAD_KEY",
        )
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - excluded by the regex
        raise _error("key is not base64url", "密钥不是 base64url 编码", "BAD_KEY") from None
    if len(key) not in _KEY_SIZES or _encode_key(key) != encoded:
        raise _error("key is not canonical base64url", "密钥不是规范的 base64url 编码", "BAD_KEY")
    parts = urlsplit(head)
    if parts.query:
        raise _error("QR URL must not carry a query", "二维码地址不得包含查询串", "BAD_URL")
    path, slash_q, cid = parts.path.rpartition("/q/")
    if not slash_q:
        raise _error("URL path must end with /q/<cid>", "地址路径必须以 /q/<cid> 结尾", "BAD_URL")
    base = _check_base(f"{parts.scheme}://{parts.netloc}{path}")
    return QrPayload(base, _check_cid(cid), key)
