"""No personal data in clear outside the citizen's document: not in a log, on the chain or in IPFS.

Documents carrying made-up personal data (names, 18-digit resident ID numbers with valid check
characters, mobile numbers, home addresses) go through the demo's flows on the real local stack
(Hardhat in the Besu-like mode, js-ipfs): issued and anchored through the relay, revoked through
it, checked at a window (POST /v1/verify with the document, the upload, the QR scan), opened on
the citizen page in Chromium, and a flat transferred and mortgaged through the relay's property
workflow. The relay and the verifier run as real processes with every logger at DEBUG, uvicorn's
access log on and every log record also written raw (``tests/privacy/serve.py``).

Then everything is searched for each value in any form a reader undoes without a key
(``tests/privacy/scan.py``): every line those processes wrote, the test process's own log
records (the issuer, the clients), the chain node's and the IPFS daemon's logs, the relay's
queue and the verifier's index files, every transaction's input and every log on the chain,
every block the IPFS daemon holds. Not one hit is allowed. Self-checks first show that the
scanner finds what it looks for, in each form, and that each of those places was really read.

The flows follow scripts/demo.py (which tests may not import: scripts sit above tests), with
issuing through the relay too, and one mortgage.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from chain.property import Certificate, Owner, PropertyCall, new_salt, owner_commitment
from chain.types import Action, Role, StatusChange
from devstack.ipfs import IpfsDaemon
from devstack.process import free_port
from documents import document_to_bytes, hide_fields, parse_document, parse_qr_url
from documents.envelope import open_envelope
from documents.samples import sample_business_licence, sample_record
from issuer.issuing import Issuer, IssueSettings, RelayAnchoring
from issuer.relay_client import RelayClient, StepAnswer
from issuer.relayed import Via, relay_property_step, relay_status_change
from storage.ipfs import IpfsStore
from tests.conftest import require
from tests.factories import BUSINESS_LICENSE, FOOD_LICENSE, PROPERTY_CERTIFICATE, World
from tests.privacy.scan import Hit, Scanner, Source, file_sources, gather_chain, gather_ipfs, report
from tests.privacy.serve import RawFormatter
from tests.property_setup import MORTGAGE_CERTIFICATE, Setup, make_setup, unit_of
from tests.registry_api.relay_process import relay_env, write_keystore
from tests.verifier.test_browser import CHROMIUM, CHROMIUM_FLAGS

REPO = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------------------ the people
# Every name, ID number, telephone number and address below is made up. The ID numbers follow
# GB 11643-1999 (region 3415xx, a birth date, a check character), so a real schema accepts them.
SELLER_A = ("诸葛晓岚", "341502198609174525")
SELLER_B = ("令狐以宁", "34150319830707391X")
BUYER = ("宇文沐阳", "341522197906052381")
HOME = "安徽省六安市金安区望城街道凤凰台小区9幢1单元801室"
UNIT_NUMBER = "341502003004GB00017F00090801"
#: The licences' legal representatives, their mobile numbers and the companies' domiciles.
LICENCE_PEOPLE = (
    ("欧阳澜汐", "13907319264", "安徽省六安市金安区紫薇巷甲7号2单元1503室"),
    ("司马昭瑜", "139 5862 4170", "安徽省六安市裕安区梧桐苑11栋402室"),
    ("上官沐晴", "138-0564-2291", "安徽省六安市叶集区柳林路西段36号"),
    ("慕容景琛", "+86 137 0564 8813", "安徽省六安市霍山县衡山镇南岳路159号"),
)
FOOD_PEOPLE = ("端木清越", "皇甫思源", "安徽省六安市舒城县城关镇春秋路77号")  # legal representative, signatory


def check_character(first17: str) -> str:
    """The GB 11643-1999 check character of an ID number's first 17 digits."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def licence(serial: int, name: str, phone: str, address: str) -> dict[str, Any]:
    record = sample_business_licence(serial)
    record.update(legalRepresentative=name, phone=phone, address=address)
    return record


