"""Idempotent deployment of the council and the registry, with a deployment record per chain id."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from chain.artifacts import load_artifact
from chain.client import ChainClient
from chain.errors import ChainError, RegistryNotFound
from chain.governance import COUNCIL, CouncilClient
from chain.registry import CONTRACT_NAME, deployment_record_path, read_deployment_record
from chain.sender import TransactionSender


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    address: str
    tx_hash: str | None
    block_number: int | None
    reused: bool
    record_path: Path


def deploy_council(
    client: ChainClient,
    sender: TransactionSender,
    *,
    deployments_dir: Path,
    members: Sequence[str],
    threshold: int,
    veto_threshold: int,
    delay: int,
    development: bool = False,
    force: bool = False,
) -> Deployment:
    """Deploy the governance council (and with it its time lock) unless the record names the same one.

    The contract refuses a council of one member, or with no delay, unless ``development``.
    """
    members = [to_checksum_address(m) for m in members]
    return deploy_contract(
        client,
        sender,
        name=COUNCIL,
        args=(members, threshold, veto_threshold, delay, development),
        deployments_dir=deployments_dir,
        record={
            "members": members,
            "threshold": threshold,
            "vetoThreshold": veto_threshold,
            "delay": delay,
            "development": development,
        },
        force=force,
    )


def deploy_registry(
    client: ChainClient,
    sender: TransactionSender,
    *,
    deployments_dir: Path,
    council: str,
    force: bool = False,
) -> Deployment:
    """Deploy DocumentRegistry governed by ``council`` unless the chain's record names a live one
    built from the same sources for the same council.

    The council's time lock gets DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE, the council GUARDIAN_ROLE;
    the deployer keeps nothing.
    """
    council = to_checksum_address(council)
    if not client.code_at(council):
        raise RegistryNotFound(f"no {COUNCIL} at {council} on chain {client.chain_id}")
    timelock = CouncilClient(client, council).timelock()
    return deploy_contract(
        client,
        sender,
        name=CONTRACT_NAME,
        args=(timelock, timelock, council),
        deployments_dir=deployments_dir,
        record={"council": council, "timelock": timelock},
        force=force,
    )


def recorded_council(deployments_dir: Path, chain_id: int) -> str:
    """The council of the chain's deployment record."""
    record = read_deployment_record(deployments_dir, chain_id) or {}
    entry = record.get("contracts", {}).get(COUNCIL) or {}
    if not entry.get("address"):
        raise RegistryNotFound(
            f"no {COUNCIL} in deployment record {deployment_record_path(deployments_dir, chain_id)}"
        )
    return to_checksum_address(str(entry["address"]))


def deploy_contract(
    client: ChainClient,
    sender: TransactionSender,
    *,
    name: str,
    args: tuple[Any, ...],
    deployments_dir: Path,
    record: dict[str, Any],
    force: bool = False,
) -> Deployment:
    """Deploy contract ``name`` with constructor ``args``, recorded in the chain's deployment record.

    The recorded deployment is reused when its code is live, it was built from the same sources and
    its recorded ``record`` fields (what it was wired to) are the same; a replaced entry is kept in
    the record's history.
    """
    artifact = load_artifact(name)
    record_path = deployment_record_path(deployments_dir, client.chain_id)
    deployments = read_deployment_record(deployments_dir, client.chain_id) or {
        "chainId": client.chain_id,
        "contracts": {},
        "history": [],
    }
    current = deployments["contracts"].get(name)
    if (
        not force
        and current is not None
        and current.get("sourcesHash") == artifact.sources_hash
        and all(current.get(key) == value for key, value in record.items())
        and client.code_at(current["address"])
    ):
        return Deployment(
            chain_id=client.chain_id,
            address=to_checksum_address(current["address"]),
            tx_hash=current.get("txHash"),
            block_number=current.get("blockNumber"),
            reused=True,
            record_path=record_path,
        )
    factory = client.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx: dict[str, Any] = {"data": factory.constructor(*args).data_in_transaction}
    receipt = sender.send(tx, artifact)
    address = receipt.raw.get("contractAddress")
    if not address:
        raise ChainError(f"deployment transaction {receipt.tx_hash} created no contract")
    entry = {
        "address": to_checksum_address(address),
        "txHash": receipt.tx_hash,
        "blockNumber": receipt.block_number,
        "sourcesHash": artifact.sources_hash,
        "deployer": sender.address,
        **record,
        "deployedAt": int(time.time()),
        "gasUsed": receipt.gas_used,
    }
    if current is not None:
        deployments.setdefault("history", []).append({name: current})
    deployments["contracts"][name] = entry
    _write_atomic(record_path, deployments)
    return Deployment(
        chain_id=client.chain_id,
        address=str(entry["address"]),
        tx_hash=receipt.tx_hash,
        block_number=receipt.block_number,
        reused=False,
        record_path=record_path,
    )


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
