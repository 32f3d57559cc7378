"""The deployment bundle: a docker compose file, systemd units, the Prometheus scrape configuration.

One host runs the whole network in ``compose.yaml`` (a pilot, or a rehearsal of the departments'
hosts): a Besu validator per node, two Kubo nodes on a private swarm, PostgreSQL for the relays'
shared queue, two relays (``python -m registry_api``, each with its own relayer key), two verifiers
(``python -m verifier``) and Prometheus. Images cannot be pulled from every machine: the bundle is
written and checked here, and started where the images are reachable.

Secrets never enter the bundle. Compose takes them from the environment (``--env-file``, see
``network.env.example``) or from files named there: the relayers' and PostgreSQL's passwords, the
Kubo swarm key. The validators' node keys stay encrypted in ``nodes/<name>/key.json``; the
``ereg-unlock@<name>`` systemd unit decrypts each into ``/run/ereg/<name>/key`` (a tmpfs) with
``ereg network unlock-key`` before ``ereg-network.service`` starts compose, which mounts it read-only.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from network.besu import CONTAINER_CONFIG, CONTAINER_DATA, CONTAINER_KEY, Validator

#: Where the unlock units write the plain node keys on the host (systemd's RuntimeDirectory: a tmpfs).
HOST_KEY_DIR = "/run/ereg"
#: The uid and gid of the ``besu`` user of Besu's image (its Dockerfile creates it with uid 1000).
BESU_UID = 1000
RELAY_PORT = 8100
VERIFIER_PORT = 8000
KUBO_API_PORT = 5001
#: The ereg console script on the host (a virtual environment with the project installed).
EREG_BIN = "/usr/local/bin/ereg"
#: The services listen on every interface of their container; the compose network bounds who reaches them.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


@dataclass(frozen=True)
class Relay:
    name: str
    address: str
    keystore: str  # path of its keystore inside the bundle, e.g. relays/relay-1/relayer.json


def compose_file(
    *,
    network: str,
    chain_id: int,
    genesis_hash: str,
    subnet: str,
    validators: Sequence[Validator],
    relays: Sequence[Relay],
    images: Mapping[str, str],
    p2p_port: int,
    rpc_port: int,
    metrics_port: int,
) -> dict[str, Any]:
    """The compose document (a plain mapping; :func:`yaml_document` writes it)."""
    lower, upper = _halves(subnet)
    chain_env = {
        "EREG_CHAIN_ID": str(chain_id),
        "EREG_GENESIS_HASH": genesis_hash,
        # the registries' addresses: the deployment record `ereg deploy` writes into ./deployments
        "EREG_DEPLOYMENTS_DIR": "/deployments",
        "EREG_CONFIRMATIONS": "0",
        "EREG_LOG_CHUNK_SIZE": "1000",
    }
    ereg_image = "${EREG_IMAGE:?set EREG_IMAGE to an image with e-registry installed}"
    postgres_password = "${EREG_POSTGRES_PASSWORD:?set EREG_POSTGRES_PASSWORD}"  # noqa: S105 - compose's variable
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for v in validators:
        service: dict[str, Any] = {
            "image": images["besu"],
            "command": [f"--config-file={CONTAINER_CONFIG}/config.toml"],
            "restart": "unless-stopped",
            "volumes": [
                f"./nodes/{v.name}/config.toml:{CONTAINER_CONFIG}/config.toml:ro",
                f"./genesis.json:{CONTAINER_CONFIG}/genesis.json:ro",
                f"./static-nodes.json:{CONTAINER_CONFIG}/static-nodes.json:ro",
                f"./permissions_config.toml:{CONTAINER_DATA}/permissions_config.toml:ro",
                f"{HOST_KEY_DIR}/{v.name}/key:{CONTAINER_KEY}:ro",
                f"{v.service}-data:{CONTAINER_DATA}",
            ],
        }
        if _inside(v.host, lower):
            # one host: a fixed address on the compose network, the one its enode names
            service["networks"] = {"ereg": {"ipv4_address": v.host}}
        else:
            # the department's own machine: P2P and RPC on its address (start it there, `--no-deps`)
            service["networks"] = ["ereg"]
            service["ports"] = [f"{v.host}:{p2p_port}:{p2p_port}", f"{v.host}:{rpc_port}:{rpc_port}"]
        services[v.service] = service
        volumes[f"{v.service}-data"] = {}
    # the first validator's RPC and metrics on the host's loopback, for the operator's checks
    first = services[validators[0].service]
    first["ports"] = [
        *first.get("ports", []),
        f"127.0.0.1:{rpc_port}:{rpc_port}",
        f"127.0.0.1:{metrics_port}:{metrics_port}",
    ]

    for i in (1, 2):
        services[f"kubo-{i}"] = {
            "image": images["kubo"],
            "restart": "unless-stopped",
            "environment": {
                "IPFS_PROFILE": "server",
                "IPFS_SWARM_KEY_FILE": "/run/secrets/ipfs_swarm_key",
                "LIBP2P_FORCE_PNET": "1",  # refuse to start without the swarm key: a private swarm only
            },
            "secrets": ["ipfs_swarm_key"],
            "volumes": [
                f"kubo-{i}-data:/data/ipfs",
                "./kubo/001-private-swarm.sh:/container-init.d/001-private-swarm.sh:ro",
            ],
            "networks": ["ereg"],
        }
        volumes[f"kubo-{i}-data"] = {}
        # the RPC API on the host's loopback only (it has no authentication): `ereg issue` on this host
        services[f"kubo-{i}"]["ports"] = [f"127.0.0.1:{KUBO_API_PORT + i - 1}:{KUBO_API_PORT}"]

    services["postgres"] = {
        "image": images["postgres"],
        "restart": "unless-stopped",
        "environment": {
            "POSTGRES_DB": "ereg",
            "POSTGRES_USER": "ereg",
            "POSTGRES_PASSWORD": postgres_password,
        },
        "volumes": ["postgres-data:/var/lib/postgresql/data"],
        "networks": ["ereg"],
    }
    volumes["postgres-data"] = {}

    for i, relay in enumerate(relays):
        upstream = validators[i % len(validators)]
        variable = relay.name.upper().replace("-", "_")
        services[relay.name] = {
            "image": ereg_image,
            "command": ["python", "-m", "registry_api", "--host", ALL_INTERFACES, "--port", str(RELAY_PORT)],
            "restart": "unless-stopped",
            "depends_on": ["postgres", upstream.service],
            "environment": {
                "EREG_RPC_URL": rpc_url(upstream, lower, rpc_port),
                **chain_env,
                "EREG_QUEUE_URL": f"postgresql://ereg:{postgres_password}@postgres:5432/ereg",
                "EREG_RELAYER_KEYSTORE": "/keys/relayer.json",
                "EREG_RELAYER_PASSWORD": f"${{EREG_{variable}_PASSWORD:?set EREG_{variable}_PASSWORD}}",
            },
            "volumes": [f"./{relay.keystore}:/keys/relayer.json:ro", "./deployments:/deployments:ro"],
            "ports": [f"127.0.0.1:{RELAY_PORT + i}:{RELAY_PORT}"],
            "networks": ["ereg"],
        }
    for i in (1, 2):
        upstream = validators[(i - 1 + len(relays)) % len(validators)]
        services[f"verifier-{i}"] = {
            "image": ereg_image,
            "command": [
                "python",
                "-m",
                "verifier",
                "--host",
                ALL_INTERFACES,
                "--port",
                str(VERIFIER_PORT),
                "--workers",
                "2",
            ],
            "restart": "unless-stopped",
            "depends_on": [upstream.service, "kubo-1", "kubo-2"],
            "environment": {
                "EREG_RPC_URL": rpc_url(upstream, lower, rpc_port),
                **chain_env,
                # both nodes, one replicated store: reads go on while either answers
                "EREG_IPFS_API": ",".join(f"/dns4/kubo-{k}/tcp/{KUBO_API_PORT}/http" for k in (1, 2)),
                "EREG_INDEX_PATH": "/var/lib/ereg/verifier-index.sqlite",
            },
            "volumes": [f"verifier-{i}-index:/var/lib/ereg", "./deployments:/deployments:ro"],
            "ports": [f"127.0.0.1:{VERIFIER_PORT + i - 1}:{VERIFIER_PORT}"],
            "networks": ["ereg"],
        }
        volumes[f"verifier-{i}-index"] = {}

    services["prometheus"] = {
        "image": images["prometheus"],
        "restart": "unless-stopped",
        "volumes": ["./prometheus.yml:/etc/prometheus/prometheus.yml:ro", "prometheus-data:/prometheus"],
        "ports": ["127.0.0.1:9090:9090"],
        "networks": ["ereg"],
    }
    volumes["prometheus-data"] = {}
    return {
        "name": network,
        "services": services,
        "networks": {"ereg": {"ipam": {"config": [{"subnet": subnet, "ip_range": upper}]}}},
        "volumes": volumes,
        "secrets": {"ipfs_swarm_key": {"file": "${EREG_IPFS_SWARM_KEY_FILE:?set EREG_IPFS_SWARM_KEY_FILE}"}},
    }


def prometheus_config(
    *, network: str, validators: Sequence[Validator], relays: Sequence[Relay], metrics_port: int
) -> dict[str, Any]:
    """Scrape Besu's metrics and the relays' and verifiers' ``/metrics``."""
    return {
        "global": {"scrape_interval": "15s", "external_labels": {"network": network}},
        "scrape_configs": [
            {
                "job_name": "besu",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"{v.service}:{metrics_port}" for v in validators]}],
            },
            {
                "job_name": "relay",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"{r.name}:{RELAY_PORT}" for r in relays]}],
            },
            {
                "job_name": "verifier",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"verifier-{i}:{VERIFIER_PORT}" for i in (1, 2)]}],
            },
        ],
    }


