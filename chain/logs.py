"""The registries' logs read as plain JSON and decoded from fixed layouts, next to their ABIs.

web3's log formatting and generic ABI decoding cost about 0.5 ms an event, more than an index
catching up can afford on every anchor and status change. The hot events of the DocumentRegistry
(BatchAnchored, the status events, NonceUsed, TitleLocked) and the PropertyRegistry's chain-of-title events
have fixed layouts (indexed bytes32 or integer topics, static data words and one dynamic owners
array) and are decoded here directly; a test checks every layout against web3's decoder on the
compiled ABI. Any other event of the DocumentRegistry goes through :meth:`EventScanner.decode`.
"""

from __future__ import annotations

from typing import Any, cast

from eth_typing import ABIEvent
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from chain.artifacts import Artifact
from chain.client import ChainClient
from chain.errors import ChainError
from chain.events import Event, EventScanner
from chain.types import Action

#: The DocumentRegistry's governance events: departments, signer keys, document types and
#: authorizations.
GOVERNANCE_EVENTS = frozenset(
    {
        "DepartmentRegistered",
        "DepartmentActivationChanged",
        "DepartmentRolesChanged",
        "SignerKeyAdded",
        "SignerKeyRetired",
        "DocumentTypeRegistered",
        "DocumentTypeAuthorized",
        "DocumentTypeDeauthorized",
    }
)
#: The DocumentRegistry's status events, with the action each records.
STATUS_EVENTS: dict[str, Action] = {
    "DocumentRevoked": Action.REVOKE,
    "DocumentSuspended": Action.SUSPEND,
    "DocumentReinstated": Action.REINSTATE,
    "DocumentSuperseded": Action.SUPERSEDE,
}

#: The PropertyRegistry's chain-of-title events, by their signatures.
#: Decoded from fixed layouts (see _PROPERTY_LAYOUTS); a test checks them against the artifact.
#: Any other event of the PropertyRegistry (a signed-action nonce, anything added later) is nameless.
PROPERTY_EVENT_SIGNATURES: dict[str, str] = {
    "UnitRegistered": "UnitRegistered(bytes32,bytes32,bytes32,bytes32,(bytes32,uint16)[])",
    "TransferOpened": "TransferOpened(bytes32,uint64,bytes32,bytes32,bytes32,(bytes32,uint16)[])",
    "TransferApproved": "TransferApproved(bytes32,uint64,bytes32,uint32,uint8)",
    "TransferRejected": "TransferRejected(bytes32,uint64,bytes32,uint16)",
    "TransferReturned": "TransferReturned(bytes32,uint64,bytes32,uint16)",
    "TransferResubmitted": "TransferResubmitted(bytes32,uint64,bytes32,uint32,bytes32,bytes32,(bytes32,uint16)[])",
    "TransferCancelled": "TransferCancelled(bytes32,uint64,bytes32,uint16)",
    "TransferFinalized": "TransferFinalized(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,uint32)",
    "TransferConsented": "TransferConsented(bytes32,uint64,bytes32,uint32,uint32)",
    "MortgageRegistered": "MortgageRegistered(bytes32,uint32,bytes32,bytes32,bytes32)",
    "MortgageReleased": "MortgageReleased(bytes32,uint32,bytes32)",
    "SeizureRegistered": "SeizureRegistered(bytes32,uint32,bytes32,bytes32)",
    "SeizureReleased": "SeizureReleased(bytes32,uint32,bytes32)",
    "CorrectionOpened": "CorrectionOpened(bytes32,uint64,bytes32,bytes32,bytes32,(bytes32,uint16)[],uint16)",
    "CorrectionApproved": "CorrectionApproved(bytes32,uint64,bytes32)",
    "TitleCorrected": "TitleCorrected(bytes32,uint64,bytes32,bytes32,bytes32,bytes32)",
}
PROPERTY_EVENTS = frozenset(PROPERTY_EVENT_SIGNATURES)

