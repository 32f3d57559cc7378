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