def unlock_unit(install_dir: str) -> str:
    """``ereg-unlock@.service``: decrypts node ``%i``'s key into the tmpfs before compose starts."""
    return f"""\
# Decrypts the node key of validator %i into {HOST_KEY_DIR}/%i/key (a tmpfs, removed when the unit
# stops) for Besu's container, which mounts it read-only. The password is a systemd credential:
# a root-only file outside the bundle, never in it.
[Unit]
Description=e-Registry: unlock the node key of validator %i
Before=ereg-network.service

[Service]
Type=oneshot
RemainAfterExit=yes
RuntimeDirectory=ereg/%i
RuntimeDirectoryMode=0700
LoadCredential=node-key-password:/etc/ereg/node-key-password
ExecStart={EREG_BIN} network unlock-key {install_dir}/nodes/%i/key.json --out {HOST_KEY_DIR}/%i/key \\
    --password-file ${{CREDENTIALS_DIRECTORY}}/node-key-password --owner {BESU_UID}:{BESU_UID}

[Install]
RequiredBy=ereg-network.service
"""


def network_unit(install_dir: str, validators: Sequence[Validator]) -> str:
    """``ereg-network.service``: the compose project, once every node key is unlocked."""
    units = " ".join(f"ereg-unlock@{v.name}.service" for v in validators)
    return f"""\
# Runs the compose project of the bundle once every validator's key is unlocked.
# /etc/ereg/network.env holds the variables of network.env.example (passwords, addresses): root-only.
[Unit]
Description=e-Registry network (Besu, Kubo, PostgreSQL, relays, verifiers, Prometheus)
Requires=docker.service {units}
After=docker.service {units}

[Service]
Type=oneshot
RemainAfterExit=yes
WorkingDirectory={install_dir}
ExecStart=/usr/bin/docker compose --env-file /etc/ereg/network.env up --detach --wait
ExecStop=/usr/bin/docker compose --env-file /etc/ereg/network.env down

[Install]
WantedBy=multi-user.target
"""


