"""Settings of the chain client, read from EREG_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChainSettings(BaseSettings):
    """Where the chain is and how to talk to it.

    ``rpc_url`` and ``chain_id`` have no defaults: a wrong guess would send documents to the
    wrong chain. The registry address comes from ``registry_address`` or, failing that, from
    the deployment record of the chain id in ``deployments_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")

    rpc_url: AnyHttpUrl
    chain_id: PositiveInt
    registry_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    #: Block 0's hash the node must report (EREG_GENESIS_HASH; `ereg network init` prints it): a node
    #: of another network with the same chain id is refused too. None: only the chain id is checked.
    genesis_hash: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    deployments_dir: Path = Path("deployments")
    #: Blocks a transaction or event must be buried under before it counts as final (0 on QBFT).
    confirmations: int = Field(default=0, ge=0, le=1000)
    #: eth_getLogs range per request; Besu caps it at 1,000 blocks.
    log_chunk_size: int = Field(default=1000, ge=1, le=100_000)
    receipt_timeout: PositiveFloat = 120.0
    #: How often a pending receipt is polled; local and QBFT nodes answer in milliseconds.
    poll_interval: PositiveFloat = 0.01
    request_timeout: PositiveFloat = 10.0
    #: Accept extraData longer than 32 bytes (QBFT/Clique blocks).
    poa: bool = True
    #: Gas estimate multiplier and extra margin.
    gas_multiplier: float = Field(default=1.2, ge=1.0, le=3.0)
