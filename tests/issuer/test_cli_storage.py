"""``ereg storage check | repair`` and ``ereg issue`` over three real js-ipfs daemons.

The main scenario: ``ereg issue`` of three batches with ``EREG_IPFS_API`` listing the three
daemons and factor 2; one daemon is stopped in the middle of the run, after the first batch's
blobs reached it (its anchoring transaction is held pending, with Hardhat's automine off, until
the daemon is down, so the stop falls between batch 0 and batch 1 every time). Nothing is lost,
``ereg storage check`` names what is short of three copies, the verifier (over the three URLs)
answers VALID for every document with the daemon down, an issue at factor 3 fails with one line
and keeps what it wrote, and after the daemon's restart ``ereg storage repair`` brings every blob
back onto all three.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from devstack.hardhat import rpc
from devstack.process import free_port
from documents.samples import sample_business_licence
from issuer.cli import app
from issuer.issuing import Journal
from storage import open_store
from storage.replicated import WrittenLedger
from tests.issuer.conftest import Cli, one_line_error, write_records
from tests.storage import conftest as storage_fixtures
from tests.storage.conftest import IpfsNodes
from tests.verification.test_service import app_client, assert_verdict, verify
from tests.verifier.conftest import verifier_settings, wait_for_index

pytestmark = pytest.mark.ipfs

# the three daemons of tests/storage, shared with its tests when both run in one session
three_ipfs_daemons = storage_fixtures.three_ipfs_daemons
ipfs_nodes = storage_fixtures.ipfs_nodes

#: Tests that hold transactions pending with Hardhat's evm_setAutomine run on the dev chain only.
DEV_ONLY = pytest.mark.parametrize("node", ["dev"], indirect=True)

BL = "business-license"
SHORT_LINE = re.compile(r"^  (b[a-z2-7]{58}): on (\d) of 3 nodes; missing on (.+)$", re.M)
_serials = iter(range(700_000, 10_000_000))


def licences(count: int) -> list[dict[str, Any]]:
    return [sample_business_licence(next(_serials)) for _ in range(count)]


def short_of(output: str) -> dict[str, tuple[int, str]]:
    """``{cid: (copies, missing on)}`` of the documents ``ereg storage check`` names below the factor."""
    return {m.group(1): (int(m.group(2)), m.group(3)) for m in SHORT_LINE.finditer(output)}


def cids_of(out: Path) -> dict[str, str]:
    """``{name: cid}`` of the documents ``ereg issue`` wrote into ``out``."""
    return {
        path.name.removesuffix(".ereg.json"): json.loads(path.read_text(encoding="utf-8"))["proof"]["cid"]
        for path in sorted(out.glob("*.ereg.json"))
    }


# ------------------------------------------------------------------------ bad input
def test_bad_input_is_one_bilingual_line(tmp_path: Path) -> None:
    runner = CliRunner()
    dead = ",".join(f"/ip4/127.0.0.1/tcp/{free_port()}/http" for _ in range(3))
    base: dict[str, str | None] = {
        "EREG_HOME": str(tmp_path / "home"), "EREG_IPFS_API": None, "EREG_IPFS_REPLICATION": None, "EREG_LANG": None,
    }
    cases: list[tuple[list[str], dict[str, str | None], str, str]] = [
        (["storage", "check"], {}, "no IPFS nodes configured", "未配置 IPFS 节点"),
        (["storage", "repair"], {"EREG_IPFS_API": " "}, "no IPFS nodes configured", "未配置 IPFS 节点"),
        (["storage", "check"], {"EREG_IPFS_API": dead + ","}, "an entry is empty", "空项"),
        (["storage", "repair", "--ipfs-api", "ipfs-1:5001"], {}, "not an IPFS RPC API", "不是 IPFS RPC 接口"),
        (["storage", "check", "--factor", "4"], {"EREG_IPFS_API": dead}, "needs 4 IPFS nodes, 3 configured",
         "复制因子 4 需要 4 个 IPFS 节点"),
        (["storage", "check"], {"EREG_IPFS_API": dead, "EREG_IPFS_REPLICATION": "0"}, "at least 1", "不小于 1"),
        (["storage", "repair", "--factor", "two"], {"EREG_IPFS_API": dead}, "whole number", "整数"),
    ]
    for args, env, english, chinese in cases:
        result = runner.invoke(app, args, env={**base, **env})
        assert result.exit_code == 2, (args, env, result.output)
        line = one_line_error(result.output)
        assert line.startswith("ereg: error [USAGE]: ") and english in line and chinese in line, line
    # nodes that are all down: reported, and not "all fine"
    result = runner.invoke(app, ["storage", "check"], env={**base, "EREG_IPFS_API": dead})
    assert result.exit_code == 1, result.output
    assert result.output.count("UNREACHABLE") == 3 and "only 0 of 3 nodes answer" in result.output


# ------------------------------------------------------------- ledger: lost documents
def test_a_document_written_here_and_on_no_node_is_lost(ipfs_nodes: IpfsNodes, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env: dict[str, str | None] = {"EREG_HOME": str(home), "EREG_IPFS_API": ipfs_nodes.api_list,
                                  "EREG_IPFS_REPLICATION": None}
    runner = CliRunner()
    with open_store(ipfs_nodes.api_list, home / "blocks") as store:  # type: ignore[attr-defined]
        # the store `ereg issue` writes through: its CIDs go to the home's ledger
        kept, unpinned, gone = (store.put(b"e-Registry ledger test %d %f" % (i, time.time())) for i in range(3))
    assert WrittenLedger(home / "storage" / "written.txt").cids() == [kept, unpinned, gone]

    checked = runner.invoke(app, ["storage", "check"], env=env)
    assert checked.exit_code == 0, checked.output
    assert "documents: 3 known (3 written by this home)" in checked.output
    assert "all 3 documents are on at least 3 of 3 nodes" in checked.output

    ipfs_nodes.unpin_everywhere(gone, collect=True)  # the blocks are deleted
    ipfs_nodes.unpin_everywhere(unpinned)  # unpinned, the blocks still there
    checked = runner.invoke(app, ["storage", "check"], env=env)
    assert checked.exit_code == 1, checked.output
    assert "LOST: 2 documents written by this home are on no node" in checked.output
    assert f"  {gone}: LOST" in checked.output and f"  {unpinned}: LOST" in checked.output

    repaired = runner.invoke(app, ["storage", "repair"], env=env)
    assert repaired.exit_code == 1, repaired.output
    # its blocks were still there: pinned again where it was read, copied to the other two
    assert repaired.output.count(f"{unpinned}: pinned again on ") == 1
    assert repaired.output.count(f"{unpinned}: copied from ") == 2
    assert f"{gone}: LOST, no node has an intact copy" in repaired.output
    assert "repaired 1 of 2 documents below the factor (3 copies made); 1 still below the factor 3" in repaired.output
    assert ipfs_nodes.holders(unpinned) == [0, 1, 2] and ipfs_nodes.holders(kept) == [0, 1, 2]

    checked = runner.invoke(app, ["storage", "check"], env=env)
    assert checked.exit_code == 1 and "LOST: 1 documents" in checked.output and gone in checked.output


# -------------------------------------------------------------------- the main scenario
@DEV_ONLY
def test_issue_with_a_node_stopped_mid_run(cli: Cli, ipfs_nodes: IpfsNodes) -> None:
    api_list = ipfs_nodes.api_list
    down = ipfs_nodes.apis[2]
    factor_two: dict[str, str | None] = {"EREG_IPFS_API": api_list, "EREG_IPFS_REPLICATION": "2"}
    factor_three: dict[str, str | None] = {"EREG_IPFS_API": api_list, "EREG_IPFS_REPLICATION": "3"}
    ledger = WrittenLedger(cli.home / "storage" / "written.txt")
    names = write_records(cli.tmp / "records", licences(6))
    out = cli.tmp / "out"

    # a factor the nodes cannot give is refused before anything is stored or anchored
    refused = cli.issue(cli.tmp / "records", out=cli.tmp / "refused", expect=1,
                        env={"EREG_IPFS_API": api_list, "EREG_IPFS_REPLICATION": "4"})
    assert "[STORAGE_CONFIG]" in refused and "needs 4 IPFS nodes, 3 configured" in refused and "复制因子" in refused
    assert cli.anchored_roots() == []

    # --- ereg issue, 3 batches of 2, factor 2; node 2 is stopped once batch 0 is on it
    url = cli.world.node.rpc_url
    first_batch: list[str] = []
    failures: list[BaseException] = []

    def stop_node_after_batch_0() -> None:
        try:
            journal = Journal(out / ".ereg")
            deadline = time.monotonic() + 60
            while not any(e["batch"] == 0 and e["state"] == "submitted" for e in journal.entries()):
                assert time.monotonic() < deadline, "batch 0 was never submitted"
                time.sleep(0.01)
            batch = json.loads(journal.batch_file(0).read_text(encoding="utf-8"))
            first_batch.extend(batch["cids"])
            for cid in first_batch:  # the first documents reached the node that is about to stop
                assert ipfs_nodes.holders(cid) == [0, 1, 2], cid
            ipfs_nodes.stop(2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            failures.append(exc)
        finally:
            rpc(url, "evm_setAutomine", [True])
            rpc(url, "evm_mine")  # batch 0's transaction, held pending until now

    rpc(url, "evm_setAutomine", [False])
    stopper = threading.Thread(target=stop_node_after_batch_0, name="stop-node-2")
    stopper.start()
    try:
        printed = cli.issue(cli.tmp / "records", out=out, batch_size=2, env=factor_two)
    finally:
        stopper.join(timeout=90)
        rpc(url, "evm_setAutomine", [True])
    assert not failures, failures
    assert not ipfs_nodes.running(2)
    assert "issued 6 documents" in printed and len(cli.anchored_roots()) == 3
    issued = cids_of(out)
    assert sorted(issued) == names and set(first_batch) == {issued[n] for n in names[:2]}
    later = [issued[n] for n in names[2:]]

    # nothing lost: batch 0 on all three (checked before the stop), the rest on the two that run
    for cid in later:
        assert ipfs_nodes.holders(cid) == [0, 1], cid
    assert sorted(ledger.cids()) == sorted(issued.values())

    # check at factor 2: all there, the node that is down is named
    checked = cli("storage", "check", env=factor_two)
    assert f"  {down}: UNREACHABLE" in checked
    assert "all 6 documents are on at least 2 of 3 nodes" in checked
    # at factor 3 every document is short (node 2 cannot vouch for batch 0 while it is down)
    checked = cli("storage", "check", "--factor", "3", expect=1, env=factor_two)
    assert short_of(checked) == {cid: (2, f"{down} (unreachable)") for cid in issued.values()}

    # --- factor 3 with the node down: one line, and what it wrote stays
    more = write_records(cli.tmp / "more", licences(2), prefix="more")
    failed = cli.issue(cli.tmp / "more", out=cli.tmp / "more-out", expect=1, env=factor_three)
    assert failed.startswith("ereg: error [IPFS_UNAVAILABLE]: document storage is unavailable: ")
    assert "reached 2 of 3 IPFS nodes, the replication factor is 3" in failed and down in failed
    assert "仅写入 3 个 IPFS 节点中的 2 个" in failed
    orphans = ledger.cids()[6:]
    assert orphans, "the blobs the failed run wrote are in the ledger"
    for cid in orphans:
        assert ipfs_nodes.holders(cid) == [0, 1], cid
    assert len(cli.anchored_roots()) == 3, "the failed batch was not anchored"

    # --- the verifier, over the three URLs, with node 2 down: every document VALID, its copy fetched
    verifier_dir = cli.tmp / "verifier"
    verifier_dir.mkdir()
    settings = verifier_settings(cli.world, verifier_dir, ipfs_api=api_list, ipfs_timeout=5.0, store_dir=None)
    with app_client(settings) as client:
        wait_for_index(client)
        for name in names:
            qr_url = (out / f"{name}.qr.url").read_text().strip()
            assert_verdict(verify(client, {"qr": qr_url}), "VALID", STORAGE=("VALID", "OK"))

    # ... and so does `ereg verify` of a QR code, reading the copy from the nodes that run
    said = cli("verify", (out / f"{names[-1]}.qr.url").read_text().strip(), "--lang", "en", env=factor_two)
    assert said.startswith("VALID"), said

    # --- the node comes back without the later blobs; repair copies them; check passes
    ipfs_nodes.restart(2)
    checked = cli("storage", "check", expect=1, env=factor_three)
    assert short_of(checked) == {cid: (2, down) for cid in [*later, *orphans]}
    repaired = cli("storage", "repair", env=factor_three)
    for cid in [*later, *orphans]:
        assert re.search(rf"^{cid}: copied from /ip4/127\.0\.0\.1/tcp/\d+/http to {re.escape(down)}$", repaired, re.M)
    assert f"repaired {len(later) + len(orphans)} of {len(later) + len(orphans)} documents" in repaired
    checked = cli("storage", "check", env=factor_three)
    assert f"all {6 + len(orphans)} documents are on at least 3 of 3 nodes" in checked
    for cid in ledger.cids():
        assert ipfs_nodes.holders(cid) == [0, 1, 2], cid

    # the factor-3 run, rerun with every node up, completes
    done = cli.issue(cli.tmp / "more", out=cli.tmp / "more-out", env=factor_three)
    assert "issued 2 documents" in done
    for name, cid in cids_of(cli.tmp / "more-out").items():
        assert name in more and ipfs_nodes.holders(cid) == [0, 1, 2]
    assert cli("storage", "check", env=factor_three).endswith(
        f"all {8 + len(orphans)} documents are on at least 3 of 3 nodes\n")
