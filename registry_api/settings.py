"""Settings of the relay service (EREG_* environment variables).

They compose the chain client's settings (:class:`chain.settings.ChainSettings`: where the node
is, timeouts, the eth_getLogs chunk) and the HTTP kit's (:class:`httpkit.settings.HttpSettings`:
body and JSON limits, client rate limit, pool, deadline, docs, logs) and add the relay's own;
a default the relay needs otherwise is overridden here, never re-declared elsewhere.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, PositiveFloat, PositiveInt, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from chain.settings import ChainSettings
from httpkit.settings import HttpSettings

#: Values in one JSON body: room for ``max_items`` (1,000) status changes with two full proofs
#: of 64 hashes each (about 145 values an item); the 4 MiB body limit binds before it for
#: anything a client means to send.
RELAY_JSON_MAX_VALUES = 150_000


class RelaySettings(ChainSettings, HttpSettings):
    """``rpc_url``, ``chain_id`` and the relayer keystore have no defaults: a guess would be a lie."""

    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")

    #: The PropertyRegistry; default: the deployment record's.
    property_registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    #: Each call to the node gives up after this long (the chain client's HTTP timeout).
    request_timeout: PositiveFloat = 5.0

    #: The durable queue: this SQLite file, unless ``queue_url`` names a PostgreSQL database
    #: (``postgresql://user:password@host:port/db``), which several relay instances may share.
    queue_path: Path = Path("relay-queue.sqlite")
    queue_url: SecretStr | None = None
    #: PostgreSQL only: how long a batcher's claim on queued requests holds if its process dies.
    queue_lease: PositiveFloat = 120.0
    #: Signed messages per transaction at most, and the age at which a smaller batch goes anyway.
    batch_size: int = Field(default=200, ge=1, le=1000)
    batch_age: PositiveFloat = 2.0
    #: How often the batcher looks at the queue (and the chain client polls a pending receipt).
    poll_interval: PositiveFloat = 0.1
    #: The batcher's longest wait between tries while the node is down.
    retry_max: PositiveFloat = 10.0
    #: How long a property step's POST waits for the step to be mined before answering 202 SUBMITTED.
    property_wait: PositiveFloat = 20.0
    #: A signature must stay valid at least this long after acceptance (seconds).
    deadline_margin: int = Field(default=30, ge=0)
    #: Signed messages per POST at most, and the body size limit.
    max_items: int = Field(default=1000, ge=1, le=10_000)
    max_body_bytes: PositiveInt = 4 * 1_048_576
    json_max_values: PositiveInt = RELAY_JSON_MAX_VALUES
    #: Seconds a request may take in the relay's worker pool (a POST of max_items reads the chain
    #: a few times per item); property steps get ``property_wait`` on top (they wait to be mined).
    request_deadline: PositiveFloat = 30.0

    #: Signed items per second and department key (the signer recovered from each item), and
    #: how many it may send at once; checked before any chain read. 0 turns the limit off.
    key_rate_limit_per_second: float = Field(default=50.0, ge=0.0)
    key_rate_limit_burst: PositiveInt = 2000
    #: Requests a department may have QUEUED (not yet sent) at once; 0 turns the quota off.
    department_queue_quota: int = Field(default=20_000, ge=0)

    #: A replayed property step the relay has no record of is looked for this many eth_getLogs
    #: chunks back from the head, no further (409 NONCE_USED beyond).
    property_lookback_chunks: int = Field(default=10, ge=1, le=1000)
    #: Property steps the relay remembers (signer, nonce → transaction), oldest forgotten first.
    property_steps_kept: PositiveInt = 100_000

    #: Readiness is probed this often, each probe call giving up after ``health_timeout``; a
    #: probe still waiting on the node or the queue after ``health_slow`` reads as "not ready"
    #: at once. The batcher counts as stuck when its last round is older than ``batcher_max_age``.
    health_interval: PositiveFloat = 0.5
    health_timeout: PositiveFloat = 2.0
    health_slow: PositiveFloat = 0.5
    batcher_max_age: PositiveFloat = 300.0

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
        """The chain client's settings: these very settings (they are ChainSettings)."""
        return self

    def property_deadline(self) -> float:
        """A property step's deadline in the pool: it may wait ``property_wait`` to be mined."""
        return self.request_deadline + self.property_wait

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
