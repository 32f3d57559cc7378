"""One relayer key per relay instance, on a shared PostgreSQL queue.

Instances that share a key pick the same nonces: one of two transactions is refused, and a
round is lost each time. So an instance holds its key in the database for as long as it lives
(a session-level advisory lock: a killed process frees it at once), a second instance with the
same key is refused at start, and a batcher leaves the open transactions of another live
relayer to that relayer: it settles them only once no instance holds that key any more.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from hexbytes import HexBytes
from pydantic import SecretStr
from web3.exceptions import TransactionNotFound

from registry_api.app import create_app
from registry_api.messages import anchor_from_payload
from registry_api.queue import ANCHORED, QUEUED, SUBMITTED
from registry_api.queue_pg import PostgresQueue, RelayerKeyInUse
from tests.factories import World, wait_until
from tests.registry_api.conftest import MakeRelay, anchor_json, relay_settings, runtime_of
from tests.registry_api.relay_process import RelayProcess, relay_env, write_keystore

pytestmark = pytest.mark.chain


def test_a_second_instance_with_the_same_relayer_key_is_refused(
    world: World, make_relay: MakeRelay, postgres_url: str
) -> None:
    url = SecretStr(postgres_url)
    make_relay(queue_url=url)
    with pytest.raises(RelayerKeyInUse) as refused:
        make_relay(queue_url=url)
    assert refused.value.code == "RELAYER_KEY_IN_USE"
    assert world.relayer.address in refused.value.message and world.relayer.address in refused.value.message_zh
    # another key on the same queue is another instance's: welcome
    other = world.new_account()
    assert make_relay(queue_url=url, relayer=other).get("/v1/requests/" + "0" * 32).status_code == 404


def test_the_key_is_free_again_once_its_instance_stops(world: World, tmp_path: Path, postgres_url: str) -> None:
    settings = relay_settings(world, tmp_path, queue_url=SecretStr(postgres_url))
    with TestClient(create_app(settings, relayer=world.relayer, run_batcher=False)):
        pass
    with TestClient(create_app(settings, relayer=world.relayer, run_batcher=False)) as again:
        assert runtime_of(again).queue.relayer_live(world.relayer.address)


def test_a_killed_instance_frees_its_key_and_a_live_one_refuses_a_twin(
    world: World, tmp_path: Path, postgres_url: str
) -> None:
    keystore = write_keystore(world.relayer, tmp_path / "relayer.json")
    env = relay_env(
        rpc_url=world.node.rpc_url,
        chain_id=world.chain_id,
        registry_address=world.registry.address,
        queue_path=tmp_path / "unused.sqlite",
        keystore=keystore,
        settings={"queue_url": postgres_url, "batch_age": 0.2, "poll_interval": 0.05},
    )
    first = RelayProcess(env, tmp_path / "first", prewarm=False)
    twin = RelayProcess(env, tmp_path / "twin", prewarm=False)
    try:
        first.start()
        twin.spawn()
        assert twin.proc is not None
        assert twin.proc.wait(timeout=30) == 2
        said = twin.log_file.read_text(encoding="utf-8")
        assert "RELAYER_KEY_IN_USE" in said and world.relayer.address in said
        assert "Traceback" not in said and len(said.strip().splitlines()) == 1, said
        # SIGKILL: the database sees the connection close and the key is free at once
        first.kill()
        twin.start()
        assert twin.running
    finally:
        first.stop()
        twin.stop()


def _signed_batch(world: World, account: LocalAccount, queue: PostgresQueue) -> str:
    """What another relayer's batcher does before its broadcast: claim, sign, record (then it died or
    is about to send)."""
    [req] = queue.queued("anchor", 10)
    tx = {
        "from": account.address,
        "to": world.registry.address,
        "data": world.registry.contract.encode_abi("anchorMany", args=[[anchor_from_payload(req.payload).as_tuple()]]),
        "value": 0,
        "chainId": world.chain_id,
        "gas": 300_000,
        "gasPrice": 0 if world.node.mode != "dev" else 2 * int(world.client.w3.eth.gas_price),
        "nonce": int(world.client.w3.eth.get_transaction_count(account.address, "pending")),
    }
    signed = account.sign_transaction(tx)
    tx_hash = HexBytes(signed.hash).to_0x_hex()
    queue.record_transaction(tx_hash, "anchor", int(tx["nonce"]), bytes(signed.raw_transaction), [req.id])
    return tx_hash


def _on_node(world: World, tx_hash: str) -> bool:
    try:
        world.client.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def test_a_batcher_leaves_a_live_relayers_transactions_to_it(
    world: World, make_relay: MakeRelay, postgres_url: str
) -> None:
    relay = make_relay(queue_url=SecretStr(postgres_url))
    other = world.new_account()
    world.sender(other)  # funded on the dev chain
    theirs = PostgresQueue(postgres_url)
    try:
        theirs.hold_relayer(other.address)
        reply = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(os.urandom(32)))])
        assert reply.status_code == 202, reply.text
        request_id = reply.json()["requests"][0]["id"]
        tx_hash = _signed_batch(world, other, theirs)
        batcher = runtime_of(relay).batcher
        assert batcher.settle_open()  # nothing of its own is pending
        assert not _on_node(world, tx_hash)  # not sent by this instance: the other one lives
        assert relay.get(f"/v1/requests/{request_id}").json()["state"] == SUBMITTED
    finally:
        theirs.close()  # that relayer is gone (a clean stop, or its process died)
    # an orphan now: any instance settles it, with the very bytes its relayer signed
    assert not runtime_of(relay).queue.relayer_live(other.address)
    assert wait_until(lambda: runtime_of(relay).batcher.settle_open(), timeout=20)
    assert _on_node(world, tx_hash)
    state = relay.get(f"/v1/requests/{request_id}").json()["state"]
    assert state not in (QUEUED, SUBMITTED) and state in (ANCHORED, "FINAL")


def test_an_old_outbox_row_without_a_known_sender_is_still_settled(
    world: World, make_relay: MakeRelay, postgres_url: str
) -> None:
    """A transaction whose relayer is not running (a key replaced, an instance retired) is nobody's:
    the first batcher round settles it."""
    other = world.new_account()
    world.sender(other)
    relay = make_relay(queue_url=SecretStr(postgres_url))
    theirs = PostgresQueue(postgres_url)
    try:
        reply = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(os.urandom(32)))])
        tx_hash = _signed_batch(world, other, theirs)
    finally:
        theirs.close()
    assert reply.status_code == 202
    assert wait_until(lambda: runtime_of(relay).batcher.settle_open(), timeout=20)
    assert _on_node(world, tx_hash)


def test_the_lock_is_per_database_and_per_key(postgres_url: str) -> None:
    """The key's lock is the relayer address's, in this database only: two queues holding two keys
    coexist, and pg_locks shows exactly the two."""
    first, second = PostgresQueue(postgres_url), PostgresQueue(postgres_url)
    keys = ["0x" + os.urandom(20).hex() for _ in range(2)]
    try:
        first.hold_relayer(keys[0])
        second.hold_relayer(keys[1])
        first.hold_relayer(keys[0])  # the same instance again: still its own
        assert first.relayer_live(keys[1]) and second.relayer_live(keys[0])
        with psycopg.connect(postgres_url) as conn:
            held = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
        assert held is not None and held[0] == 2
        third = PostgresQueue(postgres_url)
        try:
            with pytest.raises(RelayerKeyInUse):
                third.hold_relayer(keys[0])
            with pytest.raises(ValueError, match="another relayer key"):
                first.hold_relayer(keys[1])  # one key per instance
        finally:
            third.close()
    finally:
        first.close()
        second.close()
    fourth = PostgresQueue(postgres_url)
    try:
        fourth.hold_relayer(keys[0])  # free again once its holder closed
        assert fourth.relayer_live(keys[0]) and not fourth.relayer_live(keys[1])
    finally:
        fourth.close()


def test_a_relay_that_cannot_read_its_key_says_so_in_one_line(world: World, tmp_path: Path) -> None:
    keystore = write_keystore(world.relayer, tmp_path / "relayer.json")
    env = relay_env(
        rpc_url=world.node.rpc_url,
        chain_id=world.chain_id,
        registry_address=world.registry.address,
        queue_path=tmp_path / "queue.sqlite",
        keystore=keystore,
        password="not-the-password",
    )
    relay = RelayProcess(env, tmp_path / "relay", prewarm=False)
    try:
        relay.spawn()
        assert relay.proc is not None and relay.proc.wait(timeout=30) == 2
        said = relay.log_file.read_text(encoding="utf-8")
        assert said.startswith("relay cannot start: RELAYER_KEY_UNREADABLE:") and "中继无法启动" in said
        assert "Traceback" not in said and len(said.strip().splitlines()) == 1, said
        assert not (tmp_path / "queue.sqlite").exists()  # nothing opened before the key was read
    finally:
        relay.stop()
