"""``ereg … --via URL``: signed here, anchored by a real relay (uvicorn on a loopback port) on the real chain.

The relay runs with its background batcher over the world's registry, so every request goes
the whole way: accepted, batched into an ``anchorMany``/``changeStatusMany`` transaction sent
by the relay's own account, mined and FINAL. Also: resuming an interrupted issue without a
second request, the relay's refusals, an unreachable relay, a relay of another registry and a
wait that runs out of time, each one line and a non-zero exit status.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from chain.types import State, type_id
from documents import parse_document
from documents.samples import sample_business_licence
from issuer.issuing import Journal
from issuer.relay_client import RelayClient, RelayUnreachable
from issuer.relayed import SignatureCheckFailed, check_signer
from tests.factories import SAMR, World
from tests.issuer.conftest import Cli, RunningRelay, StartRelay, write_records

pytestmark = pytest.mark.chain

BL = "business-license"
#: The relay's request ids: 128 random bits in lowercase hex.
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def records(cli: Cli, count: int, name: str = "in") -> Path:
    directory = cli.tmp / name
    write_records(directory, [sample_business_licence(i) for i in range(count)])
    return directory


def issue_args(inputs: Path, out: Path, url: str, *extra: str, key: str = "samr") -> list[str]:
    return ["issue", str(inputs), "--type", BL, "--key", key, "--out", str(out), "--via", url, *extra]


def roots_in_journal(out: Path) -> dict[int, dict[str, Any]]:
    return Journal(out / ".ereg").state()


def tx_sender(world: World, tx_hash: str) -> str:
    return str(world.client.w3.eth.get_transaction(tx_hash)["from"])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ issue
def test_issue_through_the_relay_anchors_by_the_department_key_and_the_relay_pays(
    cli: Cli, relay: RunningRelay
) -> None:
    out = cli.tmp / "out"
    output = cli(*issue_args(records(cli, 5), out, relay.url, "--batch-size", "2"))
    assert "issued 5 documents of business-license" in output, output
    journal = roots_in_journal(out)
    assert sorted(journal) == [0, 1, 2]
    roots = [journal[i]["root"] for i in range(3)]
    # each root anchored exactly once on chain, by SAMR's key, in a transaction the relay sent
    assert sorted(cli.anchored_roots()) == sorted(roots)
    for index, root in enumerate(roots):
        entry = journal[index]
        assert entry["state"] == "written"
        assert REQUEST_ID.fullmatch(entry["request"]) and entry["anchor"]["root"] == root
        status = cli.world.registry.document_status(SAMR, bytes.fromhex(root[2:]))
        assert status.anchored and status.department == SAMR and status.doc_type == type_id(BL)
        assert status.signer == cli.world.samr_key.address
        assert tx_sender(cli.world, entry["tx"]) == cli.world.relayer.address
        [request] = relay.requests_for(root)
        assert request["state"] == "FINAL" and request["txHash"] == entry["tx"]
        assert f"root {root}, tx {entry['tx']}, relay request {entry['request']}" in output
    # the written documents carry the relay's transaction and verify as active
    for path in sorted(out.glob("*.ereg.json")):
        doc = parse_document(path.read_bytes())
        assert doc.proof.anchor_tx in {journal[i]["tx"] for i in range(3)}
        assert cli("status", str(path)).startswith("ACTIVE anchored")


def test_revoke_suspend_reinstate_through_the_relay(cli: Cli, relay: RunningRelay) -> None:
    out = cli.tmp / "out"
    cli(*issue_args(records(cli, 3), out, relay.url))
    first, second, _third = sorted(out.glob("rec-*.ereg.json"))
    via = ["--key", "samr", "--via", relay.url]

    line = cli("revoke", str(first), "--reason", "1", *via)
    assert line.startswith("revoked document 0x") and "through the relay (request" in line and "FINAL" in line
    status_line = cli("status", str(first), expect=4)
    assert status_line.startswith("REVOKED")

    cli("suspend", str(second), *via)
    assert cli("status", str(second), expect=4).startswith("SUSPENDED")
    cli("reinstate", str(second), *via)
    assert cli("status", str(second)).startswith("ACTIVE")
    # the status changes went on chain in transactions sent by the relay's account
    changes = [e for e in cli.events() if e.name in ("DocumentRevoked", "DocumentSuspended", "DocumentReinstated")]
    assert [e.name for e in changes] == ["DocumentRevoked", "DocumentSuspended", "DocumentReinstated"]
    assert {tx_sender(cli.world, e.tx_hash) for e in changes} == {cli.world.relayer.address}


def test_anchor_through_the_relay_and_no_wait(cli: Cli, relay: RunningRelay) -> None:
    root = "0x" + "5a" * 32
    line = cli("anchor", root, "--type", BL, "--count", "3", "--key", "samr", "--via", relay.url, "--no-wait")
    assert line.startswith(f"submitted {root} (3 documents) to the relay: request "), line
    request_id = line.split("request ")[1].split()[0]
    assert REQUEST_ID.fullmatch(request_id), line
    give_up = time.monotonic() + 30
    while relay.get(f"/v1/requests/{request_id}")["state"] != "FINAL":
        assert time.monotonic() < give_up
        time.sleep(0.1)
    assert cli.anchored_roots() == [root]
    # the same root again: the relay refuses it in one line, with its code
    refused = cli.fail("anchor", root, "--type", BL, "--count", "3", "--key", "samr", "--via", relay.url)
    assert "ALREADY_ANCHORED" in refused and "refused" in refused, refused


# --------------------------------------------------------------------- crash safety
def test_an_issue_left_queued_is_finished_by_the_next_run_without_a_second_request(
    cli: Cli, start_relay: StartRelay
) -> None:
    relay = start_relay(batch_age=2.0)
    out = cli.tmp / "out"
    args = issue_args(records(cli, 3), out, relay.url)
    first = cli(*args, "--no-wait")
    assert "queued at the relay: run the same command again" in first, first
    entry = roots_in_journal(out)[0]
    assert entry["state"] == "relayed" and not list(out.glob("*.ereg.json"))

    second = cli(*args)
    assert "issued 3 documents" in second and "(resumed)" in second, second
    entry = roots_in_journal(out)[0]
    assert entry["state"] == "written"
    [request] = relay.requests_for(entry["root"])
    assert request["id"] == entry["request"] and request["state"] == "FINAL"
    assert cli.anchored_roots() == [entry["root"]]


def test_a_journal_with_an_older_relays_integer_request_id_is_finished_without_a_second_request(
    cli: Cli, start_relay: StartRelay
) -> None:
    """Before ids were random a journal recorded the relay's counter (``"request": 1``): today that
    is no id (the relay answers 404 to it, as to any). The next run sends the journaled signed
    anchor again, which the relay knows: the same request, under its random id."""
    relay = start_relay(batch_age=2.0)
    out = cli.tmp / "out"
    args = issue_args(records(cli, 2), out, relay.url)
    cli(*args, "--no-wait")
    journal = out / ".ereg" / "journal.jsonl"
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    given = next(e["request"] for e in lines if e.get("state") == "relayed")
    rewritten = [{**e, "request": 1} if e.get("state") == "relayed" else e for e in lines]
    journal.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in rewritten), encoding="utf-8")

    output = cli(*args)
    assert "issued 2 documents" in output and "(resumed)" in output, output
    entry = roots_in_journal(out)[0]
    assert entry["state"] == "written" and entry["request"] == given
    [request] = relay.requests_for(entry["root"])
    assert request["id"] == given and request["state"] == "FINAL"
    assert cli.anchored_roots() == [entry["root"]]


def test_the_client_puts_nothing_but_a_request_id_in_the_url() -> None:
    """An id from a journal or an answer goes into the path only if it is 32 hex digits: anything
    else is unknown at once, without a call (the port below has no relay behind it)."""
    client = RelayClient("http://127.0.0.1:9")
    for bad in ("../anchors/0x" + "ab" * 32, "1", "AB" * 16, "ab" * 16 + "?x=1", 7):
        assert client.request(bad) is None  # type: ignore[arg-type]
    with pytest.raises(RelayUnreachable):
        client.request("ab" * 16)  # a well-formed id is asked for


def test_a_run_cut_off_after_sending_sends_the_same_signed_anchor_again(
    cli: Cli, relay: RunningRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay stored the request but the answer never arrived: the next run re-sends the
    journaled signed anchor, and the relay counts it once."""
    out = cli.tmp / "out"
    args = issue_args(records(cli, 2), out, relay.url)
    real_post = RelayClient.post_anchor

    def post_then_lose_the_answer(self: RelayClient, body: dict[str, Any]) -> Any:
        real_post(self, body)
        raise RelayUnreachable("connection reset")

    monkeypatch.setattr(RelayClient, "post_anchor", post_then_lose_the_answer)
    assert "connection reset" in cli.fail(*args)
    entry = roots_in_journal(out)[0]
    assert entry["state"] == "signed" and "request" not in entry
    monkeypatch.setattr(RelayClient, "post_anchor", real_post)

    cli(*args)
    entry = roots_in_journal(out)[0]
    assert entry["state"] == "written"
    [request] = relay.requests_for(entry["root"])
    # the re-sent anchor is the same request; or the relay's batcher anchored the first one before
    # the second run looked at the chain, and nothing was sent again
    assert entry.get("request") in (None, request["id"])
    assert cli.anchored_roots() == [entry["root"]]