# (indexed arguments after topic 0, data arguments), each (name, kind): kind "b32" (bytes32),
# "int" (an unsigned integer) or "owners" (a dynamic (bytes32 commitment, uint16 share)[]).
_Layout = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]
_UNIT_CASE_DEPT = (("unitId", "b32"), ("caseId", "int"), ("department", "b32"))
_PROPERTY_LAYOUTS: dict[str, _Layout] = {
    "UnitRegistered": (
        (("unitId", "b32"), ("certTarget", "b32"), ("department", "b32")),
        (("certRoot", "b32"), ("owners", "owners")),
    ),
    "TransferOpened": (_UNIT_CASE_DEPT, (("certRoot", "b32"), ("certTarget", "b32"), ("owners", "owners"))),
    "TransferApproved": (_UNIT_CASE_DEPT, (("round", "int"), ("roles", "int"))),
    "TransferRejected": (_UNIT_CASE_DEPT, (("reason", "int"),)),
    "TransferReturned": (_UNIT_CASE_DEPT, (("reason", "int"),)),
    "TransferResubmitted": (
        _UNIT_CASE_DEPT,
        (("round", "int"), ("certRoot", "b32"), ("certTarget", "b32"), ("owners", "owners")),
    ),
    "TransferCancelled": (_UNIT_CASE_DEPT, (("reason", "int"),)),
    "TransferFinalized": (
        (("unitId", "b32"), ("caseId", "int"), ("certTarget", "b32")),
        (("certRoot", "b32"), ("previousRoot", "b32"), ("previousTarget", "b32"), ("round", "int")),
    ),
    "TransferConsented": (
        (("unitId", "b32"), ("caseId", "int"), ("bank", "b32")),
        (("mortgageId", "int"), ("round", "int")),
    ),
    "MortgageRegistered": (
        (("unitId", "b32"), ("mortgageId", "int"), ("bank", "b32")),
        (("certRoot", "b32"), ("certTarget", "b32")),
    ),
    "MortgageReleased": ((("unitId", "b32"), ("mortgageId", "int"), ("bank", "b32")), ()),
    "SeizureRegistered": ((("unitId", "b32"), ("seizureId", "int"), ("court", "b32")), (("ruling", "b32"),)),
    "SeizureReleased": ((("unitId", "b32"), ("seizureId", "int"), ("court", "b32")), ()),
    "CorrectionOpened": (
        _UNIT_CASE_DEPT,
        (("certRoot", "b32"), ("certTarget", "b32"), ("owners", "owners"), ("reason", "int")),
    ),
    "CorrectionApproved": (_UNIT_CASE_DEPT, ()),
    "TitleCorrected": (
        (("unitId", "b32"), ("caseId", "int"), ("certTarget", "b32")),
        (("certRoot", "b32"), ("previousRoot", "b32"), ("previousTarget", "b32")),
    ),
}
_PROPERTY_TOPICS: dict[str, str] = {
    "0x" + keccak(text=signature).hex(): name for name, signature in PROPERTY_EVENT_SIGNATURES.items()
}


class RawLogScanner(EventScanner):
    """EventScanner that reads logs as plain JSON and decodes the hot events from fixed layouts.

    BatchAnchored, the status events, NonceUsed and TitleLocked are decoded directly. Every other event goes
    through :meth:`EventScanner.decode`; an event the ABI does not know comes back with an empty
    name instead of failing the scan.

    With ``property_address``, the same requests also fetch the PropertyRegistry's logs (one
    ``eth_getLogs`` with both addresses); its chain-of-title events are decoded from their fixed
    layouts (:data:`PROPERTY_EVENT_SIGNATURES`), any other of its events comes back with an empty
    name.
    """

    def __init__(
        self,
        client: ChainClient,
        artifact: Artifact,
        address: str,
        chunk_size: int,
        property_address: str | None = None,
    ) -> None:
        super().__init__(client, artifact, address, chunk_size)
        self._names: dict[str, str] = {}
        for abi in artifact.event_abis():
            topic = "0x" + event_abi_to_log_topic(cast(ABIEvent, abi)).hex()
            self._names[topic] = str(abi["name"])
        self._checksums: dict[str, str] = {}
        self.property_address = to_checksum_address(property_address) if property_address else None
        self._property_lower = self.property_address.lower() if self.property_address else None
        self._addresses: str | list[str] = (
            [self.address, self.property_address] if self.property_address else self.address
        )

    def fetch_logs(self, start: int, end: int) -> list[Any]:
        self.requests += 1
        params = {"address": self._addresses, "fromBlock": hex(start), "toBlock": hex(end)}
        provider = self.client.w3.provider

        def fetch() -> list[Any]:
            response = provider.make_request(RPCEndpoint("eth_getLogs"), [params])
            if "error" in response or not isinstance(response.get("result"), list):
                raise Web3RPCError(str(response.get("error", response)), rpc_response=response)
            return list(response["result"])

        return self.client.run(fetch)

    def block_of(self, log: Any) -> int:
        return int(log["blockNumber"], 16)

    def decode(self, log: Any) -> Event:
        """One log as ``eth_getLogs`` returns it in JSON (hex strings)."""
        if self._property_lower is not None and str(log["address"]).lower() == self._property_lower:
            return decode_property_log(log)
        topics: list[str] = log["topics"]
        name = self._names.get(topics[0].lower(), "") if topics else ""
        block_number = self.block_of(log)
        log_index = int(log["logIndex"], 16)
        data: str = log["data"]
        args: dict[str, Any]
        if name == "BatchAnchored":
            args = {
                "root": bytes.fromhex(topics[1][2:]),
                "docType": bytes.fromhex(topics[2][2:]),
                "signer": self._checksum(data[26:66]),
                "count": int(data[66:130], 16),
            }
        elif name in STATUS_EVENTS:
            # (department, root, targetHash) indexed; data: actor, signer, [successorRoot,
            # successor,] reason
            args = {
                "department": bytes.fromhex(topics[1][2:]),
                "root": bytes.fromhex(topics[2][2:]),
                "targetHash": bytes.fromhex(topics[3][2:]),
                "actor": bytes.fromhex(data[2:66]),
                "signer": self._checksum(data[90:130]),
            }
            if name == "DocumentSuperseded":
                args["successorRoot"] = bytes.fromhex(data[130:194])
                args["successor"] = bytes.fromhex(data[194:258])
                args["reason"] = int(data[258:322], 16)
            else:
                args["reason"] = int(data[130:194], 16)
        elif name == "NonceUsed":
            # (signer) indexed; data: nonce. One per signed action: as many as the anchors' batches
            args = {"signer": self._checksum(topics[1][26:66]), "nonce": int(data[2:66], 16)}
        elif name == "TitleLocked":
            args = {
                "department": bytes.fromhex(topics[1][2:]),
                "root": bytes.fromhex(topics[2][2:]),
                "targetHash": bytes.fromhex(topics[3][2:]),
            }
        elif name:
            formatted = {
                "topics": [HexBytes(t) for t in topics],
                "data": HexBytes(data),
                "address": log["address"],
                "blockNumber": block_number,
                "blockHash": HexBytes(log["blockHash"]),
                "transactionHash": HexBytes(log["transactionHash"]),
                "transactionIndex": int(log.get("transactionIndex", "0x0"), 16),
                "logIndex": log_index,
            }
            return super().decode(formatted)
        else:
            args = {"topic0": topics[0] if topics else None}
        return Event(
            name=name,
            args=args,
            block_number=block_number,
            block_hash=str(log["blockHash"]).lower(),
            tx_hash=str(log["transactionHash"]).lower(),
            log_index=log_index,
        )

    def _checksum(self, hex40: str) -> str:
        found = self._checksums.get(hex40)
        if found is None:
            found = self._checksums[hex40] = to_checksum_address("0x" + hex40)
        return found