def env_example(relays: Sequence[Relay]) -> str:
    """The variables compose needs, without values: copy to /etc/ereg/network.env (root-only) and fill in."""
    lines = [
        "# Copy to /etc/ereg/network.env (chmod 600) and fill in; never commit the filled-in file.",
        "# An image with e-registry installed (the relays and verifiers run it).",
        "EREG_IMAGE=",
        "# The relays' shared queue.",
        "EREG_POSTGRES_PASSWORD=",
        "# The private IPFS swarm's key (`ereg network swarm-key /etc/ereg/ipfs-swarm.key`).",
        "EREG_IPFS_SWARM_KEY_FILE=/etc/ereg/ipfs-swarm.key",
        "# Each relay's keystore password.",
    ]
    lines += [f"EREG_{r.name.upper().replace('-', '_')}_PASSWORD=" for r in relays]
    return "\n".join(lines) + "\n"


#: Run by Kubo's image at each start (/container-init.d): no public bootstrap peers. The nodes need not
#: know each other: the project's replicated store (EREG_IPFS_API listing both) writes to each.
KUBO_INIT = """\
#!/bin/sh
# The e-Registry Kubo nodes: a private swarm (the swarm key, required by LIBP2P_FORCE_PNET=1, keeps
# every other peer out) with no public bootstrap peers. Each document is written to both nodes by
# `ereg issue` with EREG_IPFS_API listing both (docs/OPERATIONS.md, "Replicated storage").
set -e
ipfs bootstrap rm --all
ipfs config --json AutoNAT '{"ServiceMode": "disabled"}'
"""


