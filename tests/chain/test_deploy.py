"""Idempotent deployment and deployment records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain.deploy import deploy_registry
from chain.errors import RegistryNotFound
from chain.registry import RegistryClient
from tests.factories import World


def test_second_deploy_reuses_the_recorded_contract(world: World, tmp_path: Path) -> None:
    gov = world.sender(world.governor)
    first = deploy_registry(world.client, gov, deployments_dir=tmp_path)
    second = deploy_registry(world.client, gov, deployments_dir=tmp_path)
    assert not first.reused and second.reused
    assert second.address == first.address
    record = json.loads((tmp_path / f"{world.chain_id}.json").read_text())
    entry = record["contracts"]["DocumentRegistry"]
    assert entry["address"] == first.address
    assert entry["sourcesHash"] == world.registry.artifact.sources_hash
    assert entry["governor"] == world.governor.address


def test_record_without_code_leads_to_a_new_deployment(world: World, tmp_path: Path) -> None:
    gov = world.sender(world.governor)
    first = deploy_registry(world.client, gov, deployments_dir=tmp_path)
    path = tmp_path / f"{world.chain_id}.json"
    record = json.loads(path.read_text())
    record["contracts"]["DocumentRegistry"]["address"] = "0x" + "12" * 20
    path.write_text(json.dumps(record))
    second = deploy_registry(world.client, gov, deployments_dir=tmp_path)
    assert not second.reused and second.address != first.address
    assert json.loads(path.read_text())["history"], "the replaced entry is kept"


def test_registry_from_settings(world: World, tmp_path: Path) -> None:
    deploy_registry(world.client, world.sender(world.governor), deployments_dir=tmp_path)
    client = world.client
    client.settings = world.settings.model_copy(update={"deployments_dir": tmp_path})
    try:
        assert RegistryClient.from_settings(client).address
        client.settings = world.settings.model_copy(update={"deployments_dir": tmp_path / "none"})
        with pytest.raises(RegistryNotFound):
            RegistryClient.from_settings(client)
        client.settings = world.settings.model_copy(update={"registry_address": "0x" + "34" * 20})
        with pytest.raises(RegistryNotFound):
            RegistryClient.from_settings(client)
    finally:
        client.settings = world.settings
