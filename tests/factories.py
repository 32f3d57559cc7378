"""Factories of the chain tests: a deployed registry with departments, keys and types."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.client import ChainClient, connect
from chain.deploy import Deployment, deploy_council, deploy_registry
from chain.eip712 import sign_anchor, sign_status_change
from chain.errors import ContractRevert
from chain.governance import CouncilClient, Governance
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from chain.types import Role, SignedAnchor, SignedStatusChange, StatusChange, department_id, type_id
from devstack.node import ChainNode, fund, rpc
from documents.merkle import MerkleTree

T = TypeVar("T")

BUSINESS_LICENSE = "business-license"
PROPERTY_CERTIFICATE = "property-certificate"
FOOD_LICENSE = "food-business-license"

SAMR = department_id("LA-SAMR")  # market regulation: business licences
NATRES = department_id("LA-NATRES")  # natural resources: property certificates
TAX = department_id("LA-TAX")

#: The test council: 3 of 5 members approve, 2 veto, one hour of time lock.
COUNCIL_SIZE = 5
COUNCIL_THRESHOLD = 3
COUNCIL_VETO = 2
COUNCIL_DELAY = 3600


@dataclass
class World:
    """Everything a chain test needs: node, client, registry, the council, departments' keys.

    ``governor`` deploys the contracts and holds no role afterwards; governance is the 3-of-5
    council of ``members`` (``governance`` signs with the first three and waits out the time lock
    by moving the node's clock).
    """

    node: ChainNode
    settings: ChainSettings
    client: ChainClient
    deployment: Deployment
    registry: RegistryClient
    governor: LocalAccount
    samr_key: LocalAccount
    natres_key: LocalAccount
    relayer: LocalAccount
    members: list[LocalAccount] = field(default_factory=list)
    council: CouncilClient = None  # type: ignore[assignment]
    governance: Governance = None  # type: ignore[assignment]
    senders: dict[str, TransactionSender] = field(default_factory=dict)

    @property
    def chain_id(self) -> int:
        return self.client.chain_id

    def sender(self, account: LocalAccount) -> TransactionSender:
        """The (cached) transaction sender of ``account``, funded unless gas is free."""
        cached = self.senders.get(account.address)
        if cached is None:
            if not self.node.free_gas:
                fund(self.node.rpc_url, account.address)
            cached = self.senders[account.address] = TransactionSender(self.client, account)
        return cached

    def new_account(self) -> LocalAccount:
        account: LocalAccount = Account.create()
        return account

    def reset_local_state(self) -> None:
        """After evm_revert the node forgot the test's transactions and the balances given during
        the test: forget the senders of accounts made during the test (they must be funded again)."""
        fixed = {a.address for a in (self.governor, self.samr_key, self.natres_key, self.relayer, *self.members)}
        for address in list(self.senders):
            if address not in fixed:
                del self.senders[address]

    def now(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def moment(self) -> int:
        """A time after every block so far and at or before every block to come: the latest
        block's time + 1, with the node's clock moved on a second so that the next block is stamped
        no earlier. Hardhat (like Besu) stamps each block later than its parent anyway; Anvil stamps
        the blocks it mines within one second alike, so without the move the next block could
        still carry the latest block's time."""
        at = self.now() + 1
        rpc(self.node.rpc_url, "evm_increaseTime", [1])
        return at

    def increase_time(self, seconds: int) -> None:
        rpc(self.node.rpc_url, "evm_increaseTime", [seconds])
        rpc(self.node.rpc_url, "evm_mine")

    def mine(self, blocks: int) -> None:
        # Hardhat makes the empty blocks at once; Anvil mines each (20,000 take it a few seconds).
        rpc(self.node.rpc_url, "hardhat_mine", [hex(blocks)], timeout=max(5.0, blocks / 500))

    # ---------------------------------------------------------------- document helpers
    def anchor_batch(
        self, size: int = 4, key: LocalAccount | None = None, doc_type: str = BUSINESS_LICENSE
    ) -> tuple[MerkleTree, list[bytes]]:
        targets = [os.urandom(32) for _ in range(size)]
        tree = MerkleTree(targets)
        self.registry.anchor(self.sender(key or self.samr_key), tree.root, type_id(doc_type), size)
        return tree, targets

    def sign_anchor(
        self,
        root: bytes,
        *,
        key: LocalAccount | None = None,
        doc_type: str = BUSINESS_LICENSE,
        count: int = 1,
        deadline: int | None = None,
        chain_id: int | None = None,
        registry: str | None = None,
    ) -> SignedAnchor:
        return sign_anchor(
            key or self.samr_key,
            chain_id=chain_id or self.chain_id,
            registry=registry or self.registry.address,
            root=root,
            doc_type=type_id(doc_type),
            count=count,
            deadline=deadline if deadline is not None else self.now() + 3600,
        )

    def sign_change(
        self,
        change: StatusChange,
        *,
        key: LocalAccount | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        registry: str | None = None,
    ) -> SignedStatusChange:
        return sign_status_change(
            key or self.samr_key,
            chain_id=chain_id or self.chain_id,
            registry=registry or self.registry.address,
            change=change,
            nonce=nonce if nonce is not None else int.from_bytes(os.urandom(8), "big"),
            deadline=deadline if deadline is not None else self.now() + 3600,
        )


def build_world(node: ChainNode, deployments_dir: Path) -> World:
    settings = ChainSettings(
        rpc_url=node.rpc_url, chain_id=node.chain_id, deployments_dir=deployments_dir
    )
    client = connect(settings)
    governor: LocalAccount = Account.create()
    samr_key: LocalAccount = Account.create()
    natres_key: LocalAccount = Account.create()
    relayer: LocalAccount = Account.create()
    world = World(
        node=node,
        settings=settings,
        client=client,
        deployment=None,  # type: ignore[arg-type]
        registry=None,  # type: ignore[arg-type]
        governor=governor,
        samr_key=samr_key,
        natres_key=natres_key,
        relayer=relayer,
    )
    world.members = [Account.create() for _ in range(COUNCIL_SIZE)]
    deployer = world.sender(governor)
    for account in (samr_key, natres_key, relayer, *world.members):
        world.sender(account)
    council = deploy_council(
        client,
        deployer,
        deployments_dir=deployments_dir,
        members=[m.address for m in world.members],
        threshold=COUNCIL_THRESHOLD,
        veto_threshold=COUNCIL_VETO,
        delay=COUNCIL_DELAY,
    )
    world.council = CouncilClient(client, council.address)
    # Proposals are submitted by the deployer (anyone may): the relayer's transactions stay the relay's.
    world.governance = Governance(world.council, world.members, deployer, wait=world.increase_time)
    world.deployment = deploy_registry(client, deployer, deployments_dir=deployments_dir, council=council.address)
    registry = world.registry = RegistryClient(client, world.deployment.address)
    start = world.now() - 3600
    gov = world.governance
    with gov.batch():
        registry.register_department(gov, SAMR, "六安市市场监督管理局", "11341500MB0000001A")
        registry.register_department(gov, NATRES, "六安市自然资源和规划局", "11341500MB0000002B", Role.NATRES)
        registry.register_department(gov, TAX, "国家税务总局六安市税务局", "11341500MB0000003C", Role.TAX)
        for name in (BUSINESS_LICENSE, PROPERTY_CERTIFICATE, FOOD_LICENSE):
            registry.register_document_type(gov, name)
        registry.authorize_document_type(gov, SAMR, type_id(BUSINESS_LICENSE))
        registry.authorize_document_type(gov, SAMR, type_id(FOOD_LICENSE))
        registry.authorize_document_type(gov, NATRES, type_id(PROPERTY_CERTIFICATE))
        registry.add_signer_key(gov, SAMR, samr_key.address, start)
        registry.add_signer_key(gov, NATRES, natres_key.address, start)
    return world


def expect_revert(fn: Callable[[], T], name: str, **args: Any) -> ContractRevert:
    """Run ``fn``; assert it reverts with custom error ``name`` and (a subset of) ``args``."""
    try:
        fn()
    except ContractRevert as revert:
        assert revert.name == name, f"expected {name}, got {revert}"
        for key, expected in args.items():
            assert key in revert.arguments, f"{name} has no argument {key}: {revert.arguments}"
            actual = revert.arguments[key]
            if isinstance(expected, str) and expected.startswith("0x") and isinstance(actual, str):
                assert actual.lower() == expected.lower(), f"{key}: {actual} != {expected}"
            else:
                assert actual == expected, f"{key}: {actual!r} != {expected!r}"
        return revert
    raise AssertionError(f"expected revert {name}, but the call succeeded")


def proofs(tree: MerkleTree, indexes: Sequence[int]) -> list[list[bytes]]:
    return [tree.proof(i) for i in indexes]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
