"""Revert data is decoded by custom-error name and arguments."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from chain.artifacts import load_artifact
from chain.revert import decode_revert


def _data(signature: str, types: list[str], values: list[object]) -> str:
    return "0x" + keccak(text=signature)[:4].hex() + encode(types, values).hex()


def test_custom_error_with_arguments() -> None:
    dept, doc_type = b"\x01" * 32, b"\x02" * 32
    data = _data(
        "IssuerRegistryTypeNotAuthorized(bytes32,bytes32)", ["bytes32", "bytes32"], [dept, doc_type]
    )
    revert = decode_revert(data, load_artifact("DocumentRegistry"))
    assert revert.name == "IssuerRegistryTypeNotAuthorized"
    assert revert.arguments == {"department": dept, "docType": doc_type}
    assert "IssuerRegistryTypeNotAuthorized(department=0x0101" in str(revert)


def test_error_with_enum_arguments() -> None:
    data = _data(
        "DocumentRegistryInvalidTransition(bytes32,bytes32,uint8,uint8)",
        ["bytes32", "bytes32", "uint8", "uint8"],
        [b"\x03" * 32, b"\x04" * 32, 3, 2],
    )
    revert = decode_revert(data)
    assert revert.name == "DocumentRegistryInvalidTransition"
    assert revert.arguments["state"] == 3
    assert revert.arguments["action"] == 2


def test_openzeppelin_error_is_known() -> None:
    data = _data(
        "AccessControlUnauthorizedAccount(address,bytes32)",
        ["address", "bytes32"],
        ["0x" + "11" * 20, b"\x00" * 32],
    )
    assert decode_revert(data).name == "AccessControlUnauthorizedAccount"


def test_error_string_and_panic() -> None:
    assert decode_revert(_data("Error(string)", ["string"], ["nope"])).arguments == {
        "message": "nope"
    }
    assert decode_revert(_data("Panic(uint256)", ["uint256"], [0x11])).arguments == {"code": 0x11}


def test_unknown_selector_and_empty_data() -> None:
    assert decode_revert("0xdeadbeef").name == "UnknownError"
    assert decode_revert(None).name == "Reverted"
    assert decode_revert("0x").name == "Reverted"