def decode_property_log(log: Any) -> Event:
    """A PropertyRegistry log: a chain-of-title event from its fixed layout, else a nameless event."""
    topics: list[str] = log["topics"]
    name = _PROPERTY_TOPICS.get(topics[0].lower(), "") if topics else ""
    args: dict[str, Any]
    if name:
        indexed, data_fields = _PROPERTY_LAYOUTS[name]
        data = bytes.fromhex(str(log["data"])[2:])
        try:
            args = {}
            for (arg, kind), topic in zip(indexed, topics[1:], strict=True):
                raw = bytes.fromhex(topic[2:])
                args[arg] = raw if kind == "b32" else int.from_bytes(raw, "big")
            for position, (arg, kind) in enumerate(data_fields):
                word = data[32 * position : 32 * position + 32]
                if len(word) != 32:
                    raise ValueError("data too short")
                if kind == "b32":
                    args[arg] = word
                elif kind == "int":
                    args[arg] = int.from_bytes(word, "big")
                else:
                    args[arg] = decode_owners(data, int.from_bytes(word, "big"))
        except ValueError as exc:  # also a wrong topic count (zip strict)
            raise ChainError(f"malformed {name} log in transaction {log['transactionHash']}: {exc}") from None
    else:
        args = {"topic0": topics[0] if topics else None}
    return Event(
        name=name,
        args=args,
        block_number=int(log["blockNumber"], 16),
        block_hash=str(log["blockHash"]).lower(),
        tx_hash=str(log["transactionHash"]).lower(),
        log_index=int(log["logIndex"], 16),
    )


def decode_owners(data: bytes, offset: int) -> list[dict[str, Any]]:
    """The ABI encoding of ``(bytes32 commitment, uint16 share)[]`` at ``offset`` of ``data``."""
    if offset + 32 > len(data):
        raise ValueError("owners offset out of range")
    count = int.from_bytes(data[offset : offset + 32], "big")
    start = offset + 32
    if start + 64 * count > len(data):
        raise ValueError("owners out of range")
    return [
        {
            "commitment": data[start + 64 * i : start + 64 * i + 32],
            "share": int.from_bytes(data[start + 64 * i + 32 : start + 64 * i + 64], "big"),
        }
        for i in range(count)
    ]


__all__ = [
    "GOVERNANCE_EVENTS",
    "PROPERTY_EVENTS",
    "PROPERTY_EVENT_SIGNATURES",
    "STATUS_EVENTS",
    "RawLogScanner",
    "decode_owners",
    "decode_property_log",
]
