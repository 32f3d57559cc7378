"""The network spec: a TOML file naming the network's parameters, its departments and its relayers.

::

    [network]
    name = "liuan-ereg"            # letters, digits, '-': the compose project and file names
    chain_id = 341500
    block_period_seconds = 2
    epoch_length = 30000
    request_timeout_seconds = 4
    gas_limit = 60000000           # or "0x..." text
    # optional: genesis_timestamp (default: when the network is generated), subnet (the compose
    # network, default 172.28.10.0/24), p2p_port (30303), rpc_port (8545), metrics_port (9545)

    [images]                       # optional: the container images of the bundle
    besu = "hyperledger/besu:26.3.0"

    [[departments]]
    code = "LA-SAMR"               # the department's code on chain (its id is keccak256 of it)
    name = "六安市市场监督管理局"
    validators = 1                 # Besu QBFT validators the department runs
    signer_keys = ["0x…"]          # the department's signer key addresses: public addresses only
    hosts = ["10.0.1.11"]          # optional: each validator's P2P address (default: from the subnet)

    [[relayers]]
    name = "relay-1"
    address = "0x…"                # optional: without it, `ereg network init` makes the relayer's key

Only public addresses appear in a spec: signer keys stay with their departments, the relayers' keys
with the relays. Everything is checked before anything is written; a problem is one
:class:`~network.errors.SpecError` naming the entry, in English and Chinese.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from network.errors import SpecError

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
#: The largest block gas limit Besu's free-gas guide names (0x1fffffffffffff).
MAX_GAS_LIMIT = 0x1FFFFFFFFFFFFF
#: Validators a network may have here (QBFT's message load grows with the square of the count).
MAX_VALIDATORS = 64

DEFAULT_IMAGES = {
    "besu": "hyperledger/besu:26.3.0",
    "kubo": "ipfs/kubo:v0.38.1",
    "postgres": "postgres:16",
    "prometheus": "prom/prometheus:v3.5.0",
}


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    validators: int
    signer_keys: tuple[str, ...]  # checksummed addresses
    hosts: tuple[str, ...] = ()  # one per validator, or empty (then taken from the subnet)


@dataclass(frozen=True)
class RelayerSpec:
    name: str
    address: str | None  # None: the generator makes the relayer's key


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    chain_id: int
    block_period_seconds: int
    epoch_length: int
    request_timeout_seconds: int
    gas_limit: int
    departments: tuple[DepartmentSpec, ...]
    relayers: tuple[RelayerSpec, ...]
    genesis_timestamp: int | None = None
    subnet: ipaddress.IPv4Network = field(default_factory=lambda: ipaddress.IPv4Network("172.28.10.0/24"))
    p2p_port: int = 30303
    rpc_port: int = 8545
    metrics_port: int = 9545
    images: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IMAGES))

    @property
    def validator_count(self) -> int:
        return sum(d.validators for d in self.departments)

    @property
    def fault_tolerance(self) -> int:
        """Validators that may fail at once with the chain still making blocks: f of n = 3f + 1."""
        return (self.validator_count - 1) // 3

    def with_signer_keys(self, keys: Mapping[str, Sequence[str]]) -> NetworkSpec:
        """This spec with the signer keys of the departments named in ``keys`` replaced (e.g. read
        from a deployed registry); the result is checked as a spec read from a file is."""
        departments = tuple(
            replace(d, signer_keys=tuple(to_checksum_address(k) for k in keys[d.code])) if d.code in keys else d
            for d in self.departments
        )
        spec = replace(self, departments=departments)
        _check_accounts(spec, require_keys=True)
        return spec


def load_spec(path: Path, *, require_keys: bool = True) -> NetworkSpec:
    """The spec in ``path``; ``require_keys=False`` lets departments omit their signer keys (they
    are then read from a deployed registry)."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(where, "no such file", "文件不存在") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(where, f"cannot be read ({type(exc).__name__})", "无法读取") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(where, f"is not valid TOML: {exc}", f"不是有效的 TOML：{exc}") from None
    return parse_spec(raw, require_keys=require_keys, source=where)


