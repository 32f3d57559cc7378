"""What every ``ereg`` command shares: where keys and records live, and how to reach the chain."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import typer
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from chain.client import ChainClient, connect
from chain.governance import CouncilClient
from chain.registry import CONTRACT_NAME, RegistryClient, read_deployment_record
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from issuer import parsing
from issuer.errors import GovernanceError, UsageError
from issuer.keystore import PASSWORD_ENV, SM2_SUBDIR, Keystore, Sm2Keystore
from storage import DocumentStore, open_store


def default_home() -> Path:
    return Path(os.environ.get("EREG_HOME", Path.home() / ".ereg"))


@dataclass
class CliContext:
    home: Path
    rpc_url: str | None
    chain_id: int | None
    registry_address: str | None
    deployments_dir: Path | None
    council_address: str | None = None
    _senders: dict[str, TransactionSender] = field(default_factory=dict)
    _accounts: dict[str, LocalAccount] = field(default_factory=dict)
    _sm2_keys: dict[str, Any] = field(default_factory=dict)

    @property
    def keystore(self) -> Keystore:
        return Keystore(Path(os.environ.get("EREG_KEYS_DIR", self.home / "keys")))

    @property
    def sm2_keystore(self) -> Sm2Keystore:
        return Sm2Keystore(Path(os.environ.get("EREG_KEYS_DIR", self.home / "keys")) / SM2_SUBDIR)

    def sm2_key(self, key_name: str) -> Any:
        """The SM2 key (a :class:`documents.sm2.Sm2PrivateKey`), decrypted once per command."""
        if key_name not in self._sm2_keys:
            password = os.environ.get(PASSWORD_ENV)
            if password is None:
                password = typer.prompt(f"Password for SM2 key {key_name!r}", hide_input=True)
            self._sm2_keys[key_name] = self.sm2_keystore.load(key_name, password)
        return self._sm2_keys[key_name]

    @cached_property
    def settings(self) -> ChainSettings:
        values: dict[str, object] = {}
        if self.rpc_url:
            values["rpc_url"] = self.rpc_url
        if self.chain_id:
            values["chain_id"] = self.chain_id
        if self.registry_address:
            values["registry_address"] = self.registry_address
        if self.deployments_dir or "EREG_DEPLOYMENTS_DIR" not in os.environ:
            values["deployments_dir"] = self.deployments_dir or self.home / "deployments"
        try:
            return ChainSettings(**values)  # type: ignore[arg-type]
        except ValidationError as exc:
            missing = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
            raise UsageError(
                "chain settings incomplete or invalid: "
                + ", ".join(missing)
                + " (give --rpc-url/--chain-id or set EREG_RPC_URL/EREG_CHAIN_ID)"
            ) from exc

    @cached_property
    def store(self) -> DocumentStore:
        """IPFS when EREG_IPFS_API is set, else the embedded store under the home directory."""
        return open_store(os.environ.get("EREG_IPFS_API") or None, self.home / "blocks")

    @cached_property
    def client(self) -> ChainClient:
        return connect(self.settings)

    @cached_property
    def registry(self) -> RegistryClient:
        return RegistryClient.from_settings(self.client)

    @cached_property
    def council(self) -> CouncilClient:
        """The council that governs the registry: ``--council`` / EREG_COUNCIL_ADDRESS, else the
        one the deployment record wired to this registry; checked to hold its GUARDIAN_ROLE."""
        registry = self.registry
        address = self.council_address
        if not address:
            record = read_deployment_record(self.settings.deployments_dir, self.client.chain_id) or {}
            entry = record.get("contracts", {}).get(CONTRACT_NAME) or {}
            if str(entry.get("address", "")).lower() == registry.address.lower():
                address = entry.get("council")
        if not address:
            raise GovernanceError(
                f"no council known for registry {registry.address}: give --council or set EREG_COUNCIL_ADDRESS "
                "(ereg deploy records it)",
                f"未找到登记合约 {registry.address} 的治理委员会：请用 --council 或 EREG_COUNCIL_ADDRESS 指定"
                "（ereg deploy 会记录）",
            )
        council = CouncilClient(self.client, parsing.address(str(address)))
        council.ensure_deployed()
        if not registry.has_role(registry.guardian_role(), council.address):
            raise GovernanceError(
                f"{council.address} is not the council of registry {registry.address}",
                f"{council.address} 不是登记合约 {registry.address} 的治理委员会",
            )
        return council

    def chain_now(self) -> int:
        """The later of this machine's clock and the chain's latest block time."""
        return max(int(time.time()), self.client.latest_block_time())

    def address_of(self, key_or_address: str) -> str:
        """An address given as such, or the address of a local key (no password needed)."""
        if key_or_address.startswith("0x"):
            return parsing.address(key_or_address)
        return self.keystore.info(key_or_address).address

    def account(self, key_name: str) -> LocalAccount:
        """The key, decrypted once per command (one password prompt, one key derivation)."""
        if key_name not in self._accounts:
            password = os.environ.get(PASSWORD_ENV)
            if password is None:
                password = typer.prompt(f"Password for key {key_name!r}", hide_input=True)
            self._accounts[key_name] = self.keystore.load(key_name, password)
        return self._accounts[key_name]

    def sender(self, key_name: str) -> TransactionSender:
        if key_name not in self._senders:
            self._senders[key_name] = TransactionSender(self.client, self.account(key_name))
        return self._senders[key_name]


def get(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):  # pragma: no cover - the root callback always sets it
        raise TypeError("ereg context missing")
    return obj
