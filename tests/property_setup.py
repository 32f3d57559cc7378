"""Shared set-up of the property tests: the departments of the property workflow, owners, and a
PropertyRegistry deployed on the shared world's DocumentRegistry (:func:`make_setup`, and the
fixture ``s`` that test modules import).

Used by the contract, relay, CLI and verifier property tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from chain.property import (
    Certificate,
    Owner,
    PropertyClient,
    deploy_property_registry,
    owner_commitment,
    unit_id,
)
from chain.sender import Receipt, TransactionSender
from chain.types import Role, State, department_id, type_id
from documents.samples import SAMPLE_UNIT_SALT
from tests.contracts.helpers import add_key, gov
from tests.factories import NATRES, PROPERTY_CERTIFICATE, TAX, World

MORTGAGE_CERTIFICATE = "mortgage-certificate"
HOUSING = department_id("LA-HOUSING")
COURT = department_id("LA-COURT")
OTHER_COURT = department_id("LA-COURT-JINAN")
BANK = department_id("LA-BANK-ICBC")
OTHER_BANK = department_id("LA-BANK-CCB")
OTHER_TAX = department_id("LA-TAX-JINAN")

#: Gas of each step, gathered by the tests that take the step (printed at the end of the session).
GAS: dict[str, int] = {}


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    salt: bytes

    @property
    def commitment(self) -> bytes:
        return owner_commitment(self.id_number, self.salt)


def person(name: str, id_number: str) -> Person:
    return Person(name, id_number, os.urandom(16))


SELLERS = (person("张伟", "342401198001010011"), person("王芳", "342401198203040022"))
BUYER = person("李娜", "342401199005060033")
CORRECTED_BUYERS = (BUYER, person("刘洋", "342401199107080044"))
UNIT_NUMBER = "341502001001GB00001F00010001"  # 不动产单元号
#: The salt of the tests' units: the sample records' ``unitSalt``, so a certificate issued from a
#: sample record (with its unit number) names the unit :func:`unit_of` gives.
UNIT_SALT = bytes.fromhex(SAMPLE_UNIT_SALT[2:])


def unit_of(unit_number: str, salt: bytes = UNIT_SALT) -> bytes:
    """The on-chain id of ``unit_number`` under ``salt`` (the tests' salt unless told)."""
    return unit_id(unit_number, salt)


def owners(people: Iterable[Person], shares: Iterable[int]) -> list[Owner]:
    return [Owner(p.commitment, s) for p, s in zip(people, shares, strict=True)]


@dataclass
class Setup:
    """The world plus a PropertyRegistry and one key per department of the workflow."""

    world: World
    prop: PropertyClient
    natres: TransactionSender
    tax: TransactionSender
    housing: TransactionSender
    court: TransactionSender
    other_court: TransactionSender
    bank: TransactionSender
    other_bank: TransactionSender
    other_tax: TransactionSender

    def certificate(self, doc_type: str = PROPERTY_CERTIFICATE, key: LocalAccount | None = None) -> Certificate:
        """A fresh certificate anchored (by NATRES unless told) in a batch of four; proves index 2."""
        tree, targets = self.world.anchor_batch(4, key=key or self.world.natres_key, doc_type=doc_type)
        return Certificate(tree.root, targets[2], tuple(tree.proof(2)))

    def register(self, unit: bytes | None = None) -> tuple[bytes, Certificate]:
        unit = unit or unit_of(UNIT_NUMBER)
        cert = self.certificate()
        receipt = self.prop.register_unit(self.natres, unit, cert, owners(SELLERS, (6000, 4000)))
        GAS.setdefault("registerUnit (2 owners)", receipt.gas_used)
        return unit, cert

    def open(
        self, unit: bytes, people: Iterable[Person] = (BUYER,), shares: Iterable[int] = (10_000,)
    ) -> tuple[int, Certificate]:
        cert = self.certificate()
        receipt, case_id = self.prop.open_transfer(self.natres, unit, cert, owners(people, shares))
        GAS.setdefault("openTransfer (1 owner)", receipt.gas_used)
        return case_id, cert

    def approver(self, role: Role) -> TransactionSender:
        return {Role.NATRES: self.natres, Role.TAX: self.tax, Role.HOUSING: self.housing}[role]

    def approve(self, case_id: int, role: Role, round_: int = 1) -> Receipt:
        return self.prop.approve_transfer(self.approver(role), case_id, round_, role)

    def status(self, cert: Certificate, department: bytes = NATRES) -> State:
        return self.world.registry.document_status(department, cert.root, cert.target).document.state


def make_setup(world: World) -> Setup:
    """Deploy a PropertyRegistry on ``world`` (recorded in its deployment record) and add the
    departments of the property workflow with a key each (the contract tests' ``s`` fixture)."""
    g = gov(world)
    registry = world.registry
    deployer = world.sender(world.governor)
    with g.batch():
        registry.register_document_type(g, MORTGAGE_CERTIFICATE)
        registry.authorize_document_type(g, NATRES, type_id(MORTGAGE_CERTIFICATE))
        deployment = deploy_property_registry(
            world.client,
            deployer,
            deployments_dir=world.settings.deployments_dir,
            document_registry=registry.address,
            governance=g,
            force=True,
        )
        for dept, name, code, roles in DEPARTMENTS:
            registry.register_department(g, dept, name, code, roles)
        keys = {
            dept: add_key(world, dept)
            for dept in (TAX, HOUSING, COURT, OTHER_COURT, BANK, OTHER_BANK, OTHER_TAX)
        }
    return Setup(
        world=world,
        prop=PropertyClient(world.client, deployment.address),
        natres=world.sender(world.natres_key),
        tax=world.sender(keys[TAX]),
        housing=world.sender(keys[HOUSING]),
        court=world.sender(keys[COURT]),
        other_court=world.sender(keys[OTHER_COURT]),
        bank=world.sender(keys[BANK]),
        other_bank=world.sender(keys[OTHER_BANK]),
        other_tax=world.sender(keys[OTHER_TAX]),
    )


#: The workflow's departments besides the world's (registered before their keys, in one proposal).
DEPARTMENTS = (
    (HOUSING, "六安市住房和城乡建设局", "11341500MB0000004D", Role.HOUSING),
    (COURT, "六安市金安区人民法院", "11341500MB0000005E", Role.COURT),
    (OTHER_COURT, "六安市裕安区人民法院", "11341500MB0000006F", Role.COURT),
    (BANK, "中国工商银行六安分行", "91341500MA0000007G", Role.BANK),
    (OTHER_BANK, "中国建设银行六安分行", "91341500MA0000008H", Role.BANK),
    (OTHER_TAX, "国家税务总局六安市金安区税务局", "11341500MB0000009J", Role.TAX),
)


@pytest.fixture
def s(world: World) -> Setup:
    return make_setup(world)


def _department(world: World, dept: bytes, name: str, code: str, roles: Role) -> TransactionSender:
    """Register one more department (one proposal) and give it a key (another)."""
    world.registry.register_department(gov(world), dept, name, code, roles)
    return world.sender(add_key(world, dept))
