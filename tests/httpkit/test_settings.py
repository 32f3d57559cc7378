"""HttpSettings: EREG_* variables, composed by the services' settings rather than re-declared."""

from __future__ import annotations

import pytest
from pydantic import PositiveInt, ValidationError
from pydantic_settings import SettingsConfigDict

from chain.settings import ChainSettings
from httpkit.jsonguard import JsonLimits
from httpkit.settings import HttpSettings


class ServiceSettings(ChainSettings, HttpSettings):
    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore")
    max_body_bytes: PositiveInt = 4096  # a service's own default


def test_defaults() -> None:
    settings = HttpSettings()
    assert settings.max_body_bytes == 1_048_576
    assert settings.json_limits() == JsonLimits()
    assert settings.rate_limit_per_second == 0.0
    assert settings.trusted_proxies == []
    assert (settings.tls, settings.docs, settings.log_level) == (False, True, "INFO")


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EREG_TRUSTED_PROXIES", "10.0.0.1, 10.0.1.0/24")
    monkeypatch.setenv("EREG_RATE_LIMIT_PER_SECOND", "50")
    monkeypatch.setenv("EREG_JSON_MAX_DEPTH", "32")
    monkeypatch.setenv("EREG_TLS", "true")
    monkeypatch.setenv("EREG_LOG_LEVEL", "debug")
    monkeypatch.setenv("EREG_SOMETHING_ELSE", "ignored")
    settings = HttpSettings()
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.1.0/24"]
    assert settings.rate_limit_per_second == 50.0
    assert settings.json_limits().max_depth == 32
    assert settings.tls and settings.log_level == "DEBUG"
    monkeypatch.setenv("EREG_JSON_MAX_DEPTH", "1000")
    with pytest.raises(ValidationError):
        HttpSettings()


def test_composed_with_the_chain_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EREG_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("EREG_CHAIN_ID", "1337")
    settings = ServiceSettings()  # type: ignore[call-arg]
    assert settings.chain_id == 1337 and settings.max_body_bytes == 4096 and settings.workers == 8
    monkeypatch.setenv("EREG_MAX_BODY_BYTES", "100")
    assert ServiceSettings().max_body_bytes == 100  # type: ignore[call-arg]
