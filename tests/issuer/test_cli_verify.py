"""``ereg verify`` on the real node and the real js-ipfs daemon: a verdict with no verifier service.

Documents are issued by ``ereg issue`` itself; the command must give the verifier's verdict
(exit 0 VALID, 1 INVALID, 2 ERROR) for a document file, a QR URL and the QR image the issuance
wrote, print it in Chinese or English, answer ``--json`` exactly as POST /v1/verify does, keep a
local index up to date when asked, and refuse input it cannot read with one line and exit 2.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from devstack.process import free_port
from documents import parse_qr_url
from documents.samples import sample_business_licence
from issuer.qrimage import png_of, qr_matrix
from tests.factories import SAMR
from tests.issuer.conftest import Cli, write_records
from tests.verifier.conftest import verifier_settings, wait_for_index
from verification.gateway import ChainGateway
from verification.service import VerificationService
from verifier.app import create_app

CJK = re.compile(r"[\u4e00-\u9fff]")
#: A fragment line: two spaces, the fragment's name, its status and code, then the words.
FRAGMENT_LINE = re.compile(r"^  ([A-Z_]+)\s+(VALID|INVALID|ERROR|SKIPPED)\s+([A-Z_]+)\s+(.+)$")
#: The anchoring transaction on the line ``ereg issue`` prints per batch.
BATCH_TX = re.compile(r"root (0x[0-9a-f]{64}), tx (0x[0-9a-fA-F]{64})")


# ------------------------------------------------------------------------------ helpers
_serials = iter(range(500_000, 10_000_000))


def issue_one(cli: Cli, tag: str) -> tuple[Path, str, str]:
    """Issue one business licence with ``ereg issue``: (its .ereg.json, its stem, the anchoring tx)."""
    records = cli.tmp / f"records-{tag}"
    (name,) = write_records(records, [sample_business_licence(next(_serials))], prefix=tag)
    out = cli.tmp / f"issued-{tag}"
    printed = cli.issue(records, out=out)
    found = BATCH_TX.search(printed)
    assert found, printed
    return out / f"{name}.ereg.json", str(out / name), found.group(2).lower()


def fragments(output: str) -> dict[str, tuple[str, str, str]]:
    """``{name: (status, code, words)}`` of the fragment lines the command printed."""
    found = {}
    for line in output.splitlines():
        match = FRAGMENT_LINE.match(line)
        if match:
            found[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return found


def verdict_line(output: str) -> str:
    return output.splitlines()[0]


def as_json(cli: Cli, *args: str, expect: int = 0, env: dict[str, str | None] | None = None) -> dict[str, Any]:
    """``ereg verify --json ARGS``: the verdict it printed on stdout (stderr apart)."""
    result = cli.invoke("verify", "--json", *args, env=env)
    assert result.exit_code == expect, f"{result.exit_code} (expected {expect}):\n{result.output}"
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def chain_only(cli: Cli) -> VerificationService:
    """The library as the command builds it without --index (and without a store: a FILE needs none)."""
    world = cli.world
    return VerificationService(
        chain_id=world.chain_id,
        registry_address=world.registry.address,
        chain=ChainGateway.on_client(world.client, world.registry.address),
    )


def without_time(verdict: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in verdict.items() if key != "checkedAt"}


def http_api(daemon_api: str) -> str:
    """``/ip4/127.0.0.1/tcp/PORT/http`` as ``http://127.0.0.1:PORT``."""
    _empty, _ip4, host, _tcp, port, scheme = daemon_api.split("/")
    return f"{scheme}://{host}:{port}"


# ------------------------------------------------------------------------- document files
def test_an_issued_file_is_valid(cli: Cli) -> None:
    path, _stem, _tx = issue_one(cli, "valid")
    printed = cli("verify", str(path), "--lang", "en")
    assert verdict_line(printed) == "VALID  Authentic and currently valid."
    found = fragments(printed)
    assert {name: (status, code) for name, (status, code, _words) in found.items()} == {
        "DOCUMENT_INTEGRITY": ("VALID", "OK"),
        "DOCUMENT_STATUS": ("VALID", "OK"),
        "ISSUER_IDENTITY": ("VALID", "OK"),
    }, "a file is verified without its stored copy: no STORAGE"
    assert found["DOCUMENT_STATUS"][2] == "Document status: Check passed."
    assert "六安市市场监督管理局 (0x" + SAMR.hex() + ")" in printed
    assert f"key {cli.world.samr_key.address}" in printed


