"""The property workload the benchmarks share: a PropertyRegistry with its departments, and units
registered, transferred, mortgaged and seized in blocks of many transactions, as on a busy QBFT
network (automining off while a step's transactions are sent, with fixed gas, then mined).

Imported by scripts/bench_index.py and scripts/bench_verify.py (not a command of its own).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from chain.client import ChainClient
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
class PropertySetup:
    prop: PropertyClient
    senders: dict[Role, TransactionSender]  # one department key per role
    issuer: bytes  # NATRES's department id: it issues property and mortgage certificates


def setup_property(
    client: ChainClient, registry: RegistryClient, gov: TransactionSender, deployments_dir: Path
) -> PropertySetup:
    """Deploy the PropertyRegistry; register a department with one key per role of the workflow."""
    rpc_url = str(client.settings.rpc_url).rstrip("/")
    prop = PropertyClient(
        client,
        deploy_property_registry(
            client, gov, deployments_dir=deployments_dir, document_registry=registry.address
        ).address,
    )
    senders = {}
    for role, code in DEPARTMENTS.items():
        key = Account.create()
        fund(rpc_url, key.address)
        dept = department_id(code)
        registry.register_department(gov, dept, code, "11341500MB00000" + f"{int(role):02d}X", role)
        registry.add_signer_key(gov, dept, key.address, int(time.time()) - 3600)
        senders[role] = TransactionSender(client, key)
    for doc_type in (PROPERTY_CERTIFICATE, MORTGAGE_CERTIFICATE):
        registry.register_document_type(gov, doc_type)
        registry.authorize_document_type(gov, department_id(DEPARTMENTS[Role.NATRES]), type_id(doc_type))
    return PropertySetup(prop, senders, department_id(DEPARTMENTS[Role.NATRES]))


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
