"""The HTTP settings every service shares (EREG_* environment variables).

Services compose them rather than re-declare them::

    class VerifierSettings(ChainSettings, HttpSettings):
        model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")
        max_body_bytes: PositiveInt = 1_048_576  # a service may override a default
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PositiveFloat, PositiveInt, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from httpkit.jsonguard import JsonLimits

__all__ = ["HttpSettings"]


class HttpSettings(BaseSettings):
    """Body and JSON limits, rate limits, proxies, TLS, docs, deadlines, pool sizes, log level."""

    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")

    #: Largest request body read; above it a 413 before the body is read into memory.
    max_body_bytes: PositiveInt = 1_048_576
    #: Deepest nesting of a JSON body (the JSON reader recurses once per level).
    json_max_depth: int = Field(default=64, ge=1, le=64)
    #: Values (scalars and containers) in one JSON body.
    json_max_values: PositiveInt = 20_000
    #: Characters of one JSON number.
    json_max_number_chars: int = Field(default=64, ge=1, le=4300)
    #: Requests per second and client address (a token bucket); 0 turns the limit off.
    rate_limit_per_second: float = Field(default=0.0, ge=0.0)
    #: Requests a client may make at once before the rate applies.
    rate_limit_burst: PositiveInt = 100
    #: Peers whose ``X-Forwarded-For`` is believed (its last hop is the client), e.g. "10.0.0.2,10.0.0.3".
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: TLS terminates in front of the service: send Strict-Transport-Security.
    tls: bool = False
    #: Serve /docs and /openapi.json.
    docs: bool = True
    #: Seconds a request may wait for blocking work before a 503 DEADLINE_EXCEEDED.
    request_deadline: PositiveFloat = 10.0
    #: Threads of the request worker pool, and requests that may wait for one.
    workers: PositiveInt = 8
    worker_queue: int = Field(default=64, ge=0)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_addresses(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def json_limits(self) -> JsonLimits:
        """The JSON guard's limits these settings name."""
        return JsonLimits(
            max_depth=self.json_max_depth,
            max_number_chars=self.json_max_number_chars,
            max_values=self.json_max_values,
        )
