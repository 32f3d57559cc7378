"""chain.batch.call_plan: a view's call data and returned values exactly as web3 makes them,
checked for every function of every contract the project reads, with values of every type."""

from __future__ import annotations

import random
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_utils.abi import get_abi_output_types
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3._utils.abi import map_abi_data
from web3._utils.normalizers import BASE_RETURN_NORMALIZERS

from chain.artifacts import load_artifact
from chain.batch import call_plan
from chain.contract import ContractClient
from chain.governance import COUNCIL
from chain.property import CONTRACT_NAME as PROPERTY
from chain.registry import CONTRACT_NAME as REGISTRY
from chain.registry import SM2_KEY_REGISTRY

W3 = Web3()


def value_of(abi_type: ABIType, rng: random.Random) -> Any:
    """A random value of ``abi_type``, as a caller gives it and as eth_abi decodes it (tuples)."""
    if abi_type.is_array:
        length = abi_type.arrlist[-1][0] if abi_type.arrlist[-1] else rng.randint(0, 3)
        return tuple(value_of(abi_type.item_type, rng) for _ in range(length))
    if isinstance(abi_type, TupleType):
        return tuple(value_of(c, rng) for c in abi_type.components)
    assert isinstance(abi_type, BasicType)
    base, sub = abi_type.base, abi_type.sub
    if base == "address":
        return to_checksum_address(rng.randbytes(20))
    if base == "bool":
        return rng.random() < 0.5
    if base == "uint":
        return rng.randrange(2 ** int(sub))
    if base == "int":
        return rng.randrange(-(2 ** (int(sub) - 1)), 2 ** (int(sub) - 1))
    if base == "bytes":
        return rng.randbytes(int(sub) if sub else rng.randint(0, 70))
    if base == "string":
        return "".join(rng.choice("ab登记0x") for _ in range(rng.randint(0, 20)))
    raise AssertionError(f"no sample for {abi_type.to_type_str()}")


def functions() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in (REGISTRY, SM2_KEY_REGISTRY, PROPERTY, COUNCIL):
        abi = load_artifact(name).abi
        names = [item["name"] for item in abi if item.get("type") == "function"]
        for item in abi:
            if item.get("type") == "function" and names.count(item["name"]) == 1:  # overloads: not by name
                yield name, item


CASES = list(functions())


@pytest.mark.parametrize(("contract_name", "function"), CASES, ids=[f"{c}.{f['name']}" for c, f in CASES])
def test_the_plan_encodes_and_normalizes_as_web3(contract_name: str, function: dict[str, Any]) -> None:
    artifact = load_artifact(contract_name)
    contract = cast(
        ContractClient, SimpleNamespace(contract_name=contract_name, contract=W3.eth.contract(abi=artifact.abi))
    )
    plan = call_plan(contract, function["name"])
    rng = random.Random(f"{contract_name}.{function['name']}")
    for _ in range(5):
        args = [value_of(parse(t), rng) for t in plan.inputs]
        assert plan.selector + W3.codec.encode(plan.inputs, args).hex() == contract.contract.encode_abi(
            function["name"], args=args
        )
        outputs = list(get_abi_output_types(function))
        decoded = W3.codec.decode(outputs, W3.codec.encode(outputs, [value_of(parse(t), rng) for t in outputs]))
        expected = map_abi_data(BASE_RETURN_NORMALIZERS, outputs, decoded)
        got = plan.normalize(decoded)
        assert same_shape(got, tuple(expected)), (got, expected)


def same_shape(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same_shape(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_every_contract_has_views_with_addresses_and_structs_among_the_cases() -> None:
    # the cases above reach what the normalization has to change: addresses, alone, in structs, in arrays
    outputs = [t for _, f in CASES for t in get_abi_output_types(f)]
    assert "address" in outputs
    assert any(t.startswith("(") and "address" in t for t in outputs)
    assert any(t.endswith("[]") for t in outputs)