def parse_spec(raw: Mapping[str, Any], *, require_keys: bool = True, source: str = "spec") -> NetworkSpec:
    """Check a parsed TOML document and build the spec from it."""
    _only(raw, {"network", "images", "departments", "relayers"}, source)
    net = _table(raw, "network", source)
    _only(
        net,
        {
            "name",
            "chain_id",
            "block_period_seconds",
            "epoch_length",
            "request_timeout_seconds",
            "gas_limit",
            "genesis_timestamp",
            "subnet",
            "p2p_port",
            "rpc_port",
            "metrics_port",
        },
        "[network]",
    )
    name = _text(net, "name", "[network]")
    if not _NAME.match(name):
        raise SpecError(
            "[network].name", "use 1-40 lower-case letters, digits or '-'", "请使用 1–40 个小写字母、数字或 '-'"
        )
    chain_id = _integer(net, "chain_id", "[network]", low=1, high=2**53 - 1)
    if chain_id == 1:
        raise SpecError("[network].chain_id", "1 is Ethereum Mainnet's chain id", "1 是以太坊主网的链标识")
    block_period = _integer(net, "block_period_seconds", "[network]", low=1, high=3600)
    timeout = _integer(net, "request_timeout_seconds", "[network]", low=1, high=3600)
    epoch = _integer(net, "epoch_length", "[network]", low=1, high=2**31 - 1)
    gas_limit = _gas_limit(net.get("gas_limit"))
    timestamp = None
    if "genesis_timestamp" in net:
        timestamp = _integer(net, "genesis_timestamp", "[network]", low=0, high=2**63 - 1)
    subnet = _subnet(net.get("subnet", "172.28.10.0/24"))
    ports = {
        k: _integer(net, k, "[network]", low=1, high=65535)
        for k in ("p2p_port", "rpc_port", "metrics_port")
        if k in net
    }
    images = dict(DEFAULT_IMAGES)
    if "images" in raw:
        table = _table(raw, "images", source)
        _only(table, set(DEFAULT_IMAGES), "[images]")
        images.update({k: _text(table, k, "[images]") for k in table})

    departments = tuple(
        _department(entry, i, require_keys=require_keys) for i, entry in enumerate(_array(raw, "departments", source))
    )
    if not departments:
        raise SpecError("[[departments]]", "at least one department is needed", "至少需要一个部门")
    relayers = tuple(_relayer(entry, i) for i, entry in enumerate(_array(raw, "relayers", source, required=False)))
    spec = NetworkSpec(
        name=name,
        chain_id=chain_id,
        block_period_seconds=block_period,
        epoch_length=epoch,
        request_timeout_seconds=timeout,
        gas_limit=gas_limit,
        departments=departments,
        relayers=relayers,
        genesis_timestamp=timestamp,
        subnet=subnet,
        images=images,
        **ports,
    )
    _check_network(spec)
    _check_accounts(spec, require_keys=require_keys)
    return spec


# --------------------------------------------------------------------------------- entries
def _department(entry: Any, index: int, *, require_keys: bool) -> DepartmentSpec:
    where = f"[[departments]] #{index + 1}"
    if not isinstance(entry, dict):
        raise SpecError(where, "must be a table", "应为表")
    _only(entry, {"code", "name", "validators", "signer_keys", "hosts"}, where)
    code = _text(entry, "code", where)
    if not _CODE.match(code):
        raise SpecError(
            where, f"code {code!r}: use upper-case letters, digits or '-'", f"代码 {code!r}：请使用大写字母、数字或 '-'"
        )
    where = f"department {code}"
    name = _text(entry, "name", where)
    validators = _integer(entry, "validators", where, low=1, high=MAX_VALIDATORS)
    keys = entry.get("signer_keys", [])
    if not isinstance(keys, list):
        raise SpecError(where, "signer_keys must be a list of addresses", "signer_keys 应为地址列表")
    checked = tuple(_address(k, f"{where}: signer key") for k in keys)
    if require_keys and not checked:
        raise SpecError(
            where,
            "no signer key: list the department's key addresses (`ereg keys address NAME`), or use --from-registry",
            "没有签名密钥：请列出部门密钥的地址（`ereg keys address NAME`），或使用 --from-registry",
        )
    hosts = entry.get("hosts", [])
    if not isinstance(hosts, list) or (hosts and len(hosts) != validators):
        raise SpecError(
            where,
            f"hosts must list one IPv4 address per validator ({validators})",
            f"hosts 应为每个验证节点各列一个 IPv4 地址（共 {validators} 个）",
        )
    return DepartmentSpec(code, name, validators, checked, tuple(_ipv4(h, where) for h in hosts))


