"""Settings of the verifier service (EREG_* environment variables).

They compose the chain client's settings and the HTTP kit's rather than re-declare them; what
is the verifier's own is below. The verifier knows the chain, the registry and the document
store only: it has no setting for any issuer endpoint, because verification never contacts
the issuer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from chain.settings import ChainSettings
from httpkit.settings import HttpSettings


class VerifierSettings(ChainSettings, HttpSettings):
    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")

    #: The PropertyRegistry to follow (chain of title, PROPERTY_STATUS, /v1/properties); default:
    #: the deployment record's, if it is wired to the same DocumentRegistry; none: documents only.
    property_registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    #: First block to index; default: the deployment record's block.
    index_start_block: int | None = Field(default=None, ge=0)
    index_path: Path = Path("verifier-index.sqlite")
    index_poll_interval: PositiveFloat = 0.5
    #: The index answers the hot path only if it synced this recently; otherwise the chain is asked.
    max_index_age: PositiveFloat = 15.0
    #: Bound of one call to the chain node (web3's HTTP timeout): a hung node costs a request this long at most.
    request_timeout: PositiveFloat = 5.0
    #: IPFS RPC API (multiaddr or http://host:port); several, comma-separated, are one replicated
    #: store (each read tries them in turn); without it the embedded store in ``store_dir`` is used, if set.
    ipfs_api: str | None = None
    #: Replication factor of the listed nodes (default: all of them); the verifier only reads, so
    #: it is checked against the list, not used to refuse reads.
    ipfs_replication: PositiveInt | None = None
    store_dir: Path | None = None
    #: Bound of one IPFS operation (the node's own deadline; the HTTP read waits one second more).
    ipfs_timeout: PositiveFloat = 10.0
    #: Calls that may be inside the chain node, and inside the document store, at once; further
    #: requests needing that backend get ERROR at once instead of queueing behind a hung one.
    chain_concurrency: PositiveInt = 4
    ipfs_concurrency: PositiveInt = 4
    #: Seconds a backend's breaker stays open after a call timed out or found it unreachable.
    backend_cooldown: PositiveFloat = 2.0
    #: How often the health prober reads the chain, the registry's code and IPFS, and the
    #: timeout of each probe (health answers from what it last saw, never waiting on a backend).
    health_interval: PositiveFloat = 1.0
    health_timeout: PositiveFloat = 1.0
    #: Per client address; a window's scanner makes a few requests a second, a bench sets 0 (off).
    rate_limit_per_second: float = Field(default=200.0, ge=0.0)
    rate_limit_burst: PositiveInt = 400
    #: Enough for the request pool to hold one backend's bulkhead and serve the other's requests.
    workers: PositiveInt = 16
    #: Longer than one IPFS operation may take, so that a hung daemon reads as an ERROR verdict.
    request_deadline: PositiveFloat = 15.0

    @field_validator("ipfs_api")
    @classmethod
    def _ipfs_api_list(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from storage.replicated import StorageConfigError, parse_api_list

        try:
            return ",".join(parse_api_list(value))
        except StorageConfigError as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _replication_fits(self) -> VerifierSettings:
        if self.ipfs_replication is not None:
            nodes = len(self.ipfs_api.split(",")) if self.ipfs_api else 0
            if self.ipfs_replication > nodes:
                raise ValueError(f"ipfs_replication {self.ipfs_replication} needs as many nodes in ipfs_api ({nodes})")
        return self


@lru_cache
def get_settings() -> VerifierSettings:
    return VerifierSettings()  # type: ignore[call-arg]
