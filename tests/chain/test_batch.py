"""Chain reads gathered into JSON-RPC batches (chain.batch, RegistryBatch), on every real node:
the same values and the same errors as the reads one by one, in one round trip."""

from __future__ import annotations

import os

import pytest

from chain.batch import ReadBatch
from chain.client import connect
from chain.errors import ChainUnavailable, ContractRevert, RegistryNotFound
from chain.registry import RegistryBatch, RegistryClient
from chain.settings import ChainSettings
from chain.types import Action, StatusChange, department_id, type_id
from devstack.process import free_port
from tests.factories import BUSINESS_LICENSE, World
from tests.registry_api.rpc_count import counting_rpc

pytestmark = pytest.mark.chain


def test_a_batch_answers_what_the_reads_one_by_one_answer_in_one_round_trip(world: World) -> None:
    registry = world.registry
    tree, _ = world.anchor_batch()
    key = registry.signer_key(world.samr_key.address)
    fresh = os.urandom(32)
    with counting_rpc(world.client) as rpc:
        batch = RegistryBatch(registry)
        now = batch.latest_block_time()
        signer = batch.signer_key(world.samr_key.address)
        department = batch.department(key.department)
        can = batch.can_anchor(world.samr_key.address, type_id(BUSINESS_LICENSE))
        anchored = batch.document_status(key.department, tree.root)
        unanchored = batch.document_status(key.department, fresh)
        nonce = batch.is_nonce_used(world.samr_key.address, 7)
        assert len(batch) == 7
        batch.send()
    assert rpc.round_trips == 1, rpc.calls
    assert rpc["eth_call"] == 6 and rpc["eth_getBlockByNumber"] == 1, rpc.calls
    assert now.get() == world.client.latest_block_time()
    assert signer.get() == key
    assert department.get() == registry.department(key.department)
    assert can.get() == registry.can_anchor(world.samr_key.address, type_id(BUSINESS_LICENSE))
    assert anchored.get() == registry.document_status(key.department, tree.root)
    assert anchored.get().anchored and anchored.get().signer == world.samr_key.address  # checksummed, as web3
    assert unanchored.get() == registry.document_status(key.department, fresh)
    assert nonce.get() is False


def test_a_reverting_read_fails_alone_with_the_error_the_single_read_raises(world: World) -> None:
    registry = world.registry
    stranger = world.new_account().address
    with pytest.raises(ContractRevert) as single:
        registry.signer_key(stranger)
    batch = RegistryBatch(registry)
    before = batch.signer_key(world.samr_key.address)
    unknown = batch.signer_key(stranger)
    after = batch.department(department_id("LA-SAMR"))
    batch.send()
    with pytest.raises(ContractRevert) as batched:
        unknown.get()
    assert batched.value.name == single.value.name == "IssuerRegistryUnknownSigner"
    assert batched.value.args == single.value.args
    assert str(batched.value) == str(single.value)
    assert before.get().department == department_id("LA-SAMR")
    assert after.get().id == department_id("LA-SAMR")


def test_a_simulated_signed_change_reverts_as_the_call_does(world: World) -> None:
    registry = world.registry
    unknown_root = os.urandom(32)
    signed = world.sign_change(StatusChange(Action.SUSPEND, unknown_root, reason=6))
    function = registry.contract.functions.changeStatusSigned(signed.as_tuple())
    with pytest.raises(ContractRevert) as single:
        registry.client.run(lambda: function.call({"from": world.relayer.address}), registry.artifact)
    batch = RegistryBatch(registry)
    simulated = batch.change_status_signed(signed, world.relayer.address)
    batch.send()
    with pytest.raises(ContractRevert) as batched:
        simulated.get()
    assert batched.value.name == single.value.name
    assert str(batched.value) == str(single.value)


def test_a_long_batch_goes_in_round_trips_of_max_size_and_keeps_its_order(world: World) -> None:
    department = registry_department(world.registry, world)
    roots = [os.urandom(32) for _ in range(5)]
    with counting_rpc(world.client) as rpc:
        batch = RegistryBatch(world.registry, max_size=2)
        statuses = [batch.document_status(department, root) for root in roots]
        batch.send()
    assert rpc.round_trips == 3, rpc.calls
    assert [s.get().root for s in statuses] == roots


def test_an_address_without_code_is_registry_not_found_when_read(world: World) -> None:
    nowhere = RegistryClient(world.client, "0x" + "ab" * 20)
    batch = RegistryBatch(nowhere)
    department = batch.department(b"\x01" * 32)
    now = batch.latest_block_time()
    batch.send()
    with pytest.raises(RegistryNotFound):
        department.get()
    assert now.get() > 0


def test_an_unsent_read_has_no_value_and_an_empty_batch_sends_nothing(world: World) -> None:
    with counting_rpc(world.client) as rpc:
        batch = ReadBatch(world.client)
        batch.send()
        pending = batch.latest_block_time()
        with pytest.raises(RuntimeError):
            pending.get()
    assert rpc.round_trips == 0


def test_a_node_that_does_not_answer_is_chain_unavailable_at_send() -> None:
    client = connect(
        ChainSettings(rpc_url=f"http://127.0.0.1:{free_port()}", chain_id=1337, request_timeout=2),
        check_chain=False,
    )
    batch = ReadBatch(client)
    batch.latest_block_time()
    with pytest.raises(ChainUnavailable):
        batch.send()


def registry_department(registry: RegistryClient, world: World) -> bytes:
    return registry.signer_key(world.samr_key.address).department