def food_licence() -> dict[str, Any]:
    record = sample_record(FOOD_LICENSE)
    representative, signatory, premises = FOOD_PEOPLE
    record.update(legalRepresentative=representative, signatory=signatory, residence=premises, premises=premises)
    return record


def property_certificate(serial: int, owners: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    record = sample_record(PROPERTY_CERTIFICATE)
    record.update(
        certificateNumber=f"皖（2026）六安市不动产权第{serial:07d}号",
        unitNumber=UNIT_NUMBER,
        owners=[{"name": n, "idType": "resident-id", "idNumber": i, "share": s} for n, i, s in owners],
        coOwnership="按份共有" if len(owners) > 1 else "单独所有",
        location=HOME,
    )
    return record


def mortgage_certificate() -> dict[str, Any]:
    record = sample_record(MORTGAGE_CERTIFICATE)
    record.update(
        certificateNumber="皖（2026）六安市不动产证明第0031417号",
        unitNumber=UNIT_NUMBER,
        propertyCertificateNumber="皖（2026）六安市不动产权第0031416号",
        mortgagors=[{"name": BUYER[0], "idNumber": BUYER[1]}],
        location=HOME,
    )
    return record


#: Every personal value the records carry: none may appear in clear outside the documents.
PERSONAL = sorted(
    {
        *SELLER_A,
        *SELLER_B,
        *BUYER,
        HOME,
        *(value for person in LICENCE_PEOPLE for value in person),
        *FOOD_PEOPLE,
    }
)
#: A made-up marker sent where logs must show it (request paths) and stored as an IPFS block:
#: the scanner must find it there, or the places it reads are not the places written to.
CANARY = "隐私扫描自检标记"


# ------------------------------------------------------------------------------ the services
@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    output: Path  # stdout and stderr: the service's JSON lines
    raw: Path  # every log record with all its fields

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own process group, started below
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_service(name: str, env: dict[str, str], run_dir: Path) -> Service:
    port = free_port()
    output, raw = run_dir / f"{name}.log", run_dir / f"{name}.raw.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.privacy.serve", name, str(port), str(raw)],
            cwd=REPO,
            env={**env, "EREG_LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, f"http://127.0.0.1:{port}", process, output, raw)


def wait_ready(service: Service, ready: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        assert service.process.poll() is None, f"{service.name} exited: {service.output.read_text()[-3000:]}"
        try:
            body = httpx.get(f"{service.url}/healthz", timeout=2.0).json()
        except (httpx.HTTPError, ValueError):
            body = {}
        if ready(body):
            return
        time.sleep(0.1)
    raise AssertionError(f"{service.name} not ready in {timeout:.0f} s: {body}")


class _Lines(logging.Handler):
    """The test process's own records (issuer, chain and relay clients) at DEBUG, in full."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(RawFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def every_record(path: Path) -> Iterator[None]:
    """Every log record of this process at any level while the block runs, written to ``path``."""
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        path.write_text("\n".join(handler.lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ the flows
@dataclass
class Flows:
    """What the flows produced that the self-checks look for."""

    documents: list[Path]  # every wrapped document issued
    roots: set[bytes]  # every batch root anchored
    verifications: int


def certificate_of(path: Path) -> Certificate:
    doc = parse_document(path.read_bytes())
    return Certificate(
        bytes.fromhex(doc.proof.merkle_root[2:]),
        bytes.fromhex(doc.proof.target_hash[2:]),
        tuple(bytes.fromhex(p[2:]) for p in doc.proof.proof),
    )


def qr_url(path: Path) -> str:
    return path.with_name(path.name.removesuffix(".ereg.json") + ".qr.url").read_text().strip()


def citizen_page(browser: Any, url: str) -> str:
    """Open a QR code's URL in a new tab; the verdict the page shows once it has decided."""
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"error: {error}"))
    try:
        page.goto(url, wait_until="domcontentloaded")
        try:
            page.wait_for_function(
                "() => { const r = document.getElementById('result');"
                " return r && r.dataset.verdict && r.dataset.verdict !== 'PENDING'; }",
                timeout=20_000,
            )
        except Exception as exc:  # noqa: BLE001 - said with what the page printed
            raise AssertionError(f"the citizen page did not decide: {type(exc).__name__}; console: {console}") from None
        return str(page.locator("#result").get_attribute("data-verdict"))
    finally:
        page.close()