# ----------------------------------------------------------------- one-line failures
def test_a_refusal_by_the_relay_is_one_line_with_its_code(cli: Cli, relay: RunningRelay) -> None:
    out = cli.tmp / "out"
    cli(*issue_args(records(cli, 1), out, relay.url))
    [doc] = sorted(out.glob("*.ereg.json"))
    # NATRES's key may not touch SAMR's documents (they are no record of NATRES): the relay
    # refuses, nothing is queued
    line = cli.fail("revoke", str(doc), "--key", "natres", "--via", relay.url)
    assert "the relay refused the request (HTTP 422)" in line and "[UNKNOWN_ROOT]" in line, line
    # nor anchor a type its department is not authorized for
    root = "0x" + "6b" * 32
    line = cli.fail("anchor", root, "--type", BL, "--count", "1", "--key", "natres", "--via", relay.url)
    assert "HTTP 403" in line and "[NOT_AUTHORIZED]" in line, line
    proof = parse_document(doc.read_bytes()).proof
    root_b, target_b = bytes.fromhex(proof.merkle_root[2:]), bytes.fromhex(proof.target_hash[2:])
    status = cli.world.registry.document_status(SAMR, root_b, target_b)
    assert status.effective_state == State.ACTIVE
    assert relay.get(f"/v1/anchors/{root}")["error"]["code"] == "NOT_FOUND"


