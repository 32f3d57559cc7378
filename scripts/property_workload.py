"""What the benchmarks share: the council-governed registry, and the property workload.

:func:`deploy_governed` deploys a 3-of-5 council (veto 2) and the DocumentRegistry it governs, as
every deployment now is. With ``delay`` 0 the council is a development one (``development=True``):
a Scheduled proposal is executable in the next block and nothing waits; with a delay, Scheduled
proposals wait it out by moving the node's clock (``evm_increaseTime``, Hardhat only).

The property workload: a PropertyRegistry with its departments, and units registered,
transferred, mortgaged and seized in blocks of many transactions, as on a busy QBFT network
(automining off while a step's transactions are sent, with fixed gas, then mined).

Imported by the scripts/bench_*.py scripts (not a command of its own).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.client import ChainClient
from chain.deploy import Deployment, deploy_council, deploy_registry
from chain.governance import CouncilClient, Governance, Governor
from chain.property import (
    Certificate,
    Owner,
    PropertyCall,
    PropertyClient,
    deploy_property_registry,
    owner_commitment,
)
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from chain.types import Role, department_id, type_id
from devstack.hardhat import fund, rpc

COUNCIL_SIZE = 5
COUNCIL_THRESHOLD = 3
COUNCIL_VETO = 2

PROPERTY_CERTIFICATE = "property-certificate"
MORTGAGE_CERTIFICATE = "mortgage-certificate"
DEPARTMENTS = {
    Role.NATRES: "LA-NATRES",
    Role.TAX: "LA-TAX",
    Role.HOUSING: "LA-HOUSING",
    Role.BANK: "LA-BANK-ICBC",
    Role.COURT: "LA-COURT",
}


@dataclass(frozen=True)
class Governed:
    """A DocumentRegistry governed by a fresh council whose members' keys are held here."""

    registry: RegistryClient
    deployment: Deployment  # the DocumentRegistry's
    council: CouncilClient
    council_deployment: Deployment
    governance: Governance
    members: list[LocalAccount]


def clock_mover(rpc_url: str) -> Callable[[int], None]:
    """``wait(seconds)`` for :class:`Governance` on a Hardhat node: move its clock, mine a block."""

    def wait(seconds: int) -> None:
        rpc(rpc_url, "evm_increaseTime", [int(seconds)])
        rpc(rpc_url, "evm_mine")

    return wait


def deploy_governed(
    client: ChainClient,
    deployer: TransactionSender,
    deployments_dir: Path,
    *,
    delay: int = 0,
    members: Sequence[LocalAccount] | None = None,
) -> Governed:
    """Deploy a 3-of-5 council (veto 2) with ``delay`` seconds of time lock, then the registry.

    ``delay`` 0 deploys a development council and Scheduled proposals run at once; otherwise the
    node's clock is moved over the delay. The deployer submits the proposals (anyone may).
    """
    accounts = list(members) if members is not None else [Account.create() for _ in range(COUNCIL_SIZE)]
    council_deployment = deploy_council(
        client,
        deployer,
        deployments_dir=deployments_dir,
        members=[m.address for m in accounts],
        threshold=COUNCIL_THRESHOLD,
        veto_threshold=COUNCIL_VETO,
        delay=delay,
        development=delay == 0,
    )
    council = CouncilClient(client, council_deployment.address)
    rpc_url = str(client.settings.rpc_url).rstrip("/")
    wait = clock_mover(rpc_url) if delay else _no_wait
    governance = Governance(council, accounts, deployer, wait=wait)
    deployment = deploy_registry(client, deployer, deployments_dir=deployments_dir, council=council.address)
    registry = RegistryClient(client, deployment.address)
    return Governed(registry, deployment, council, council_deployment, governance, accounts)


def _no_wait(seconds: int) -> None:
    """A development council's delay is 0: the next block may execute."""


@dataclass(frozen=True)
class PropertySetup:
    prop: PropertyClient
    senders: dict[Role, TransactionSender]  # one department key per role
    issuer: bytes  # NATRES's department id: it issues property and mortgage certificates