def test_a_tampered_file_is_invalid(cli: Cli) -> None:
    path, _stem, _tx = issue_one(cli, "tampered")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["data"]["name"] += "（分公司）"
    tampered = cli.tmp / "tampered.ereg.json"
    tampered.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    printed = cli("verify", str(tampered), "--lang", "en", expect=1)
    assert verdict_line(printed) == "INVALID  Not valid."
    found = fragments(printed)
    assert found["DOCUMENT_INTEGRITY"][:2] == ("INVALID", "TAMPERED")
    assert found["DOCUMENT_STATUS"][:2] == ("SKIPPED", "SKIPPED")
    assert found["ISSUER_IDENTITY"][:2] == ("SKIPPED", "SKIPPED")


def test_a_revoked_document_is_invalid(cli: Cli) -> None:
    path, _stem, _tx = issue_one(cli, "revoked")
    cli("verify", str(path))
    cli("revoke", str(path), "--key", "samr", "--reason", "2")
    printed = cli("verify", str(path), "--lang", "en", expect=1)
    found = fragments(printed)
    assert found["DOCUMENT_STATUS"] == ("INVALID", "REVOKED", "Document status: The document has been revoked.")
    assert found["DOCUMENT_INTEGRITY"][:2] == ("VALID", "OK")
    assert '"reason": 2' in printed


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"version": "ereg/1", "hello": "world"}', id="json-but-no-document"),
        pytest.param(b"this is no JSON at all", id="text"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_file_that_is_no_document_is_the_services_malformed_verdict(cli: Cli, content: bytes) -> None:
    path = cli.tmp / "not-a-document.json"
    path.write_bytes(content)
    printed = cli("verify", str(path), "--lang", "en", expect=1)
    assert fragments(printed)["DOCUMENT_INTEGRITY"][:2] == ("INVALID", "MALFORMED")
    assert verdict_line(printed) == "INVALID  Not valid."


def test_an_unreachable_chain_is_error(cli: Cli) -> None:
    path, _stem, _tx = issue_one(cli, "down")
    down = {"EREG_RPC_URL": f"http://127.0.0.1:{free_port()}"}
    printed = cli("verify", str(path), "--lang", "en", expect=2, env=down)
    assert verdict_line(printed) == "ERROR  Cannot check right now."
    found = fragments(printed)
    assert found["DOCUMENT_INTEGRITY"][:2] == ("VALID", "OK")
    assert found["DOCUMENT_STATUS"][:2] == ("ERROR", "CHAIN_UNAVAILABLE")
    assert found["ISSUER_IDENTITY"][:2] == ("ERROR", "CHAIN_UNAVAILABLE")
    # an index synced a moment ago that cannot be synced now: a note, and still ERROR, never
    # what the index said before
    index = cli.tmp / "down.sqlite"
    cli("verify", str(path), "--index", str(index))
    result = cli.invoke("verify", str(path), "--index", str(index), "--lang", "en", env=down)
    assert result.exit_code == 2, result.output
    assert fragments(result.stdout)["DOCUMENT_STATUS"][:2] == ("ERROR", "CHAIN_UNAVAILABLE")
    assert result.stderr.startswith(f"ereg: note: the index {index} was not brought up to the chain's head")
    assert result.stderr.strip().endswith("verifying from the chain")


# ------------------------------------------------------------------------------ QR codes
@pytest.mark.parametrize("cli", ["embedded", "ipfs"], indirect=True)
def test_a_qr_url_is_valid(cli: Cli) -> None:
    """Fetched from the store (the home's embedded one, or IPFS by --ipfs-url), checked against
    its CID, decrypted and verified; another key is UNDECRYPTABLE."""
    path, stem, _tx = issue_one(cli, "qr")
    url = Path(stem + ".qr.url").read_text(encoding="utf-8").strip()
    args = ["verify", url, "--lang", "en"]
    env: dict[str, str | None] = {}
    if cli.ipfs is not None:
        args += ["--ipfs-url", http_api(cli.ipfs.api)]
        env["EREG_IPFS_API"] = None  # the option, not the environment, names the node
    printed = cli(*args, env=env)
    assert verdict_line(printed) == "VALID  Authentic and currently valid."
    found = fragments(printed)
    assert found["STORAGE"][:2] == ("VALID", "OK")
    assert found["DOCUMENT_STATUS"][:2] == ("VALID", "OK")
    cid = json.loads(path.read_text(encoding="utf-8"))["proof"]["cid"]
    assert cid == parse_qr_url(url).cid and cid in printed

    other_key = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    wrong = url.partition("#k=")[0] + "#k=" + other_key
    printed = cli("verify", wrong, *args[2:], expect=1, env=env)
    assert fragments(printed)["DOCUMENT_INTEGRITY"][:2] == ("INVALID", "UNDECRYPTABLE")


@pytest.mark.parametrize("cli", ["ipfs"], indirect=True)
def test_the_qr_image_written_by_issue_is_valid(cli: Cli) -> None:
    """The .qr.png that ``ereg issue`` wrote, and the same code photographed small on a page (a JPEG)."""
    _path, stem, _tx = issue_one(cli, "png")
    png = Path(stem + ".qr.png")
    printed = cli("verify", "--qr-image", str(png), "--lang", "en")  # IPFS from EREG_IPFS_API
    assert verdict_line(printed) == "VALID  Authentic and currently valid."
    assert fragments(printed)["STORAGE"][:2] == ("VALID", "OK")

    with Image.open(png) as code:
        page = Image.new("RGB", (code.width * 3, code.height * 3), (236, 232, 220))
        page.paste(code.convert("RGB").rotate(90, expand=True), (code.width, code.height // 2))
    photo = cli.tmp / "photo.jpg"
    page.save(photo, quality=85)
    assert fragments(cli("verify", "--qr-image", str(photo)))["STORAGE"][:2] == ("VALID", "OK")


def test_a_qr_code_that_is_no_document_url_is_the_services_malformed_verdict(cli: Cli) -> None:
    png = png_of(qr_matrix("https://example.gov.cn/some/page"))
    path = cli.tmp / "other.png"
    path.write_bytes(png)
    printed = cli("verify", "--qr-image", str(path), "--lang", "en", expect=1)
    assert fragments(printed)["DOCUMENT_INTEGRITY"][:2] == ("INVALID", "MALFORMED")


def test_input_that_cannot_be_read_is_one_line_and_exit_2(cli: Cli) -> None:
    blank = cli.tmp / "blank.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    line = cli.fail("verify", "--qr-image", str(blank), expect=2)
    assert line.startswith("ereg: error [NO_QR_CODE]: ") and str(blank) in line and "未找到二维码" in line

    not_an_image = cli.tmp / "text.png"
    not_an_image.write_text("no image here", encoding="utf-8")
    line = cli.fail("verify", "--qr-image", str(not_an_image), expect=2)
    assert line.startswith("ereg: error [UNREADABLE_INPUT]: ") and "cannot read the image" in line

    line = cli.fail("verify", "--qr-image", str(cli.tmp / "missing.png"), expect=2)
    assert line.startswith("ereg: error [UNREADABLE_INPUT]: ") and "No such file" in line
    line = cli.fail("verify", str(cli.tmp / "missing.ereg.json"), expect=2)
    assert line.startswith("ereg: error [UNREADABLE_INPUT]: ") and "missing.ereg.json" in line
    line = cli.fail("verify", str(cli.tmp), expect=2)  # a directory
    assert line.startswith("ereg: error [UNREADABLE_INPUT]: ")
    line = cli.fail("--lang", "zh", "verify", str(cli.tmp / "x.json"), expect=2)
    assert line.startswith("ereg: 错误 [UNREADABLE_INPUT]：无法读取文件")
    # nothing, or two things, to verify: a usage error, exit 2 as well
    assert cli.fail("verify", expect=2).startswith("ereg: error [USAGE]: ")
    assert cli.fail("verify", str(blank), "--qr-image", str(blank), expect=2).startswith("ereg: error [USAGE]: ")
    # a setup that cannot work (no registry address known) decides nothing either: exit 2, not 1
    line = cli.fail("verify", str(blank), expect=2, env={"EREG_REGISTRY_ADDRESS": None})
    assert line.startswith("ereg: error [REGISTRY_NOT_FOUND]: ")


# --------------------------------------------------------------------- --json and --lang
def test_json_is_the_services_verdict(cli: Cli, tmp_path: Path) -> None:
    """Without --index: the library's verdict for the same document, byte for byte but the time.
    With --index: what the verifier service's POST /v1/verify answers from its own index."""
    path, stem, _tx = issue_one(cli, "json")
    url = Path(stem + ".qr.url").read_text(encoding="utf-8").strip()
    revoked, _stem, _tx = issue_one(cli, "json-revoked")
    cli("revoke", str(revoked), "--key", "samr", "--reason", "2")

    service = chain_only(cli)
    for document, expect in ((path, 0), (revoked, 1)):
        ours = as_json(cli, str(document), expect=expect)
        theirs = json.loads(service.verify_bytes(document.read_bytes()).model_dump_json(by_alias=True))
        assert without_time(ours) == without_time(theirs)
        assert set(ours) == set(theirs) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ours["checkedAt"])

    settings = verifier_settings(cli.world, tmp_path / "verifier", store_dir=cli.home / "blocks")
    (tmp_path / "verifier").mkdir()
    index = str(cli.tmp / "json.sqlite")
    with TestClient(create_app(settings)) as verifier:
        wait_for_index(verifier)
        for body, args, expect in (
            ({"document": json.loads(path.read_text(encoding="utf-8"))}, [str(path)], 0),
            ({"document": json.loads(revoked.read_text(encoding="utf-8"))}, [str(revoked)], 1),
            ({"qr": url}, [url], 0),
        ):
            answer = verifier.post("/v1/verify", json=body)
            assert answer.status_code == 200, answer.text
            ours = as_json(cli, *args, "--index", index, expect=expect)
            assert without_time(ours) == without_time(answer.json())
            assert ours["anchor"]["transaction"] is not None, "the index answered, as the service's did"


def test_lang_picks_the_words(cli: Cli) -> None:
    path, _stem, _tx = issue_one(cli, "lang")
    zh = cli("verify", str(path), "--lang", "zh")
    assert verdict_line(zh) == "VALID  证照真实有效。"
    assert fragments(zh)["DOCUMENT_STATUS"] == ("VALID", "OK", "证照状态：校验通过。")
    assert fragments(zh)["ISSUER_IDENTITY"][2] == "签发机关身份：校验通过。"
    assert "Check passed" not in zh and "Authentic" not in zh
    assert "签发机关" in zh and "登记上链" in zh

    en = cli("verify", str(path), "--lang", "en")
    assert verdict_line(en) == "VALID  Authentic and currently valid."
    assert fragments(en)["ISSUER_IDENTITY"][2] == "Issuer identity: Check passed."
    assert "校验通过" not in en and "证照真实有效" not in en
    assert not CJK.search(verdict_line(en)) and all(not CJK.search(w) for _s, _c, w in fragments(en).values())

    both = cli("verify", str(path))  # the default: both, as the error lines
    assert verdict_line(both) == "VALID  Authentic and currently valid. / 证照真实有效。"
    assert fragments(both)["DOCUMENT_INTEGRITY"][2] == "Integrity: Check passed. / 内容完整性：校验通过。"
    # the global --lang (or EREG_LANG) is the default of the command's own
    assert verdict_line(cli("--lang", "zh", "verify", str(path))) == "VALID  证照真实有效。"
    assert verdict_line(cli("verify", str(path), env={"EREG_LANG": "en"})) == "VALID  Authentic and currently valid."

    cli("revoke", str(path), "--key", "samr", "--reason", "2")
    zh = cli("verify", str(path), "--lang", "zh", expect=1)
    assert verdict_line(zh) == "INVALID  证照无效。"
    assert fragments(zh)["DOCUMENT_STATUS"] == ("INVALID", "REVOKED", "证照状态：该证照已被撤销。")


# ----------------------------------------------------------------------------- --index
def test_the_index_file_is_created_kept_and_synced(cli: Cli) -> None:
    """Created by the first run, brought up to the head by the next: an anchor made between the
    runs is answered by the index (its transaction is known: the chain's status view has none)."""
    from chainindex import ChainIndex

    index = cli.tmp / "index" / "ereg-index.sqlite"
    first, _stem, first_tx = issue_one(cli, "first")
    verdict = as_json(cli, str(first), "--index", str(index))
    assert index.is_file()
    assert verdict["verdict"] == "VALID" and verdict["anchor"]["transaction"] == first_tx
    inode = index.stat().st_ino

    def head() -> int:
        # the parameters the command indexes with (no deployment record: from block 0), so nothing is rebuilt
        with ChainIndex(index, None, cli.world.registry.address, start_block=0) as opened:
            assert opened.anchor(SAMR, bytes.fromhex(verdict["anchor"]["merkleRoot"][2:])) is not None
            return opened.head().block_number

    synced = head()
    second, _stem, second_tx = issue_one(cli, "second")  # anchored after the first run
    anchored_at = cli.world.client.block_number()
    assert anchored_at > synced
    verdict = as_json(cli, str(second), "--index", str(index))
    assert verdict["verdict"] == "VALID"
    assert verdict["anchor"]["transaction"] == second_tx, "the index saw the new anchor"
    assert verdict["anchor"]["blockNumber"] is not None and verdict["anchor"]["blockNumber"] > synced
    assert index.stat().st_ino == inode, "the same file, kept"
    assert head() >= anchored_at
    # and the first document is still answered by it
    assert as_json(cli, str(first), "--index", str(index))["anchor"]["transaction"] == first_tx
    # without --index the same verdicts, read from the chain (no transaction known)
    plain = as_json(cli, str(second))
    assert plain["verdict"] == "VALID" and plain["anchor"]["transaction"] is None
