"""Node keys of the validators: made here, kept encrypted at rest, unlocked only for Besu to start.

A validator's node key (secp256k1) signs its QBFT messages and blocks; its address is the
validator's address in the genesis ``extraData``, its public key the id in its enode URL. The key
is written only as an Ethereum keystore (Web3 Secret Storage v3, scrypt), next to ``key.pub`` (the
uncompressed public key as ``0x`` and 128 hex digits, the form of ``besu public-key export``) and
the enode, which need no password. Besu reads a plain key file (one line of hex), so
:func:`unlock_key` writes one, owner-only, to a path meant for a tmpfs (``/run/...``), just before
Besu starts; nothing plain is ever written into the bundle.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address

from common.hexutil import to_hex
from network.errors import NodeKeyError

#: scrypt's work factor (n) for the keystores: eth-account's default, about two seconds a key.
DEFAULT_SCRYPT_N = 2**18
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class NodeKey:
    """The public side of a node key, plus its keystore (encrypted)."""

    address: str  # checksummed
    public_key: str  # 0x + 128 hex digits (x ‖ y)
    keystore: dict[str, Any]

    def enode(self, host: str, port: int) -> str:
        return f"enode://{self.public_key[2:]}@{host}:{port}"


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise NodeKeyError(
            f"the key password must have at least {MIN_PASSWORD_LENGTH} characters",
            f"密钥密码至少需要 {MIN_PASSWORD_LENGTH} 个字符",
        )


def new_node_key(password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> NodeKey:
    """A fresh key, encrypted under ``password``; the plain key lives only in this call."""
    check_password(password)
    private = PrivateKey(bytes(Account.create().key))
    keystore = Account.encrypt(private.to_bytes(), password, kdf="scrypt", iterations=scrypt_n)
    return NodeKey(
        address=to_checksum_address(private.public_key.to_canonical_address()),
        public_key=to_hex(private.public_key.to_bytes()),
        keystore=dict(keystore),
    )


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (created 0600, never through a symlink)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, stat.S_IRUSR | stat.S_IWUSR)
    try:
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        if fd != -1:
            os.close(fd)


def read_keystore(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NodeKeyError(f"no key file {path}", f"密钥文件不存在：{path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NodeKeyError(
            f"key file {path} is unreadable ({type(exc).__name__})", f"无法读取密钥文件 {path}"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("crypto") or raw.get("Crypto"), dict):
        raise NodeKeyError(f"{path} is not an encrypted key", f"{path} 不是加密的密钥文件")
    return raw


def decrypt_node_key(keystore: dict[str, Any], password: str, where: str) -> PrivateKey:
    try:
        secret = Account.decrypt(keystore, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise NodeKeyError(f"wrong password for {where}", f"{where} 的密码错误") from None
        raise NodeKeyError(f"{where} is corrupt", f"{where} 已损坏") from None
    except (KeyError, TypeError):
        raise NodeKeyError(f"{where} is corrupt", f"{where} 已损坏") from None
    return PrivateKey(bytes(secret))


def unlock_key(keystore_path: Path, password: str, out: Path, *, public_key: str | None = None) -> str:
    """Decrypt the node key of ``keystore_path`` into ``out`` (one line, ``0x`` hex, mode 0600).

    ``public_key`` (the node's ``key.pub``, read next to the keystore when not given) must be the
    decrypted key's: a keystore swapped for another node's is refused before anything is written.
    Returns the node's address.
    """
    keystore = read_keystore(keystore_path)
    private = decrypt_node_key(keystore, password, str(keystore_path))
    expected = public_key
    pub_file = keystore_path.with_name("key.pub")
    if expected is None and pub_file.exists():
        expected = pub_file.read_text(encoding="utf-8").strip()
    actual = to_hex(private.public_key.to_bytes())
    if expected is not None and expected.lower() != actual:
        raise NodeKeyError(
            f"{keystore_path} holds another node's key than its key.pub names",
            f"{keystore_path} 中的密钥与 key.pub 不符",
        )
    write_private_file(out, to_hex(private.to_bytes()))
    return to_checksum_address(private.public_key.to_canonical_address())
