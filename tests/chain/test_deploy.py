"""Idempotent deployment of the council and the registry, and deployment records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain.deploy import Deployment, deploy_council, deploy_registry, recorded_council
from chain.errors import RegistryNotFound
from chain.governance import CouncilClient
from chain.registry import RegistryClient
from tests.factories import COUNCIL_DELAY, COUNCIL_THRESHOLD, COUNCIL_VETO, World


def _council(world: World, deployments_dir: Path, *, delay: int = COUNCIL_DELAY) -> Deployment:
    return deploy_council(
        world.client,
        world.sender(world.governor),
        deployments_dir=deployments_dir,
        members=[m.address for m in world.members],
        threshold=COUNCIL_THRESHOLD,
        veto_threshold=COUNCIL_VETO,
        delay=delay,
    )


def test_second_deploy_reuses_the_recorded_contracts(world: World, tmp_path: Path) -> None:
    deployer = world.sender(world.governor)
    council = _council(world, tmp_path)
    first = deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=council.address)
    again = _council(world, tmp_path)
    second = deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=again.address)
    assert not council.reused and again.reused and again.address == council.address
    assert not first.reused and second.reused
    assert second.address == first.address

    record = json.loads((tmp_path / f"{world.chain_id}.json").read_text())
    timelock = CouncilClient(world.client, council.address).timelock()
    entry = record["contracts"]["DocumentRegistry"]
    assert entry["address"] == first.address
    assert entry["sourcesHash"] == world.registry.artifact.sources_hash
    assert entry["deployer"] == world.governor.address
    assert (entry["council"], entry["timelock"]) == (council.address, timelock)
    council_entry = record["contracts"]["GovernanceCouncil"]
    assert council_entry["address"] == council.address
    assert council_entry["members"] == [m.address for m in world.members]
    assert (council_entry["threshold"], council_entry["vetoThreshold"]) == (COUNCIL_THRESHOLD, COUNCIL_VETO)
    assert (council_entry["delay"], council_entry["development"]) == (COUNCIL_DELAY, False)
    assert recorded_council(tmp_path, world.chain_id) == council.address

    # The deployer keeps no role: the time lock governs, the council guards.
    registry = RegistryClient(world.client, first.address)
    for role in (registry.governor_role(), registry.guardian_role(), b"\x00" * 32):
        assert not registry.has_role(role, world.governor.address)
    assert registry.has_role(registry.governor_role(), timelock)
    assert registry.has_role(b"\x00" * 32, timelock)
    assert registry.has_role(registry.guardian_role(), council.address)


def test_another_council_leads_to_a_new_registry(world: World, tmp_path: Path) -> None:
    deployer = world.sender(world.governor)
    council = _council(world, tmp_path)
    first = deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=council.address)
    other = _council(world, tmp_path, delay=COUNCIL_DELAY * 2)  # other settings: a new council
    assert not other.reused and other.address != council.address
    second = deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=other.address)
    assert not second.reused and second.address != first.address
    record = json.loads((tmp_path / f"{world.chain_id}.json").read_text())
    assert record["contracts"]["DocumentRegistry"]["council"] == other.address
    assert {name for item in record["history"] for name in item} == {"GovernanceCouncil", "DocumentRegistry"}
    assert recorded_council(tmp_path, world.chain_id) == other.address


def test_record_without_code_leads_to_a_new_deployment(world: World, tmp_path: Path) -> None:
    deployer = world.sender(world.governor)
    council = _council(world, tmp_path)
    first = deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=council.address)
    path = tmp_path / f"{world.chain_id}.json"
    record = json.loads(path.read_text())
    record["contracts"]["DocumentRegistry"]["address"] = "0x" + "12" * 20
    path.write_text(json.dumps(record))
    second = deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=council.address)
    assert not second.reused and second.address != first.address
    assert json.loads(path.read_text())["history"], "the replaced entry is kept"


def test_registry_needs_a_live_council(world: World, tmp_path: Path) -> None:
    with pytest.raises(RegistryNotFound):
        deploy_registry(world.client, world.sender(world.governor), deployments_dir=tmp_path, council="0x" + "56" * 20)
    with pytest.raises(RegistryNotFound):
        recorded_council(tmp_path, world.chain_id)
    assert not (tmp_path / f"{world.chain_id}.json").exists()


def test_registry_from_settings(world: World, tmp_path: Path) -> None:
    council = _council(world, tmp_path)
    deploy_registry(world.client, world.sender(world.governor), deployments_dir=tmp_path, council=council.address)
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