def run_flows(world: World, s: Setup, store: IpfsStore, relay: Service, verifier: Service, tmp: Path) -> Flows:
    via = Via(client=RelayClient(relay.url), wait_for="FINAL", wait_timeout=60.0, poll=0.1)
    http = httpx.Client(base_url=verifier.url, timeout=30.0)
    issued: list[Path] = []
    counter = iter(range(100))
    verifications = 0

    def issue(key: LocalAccount, doc_type: str, records: Sequence[dict[str, Any]]) -> list[Path]:
        run = next(counter)
        inputs, out = tmp / f"records-{run}", tmp / f"out-{run}"
        inputs.mkdir(parents=True)
        files = []
        for index, record in enumerate(records):
            path = inputs / f"{doc_type}-{index + 1:02d}.json"
            path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            files.append(path)
        settings = IssueSettings(
            doc_type=doc_type,
            out_dir=out,
            verifier_url=verifier.url,
            valid_from=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(world.now(), int(time.time())) - 60)),
            batch_size=len(files),
        )
        Issuer(settings, registry=world.registry, store=store, relay=RelayAnchoring(key, via)).run(files)
        paths = [out / f"{p.stem}.ereg.json" for p in files]
        issued.extend(paths)
        return paths

    def synced() -> None:
        head = world.client.block_number()
        wait_ready(verifier, lambda h: bool(h.get("ready")) and h.get("index", {}).get("block", -1) >= head)

    def check(body: bytes | str, content_type: str = "application/json") -> dict[str, Any]:
        nonlocal verifications
        verifications += 1
        reply = http.post("/v1/verify", content=body, headers={"content-type": content_type})
        assert reply.status_code == 200, reply.text
        verdict: dict[str, Any] = reply.json()
        return verdict

    def check_until(path: Path, verdict: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for _ in range(100):  # the index follows the chain within a second
            result = check(path.read_bytes())
            if result["verdict"] == verdict:
                return result
            time.sleep(0.1)
        raise AssertionError(f"{path.name} is {result.get('verdict')}, not {verdict}: {result}")

    def step(key: LocalAccount, call: PropertyCall) -> StepAnswer:
        return relay_property_step(RelayClient(relay.url), key, s.prop, call, wait_timeout=60.0, poll=0.1)

    # issue through the relay: licences, a food licence, the seller's property certificate
    people = LICENCE_PEOPLE
    licences = issue(world.samr_key, BUSINESS_LICENSE, [licence(i, *p) for i, p in enumerate(people)])
    issue(world.samr_key, FOOD_LICENSE, [food_licence()])
    sellers = [(*SELLER_A, "60%"), (*SELLER_B, "40%")]
    [old_certificate] = issue(world.natres_key, PROPERTY_CERTIFICATE, [property_certificate(31415, sellers)])
    synced()

    # a window checks the documents: genuine, tampered, revoked (through the relay), disclosed
    assert check(licences[0].read_bytes())["verdict"] == "VALID"
    tampered = json.loads(licences[1].read_text(encoding="utf-8"))
    tampered["data"]["registeredCapital"]["amount"] = "99999999.00"
    assert check(json.dumps(tampered, ensure_ascii=False).encode())["verdict"] == "INVALID"
    doc = parse_document(licences[2].read_bytes())
    revoke = StatusChange(
        Action.REVOKE,
        bytes.fromhex(doc.proof.merkle_root[2:]),
        bytes.fromhex(doc.proof.target_hash[2:]),
        [bytes.fromhex(p[2:]) for p in doc.proof.proof],
        reason=1,
    )
    assert "FINAL" in relay_status_change(via, world.samr_key, world.registry, revoke)
    check_until(licences[2], "INVALID")
    disclosed = hide_fields(parse_document(licences[3].read_bytes()), ["/legalRepresentative", "/phone"])
    assert check(document_to_bytes(disclosed))["verdict"] == "VALID"
    # the QR code scanned at a window, as text and as JSON; the document with its stored copy; an upload
    url = qr_url(licences[0])
    payload = parse_qr_url(url)
    key_text = base64.urlsafe_b64encode(payload.key).rstrip(b"=").decode()
    assert check(url, "text/plain")["verdict"] == "VALID"
    assert check(json.dumps({"qr": url}))["verdict"] == "VALID"
    text = licences[0].read_text(encoding="utf-8")
    with_copy = json.dumps({"cid": payload.cid, "document": text, "key": key_text}, ensure_ascii=False)
    assert check(with_copy.encode())["verdict"] == "VALID"
    verifications += 1
    upload = http.post("/v1/verify", files={"file": ("licence.ereg.json", licences[0].read_bytes())})
    assert upload.status_code == 200 and upload.json()["verdict"] == "VALID", upload.text

    # second-hand transfer at one window, every step signed by its department and sent by the relay
    unit = unit_of(UNIT_NUMBER)
    seller_owners = [Owner(owner_commitment(i, new_salt()), int(sh.rstrip("%")) * 100) for _n, i, sh in sellers]
    step(world.natres_key, PropertyCall.register_unit(unit, certificate_of(old_certificate), seller_owners))
    [new_certificate] = issue(world.natres_key, PROPERTY_CERTIFICATE, [property_certificate(31416, [(*BUYER, "100%")])])
    buyer = [Owner(owner_commitment(BUYER[1], new_salt()), 10_000)]
    opened = step(world.natres_key, PropertyCall.open_transfer(unit, certificate_of(new_certificate), buyer))
    case_id = int(next(e.args["caseId"] for e in opened.events if e.name == "TransferOpened"))
    case = s.prop.transfer_case(case_id)
    approvers = ((s.tax.account, Role.TAX), (s.housing.account, Role.HOUSING), (world.natres_key, Role.NATRES))
    finalized = False
    for key, role in approvers:
        answer = step(key, PropertyCall.approve_transfer(case_id, case.round, role))
        finalized = finalized or any(e.name == "TransferFinalized" for e in answer.events)
    assert finalized
    check_until(old_certificate, "INVALID")  # superseded by the new title
    assert check(new_certificate.read_bytes())["verdict"] == "VALID"
    for path in (f"/v1/properties/0x{unit.hex()}", f"/v1/properties/0x{unit.hex()}/history"):
        assert http.get(path).status_code == 200

    # the buyer's bank registers its mortgage on the new title
    [mortgage] = issue(world.natres_key, MORTGAGE_CERTIFICATE, [mortgage_certificate()])
    step(s.bank.account, PropertyCall.register_mortgage(unit, certificate_of(mortgage)))
    check_until(mortgage, "VALID")

    # the citizen scans the QR codes: the real page in Chromium fetches, decrypts and verifies
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            for path in (licences[0], new_certificate, mortgage):
                assert citizen_page(browser, qr_url(path)) == "VALID", path.name
                verifications += 1
        finally:
            browser.close()

    # the canary goes into request paths, which the access logs write down
    assert http.get(f"/q/{quote(CANARY)}").status_code == 200
    httpx.get(f"{relay.url}/v1/requests/{quote(CANARY)}", timeout=10.0)
    http.close()
    roots = {certificate_of(p).root for p in issued}
    return Flows(documents=issued, roots=roots, verifications=verifications)


# ------------------------------------------------------------------------------ the test
def test_the_scanner_finds_every_form_it_looks_for() -> None:
    """A broken scanner must not pass: each form of a value, planted, is found; clean text is not."""
    name, id_number = SELLER_B
    phone = LICENCE_PEOPLE[1][1]  # "139 5862 4170"
    number = int(id_number[:-1]).to_bytes(32, "big")  # as a uint256 in calldata
    planted = [
        ("utf-8", name, json.dumps({"message": f"owner {name}"}, ensure_ascii=False).encode()),
        ("json-escaped", name, json.dumps({"message": f"owner {name}"}).encode()),
        ("hex", HOME, b"input 0x" + HOME.encode().hex().encode()),
        ("hex", HOME, b"input 0x" + HOME.encode().hex().upper().encode()),
        ("percent", HOME, f'"GET /q/{quote(HOME)} HTTP/1.1" 200'.encode()),
        ("utf-8", id_number, b"id " + id_number.lower().encode()),
        ("digits", id_number, b"id " + id_number[:-1].encode()),
        ("digits", phone, b"tel 13958624170"),
        ("integer-hex", id_number, b"0x" + number.hex().upper().encode()),
        ("integer-bytes", id_number, b"\x00" * 7 + number + b"\x01"),
        ("base64+1", name, base64.b64encode(b"x" + name.encode() + b"y")),
        ("base64url+0", HOME, base64.urlsafe_b64encode(HOME.encode())),
    ]
    scanner = Scanner(PERSONAL)
    for form, value, data in planted:
        hits = scanner.scan(Source(f"planted {form}", data))
        assert (value, form) in {(h.value, h.form) for h in hits}, f"{value} as {form} not found in {data!r}: {hits}"
    found = scanner.scan(Source("a.log", b"first line\nsecond " + id_number.encode() + b"\n", lines=True))
    assert {h.where for h in found} == {"a.log:2"}
    clean = json.dumps({"message": "request", "path": "/v1/verify", "status": 200, "durationMs": 12.5}).encode()
    assert scanner.scan(Source("clean", clean)) == []
    assert all(check_character(i[:17]) == i[17] for i in (SELLER_A[1], SELLER_B[1], BUYER[1]))


@pytest.mark.chain
@pytest.mark.ipfs
@pytest.mark.browser
@pytest.mark.parametrize("node", ["besu"], indirect=True)  # as the demo and production run
def test_no_personal_data_in_clear_in_logs_chain_or_ipfs(
    world: World, ipfs_daemon: IpfsDaemon, ipfs_store: IpfsStore, tmp_path: Path
) -> None:
    require(Path(CHROMIUM).exists(), f"Debian chromium is not installed ({CHROMIUM})")
    started = time.monotonic()
    s = make_setup(world)
    chain = {
        "EREG_RPC_URL": world.node.rpc_url,
        "EREG_CHAIN_ID": str(world.chain_id),
        "EREG_REGISTRY_ADDRESS": world.registry.address,
        "EREG_PROPERTY_REGISTRY_ADDRESS": s.prop.address,
    }
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("EREG_")}
    verifier_env = {
        **base_env,
        **chain,
        "EREG_INDEX_START_BLOCK": str(world.deployment.block_number or 0),
        "EREG_INDEX_PATH": str(tmp_path / "verifier-index.sqlite"),
        "EREG_INDEX_POLL_INTERVAL": "0.1",
        "EREG_HEALTH_INTERVAL": "0.2",
        "EREG_IPFS_API": ipfs_daemon.api,
        "EREG_RATE_LIMIT_PER_SECOND": "0",
    }
    queue_path = tmp_path / "relay-queue.sqlite"
    relay_environment = relay_env(
        rpc_url=world.node.rpc_url,
        chain_id=world.chain_id,
        registry_address=world.registry.address,
        queue_path=queue_path,
        keystore=write_keystore(world.relayer, tmp_path / "relayer-keystore.json"),
        settings={"property_registry_address": s.prop.address, "batch_age": 0.2, "poll_interval": 0.05},
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    relay = start_service("relay", relay_environment, logs)
    verifier = start_service("verifier", verifier_env, logs)
    try:
        wait_ready(relay, lambda h: h.get("status") == "ok")
        wait_ready(verifier, lambda h: bool(h.get("ready")))
        with every_record(logs / "test-process.log"):
            flows = run_flows(world, s, ipfs_store, relay, verifier, tmp_path / "issue")
        canary_cid = ipfs_store.put(f"{CANARY} (a planted block)".encode())
    finally:
        relay.stop()
        verifier.stop()
    flows_done = time.monotonic()

    # ---- what is scanned
    service_logs = [relay.output, relay.raw, verifier.output, verifier.raw]
    log_sources = file_sources(
        [*service_logs, logs / "test-process.log", world.node.process.log_file, ipfs_daemon.log_file]
    )
    state_files = sorted([*tmp_path.glob("relay-queue.sqlite*"), *tmp_path.glob("verifier-index.sqlite*")])
    file_state = file_sources(state_files)
    on_chain = gather_chain(world.client.w3)
    in_ipfs = gather_ipfs(ipfs_daemon.url)

    # ---- self-checks: each place was really read, and holds what the flows put there
    canary = Scanner([CANARY])
    for path in service_logs:
        [source] = [src for src in log_sources if src.where == str(path)]
        assert canary.scan(source), f"the canary request is not in {path}: the scan does not read this log"
    for path in (relay.output, verifier.output):
        text = path.read_text(encoding="utf-8")
        assert '"level": "DEBUG"' in text, f"{path} has no DEBUG line: the service did not log at DEBUG"
    assert '"path": "/v1/verify"' in verifier.output.read_text(encoding="utf-8")
    assert "POST /v1/verify HTTP/1.1" in verifier.raw.read_text(encoding="utf-8")  # uvicorn's access log
    relay_lines = relay.output.read_text(encoding="utf-8")
    assert '"path": "/v1/anchors"' in relay_lines and '"path": "/v1/property/units/' in relay_lines
    inputs = b"".join(src.data for src in on_chain.sources if src.where.endswith(" input"))
    events = b"".join(src.data for src in on_chain.sources if " log " in src.where)
    for root in flows.roots:
        assert root in inputs and root in events, f"root 0x{root.hex()} not seen on chain by the scan"
    assert on_chain.receipt_logs == on_chain.filter_logs > 0, (on_chain.receipt_logs, on_chain.filter_logs)
    personal = Scanner(PERSONAL)
    blocks = b"".join(src.data for src in in_ipfs.sources)
    assert canary.scan_all(in_ipfs.sources), f"the planted block {canary_cid} is not among the scanned blocks"
    for path in flows.documents:
        payload = parse_qr_url(qr_url(path))
        stored = ipfs_store.get(payload.cid)
        assert stored[:64] in blocks, f"the stored copy of {path.name} is not among the scanned blocks"
        # the stored copy holds the personal data, encrypted: the scanner finds it once decrypted
        record = json.dumps(parse_document(path.read_bytes()).data, ensure_ascii=False).encode()
        expected = personal.found(Source(path.name, record))
        assert expected, f"{path.name} carries no personal value"
        assert personal.found(Source(path.name, open_envelope(payload.key, stored))) >= expected

    # ---- the scan
    sources: list[Source] = [*log_sources, *file_state, *on_chain.sources, *in_ipfs.sources]
    hits: list[Hit] = personal.scan_all(sources)
    lines = sum(src.data.count(b"\n") for src in log_sources)
    per_log = ", ".join(f"{Path(src.where).name} {src.data.count(10)}" for src in log_sources)
    summary = (
        f"scanned for {len(PERSONAL)} values in {len(personal.needles)} forms: "
        f"{len(log_sources)} log files, {lines} lines ({per_log}); {len(file_state)} service state files; "
        f"chain: {on_chain.blocks} blocks, {on_chain.transactions} transactions, "
        f"{on_chain.receipt_logs} logs (eth_getLogs: {on_chain.filter_logs}); "
        f"IPFS: {len(in_ipfs.sources)} blocks ({len(in_ipfs.pinned)} pins); "
        f"{len(flows.documents)} documents issued, {flows.verifications} verifications; "
        f"flows {flows_done - started:.1f} s, scan {time.monotonic() - flows_done:.1f} s; hits: {len(hits)}"
    )
    print(summary)
    assert not hits, f"personal data in clear:\n{report(hits)}\n({summary})"
