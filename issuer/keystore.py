"""Encrypted keystores of department signing keys (Web3 Secret Storage, scrypt).

A key exists on disk only encrypted, in a directory only its owner can read. Passwords come
from a hidden prompt (with confirmation when a key is created) or, for automation, from the
environment variable named by ``PASSWORD_ENV``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from issuer.errors import CorruptKeystore, KeyExists, KeyNotFound, WrongPassword

PASSWORD_ENV = "EREG_KEY_PASSWORD"  # noqa: S105 - the name of the variable, not a password
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class KeyInfo:
    name: str
    address: str
    path: Path


class Keystore:
    """A directory of ``<name>.json`` keystores."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeyNotFound(f"invalid key name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.directory / f"{name}.json"

    def create(self, name: str, password: str, *, private_key: bytes | None = None) -> KeyInfo:
        path = self._path(name)
        if path.exists():
            raise KeyExists(f"key {name!r} exists already ({path})")
        if len(password) < 8:
            raise WrongPassword("the password must have at least 8 characters")
        account: LocalAccount = Account.from_key(private_key) if private_key else Account.create()
        keystore = Account.encrypt(account.key, password, kdf="scrypt")
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, stat.S_IRWXU)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(keystore, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return KeyInfo(name=name, address=account.address, path=path)

    def _read(self, name: str) -> tuple[Path, dict[str, Any]]:
        path = self._path(name)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise KeyNotFound(f"no key named {name!r} in {self.directory}") from exc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CorruptKeystore(f"keystore {path} is unreadable: {exc}") from exc
        if not isinstance(raw, dict) or ("crypto" not in raw and "Crypto" not in raw):
            raise CorruptKeystore(f"keystore {path} is not an encrypted key")
        return path, raw

    def info(self, name: str) -> KeyInfo:
        path, raw = self._read(name)
        address = raw.get("address")
        if not isinstance(address, str) or len(address.removeprefix("0x")) != 40:
            raise CorruptKeystore(f"keystore {path} has no address")
        return KeyInfo(name=name, address=to_checksum_address("0x" + address.removeprefix("0x")), path=path)

    def list(self) -> list[KeyInfo]:
        if not self.directory.exists():
            return []
        keys = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                keys.append(self.info(path.stem))
            except (CorruptKeystore, KeyNotFound):
                continue
        return keys

    def load(self, name: str, password: str) -> LocalAccount:
        path, raw = self._read(name)
        try:
            key = Account.decrypt(raw, password)
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                raise WrongPassword(f"wrong password for key {name!r}") from exc
            raise CorruptKeystore(f"keystore {path} is corrupt: {exc}") from exc
        except (KeyError, TypeError) as exc:
            raise CorruptKeystore(f"keystore {path} is corrupt: missing {exc}") from exc
        account: LocalAccount = Account.from_key(key)
        return account


# ------------------------------------------------------------------------------ SM2 keys
SM2_SUBDIR = "sm2"
SM2_KDF_ITERATIONS = 600_000
SM2_KDF_ITERATIONS_ENV = "EREG_SM2_KDF_ITERATIONS"  # tests lower it; never below 10,000


@dataclass(frozen=True)
class Sm2KeyInfo:
    name: str
    public_key: str  # 0x + x ‖ y
    path: Path


def _sm2_iterations() -> int:
    raw = os.environ.get(SM2_KDF_ITERATIONS_ENV)
    return max(10_000, int(raw)) if raw and raw.isdigit() else SM2_KDF_ITERATIONS


class Sm2Keystore:
    """A directory (``<keys>/sm2``) of encrypted SM2 keys, for the ``ereg/1-sm`` suite.

    All national algorithms: PBKDF2-HMAC-SM3 derives a 16-byte SM4 key from the password and a
    random 16-byte salt; SM4-GCM seals the 32-byte private scalar, the public key being the
    associated data (so a swapped public key does not open). Only the public key is in clear.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeyNotFound(f"invalid key name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.directory / f"{name}.json"

    @staticmethod
    def _kek(password: str, salt: bytes, iterations: int) -> bytes:
        import hashlib

        return hashlib.pbkdf2_hmac("sm3", password.encode("utf-8"), salt, iterations, dklen=16)

    def create(self, name: str, password: str, *, private_key: bytes | None = None) -> Sm2KeyInfo:
        import secrets

        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        from documents.sm2 import Sm2PrivateKey

        path = self._path(name)
        if path.exists():
            raise KeyExists(f"SM2 key {name!r} exists already ({path})")
        if len(password) < 8:
            raise WrongPassword("the password must have at least 8 characters")
        key = Sm2PrivateKey.from_bytes(private_key) if private_key else Sm2PrivateKey.generate()
        public = key.public_key.hex()
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        iterations = _sm2_iterations()
        kek = self._kek(password, salt, iterations)
        enc = Cipher(algorithms.SM4(kek), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(public.encode("ascii"))
        sealed = enc.update(key.to_bytes()) + enc.finalize() + enc.tag
        record = {
            "version": 1,
            "alg": "SM2",
            "publicKey": public,
            "crypto": {
                "kdf": "pbkdf2-hmac-sm3",
                "iterations": iterations,
                "salt": salt.hex(),
                "cipher": "sm4-gcm",
                "nonce": nonce.hex(),
                "ciphertext": sealed.hex(),
            },
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, stat.S_IRWXU)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return Sm2KeyInfo(name=name, public_key=public, path=path)

    def _read(self, name: str) -> tuple[Path, dict[str, Any]]:
        path = self._path(name)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise KeyNotFound(f"no SM2 key named {name!r} in {self.directory}") from exc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CorruptKeystore(f"keystore {path} is unreadable: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("alg") != "SM2" or not isinstance(raw.get("crypto"), dict):
            raise CorruptKeystore(f"keystore {path} is not an encrypted SM2 key")
        public = raw.get("publicKey")
        if not isinstance(public, str) or not re.fullmatch(r"0x[0-9a-f]{128}", public):
            raise CorruptKeystore(f"keystore {path} has no SM2 public key")
        return path, raw

    def info(self, name: str) -> Sm2KeyInfo:
        path, raw = self._read(name)
        return Sm2KeyInfo(name=name, public_key=raw["publicKey"], path=path)

    def list(self) -> list[Sm2KeyInfo]:
        if not self.directory.exists():
            return []
        out = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                out.append(self.info(path.stem))
            except (CorruptKeystore, KeyNotFound):
                continue
        return out

    def load(self, name: str, password: str) -> Any:
        """The :class:`documents.sm2.Sm2PrivateKey` (its public key checked against the file's)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        from documents.sm2 import Sm2PrivateKey

        path, raw = self._read(name)
        c = raw["crypto"]
        try:
            if c.get("kdf") != "pbkdf2-hmac-sm3" or c.get("cipher") != "sm4-gcm":
                raise CorruptKeystore(f"keystore {path} uses an unknown kdf or cipher")
            iterations = int(c["iterations"])
            if not 10_000 <= iterations <= 10_000_000:
                raise CorruptKeystore(f"keystore {path} has an implausible iteration count")
            salt, nonce, sealed = (bytes.fromhex(c[k]) for k in ("salt", "nonce", "ciphertext"))
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptKeystore(f"keystore {path} is corrupt: {exc}") from exc
        if len(sealed) != 48 or len(nonce) != 12:
            raise CorruptKeystore(f"keystore {path} is corrupt: bad lengths")
        kek = self._kek(password, salt, iterations)
        dec = Cipher(algorithms.SM4(kek), modes.GCM(nonce, sealed[32:])).decryptor()
        dec.authenticate_additional_data(raw["publicKey"].encode("ascii"))
        try:
            scalar = dec.update(sealed[:32]) + dec.finalize()
        except InvalidTag:
            raise WrongPassword(f"wrong password for SM2 key {name!r}") from None
        key = Sm2PrivateKey.from_bytes(scalar)
        if key.public_key.hex() != raw["publicKey"]:
            raise CorruptKeystore(f"keystore {path}: the key does not match its public key")
        return key
