"""Decode revert data (custom errors, Error(string), Panic(uint256)) against contract ABIs."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from chain.artifacts import ARTIFACTS_DIR, Artifact
from chain.errors import ContractRevert

_ERROR_STRING = "08c379a0"  # Error(string)
_PANIC = "4e487b71"  # Panic(uint256)


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_canonical_type(i) for i in item.get('inputs', []))})"


def _canonical_type(param: dict[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def _all_errors() -> dict[str, dict[str, Any]]:
    """Selector -> error ABI for every artifact in contracts/build."""
    import json

    table: dict[str, dict[str, Any]] = {}
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8"))["abi"]:
            if item.get("type") == "error":
                table[keccak(text=_signature(item)).hex()[:8]] = item
    return table


def _errors_of(artifact: Artifact | None) -> dict[str, dict[str, Any]]:
    if artifact is None:
        return _all_errors()
    table = dict(_all_errors())
    for item in artifact.error_abis():
        table[keccak(text=_signature(item)).hex()[:8]] = item
    return table


def decode_revert(data: str | None, artifact: Artifact | None = None, *, message: str | None = None) -> ContractRevert:
    """A ContractRevert naming the custom error in ``data`` and its arguments."""
    if not data or len(data) < 10:
        return ContractRevert("Reverted", {"message": message} if message else {}, data=data)
    raw = data[2:] if data.startswith("0x") else data
    selector, payload = raw[:8].lower(), bytes.fromhex(raw[8:])
    if selector == _ERROR_STRING:
        (reason,) = abi_decode(["string"], payload)
        return ContractRevert("Error", {"message": reason}, data=data)
    if selector == _PANIC:
        (code,) = abi_decode(["uint256"], payload)
        return ContractRevert("Panic", {"code": code}, data=data)
    item = _errors_of(artifact).get(selector)
    if item is None:
        return ContractRevert("UnknownError", {"selector": "0x" + selector}, data=data)
    inputs = item.get("inputs", [])
    values = abi_decode([_canonical_type(i) for i in inputs], payload)
    args = {param["name"] or f"arg{idx}": value for idx, (param, value) in enumerate(zip(inputs, values, strict=True))}
    return ContractRevert(item["name"], args, data=data)