def setup_property(
    client: ChainClient,
    registry: RegistryClient,
    gov: Governor,
    deployer: TransactionSender,
    deployments_dir: Path,
) -> PropertySetup:
    """Deploy the PropertyRegistry; register a department with one key per role of the workflow,
    the certificate types of NATRES and the PropertyRegistry's role: one council proposal."""
    rpc_url = str(client.settings.rpc_url).rstrip("/")
    senders = {}
    start = int(client.w3.eth.get_block("latest")["timestamp"]) - 3600
    with _batch(gov):
        deployment = deploy_property_registry(
            client, deployer, deployments_dir=deployments_dir, document_registry=registry.address, governance=gov
        )
        for role, code in DEPARTMENTS.items():
            key = Account.create()
            fund(rpc_url, key.address)
            dept = department_id(code)
            registry.register_department(gov, dept, code, "11341500MB00000" + f"{int(role):02d}X", role)
            registry.add_signer_key(gov, dept, key.address, start)
            senders[role] = TransactionSender(client, key)
        for doc_type in (PROPERTY_CERTIFICATE, MORTGAGE_CERTIFICATE):
            registry.register_document_type(gov, doc_type)
            registry.authorize_document_type(gov, department_id(DEPARTMENTS[Role.NATRES]), type_id(doc_type))
    prop = PropertyClient(client, deployment.address)
    return PropertySetup(prop, senders, department_id(DEPARTMENTS[Role.NATRES]))


def _batch(gov: Governor) -> AbstractContextManager[None]:
    """One proposal for the calls made inside (a :class:`Governance`), else each on its own."""
    return gov.batch() if isinstance(gov, Governance) else nullcontext()


def owners(n: int) -> list[Owner]:
    return [Owner(owner_commitment(f"34240119800101{n:04d}", os.urandom(16)), 10_000)]


def run_workload(
    setup: PropertySetup,
    units: Sequence[bytes],
    titles: Sequence[Certificate],
    *,
    transfers: Mapping[int, Certificate],
    mortgages: Mapping[int, Certificate] | None = None,
    seizures: Sequence[int] = (),
) -> None:
    """Register ``units[i]`` with ``titles[i]``; transfer unit i to ``transfers[i]`` (open, TAX,
    HOUSING and NATRES approvals: the last supersedes the old certificate); mortgage unit i with
    ``mortgages[i]``; seize the units in ``seizures``."""
    prop = setup.prop
    rpc_url = str(prop.client.settings.rpc_url).rstrip("/")

    def phase(calls: list[tuple[Role, PropertyCall]], gas: int, per_block: int) -> None:
        rpc(rpc_url, "evm_setAutomine", [False])
        try:
            for i, (role, call) in enumerate(calls, start=1):
                fn = getattr(prop.contract.functions, call.function)(*call.args)
                setup.senders[role].submit(fn, prop.artifact, gas=gas)
                if i % per_block == 0:
                    rpc(rpc_url, "evm_mine")
            rpc(rpc_url, "evm_mine")
        finally:
            rpc(rpc_url, "evm_setAutomine", [True])

    phase(
        [(Role.NATRES, PropertyCall.register_unit(u, titles[n], owners(n))) for n, u in enumerate(units)], 600_000, 40
    )
    moved = sorted(transfers)
    phase([(Role.NATRES, PropertyCall.open_transfer(units[n], transfers[n], owners(n))) for n in moved], 600_000, 40)
    cases = [int(prop.unit_state(units[n]).open_case.id) for n in moved]  # type: ignore[union-attr]
    for role in (Role.TAX, Role.HOUSING, Role.NATRES):
        phase([(role, PropertyCall.approve_transfer(case, 1, role)) for case in cases], 300_000, 80)
    for n in moved[-1:]:
        if prop.unit_state(units[n]).cert_target != transfers[n].target:
            raise SystemExit("a transfer did not finalize")
    mortgaged = sorted(mortgages or {})
    phase([(Role.BANK, PropertyCall.register_mortgage(units[n], (mortgages or {})[n])) for n in mortgaged], 400_000, 50)
    phase([(Role.COURT, PropertyCall.register_seizure(units[n], os.urandom(32))) for n in seizures], 300_000, 80)
