"""Settings of the relay service (EREG_* environment variables)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import AnyHttpUrl, Field, PositiveFloat, PositiveInt, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.settings import ChainSettings


class RelaySettings(BaseSettings):
    """``rpc_url``, ``chain_id`` and the relayer keystore have no defaults: a guess would be a lie."""

    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")

    rpc_url: AnyHttpUrl
    chain_id: PositiveInt
    registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    #: The PropertyRegistry; default: the deployment record's.
    property_registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    deployments_dir: Path = Path("deployments")
    confirmations: int = Field(default=0, ge=0, le=1000)
    request_timeout: PositiveFloat = 5.0
    receipt_timeout: PositiveFloat = 120.0

    #: The durable queue: this SQLite file, unless ``queue_url`` names a PostgreSQL database
    #: (``postgresql://user:password@host:port/db``), which several relay instances may share.
    queue_path: Path = Path("relay-queue.sqlite")
    queue_url: SecretStr | None = None
    #: PostgreSQL only: how long a batcher's claim on queued requests holds if its process dies.
    queue_lease: PositiveFloat = 120.0
    #: Signed messages per transaction at most, and the age at which a smaller batch goes anyway.
    batch_size: int = Field(default=200, ge=1, le=1000)
    batch_age: PositiveFloat = 2.0
    #: How often the batcher looks at the queue, and its longest wait while the node is down.
    poll_interval: PositiveFloat = 0.1
    retry_max: PositiveFloat = 10.0
    #: How long a property step's POST waits for the step to be mined before answering 202 SUBMITTED.
    property_wait: PositiveFloat = 20.0
    #: A signature must stay valid at least this long after acceptance (seconds).
    deadline_margin: int = Field(default=30, ge=0)
    #: Signed messages per POST at most, and the body size limit.
    max_items: int = Field(default=1000, ge=1, le=10_000)
    max_body_bytes: PositiveInt = 4 * 1_048_576

    #: The relay's own account (pays gas where gas is not free): an encrypted keystore file.
    relayer_keystore: Path | None = None
    relayer_password: SecretStr | None = None

    @field_validator("queue_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text in (None, ""):
            return None
        if not isinstance(text, str) or not text.startswith(("postgresql://", "postgres://")):
            raise ValueError("EREG_QUEUE_URL must be a postgresql:// URL")
        return value

    def chain_settings(self) -> ChainSettings:
        return ChainSettings(
            rpc_url=self.rpc_url,
            chain_id=self.chain_id,
            registry_address=self.registry_address,
            deployments_dir=self.deployments_dir,
            confirmations=self.confirmations,
            request_timeout=self.request_timeout,
            receipt_timeout=self.receipt_timeout,
        )

    def relayer_account(self) -> LocalAccount:
        """The relayer account decrypted from its keystore (EREG_RELAYER_KEYSTORE, EREG_RELAYER_PASSWORD)."""
        if self.relayer_keystore is None or self.relayer_password is None:
            raise ValueError("EREG_RELAYER_KEYSTORE and EREG_RELAYER_PASSWORD must be set")
        keystore = json.loads(self.relayer_keystore.read_text(encoding="utf-8"))
        key = Account.decrypt(keystore, self.relayer_password.get_secret_value())
        account: LocalAccount = Account.from_key(key)
        return account


@lru_cache
def get_settings() -> RelaySettings:
    return RelaySettings()  # type: ignore[call-arg]
