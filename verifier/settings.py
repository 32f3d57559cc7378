"""Settings of the verifier service (EREG_* environment variables).

The verifier knows the chain, the registry and the document store only: it has no setting for
any issuer endpoint, because verification never contacts the issuer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AnyHttpUrl, Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class VerifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")

    rpc_url: AnyHttpUrl
    chain_id: PositiveInt
    registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    #: The PropertyRegistry to follow (chain of title, PROPERTY_STATUS, /v1/properties); default:
    #: the deployment record's, if it is wired to the same DocumentRegistry; none: documents only.
    property_registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    deployments_dir: Path = Path("deployments")
    #: First block to index; default: the deployment record's block.
    index_start_block: int | None = Field(default=None, ge=0)
    index_path: Path = Path("verifier-index.sqlite")
    confirmations: int = Field(default=0, ge=0, le=1000)
    log_chunk_size: int = Field(default=1000, ge=1, le=100_000)
    index_poll_interval: PositiveFloat = 0.5
    #: The index answers the hot path only if it synced this recently; otherwise the chain is asked.
    max_index_age: PositiveFloat = 15.0
    request_timeout: PositiveFloat = 5.0
    #: IPFS RPC API (multiaddr); without it the embedded store in ``store_dir`` is used, if set.
    ipfs_api: str | None = None
    store_dir: Path | None = None
    ipfs_timeout: PositiveFloat = 10.0
    max_body_bytes: PositiveInt = 1_048_576


@lru_cache
def get_settings() -> VerifierSettings:
    return VerifierSettings()  # type: ignore[call-arg]