def _relayer(entry: Any, index: int) -> RelayerSpec:
    where = f"[[relayers]] #{index + 1}"
    if not isinstance(entry, dict):
        raise SpecError(where, "must be a table", "应为表")
    _only(entry, {"name", "address"}, where)
    name = _text(entry, "name", where)
    if not _NAME.match(name):
        raise SpecError(
            where, f"name {name!r}: use lower-case letters, digits or '-'", f"名称 {name!r}：请使用小写字母、数字或 '-'"
        )
    address = _address(entry["address"], f"relayer {name}") if "address" in entry else None
    return RelayerSpec(name, address)


def _check_network(spec: NetworkSpec) -> None:
    seen: set[str] = set()
    for d in spec.departments:
        if d.code in seen:
            raise SpecError(f"department {d.code}", "is listed twice", "重复列出")
        seen.add(d.code)
    names = [r.name for r in spec.relayers]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"relayer {name}", "is listed twice", "重复列出")
    ports = [spec.p2p_port, spec.rpc_port, spec.metrics_port]
    if len(set(ports)) != len(ports):
        raise SpecError(
            "[network]",
            "p2p_port, rpc_port and metrics_port must differ",
            "p2p_port、rpc_port 与 metrics_port 不能相同",
        )
    if spec.validator_count > MAX_VALIDATORS:
        raise SpecError(
            "[[departments]]", f"more than {MAX_VALIDATORS} validators", f"验证节点超过 {MAX_VALIDATORS} 个"
        )
    if not all(d.hosts for d in spec.departments) and spec.validator_count > _static_slots(spec.subnet):
        raise SpecError("[network].subnet", "is too small for the validators", "子网太小，容纳不下验证节点")
    lower = next(spec.subnet.subnets(prefixlen_diff=1))
    for d in spec.departments:
        for host in d.hosts:
            address = ipaddress.IPv4Address(host)
            if address in spec.subnet and not (address in lower and int(address) - int(lower.network_address) >= 2):
                raise SpecError(
                    f"department {d.code}",
                    f"host {host} lies in the compose subnet but outside its fixed addresses ({lower}, from .2)",
                    f"主机 {host} 位于 compose 子网内，但不在固定地址段（{lower}，自 .2 起）",
                )
    hosts = static_hosts(spec)
    if len(set(hosts)) != len(hosts):
        raise SpecError("[[departments]]", "two validators have the same host", "两个验证节点的地址相同")


def _check_accounts(spec: NetworkSpec, *, require_keys: bool) -> None:
    """No address twice: not two departments' keys, not a relayer that is also a department key."""
    owner: dict[str, str] = {}
    for d in spec.departments:
        if require_keys and not d.signer_keys:
            raise SpecError(f"department {d.code}", "has no signer key", "没有签名密钥")
        for key in d.signer_keys:
            other = owner.setdefault(key.lower(), f"department {d.code}")
            if other != f"department {d.code}" or d.signer_keys.count(key) > 1:
                raise SpecError(f"department {d.code}", f"signer key {key} is listed twice", f"签名密钥 {key} 重复列出")
    for r in spec.relayers:
        if r.address is None:
            continue
        other = owner.setdefault(r.address.lower(), f"relayer {r.name}")
        if other != f"relayer {r.name}":
            raise SpecError(
                f"relayer {r.name}", f"address {r.address} is also {other}'s", f"地址 {r.address} 同时属于 {other}"
            )


