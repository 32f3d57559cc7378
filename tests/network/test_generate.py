"""``generate_network``: the directory it writes, read back with independent readers (tomllib, yaml,
eth-account), and checked for what must never be in it."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest
import rlp as independent
import yaml
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from common.hexutil import from_hex, to_hex
from network.bundle import yaml_document
from network.errors import NodeKeyError, OutputNotEmpty
from network.generate import GeneratedNetwork, generate_network, referenced_files
from network.genesis import genesis_block_hash
from network.nodekeys import unlock_key
from network.spec import NetworkSpec, parse_spec
from tests.network.conftest import CHEAP_SCRYPT_N, PASSWORD, example_spec, example_text


@pytest.fixture(scope="module")
def spec() -> NetworkSpec:
    return example_spec(genesis_timestamp=1_767_225_600)


@pytest.fixture(scope="module")
def generated(spec: NetworkSpec, tmp_path_factory: pytest.TempPathFactory) -> GeneratedNetwork:
    return generate_network(spec, tmp_path_factory.mktemp("net") / "liuan", PASSWORD, scrypt_n=CHEAP_SCRYPT_N)


def node_keys(generated: GeneratedNetwork) -> dict[str, PrivateKey]:
    keys = {}
    for v in generated.validators:
        keystore = json.loads((generated.out / "nodes" / v.name / "key.json").read_text())
        keys[v.name] = PrivateKey(bytes(Account.decrypt(keystore, PASSWORD)))
    return keys


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------- node keys
def test_each_node_key_decrypts_with_the_password_to_the_published_keys(generated: GeneratedNetwork) -> None:
    out = generated.out
    extra = independent.decode(from_hex(json.loads((out / "genesis.json").read_text())["extraData"]))
    validators_in_genesis = {to_hex(a) for a in extra[1]}
    for name, key in node_keys(generated).items():
        node = out / "nodes" / name
        public = to_hex(key.public_key.to_bytes())
        assert (node / "key.pub").read_text().strip() == public
        assert (node / "address").read_text().strip() == key.public_key.to_checksum_address()
        assert key.public_key.to_address() in validators_in_genesis
        assert (node / "enode").read_text().strip().startswith(f"enode://{public[2:]}@")
        keystore = json.loads((node / "key.json").read_text())
        assert keystore["crypto"]["kdf"] == "scrypt" and keystore["version"] == 3
        assert stat.S_IMODE((node / "key.json").stat().st_mode) == 0o600


def test_a_node_key_does_not_decrypt_with_another_password(generated: GeneratedNetwork) -> None:
    keystore = json.loads((generated.out / "nodes" / generated.validators[0].name / "key.json").read_text())
    with pytest.raises(ValueError, match="MAC mismatch"):
        Account.decrypt(keystore, PASSWORD + "!")


def test_no_private_key_and_no_password_in_clear_anywhere(generated: GeneratedNetwork) -> None:
    secrets = [k.to_bytes() for k in node_keys(generated).values()]
    for relay in generated.relays:
        keystore = json.loads((generated.out / relay.keystore).read_text())
        secrets.append(bytes(Account.decrypt(keystore, PASSWORD)))
        assert Account.from_key(secrets[-1]).address == relay.address
    needles = [s.hex().encode() for s in secrets] + [s.hex().upper().encode() for s in secrets] + secrets
    needles.append(PASSWORD.encode())
    files = all_files(generated.out)
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        assert not any(n in data for n in needles), path


# ------------------------------------------------------------------------- Besu's files
def test_the_allowlists_hold_the_enodes_and_exactly_the_signer_keys_and_relayers(
    spec: NetworkSpec, generated: GeneratedNetwork
) -> None:
    permissions = tomllib.loads((generated.out / "permissions_config.toml").read_text(encoding="utf-8"))
    assert set(permissions) == {"nodes-allowlist", "accounts-allowlist"}
    enodes = [(generated.out / "nodes" / v.name / "enode").read_text().strip() for v in generated.validators]
    assert permissions["nodes-allowlist"] == enodes
    assert json.loads((generated.out / "static-nodes.json").read_text()) == enodes
    signer_keys = {k.lower() for d in spec.departments for k in d.signer_keys}
    expected = signer_keys | {r.address.lower() for r in generated.relays}
    assert len(permissions["accounts-allowlist"]) == len(expected) == 4 + 2
    assert set(permissions["accounts-allowlist"]) == expected
    validators = {v.address.lower() for v in generated.validators}
    assert not validators & expected  # node keys sign blocks, they send no transactions


def test_each_node_config_is_besu_toml_for_a_free_gas_permissioned_validator(generated: GeneratedNetwork) -> None:
    for v in generated.validators:
        config = tomllib.loads((generated.out / "nodes" / v.name / "config.toml").read_text(encoding="utf-8"))
        assert config["genesis-file"] == "/config/genesis.json" and config["data-path"] == "/data"
        assert config["node-private-key-file"] == "/run/besu-key/key"
        assert config["p2p-host"] == v.host and config["p2p-port"] == 30303
        assert config["min-gas-price"] == 0 and config["tx-pool-min-gas-price"] == 0
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is True
        assert config["rpc-http-enabled"] is True and config["rpc-http-port"] == 8545
        assert set(config["rpc-http-api"]) == {"ETH", "NET", "QBFT", "WEB3"}  # no PERM, no ADMIN
        assert v.service in config["host-allowlist"] and config["metrics-enabled"] is True


def test_the_recorded_genesis_hash_is_the_genesis_files(generated: GeneratedNetwork) -> None:
    genesis = json.loads((generated.out / "genesis.json").read_text())
    summary = json.loads((generated.out / "network.json").read_text())
    assert summary["genesisHash"] == generated.genesis_hash == to_hex(genesis_block_hash(genesis))
    assert summary["chainId"] == genesis["config"]["chainId"] == 341500
    assert summary["accountsAllowlist"] == list(generated.accounts)


# ---------------------------------------------------------------------------- the bundle
def test_the_compose_file_names_every_service_and_every_file_it_mounts_exists(generated: GeneratedNetwork) -> None:
    compose = yaml.safe_load((generated.out / "compose.yaml").read_text(encoding="utf-8"))
    besu = {f"besu-{v.name}" for v in generated.validators}
    assert set(compose["services"]) == besu | {
        "kubo-1",
        "kubo-2",
        "postgres",
        "relay-1",
        "relay-2",
        "verifier-1",
        "verifier-2",
        "prometheus",
    }
    for name, service in compose["services"].items():
        assert isinstance(service["image"], str) and service["image"], name
    mounted = referenced_files(compose)
    assert "genesis.json" in mounted and "prometheus.yml" in mounted
    assert "deployments" in mounted  # the record `ereg deploy` writes: the registries' addresses
    for relative in mounted:
        assert (generated.out / relative).exists(), relative
    for v in generated.validators:
        service = compose["services"][f"besu-{v.name}"]
        assert service["networks"]["ereg"]["ipv4_address"] == v.host
        assert f"/run/ereg/{v.name}/key:/run/besu-key/key:ro" in service["volumes"]
    relay_keystores = set()
    for relay in ("relay-1", "relay-2"):
        service = compose["services"][relay]
        env = service["environment"]
        assert service["command"][:3] == ["python", "-m", "registry_api"]
        assert env["EREG_GENESIS_HASH"] == generated.genesis_hash and env["EREG_CHAIN_ID"] == "341500"
        assert env["EREG_RELAYER_PASSWORD"].startswith("${") and env["EREG_QUEUE_URL"].startswith("postgresql://")
        relay_keystores.add(service["volumes"][0].split(":")[0])
    assert len(relay_keystores) == 2  # each relay its own key
    for verifier in ("verifier-1", "verifier-2"):
        service = compose["services"][verifier]
        assert service["command"][:3] == ["python", "-m", "verifier"]
        ipfs = service["environment"]["EREG_IPFS_API"].split(",")
        assert ipfs == ["/dns4/kubo-1/tcp/5001/http", "/dns4/kubo-2/tcp/5001/http"]
        assert service["environment"]["EREG_RPC_URL"].split("//")[1].split(":")[0] in besu
    assert compose["secrets"]["ipfs_swarm_key"]["file"].startswith("${")


def test_prometheus_scrapes_every_validator_relay_and_verifier(generated: GeneratedNetwork) -> None:
    config = yaml.safe_load((generated.out / "prometheus.yml").read_text(encoding="utf-8"))
    compose = yaml.safe_load((generated.out / "compose.yaml").read_text(encoding="utf-8"))
    targets = {
        job["job_name"]: {t for sc in job["static_configs"] for t in sc["targets"]} for job in config["scrape_configs"]
    }
    assert targets["besu"] == {f"besu-{v.name}:9545" for v in generated.validators}
    assert targets["relay"] == {"relay-1:8100", "relay-2:8100"}
    assert targets["verifier"] == {"verifier-1:8000", "verifier-2:8000"}
    for target in set().union(*targets.values()):
        assert target.split(":")[0] in compose["services"], target


def test_the_units_unlock_every_key_before_compose_starts(generated: GeneratedNetwork) -> None:
    unlock = (generated.out / "systemd" / "ereg-unlock@.service").read_text()
    network = (generated.out / "systemd" / "ereg-network.service").read_text()
    assert "ereg network unlock-key /opt/ereg/network/nodes/%i/key.json --out /run/ereg/%i/key" in unlock
    assert "LoadCredential=node-key-password:/etc/ereg/node-key-password" in unlock
    for v in generated.validators:
        assert f"ereg-unlock@{v.name}.service" in network.split("Requires=")[1].splitlines()[0]
    example = (generated.out / "network.env.example").read_text()
    assert "EREG_RELAY_1_PASSWORD=\n" in example and "EREG_RELAY_2_PASSWORD=\n" in example


# ------------------------------------------------------------------------- the directory
def test_a_non_empty_directory_is_refused_unless_forced(spec: NetworkSpec, tmp_path: Path) -> None:
    out = tmp_path / "net"
    out.mkdir()
    (out / "notes.txt").write_text("the operator's own file")
    with pytest.raises(OutputNotEmpty) as info:
        generate_network(spec, out, PASSWORD, scrypt_n=CHEAP_SCRYPT_N)
    assert "--force" in info.value.message and "不为空" in info.value.message_zh
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    first = generate_network(spec, out, PASSWORD, scrypt_n=CHEAP_SCRYPT_N, force=True)
    (out / "nodes" / "stale-node").mkdir()
    (out / "deployments" / "341500.json").write_text("{}")  # as `ereg deploy` would have written
    second = generate_network(spec, out, PASSWORD, scrypt_n=CHEAP_SCRYPT_N, force=True)
    assert first.enodes != second.enodes  # new node keys
    assert (out / "notes.txt").read_text() == "the operator's own file"
    assert (out / "deployments" / "341500.json").read_text() == "{}"  # --force keeps the record
    assert sorted(p.name for p in (out / "nodes").iterdir()) == sorted(v.name for v in second.validators)
    assert [p.name for p in tmp_path.iterdir()] == ["net"]  # no staging directory left behind


def test_a_short_password_writes_nothing(spec: NetworkSpec, tmp_path: Path) -> None:
    with pytest.raises(NodeKeyError, match="at least 8"):
        generate_network(spec, tmp_path / "net", "short", scrypt_n=CHEAP_SCRYPT_N)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------- unlocking
def test_unlock_writes_the_plain_key_owner_only(generated: GeneratedNetwork, tmp_path: Path) -> None:
    v = generated.validators[0]
    out = tmp_path / "run" / "key"
    out.parent.mkdir()
    address = unlock_key(generated.out / "nodes" / v.name / "key.json", PASSWORD, out)
    assert address == v.address
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    assert text.startswith("0x") and len(text) == 66 and "\n" not in text  # Besu: one line of hex
    assert to_hex(PrivateKey(from_hex(text)).public_key.to_bytes()) == v.public_key


def test_unlock_refuses_a_wrong_password_and_a_swapped_key(generated: GeneratedNetwork, tmp_path: Path) -> None:
    first, second = generated.validators[:2]
    out = tmp_path / "key"
    with pytest.raises(NodeKeyError) as info:
        unlock_key(generated.out / "nodes" / first.name / "key.json", "wrong password", out)
    assert "wrong password" in info.value.message and "密码错误" in info.value.message_zh
    assert not out.exists()
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    (swapped / "key.json").write_bytes((generated.out / "nodes" / first.name / "key.json").read_bytes())
    (swapped / "key.pub").write_text(second.public_key + "\n")
    with pytest.raises(NodeKeyError, match="another node's key"):
        unlock_key(swapped / "key.json", PASSWORD, out)
    assert not out.exists()
    with pytest.raises(NodeKeyError, match="no key file"):
        unlock_key(tmp_path / "missing.json", PASSWORD, out)
    (tmp_path / "plain.json").write_text(json.dumps({"key": "0x" + "11" * 32}))
    with pytest.raises(NodeKeyError, match="not an encrypted key"):
        unlock_key(tmp_path / "plain.json", PASSWORD, out)
    assert not os.path.exists(out)


# ------------------------------------------------------------------------------ the YAML writer
scalars = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))) | st.integers() | st.booleans()
keys = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), min_size=1, max_size=12)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, documents, max_size=5))
def test_the_yaml_writer_reads_back_as_the_same_document(document: dict[str, object]) -> None:
    assert yaml.safe_load(yaml_document("a comment\nover two lines", document)) == (document or None)


def test_a_validator_on_its_departments_machine_publishes_its_ports(tmp_path: Path) -> None:
    raw = tomllib.loads(example_text())
    raw["departments"][0]["hosts"] = ["10.1.0.5"]
    generated = generate_network(parse_spec(raw), tmp_path / "net", PASSWORD, scrypt_n=CHEAP_SCRYPT_N)
    compose = yaml.safe_load((tmp_path / "net" / "compose.yaml").read_text(encoding="utf-8"))
    samr = compose["services"]["besu-la-samr-1"]
    assert "10.1.0.5:30303:30303" in samr["ports"] and "10.1.0.5:8545:8545" in samr["ports"]
    assert compose["services"]["relay-1"]["environment"]["EREG_RPC_URL"] == "http://10.1.0.5:8545"
    assert generated.enodes[0].endswith("@10.1.0.5:30303")
    config = tomllib.loads((tmp_path / "net" / "nodes" / "la-samr-1" / "config.toml").read_text(encoding="utf-8"))
    assert config["p2p-host"] == "10.1.0.5" and "10.1.0.5" in config["host-allowlist"]