# --------------------------------------------------------------------------------------- YAML
#: Keys written bare; any other key is quoted. Words YAML 1.1 reads as booleans or null are quoted too.
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def yaml_document(comment: str, document: Mapping[str, Any]) -> str:
    """Block-style YAML of a mapping of mappings, lists, text, integers and booleans.

    Every text is written as a JSON string, which YAML reads as the same double-quoted scalar, so no
    value is ever mistaken for a number, a boolean or a YAML tag.
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    _yaml_mapping(document, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # ASCII only (\uXXXX escapes, which YAML reads): no raw character upsets it
    raise TypeError(f"no YAML form here for {type(value).__name__}")


def _yaml_mapping(mapping: Mapping[str, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        name = key if _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS else json.dumps(key)
        if isinstance(value, Mapping):
            if value:
                lines.append(f"{pad}{name}:")
                _yaml_mapping(value, indent + 2, lines)
            else:
                lines.append(f"{pad}{name}: {{}}")
        elif isinstance(value, list):
            if value:
                lines.append(f"{pad}{name}:")
                _yaml_list(value, indent + 2, lines)
            else:
                lines.append(f"{pad}{name}: []")
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}")


def _yaml_list(items: Sequence[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, Mapping) and item:
            nested: list[str] = []
            _yaml_mapping(item, indent + 2, nested)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        elif isinstance(item, list) and item:
            nested = []
            _yaml_list(item, indent + 2, nested)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        elif isinstance(item, Mapping):
            lines.append(f"{pad}- {{}}")
        elif isinstance(item, list):
            lines.append(f"{pad}- []")
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def rpc_url(validator: Validator, static_range: str, rpc_port: int) -> str:
    """How the services reach a validator's RPC: by service name on the compose network, else
    (a validator on its department's machine) at its address."""
    if _inside(validator.host, static_range):
        return f"http://{validator.service}:{rpc_port}"
    return f"http://{validator.host}:{rpc_port}"


def _halves(subnet: str) -> tuple[str, str]:
    """The subnet's lower half (the validators' fixed addresses) and upper half (compose's range)."""
    network = ipaddress.IPv4Network(subnet)
    lower, upper = network.subnets(prefixlen_diff=1)
    return str(lower), str(upper)


def _inside(host: str, subnet: str) -> bool:
    return ipaddress.IPv4Address(host) in ipaddress.IPv4Network(subnet)