def test_an_unreachable_relay_is_one_line(cli: Cli) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}"
    line = cli.fail("anchor", "0x" + "7c" * 32, "--type", BL, "--count", "1", "--key", "samr", "--via", url)
    assert "cannot be reached" in line and "[RELAY_UNREACHABLE]" in line, line
    out = cli.tmp / "out"
    line = cli.fail(*issue_args(records(cli, 1), out, url))
    assert "[RELAY_UNREACHABLE]" in line, line
    assert cli.anchored_roots() == []


def test_a_relay_of_another_registry_is_refused_before_signing_anything(cli: Cli, start_relay: StartRelay) -> None:
    relay = start_relay(registry_address="0x" + "11" * 20)
    line = cli.fail("anchor", "0x" + "8d" * 32, "--type", BL, "--count", "1", "--key", "samr", "--via", relay.url)
    assert "serves chain" in line and "[RELAY_MISMATCH]" in line, line


def test_a_wait_that_runs_out_is_one_line_and_the_next_run_finishes(cli: Cli, start_relay: StartRelay) -> None:
    relay = start_relay(batch_age=3.0)
    out = cli.tmp / "out"
    args = issue_args(records(cli, 1), out, relay.url)
    line = cli.fail(*args, "--wait-timeout", "0.3")
    assert "QUEUED after 0.3 s, not yet FINAL" in line and "[RELAY_TIMEOUT]" in line, line
    assert roots_in_journal(out)[0]["state"] == "relayed"
    assert "issued 1 documents" in cli(*args)
    assert len(relay.requests_for(roots_in_journal(out)[0]["root"])) == 1


def test_bad_via_options_are_usage_errors(cli: Cli) -> None:
    root = "0x" + "9e" * 32
    line = cli.fail("anchor", root, "--type", BL, "--count", "1", "--key", "samr", "--via", "ftp://x", expect=2)
    assert "http(s) URL" in line
    line = cli.fail(
        "anchor",
        root,
        "--type",
        BL,
        "--count",
        "1",
        "--key",
        "samr",
        "--via",
        "http://127.0.0.1:1",
        "--wait-for",
        "QUEUED",
        expect=2,
    )
    assert "--wait-for is ANCHORED or FINAL" in line


def test_a_signature_that_does_not_recover_to_the_key_is_never_sent() -> None:
    with pytest.raises(SignatureCheckFailed, match="nothing sent"):
        check_signer("0x" + "22" * 20, "0x" + "33" * 20)
    check_signer("0x" + "ab" * 20, "0x" + "AB" * 20)


def test_journal_lines_stay_json(cli: Cli, relay: RunningRelay) -> None:
    """What the journal records for a relayed batch: the signed anchor and the request id."""
    out = cli.tmp / "out"
    cli(*issue_args(records(cli, 1), out, relay.url))
    lines = [json.loads(line) for line in (out / ".ereg" / "journal.jsonl").read_text().splitlines()]
    assert [line["state"] for line in lines] == ["prepared", "signed", "relayed", "anchored", "written"]
    signed = lines[1]["anchor"]
    assert signed["chainId"] == cli.world.chain_id and signed["registry"] == cli.world.registry.address
    assert len(signed["signature"]) == 132