def _static_slots(subnet: ipaddress.IPv4Network) -> int:
    """Addresses of the lower half of the subnet from .11 on: the validators' fixed addresses (the
    upper half is the range compose hands out to the other services)."""
    return max(0, subnet.num_addresses // 2 - 11)


def static_hosts(spec: NetworkSpec) -> list[str]:
    """The P2P address of every validator, in order: the spec's, else the subnet's from .11 on."""
    base = int(spec.subnet.network_address)
    taken = {h for d in spec.departments for h in d.hosts}
    hosts: list[str] = []
    slot = 11
    for d in spec.departments:
        for i in range(d.validators):
            if d.hosts:
                hosts.append(d.hosts[i])
                continue
            while str(ipaddress.IPv4Address(base + slot)) in taken:
                slot += 1
            hosts.append(str(ipaddress.IPv4Address(base + slot)))
            slot += 1
    return hosts


# ---------------------------------------------------------------------------------- values
def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecError(
            where,
            f"unknown {'entry' if len(unknown) == 1 else 'entries'} {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})",
            f"未知条目 {', '.join(unknown)}（可用：{', '.join(sorted(allowed))}）",
        )


def _table(raw: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise SpecError(where, f"needs a [{key}] table", f"缺少 [{key}] 表")
    return value


def _array(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    value = raw.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise SpecError(where, f"needs [[{key}]] entries", f"缺少 [[{key}]] 条目")
    return value


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(
            f"{where}.{key}" if where.startswith("[") else where, f"{key} must be non-empty text", f"{key} 应为非空文本"
        )
    return value.strip()


def _integer(table: Mapping[str, Any], key: str, where: str, *, low: int, high: int) -> int:
    value = table.get(key)
    label = f"{where}.{key}" if where.startswith("[") else f"{where}: {key}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(label, "must be a whole number", "应为整数")
    if not low <= value <= high:
        raise SpecError(label, f"must lie between {low} and {high}", f"应在 {low} 到 {high} 之间")
    return value


MIN_GAS_LIMIT = 10_000_000


def _gas_limit(value: Any) -> int:
    where = "[network].gas_limit"
    if isinstance(value, str):
        try:
            value = int(value, 16) if value.lower().startswith("0x") else int(value, 10)
        except ValueError:
            raise SpecError(where, "must be a number or 0x hex text", "应为数字或 0x 十六进制文本") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(where, "must be a number or 0x hex text", "应为数字或 0x 十六进制文本")
    # the registry's deployment (with the Sm3Merkle and Sm2KeyRegistry it creates) takes 8.4M gas
    if not MIN_GAS_LIMIT <= value <= MAX_GAS_LIMIT:
        raise SpecError(
            where,
            f"must lie between {MIN_GAS_LIMIT:,} (the registry's deployment fits) and {MAX_GAS_LIMIT:#x}",
            f"应在 {MIN_GAS_LIMIT:,}（可容纳登记合约的部署）到 {MAX_GAS_LIMIT:#x} 之间",
        )
    return value


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise SpecError(
            where,
            f"{value!r} is not an address (0x and 40 hex digits); replace any placeholder with the real address",
            f"{value!r} 不是地址（0x 加 40 位十六进制）；请将占位符替换为真实地址",
        )
    return to_checksum_address(value.strip())


def _ipv4(value: Any, where: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except (ipaddress.AddressValueError, ValueError):
        raise SpecError(where, f"host {value!r} is not an IPv4 address", f"主机 {value!r} 不是 IPv4 地址") from None


def _subnet(value: Any) -> ipaddress.IPv4Network:
    try:
        subnet = ipaddress.IPv4Network(value)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        raise SpecError("[network].subnet", f"{value!r} is not an IPv4 network", f"{value!r} 不是 IPv4 网段") from None
    if subnet.prefixlen > 26:
        raise SpecError("[network].subnet", "must be a /26 or larger", "应不小于 /26")
    return subnet
