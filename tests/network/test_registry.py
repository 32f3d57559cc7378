"""The accounts allowlist against a deployed registry: exactly its departments' live signer keys and
the relayers, whether the keys come from the spec or are read with ``--from-registry``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chain.registry import RegistryClient
from chain.types import department_id
from issuer.cli import app
from network.generate import generate_network
from network.spec import parse_spec
from tests.factories import World
from tests.network.conftest import CHEAP_SCRYPT_N, PASSWORD

pytestmark = [pytest.mark.chain, pytest.mark.parametrize("node", ["besu"], indirect=True)]

#: The world's departments (tests/factories.py): SAMR and NATRES hold a key each, TAX none.
WITH_KEYS = {"LA-SAMR": "samr_key", "LA-NATRES": "natres_key"}


def registry_keys(registry: RegistryClient) -> set[str]:
    """Every live signer key of every department, as the registry answers."""
    return {key.lower() for dept in registry.department_ids() for key in registry.live_signer_keys(dept)}


def spec_raw(world: World, *, keys: bool, codes: tuple[str, ...] = tuple(WITH_KEYS)) -> dict[str, Any]:
    departments = []
    for code in codes:
        entry: dict[str, Any] = {"code": code, "name": code, "validators": 1}
        if keys:
            entry["signer_keys"] = [getattr(world, WITH_KEYS[code]).address]
        departments.append(entry)
    return {
        "network": {
            "name": "registry-test",
            "chain_id": world.chain_id,
            "block_period_seconds": 2,
            "epoch_length": 30000,
            "request_timeout_seconds": 4,
            "gas_limit": 60_000_000,
        },
        "departments": departments,
        "relayers": [{"name": "relay-1", "address": world.relayer.address}],
    }


def test_the_allowlist_is_the_registrys_signer_keys_and_the_relayer(world: World, tmp_path: Path) -> None:
    spec = parse_spec(spec_raw(world, keys=True))
    generated = generate_network(spec, tmp_path / "net", PASSWORD, scrypt_n=CHEAP_SCRYPT_N)
    permissions = tomllib.loads((tmp_path / "net" / "permissions_config.toml").read_text(encoding="utf-8"))
    allowlist = set(permissions["accounts-allowlist"])
    relayers = {world.relayer.address.lower()}
    on_chain = registry_keys(world.registry)
    assert on_chain == {world.samr_key.address.lower(), world.natres_key.address.lower()}
    assert allowlist - relayers == on_chain
    assert allowlist == on_chain | relayers == set(generated.accounts)


def cli_env(world: World) -> dict[str, str | None]:
    return {
        "EREG_RPC_URL": world.node.rpc_url,
        "EREG_CHAIN_ID": str(world.chain_id),
        "EREG_REGISTRY_ADDRESS": world.registry.address,
        "EREG_NODE_KEY_PASSWORD": PASSWORD,
        "EREG_LANG": None,
    }


def write_spec(path: Path, raw: dict[str, Any]) -> Path:
    lines = ["[network]"]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in raw["network"].items()]
    for entry in raw["departments"]:
        lines += ["", "[[departments]]"] + [f"{k} = {v!r}".replace("'", '"') for k, v in entry.items()]
    for entry in raw["relayers"]:
        lines += ["", "[[relayers]]"] + [f"{k} = {v!r}".replace("'", '"') for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_from_registry_reads_the_live_keys(world: World, tmp_path: Path) -> None:
    """One department (one node key at the CLI's full scrypt cost); the spec names no key at all."""
    spec = write_spec(tmp_path / "spec.toml", spec_raw(world, keys=False, codes=("LA-SAMR",)))
    out = tmp_path / "net"
    result = CliRunner().invoke(
        app, ["network", "init", str(spec), "--out", str(out), "--from-registry"], env=cli_env(world)
    )
    assert result.exit_code == 0, result.output
    permissions = tomllib.loads((out / "permissions_config.toml").read_text(encoding="utf-8"))
    samr = {k.lower() for k in world.registry.live_signer_keys(department_id("LA-SAMR"))}
    assert samr == {world.samr_key.address.lower()}
    assert set(permissions["accounts-allowlist"]) == samr | {world.relayer.address.lower()}


def test_from_registry_refuses_a_department_without_a_live_key_or_unknown(world: World, tmp_path: Path) -> None:
    raw = spec_raw(world, keys=False)
    raw["departments"].append({"code": "LA-TAX", "name": "tax", "validators": 1})
    spec = write_spec(tmp_path / "tax.toml", raw)
    result = CliRunner().invoke(
        app, ["network", "init", str(spec), "--out", str(tmp_path / "a"), "--from-registry"], env=cli_env(world)
    )
    assert result.exit_code == 1
    assert result.output.startswith("ereg: error [NETWORK_REGISTRY]: department LA-TAX has no live signer key")
    assert "没有有效的签名密钥" in result.output and len(result.output.strip().splitlines()) == 1

    raw["departments"][-1] = {"code": "LA-NOPE", "name": "nope", "validators": 1}
    spec = write_spec(tmp_path / "nope.toml", raw)
    result = CliRunner().invoke(
        app, ["network", "init", str(spec), "--out", str(tmp_path / "b"), "--from-registry"], env=cli_env(world)
    )
    assert result.exit_code == 1 and "department LA-NOPE is not registered" in result.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
