"""The part every typed contract client shares: where the contract is, its ABI, calls and sends."""

from __future__ import annotations

from typing import Any, ClassVar

from eth_utils.address import to_checksum_address
from web3.contract import Contract

from chain.artifacts import Artifact, load_artifact
from chain.client import ChainClient
from chain.errors import RegistryNotFound
from chain.sender import Receipt, TransactionSender


class ContractClient:
    """Reads need only a client; writes need a :class:`TransactionSender` for the acting key."""

    #: The contract's name in contracts/build/.
    contract_name: ClassVar[str]

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.address = to_checksum_address(address)
        self.artifact: Artifact = load_artifact(self.contract_name)
        self.contract: Contract = client.contract(self.contract_name, self.address)

    def ensure_deployed(self) -> None:
        if not self.client.code_at(self.address):
            raise RegistryNotFound(f"no contract at {self.address} on chain {self.client.chain_id}")

    def _call(self, fn_name: str, *args: Any) -> Any:
        fn = getattr(self.contract.functions, fn_name)(*args)
        return self.client.run(lambda: fn.call(), self.artifact)

    def _send(self, sender: TransactionSender, fn_name: str, *args: Any) -> Receipt:
        fn = getattr(self.contract.functions, fn_name)(*args)
        return sender.transact(fn, self.artifact)
