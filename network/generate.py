"""Writes the network directory of a spec. The layout::

    genesis.json                  QBFT genesis (validators in extraData), Berlin, free gas
    network.json                  what was generated: chain id, genesis hash, validators, enodes, accounts
    permissions_config.toml       nodes-allowlist (the enodes) and accounts-allowlist (signer keys + relayers)
    static-nodes.json             the validators' enodes
    nodes/<name>/config.toml      Besu's configuration of the validator
    nodes/<name>/key.json         its node key, encrypted (keystore v3, scrypt)
    nodes/<name>/key.pub          its public key (0x + 128 hex), readable without the password
    nodes/<name>/enode            its enode URL
    nodes/<name>/address          its validator address
    relays/<name>/relayer.json    a relayer's keystore, when the generator made the key
    deployments/                  the deployment record `ereg deploy` writes (kept by --force)
    compose.yaml, prometheus.yml, network.env.example, kubo/001-private-swarm.sh
    systemd/ereg-unlock@.service, systemd/ereg-network.service

Everything is written into a fresh directory beside the output, then moved into place, so a failure
leaves no half-written network. Nothing secret is written but the encrypted keystores.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.hexutil import to_hex
from network import besu, bundle
from network.errors import OutputNotEmpty
from network.genesis import build_genesis, genesis_block_hash
from network.nodekeys import DEFAULT_SCRYPT_N, check_password, new_node_key, write_private_file
from network.spec import NetworkSpec, static_hosts

#: Top-level names the generator writes: with ``force`` these (and only these) are replaced.
OWNED = (
    "genesis.json",
    "network.json",
    "permissions_config.toml",
    "static-nodes.json",
    "nodes",
    "relays",
    "compose.yaml",
    "prometheus.yml",
    "network.env.example",
    "kubo",
    "systemd",
)
DEFAULT_INSTALL_DIR = "/opt/ereg/network"


@dataclass(frozen=True)
class GeneratedNetwork:
    out: Path
    chain_id: int
    genesis_hash: str
    validators: tuple[besu.Validator, ...]
    enodes: tuple[str, ...]
    accounts: tuple[str, ...]  # the accounts allowlist, lower case, sorted
    relays: tuple[bundle.Relay, ...]
    generated_relayers: tuple[str, ...] = field(default=())  # names of relayers whose key was made here


def generate_network(
    spec: NetworkSpec,
    out: Path,
    password: str,
    *,
    force: bool = False,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    install_dir: str = DEFAULT_INSTALL_DIR,
    now: float | None = None,
) -> GeneratedNetwork:
    """Generate the network of ``spec`` into ``out`` (refused if ``out`` holds anything, unless ``force``)."""
    check_password(password)
    if out.exists() and not out.is_dir():
        raise OutputNotEmpty(f"{out} is a file", f"{out} 是文件")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputNotEmpty(
            f"{out} is not empty; give another directory, or --force to replace the generated files",
            f"{out} 不为空；请换一个目录，或用 --force 替换生成的文件",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        result = _write(spec, staging, password, scrypt_n=scrypt_n, install_dir=install_dir, now=now)
        out.mkdir(exist_ok=True)
        # deployments/ is the operator's (the record `ereg deploy` writes): made once, never replaced
        (out / "deployments").mkdir(exist_ok=True)
        os.replace(staging / "deployments.README", out / "deployments" / "README")
        for name in OWNED:
            target = out / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            if (staging / name).exists():
                os.replace(staging / name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return GeneratedNetwork(
        out=out,
        chain_id=result.chain_id,
        genesis_hash=result.genesis_hash,
        validators=result.validators,
        enodes=result.enodes,
        accounts=result.accounts,
        relays=tuple(bundle.Relay(r.name, r.address, r.keystore) for r in result.relays),
        generated_relayers=result.generated_relayers,
    )


def _write(
    spec: NetworkSpec, root: Path, password: str, *, scrypt_n: int, install_dir: str, now: float | None
) -> GeneratedNetwork:
    # ---------------------------------------------------------------- node keys, validators
    validators: list[besu.Validator] = []
    hosts = iter(static_hosts(spec))
    for department in spec.departments:
        for i in range(1, department.validators + 1):
            name = f"{department.code.lower()}-{i}"
            key = new_node_key(password, scrypt_n=scrypt_n)
            validator = besu.Validator(name, department.code, key.address, key.public_key, next(hosts))
            validators.append(validator)
            node_dir = root / "nodes" / name
            _write_json(node_dir / "key.json", key.keystore, private=True)
            _write_text(node_dir / "key.pub", key.public_key + "\n")
            _write_text(node_dir / "address", key.address + "\n")
            _write_text(node_dir / "enode", besu.enode(validator, spec.p2p_port) + "\n")
    enodes = [besu.enode(v, spec.p2p_port) for v in validators]

    # --------------------------------------------------------------------------- genesis
    genesis = build_genesis(
        chain_id=spec.chain_id,
        validators=[v.address for v in validators],
        block_period_seconds=spec.block_period_seconds,
        epoch_length=spec.epoch_length,
        request_timeout_seconds=spec.request_timeout_seconds,
        gas_limit=spec.gas_limit,
        timestamp=spec.genesis_timestamp if spec.genesis_timestamp is not None else int(now or time.time()),
    )
    genesis_hash = to_hex(genesis_block_hash(genesis))
    _write_json(root / "genesis.json", genesis)

    # --------------------------------------------------------------------------- relayers
    relays: list[bundle.Relay] = []
    generated: list[str] = []
    for relayer in spec.relayers:
        keystore_path = f"relays/{relayer.name}/relayer.json"
        address = relayer.address
        if address is None:
            key = new_node_key(password, scrypt_n=scrypt_n)
            _write_json(root / keystore_path, key.keystore, private=True)
            address = key.address
            generated.append(relayer.name)
        else:
            (root / "relays" / relayer.name).mkdir(parents=True, exist_ok=True)
            _write_text(
                root / "relays" / relayer.name / "README",
                f"Put the keystore of relayer {relayer.name} ({address}) here as relayer.json "
                f"(`ereg keys new {relayer.name}` makes one; copy it from EREG_HOME/keys/).\n",
            )
        relays.append(bundle.Relay(relayer.name, address, keystore_path))

    # ------------------------------------------------------------------------ allowlists
    accounts = sorted(
        {k.lower() for d in spec.departments for k in d.signer_keys} | {r.address.lower() for r in relays}
    )
    _write_text(
        root / "permissions_config.toml", besu.permissions_config(network=spec.name, enodes=enodes, accounts=accounts)
    )
    _write_text(root / "static-nodes.json", besu.static_nodes(enodes))
    for v in validators:
        _write_text(
            root / "nodes" / v.name / "config.toml",
            besu.node_config(
                v, network=spec.name, p2p_port=spec.p2p_port, rpc_port=spec.rpc_port, metrics_port=spec.metrics_port
            ),
        )

    # ----------------------------------------------------------------------------- bundle
    compose = bundle.compose_file(
        network=spec.name,
        chain_id=spec.chain_id,
        genesis_hash=genesis_hash,
        subnet=str(spec.subnet),
        validators=validators,
        relays=relays,
        images=spec.images,
        p2p_port=spec.p2p_port,
        rpc_port=spec.rpc_port,
        metrics_port=spec.metrics_port,
    )
    _write_text(
        root / "compose.yaml",
        bundle.yaml_document(
            f"Network {spec.name} (chain id {spec.chain_id}), generated by `ereg network init`.\n"
            "Start with the systemd units (systemd/), which unlock the node keys first; see docs/OPERATIONS.md.",
            compose,
        ),
    )
    _write_text(
        root / "prometheus.yml",
        bundle.yaml_document(
            f"Prometheus scrape configuration of network {spec.name}.",
            bundle.prometheus_config(
                network=spec.name, validators=validators, relays=relays, metrics_port=spec.metrics_port
            ),
        ),
    )
    _write_text(root / "network.env.example", bundle.env_example(relays))
    _write_text(
        root / "deployments.README",
        "`ereg deploy` (with EREG_DEPLOYMENTS_DIR=<this bundle>/deployments) writes the deployment record\n"
        f"{spec.chain_id}.json into deployments/; the relays and verifiers read the registries' addresses from it.\n",
    )
    _write_text(root / "kubo" / "001-private-swarm.sh", bundle.KUBO_INIT, mode=0o755)
    _write_text(root / "systemd" / "ereg-unlock@.service", bundle.unlock_unit(install_dir))
    _write_text(root / "systemd" / "ereg-network.service", bundle.network_unit(install_dir, validators))

    summary: dict[str, Any] = {
        "network": spec.name,
        "chainId": spec.chain_id,
        "genesisHash": genesis_hash,
        "genesisHashSource": "computed: keccak256(RLP(genesis header)); confirm against the first validator",
        "faultTolerance": spec.fault_tolerance,
        "validators": [
            {"name": v.name, "department": v.department, "address": v.address, "enode": e}
            for v, e in zip(validators, enodes, strict=True)
        ],
        "departments": [{"code": d.code, "name": d.name, "signerKeys": list(d.signer_keys)} for d in spec.departments],
        "relayers": [{"name": r.name, "address": r.address} for r in relays],
        "accountsAllowlist": accounts,
    }
    _write_json(root / "network.json", summary)
    return GeneratedNetwork(
        out=root,
        chain_id=spec.chain_id,
        genesis_hash=genesis_hash,
        validators=tuple(validators),
        enodes=tuple(enodes),
        accounts=tuple(accounts),
        relays=tuple(relays),
        generated_relayers=tuple(generated),
    )


def _write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def _write_json(path: Path, value: Any, *, private: bool = False) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if private:
        write_private_file(path, text)  # created owner-only, never readable by others for a moment
    else:
        _write_text(path, text)


def referenced_files(compose: dict[str, Any]) -> Sequence[str]:
    """The bundle's own files a compose document mounts (``./…`` sources), for checks."""
    found: list[str] = []
    for service in compose.get("services", {}).values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("./"):
                found.append(source[2:])
    return found
