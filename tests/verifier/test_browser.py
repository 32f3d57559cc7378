"""The citizen page in a real browser: QR code -> Debian Chromium -> verdict on screen.

The verifier runs as a real HTTP server (uvicorn, free loopback port) on the world's registry;
documents are issued for real with that server as the QR base URL; the QR PNG the issuer wrote
is decoded by zbarimg (independent of the library that drew it) and the decoded URL is opened
in Debian's Chromium, driven by Playwright (no browser of Playwright's own is ever used).

Screenshots (mobile viewport) are kept in ``test-artifacts/browser/`` at the repository root.
Runs in the "dev" chain mode only: the page does not depend on the chain mode, and the other
tests cover both modes.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest
import segno
import uvicorn

from chain.types import Action, Role, StatusChange
from documents import build_qr_url, canonicalize, load_schema, parse_qr_url, seal
from storage import DocumentStore
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, require
from tests.factories import BUSINESS_LICENSE, PROPERTY_CERTIFICATE, World
from tests.property_setup import BUYER, MORTGAGE_CERTIFICATE, SELLERS, Setup, make_setup, owners
from tests.verifier.conftest import Issued, IssueFn, verifier_settings
from tests.verifier.test_property import (
    BANK_NAME,
    COURT_NAME,
    OTHER_UNIT,
    block_time,
    certificate_of,
    mortgage_record,
    property_record,
    register,
)
from verifier.app import create_app

# The page does not depend on the chain mode: run in the dev mode only (no skipped copies).
pytestmark = [pytest.mark.browser, pytest.mark.chain, pytest.mark.parametrize("node", ["dev"], indirect=True)]

BROWSER_MODE = "dev"
SAMR_NAME = "六安市市场监督管理局"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
#: axe-core, the accessibility engine, from the local stack's Node packages (hardhat_local/package.json)
AXE = Path(__file__).resolve().parents[2] / "hardhat_local" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 412, 915  # a common Android phone, in CSS pixels
VERDICT_TIMEOUT_MS = 20_000

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page


# ------------------------------------------------------------------------------ the browser
def _has_cjk_font() -> bool:
    """A font that covers Chinese is installed (else the page's text renders as boxes)."""
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
    return found.returncode == 0 and bool(found.stdout.strip())


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian Chromium (headless, fresh profile) in a phone-sized viewport, for this module."""
    require(Path(CHROMIUM).exists(), f"Debian chromium is not installed ({CHROMIUM}; apt-get install chromium)")
    require(shutil.which("zbarimg") is not None, "zbarimg is not installed (apt-get install zbar-tools)")
    require(_has_cjk_font(), "no Chinese font for Chromium (apt-get install fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the Python package playwright is not installed (pip install -e '.[dev]')")
        raise
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        try:
            yield context
        finally:
            context.close()


# ------------------------------------------------------------------------------ the verifier
class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a malformed record must not break the capture
            self.lines.append(str(record.msg))


@dataclass
class LiveVerifier:
    """A verifier HTTP server on a free loopback port, and everything it logged."""

    base_url: str
    log: _Records
    chain_head: Callable[[], int]
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request the page made

    def wait_for_index(self, timeout: float = 20.0) -> None:
        """Until the verifier is ready and its index holds the chain's head as of this call."""
        head = self.chain_head()
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            health = httpx.get(f"{self.base_url}/healthz", timeout=5.0).json()
            if health.get("ready") and health["index"]["block"] >= head:
                return
            time.sleep(0.05)
        raise AssertionError(f"index did not catch up with block {head}: {health}")

    def assert_never_saw(self, secret: str) -> None:
        """``secret`` (the QR key) is in no log line of the server and in nothing the browser sent."""
        assert self.log.lines, "no server log was captured"
        assert any("GET /q/" in line for line in self.log.lines), self.log.lines
        leaked = [line for line in self.log.lines if secret in line]
        assert not leaked, f"the key reached the server's log: {leaked}"
        for request in self.requests:
            assert secret not in sent_text(request), f"the browser sent the key: {request}"

    def assert_kept_private(self, doc: dict[str, Any], *, asked_status: bool = True) -> None:
        """No value of the document's fields, and none of its salts, left the page: in no URL, header
        or body of any request it made, neither as UTF-8 text nor percent-encoded."""
        secrets = private_values(doc)
        assert secrets, doc
        status_asked = any(r["url"].endswith("/v1/status") for r in self.requests)
        assert status_asked == asked_status, self.requests
        for request in self.requests:
            shown = sent_text(request)
            for secret in secrets:
                for form in {secret, quote(secret, safe=""), quote(secret)}:
                    assert form not in shown, f"the page sent {secret!r} ({form!r}): {request}"


def sent_text(request: dict[str, Any]) -> str:
    """A captured request's URL, headers and body as one text to search."""
    return json.dumps({"url": request["url"], "headers": request["headers"]}, ensure_ascii=False) + str(request["body"])


def private_values(doc: dict[str, Any]) -> set[str]:
    """The document's field values as text (strings, and numbers of 4 or more characters, which a
    short number could match by chance), inside arrays and objects too, and its salts."""
    found: set[str] = set(doc["salts"].values())

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)
        elif isinstance(value, str) and value.strip():
            found.add(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and len(str(value)) >= 4:
            found.add(str(value))

    walk(doc["data"])
    return found


def reference_verdict(live: LiveVerifier, url: str) -> dict[str, Any]:
    """What POST /v1/verify (a window's check of the same QR code) answers."""
    reply = httpx.post(f"{live.base_url}/v1/verify", json={"qr": url}, timeout=10.0)
    assert reply.status_code == 200, reply.text
    verdict: dict[str, Any] = reply.json()
    return verdict


def assert_same_checks(page: Page, live: LiveVerifier, url: str) -> dict[str, Any]:
    """The page shows the fragments, codes and messages a window's check of the QR code gives."""
    reference = reference_verdict(live, url)
    assert checks(page) == {f["name"]: f["code"] for f in reference["fragments"]}
    assert verdict_of(page)[0] == reference["verdict"]
    shown = page.locator("#checks").inner_text()
    for f in reference["fragments"]:
        assert f["message_zh"] in shown or f["message"] in shown, (f, shown)
    return reference


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live(world: World, tmp_path: Path) -> Iterator[LiveVerifier]:
    """The verifier app served by uvicorn (access log on) on a free port, logs captured."""
    with _serve(world, tmp_path) as served:
        yield served


@pytest.fixture
def s(world: World) -> Setup:
    return make_setup(world)


@pytest.fixture
def live_property(world: World, s: Setup, tmp_path: Path) -> Iterator[LiveVerifier]:
    """``live``, following the test's PropertyRegistry too."""
    with _serve(world, tmp_path, property_registry_address=s.prop.address) as served:
        yield served


@contextmanager
def _serve(world: World, tmp_path: Path, **overrides: Any) -> Iterator[LiveVerifier]:
    assert world.node.mode == BROWSER_MODE
    sock = _free_socket()
    port = sock.getsockname()[1]
    app = create_app(verifier_settings(world, tmp_path, **overrides))
    # log_config=None: uvicorn leaves logging alone, so its access log reaches our handler.
    config = uvicorn.Config(app, log_config=None, access_log=True, log_level="info", lifespan="on")
    server = uvicorn.Server(config)
    records = _Records()
    root = logging.getLogger()
    watched = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "ereg")]
    saved = [(lg, lg.level, lg.disabled) for lg in [root, *watched]]
    # On each logger itself, not only the root: another uvicorn in this process may have
    # configured "uvicorn.access" with propagate=False and a handler of its own.
    for lg in [root, *watched]:
        lg.addHandler(records)
        lg.setLevel(logging.INFO)
        lg.disabled = False
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="verifier-http", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the verifier did not start"
        time.sleep(0.02)
    try:
        yield LiveVerifier(base_url=base, log=records, chain_head=world.client.block_number)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        for lg, level, disabled in saved:
            lg.removeHandler(records)
            lg.setLevel(level)
            lg.disabled = disabled


# ------------------------------------------------------------------------------ helpers
def zbar_decode(png: Path) -> str:
    """The text of the one QR code in ``png``, as zbarimg reads it."""
    done = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"zbarimg could not read {png}: {done.stderr}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0].strip()


def key_text(url: str) -> str:
    """The base64url key of a QR URL, as it appears in its fragment."""
    text = url.partition("#k=")[2]
    assert len(text) == 43, url
    assert base64.urlsafe_b64decode(text + "=") == parse_qr_url(url).key
    return text


def open_page(browser: BrowserContext, live: LiveVerifier, url: str, *, width: int | None = None) -> Page:
    """Open ``url`` in a new tab (``width`` CSS pixels wide, else the context's phone) and wait
    until the page has decided (data-verdict != PENDING)."""
    page = browser.new_page()
    if width is not None:
        page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})

    def sent(request: Any) -> None:
        live.requests.append({"url": request.url, "headers": request.headers, "body": request.post_data or ""})

    page.on("request", sent)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(
        "() => { const r = document.getElementById('result');"
        " return r && r.dataset.verdict && r.dataset.verdict !== 'PENDING'; }",
        timeout=VERDICT_TIMEOUT_MS,
    )
    return page


def verdict_of(page: Page) -> tuple[str, str]:
    box = page.locator("#result")
    return box.get_attribute("data-verdict") or "", box.get_attribute("class") or ""


def text(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text()


def terms(where: Page | Locator, selector: str) -> dict[str, str]:
    """A rendered <dl> (the first ``selector`` in ``where``) as {label: value}, its own lines only."""
    pairs: list[list[str]] = where.locator(selector).first.evaluate(
        "dl => [...dl.querySelectorAll(':scope > dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent])"
    )
    return dict((label, value) for label, value in pairs)


def schema_labels(lang: str) -> list[str]:
    """The labels of the business licence's fields in schema order (nested: "parent · child",
    unless the child's title already starts with the parent's)."""
    side = 0 if lang == "zh" else 1

    def title(node: dict[str, Any]) -> str | None:
        for candidate in [node, *node.get("anyOf", []), *node.get("oneOf", [])]:
            if "title" in candidate:
                zh, _, en = str(candidate["title"]).partition(" ")
                return (zh, en or zh)[side]
        return None

    def walk(node: dict[str, Any], parent: str | None) -> list[str]:
        labels: list[str] = []
        for child in node.get("properties", {}).values():
            label = title(child) or "?"
            if parent and not label.startswith(parent):
                label = f"{parent} · {label}"
            labels.extend(walk(child, label) if "properties" in child else [label])
        return labels

    return walk(load_schema(BUSINESS_LICENSE), None)


def assert_readable_fields(page: Page, lang: str) -> None:
    """Every disclosed field has a human label (no raw JSON Pointer), no two fields share a label,
    fields come in the schema's order, and each check line says which check it is."""
    labels = page.eval_on_selector_all("#fields > dt", "dts => dts.map(dt => dt.textContent)")
    assert not [label for label in labels if label.startswith("/")], labels
    assert len(set(labels)) == len(labels), labels
    expected = schema_labels(lang)
    shown = [label for label in labels if label in expected]
    assert shown == expected, labels
    lines = page.eval_on_selector_all("#checks li", "lis => lis.map(li => li.textContent)")
    assert len(set(lines)) == len(lines), lines


def checks(page: Page) -> dict[str, str]:
    items = page.locator("#checks li")
    return {
        items.nth(i).get_attribute("data-fragment") or "": items.nth(i).get_attribute("data-code") or ""
        for i in range(items.count())
    }


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, path
    return path


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA and best-practice rules on the page as it is now: the serious and
    critical violations, each with its rule, impact and the elements it names."""
    require(AXE.exists(), f"axe-core is not installed ({AXE}; run `npm ci` in hardhat_local)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # as the page's own script, not blocked by its CSP
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const rules = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
          const result = await axe.run(document, { runOnly: rules });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
          }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def assert_fits(page: Page, width: int) -> None:
    """Nothing wider than the screen: no sideways scrolling, no element past the right edge."""
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
             .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > width + 0.5)
             .map((el) => el.id || el.className || el.tagName)""",
        width,
    )
    assert not wide, f"past the right edge of a {width} px screen: {wide}"


def issue_one(issue: IssueFn, live: LiveVerifier) -> Issued:
    (doc,) = issue(count=1, verifier_url=live.base_url)
    live.wait_for_index()
    return doc


def scan(doc: Issued, live: LiveVerifier) -> str:
    """Decode the issuer's QR PNG; it must point at the live verifier and match the .qr.url file."""
    url = zbar_decode(doc.png)
    assert url == doc.url
    assert url.startswith(f"{live.base_url}/q/b"), url
    return url


# ------------------------------------------------------------------------------ the tests
def test_authentic_document_shows_valid(browser: BrowserContext, live: LiveVerifier, issue: IssueFn) -> None:
    doc = issue_one(issue, live)
    url = scan(doc, live)
    record = doc.obj()["data"]
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("VALID", "result valid")
        assert text(page, "#headline") == "真实有效"
        fields = terms(page, "#fields")
        assert fields["证照类型"] == "营业执照"
        assert fields["名称"] == record["name"]
        assert fields["统一社会信用代码"] == record["creditCode"]
        assert fields["法定代表人"] == record["legalRepresentative"]
        assert record["businessTerm"]["until"] is None and fields["营业期限至"] == "长期"  # open-ended, as printed
        assert "—" not in text(page, "#fields")  # nothing shown for what the certificate leaves empty
        assert terms(page, "#issuer")["机关名称"] == SAMR_NAME
        assert page.locator("#status-note").is_hidden()
        assert accessibility_violations(page) == []
        assert terms(page, "#record")["当前状态"] == "有效"
        assert_readable_fields(page, "zh")
        assert assert_same_checks(page, live, url)["verdict"] == "VALID"
        assert checks(page) == {
            "DOCUMENT_INTEGRITY": "OK",
            "DOCUMENT_STATUS": "OK",
            "ISSUER_IDENTITY": "OK",
            "STORAGE": "OK",
        }
        # the key is read, then dropped from the address bar
        assert "#" not in page.url and page.url.endswith(f"/q/{parse_qr_url(url).cid}")
        screenshot(page, "valid")

        page.locator("#lang").click()
        assert page.locator("html").get_attribute("lang") == "en"
        assert text(page, "#headline") == "Authentic and valid"
        assert text(page, "#lang") == "中文"
        assert "Issuer" in page.locator("main").inner_text()
        fields = terms(page, "#fields")
        assert fields["Type"] == "Business licence"
        assert fields["Name"] == record["name"]
        assert fields["Unified social credit code"] == record["creditCode"]
        assert fields["Business term until"] == "no end date"
        assert terms(page, "#issuer")["Department"] == SAMR_NAME
        assert accessibility_violations(page) == []
        assert terms(page, "#record")["Status"] == "Active"
        assert_readable_fields(page, "en")
        screenshot(page, "valid-en")
        page.locator("#lang").click()
        assert text(page, "#headline") == "真实有效"
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(doc.obj())


def test_revoked_document_shows_invalid(
    browser: BrowserContext, live: LiveVerifier, issue: IssueFn, world: World
) -> None:
    doc = issue_one(issue, live)
    url = scan(doc, live)
    proof = doc.obj()["proof"]

    def change(action: Action, reason: int) -> str:
        """Change the document's status; the time the chain records, as the page shows it."""
        receipt = world.registry.change_status(
            world.sender(world.samr_key),
            StatusChange(
                action,
                bytes.fromhex(proof["merkleRoot"][2:]),
                bytes.fromhex(proof["targetHash"][2:]),
                [bytes.fromhex(p[2:]) for p in proof["proof"]],
                reason=reason,
            ),
        )
        live.wait_for_index()
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, receipt)))

    suspended = change(Action.SUSPEND, 6)  # under investigation
    page = open_page(browser, live, url)
    try:
        assert checks(page)["DOCUMENT_STATUS"] == "SUSPENDED"
        assert terms(page, "#record")["当前状态"] == "已暂停"
        assert terms(page, "#record")["原因"] == "调查中"
        assert text(page, "#status-note") == f"原因：调查中 · {suspended}"
        page.locator("#lang").click()
        assert text(page, "#status-note") == f"Reason: under investigation · {suspended}"
    finally:
        page.close()

    revoked = change(Action.REVOKE, 1)  # issued in error
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert text(page, "#headline") == "无效"
        assert "撤销" in text(page, "#reason"), text(page, "#reason")
        assert terms(page, "#record")["当前状态"] == "已撤销"
        # the reason in words, with the date the chain recorded it
        assert terms(page, "#record")["原因"] == "错误签发"
        assert terms(page, "#record")["状态变更时间"] == revoked
        assert text(page, "#status-note") == f"原因：错误签发 · {revoked}"
        assert accessibility_violations(page) == []
        assert checks(page)["DOCUMENT_STATUS"] == "REVOKED"
        assert_same_checks(page, live, url)
        assert doc.obj()["data"]["name"] in text(page, "#fields")
        screenshot(page, "revoked")
        page.locator("#lang").click()
        assert text(page, "#headline") == "Not valid"
        assert "revoked" in text(page, "#reason").lower()
        assert terms(page, "#record")["Status"] == "Revoked"
        assert terms(page, "#record")["Reason"] == "issued in error"
        assert text(page, "#status-note") == f"Reason: issued in error · {revoked}"
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(doc.obj())


def test_tampered_document_shows_invalid(
    browser: BrowserContext, live: LiveVerifier, issue: IssueFn, store: DocumentStore, tmp_path: Path
) -> None:
    doc = issue_one(issue, live)
    tampered = doc.obj()
    tampered["data"]["name"] = "篡改科技有限公司"
    key, blob = seal(canonicalize(tampered))
    cid = store.put(blob)
    png = tmp_path / "tampered.qr.png"
    segno.make(build_qr_url(live.base_url, cid, key), error="m").save(png, scale=6, border=4)
    url = zbar_decode(png)
    assert parse_qr_url(url) == (live.base_url, cid, key)
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert text(page, "#headline") == "无效"
        assert "篡改" in text(page, "#reason"), text(page, "#reason")
        assert checks(page)["DOCUMENT_INTEGRITY"] == "TAMPERED"
        assert_same_checks(page, live, url)
        # a document that fails integrity shows no details: none of its fields can be trusted
        assert page.locator("#details").is_hidden()
        assert tampered["data"]["name"] not in page.locator("body").inner_text()
        screenshot(page, "tampered")
        page.locator("#lang").click()
        assert "changed" in text(page, "#reason")
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(tampered, asked_status=False)


@pytest.mark.parametrize(
    ("name", "prefix", "suffix"),
    [("byte-order-mark", b"\xef\xbb\xbf", b""), ("invalid-utf8", b"", b"\xff")],
)
def test_bytes_a_window_refuses_are_refused_on_the_page(
    browser: BrowserContext,
    live: LiveVerifier,
    issue: IssueFn,
    store: DocumentStore,
    name: str,
    prefix: bytes,
    suffix: bytes,
) -> None:
    """The page checks the decrypted bytes, not a decoded string: a byte-order mark (which a
    TextDecoder drops) or a byte that is no UTF-8 is MALFORMED, as a window's check says."""
    doc = issue_one(issue, live)
    key, blob = seal(prefix + canonicalize(doc.obj()) + suffix)
    url = build_qr_url(live.base_url, store.put(blob), key)
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid"), name
        assert checks(page)["DOCUMENT_INTEGRITY"] == "MALFORMED"
        assert_same_checks(page, live, url)
        assert page.locator("#details").is_hidden()
    finally:
        page.close()
    live.assert_kept_private(doc.obj(), asked_status=False)


def test_qr_without_key_shows_incomplete(browser: BrowserContext, live: LiveVerifier, issue: IssueFn) -> None:
    doc = issue_one(issue, live)
    url = scan(doc, live)
    without_key = url.partition("#")[0]
    page = open_page(browser, live, without_key)
    try:
        assert verdict_of(page) == ("ERROR", "result error")
        # a code that cannot be read is not an outage: no "try later" headline
        assert text(page, "#headline") == "无法识别此二维码"
        assert "二维码不完整" in text(page, "#reason")
        assert page.locator("#details").is_hidden()
        page.locator("#lang").click()
        assert text(page, "#headline") == "This code cannot be checked"
        assert "incomplete" in text(page, "#reason")
        screenshot(page, "incomplete-qr-en")
    finally:
        page.close()
    # the page asked the server for nothing but itself and its assets
    assert not [r for r in live.requests if "/v1/" in r["url"]], live.requests


# ------------------------------------------------------------------------ property titles
def abbreviated(value: bytes) -> str:
    """How the page shortens a hash: 0x and six hex digits, an ellipsis, the last four."""
    text = "0x" + value.hex()
    return f"{text[:8]}…{text[-4:]}"


def test_property_certificate_shows_its_title(
    browser: BrowserContext, live_property: LiveVerifier, issue: IssueFn, world: World, s: Setup
) -> None:
    """Current with owners' shares and a mortgage; frozen by a court; superseded after a transfer."""
    live = live_property
    (doc,) = issue(
        [property_record(1)], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key, verifier_url=live.base_url
    )
    unit, registered = register(s, certificate_of(doc))
    mortgaged, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    live.wait_for_index()
    url = scan(doc, live)
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("VALID", "result valid")
        assert checks(page)["PROPERTY_STATUS"] == "CURRENT"
        assert_same_checks(page, live, url)
        assert page.locator("#property").is_visible()
        assert page.locator("#property").get_attribute("data-code") == "CURRENT"
        assert text(page, "#property-status") == "现行有效的不动产权证书"
        title = terms(page, "#property-title")
        assert title["不动产单元（哈希）"] == abbreviated(unit)
        assert title["登记生效时间"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, registered)))
        shares = page.eval_on_selector_all("#property-owners li", "lis => lis.map(li => li.textContent)")
        assert shares == [
            f"权利人 1 · {abbreviated(SELLERS[0].commitment)} · 60%",
            f"权利人 2 · {abbreviated(SELLERS[1].commitment)} · 40%",
        ]
        mortgages = page.eval_on_selector_all("#property-mortgages li", "lis => lis.map(li => li.textContent)")
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, mortgaged)))
        assert mortgages == [f"{BANK_NAME} · 抵押登记时间 {since}"]
        assert page.locator("#property-seizures-box").is_hidden()
        # no personal data in the property section (the document's own fields may show it): commitments only
        section = text(page, "#property")
        people = doc.obj()["data"]["owners"]
        assert all(o["name"] in text(page, "#fields") for o in people)
        assert not any(o["idNumber"] in section or o["name"] in section for o in people)
        screenshot(page, "property-current")
        page.locator("#lang").click()
        assert text(page, "#property-status") == "Current title certificate"
        assert "Owners' shares" in text(page, "#property")
        assert terms(page, "#property-title")["Unit (hash)"] == abbreviated(unit)
        assert f"{BANK_NAME} · registered {since}" in text(page, "#property-mortgages")
        screenshot(page, "property-current-en")
    finally:
        page.close()

    seized, seizure_id = s.prop.register_seizure(s.court, unit, os.urandom(32))
    live.wait_for_index()
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert checks(page)["PROPERTY_STATUS"] == "FROZEN"
        assert_same_checks(page, live, url)
        assert "查封" in text(page, "#reason")
        assert "frozen" in (page.locator("#property-status").get_attribute("class") or "")
        box = page.locator("#property-seizures-box")
        assert box.is_visible() and "warning" in (box.get_attribute("class") or "")
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, seized)))
        assert text(page, "#property-seizures") == f"{COURT_NAME} · 查封时间 {since}"
        # the warning is drawn in red
        colour = page.eval_on_selector("#property-seizures li", "li => getComputedStyle(li).color")
        assert colour == "rgb(198, 40, 40)", colour
        screenshot(page, "property-frozen")
        page.locator("#lang").click()
        assert text(page, "#property-status") == "The property is seized by a court"
    finally:
        page.close()
    s.prop.release_seizure(s.court, unit, seizure_id)

    (successor,) = issue(
        [property_record(2)], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key, verifier_url=live.base_url
    )
    new = certificate_of(successor)
    _receipt, case_id = s.prop.open_transfer(s.natres, unit, new, owners((BUYER,), (10_000,)))
    s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id)
    for role in (Role.TAX, Role.HOUSING):
        s.approve(case_id, role)
    finalized = s.approve(case_id, Role.NATRES)
    live.wait_for_index()
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert checks(page)["PROPERTY_STATUS"] == "SUPERSEDED"
        assert_same_checks(page, live, url)
        assert text(page, "#property-status") == "已被新证书取代（已办理转移登记）"
        title = terms(page, "#property-title")
        assert title["取代证书"] == abbreviated(new.target)
        assert title["取代时间"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, finalized)))
        assert title["转移登记业务号"] == str(case_id)
        assert page.locator("#property-owners-box").is_hidden()
        screenshot(page, "property-superseded")
        page.locator("#lang").click()
        assert text(page, "#property-status") == "Replaced by a newer certificate (transferred)"
        assert terms(page, "#property-title")["Replaced by"] == abbreviated(new.target)
    finally:
        page.close()
    page = open_page(browser, live, scan(successor, live))
    try:
        assert verdict_of(page) == ("VALID", "result valid")
        assert text(page, "#property-status") == "现行有效的不动产权证书"
        shares = page.eval_on_selector_all("#property-owners li", "lis => lis.map(li => li.textContent)")
        assert shares == [f"权利人 1 · {abbreviated(BUYER.commitment)} · 100%"]
        # the mortgage stays registered after the transfer (the bank consented): listed, still valid
        assert BANK_NAME in text(page, "#property-mortgages")
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(doc.obj())


def test_certificate_naming_another_unit_shows_the_mismatch(
    browser: BrowserContext, live_property: LiveVerifier, issue: IssueFn, world: World, s: Setup
) -> None:
    """The page compares the unit number it holds with the unit the chain answers (the number is
    never sent): a certificate naming another unit than the one it is registered for is
    UNIT_MISMATCH, as a window's check says."""
    live = live_property
    record = property_record(5)
    record["unitNumber"] = OTHER_UNIT
    (doc,) = issue([record], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key, verifier_url=live.base_url)
    register(s, certificate_of(doc))  # on UNIT_NUMBER, not the OTHER_UNIT it names
    live.wait_for_index()
    url = scan(doc, live)
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert checks(page)["PROPERTY_STATUS"] == "UNIT_MISMATCH"
        assert_same_checks(page, live, url)
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(doc.obj())


def test_certificate_reads_like_a_certificate_on_a_small_phone(
    browser: BrowserContext, live_property: LiveVerifier, issue: IssueFn, world: World, s: Setup
) -> None:
    """A property certificate on a phone 360 px wide: each owner a card with the schema's labels
    (name, ID type in words, ID number masked with a tap to reveal, share); nothing wider than
    the screen; no serious or critical accessibility violation, in Chinese and in English."""
    live = live_property
    (doc,) = issue(
        [property_record(8)], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key, verifier_url=live.base_url
    )
    register(s, certificate_of(doc))
    live.wait_for_index()
    owners = doc.obj()["data"]["owners"]
    assert [o["idType"] for o in owners] == ["resident-id", "resident-id"]
    assert all(len(o["idNumber"]) == 18 for o in owners)
    url = scan(doc, live)
    page = open_page(browser, live, url, width=360)
    try:
        assert verdict_of(page) == ("VALID", "result valid")
        cards = page.locator("#fields > dd ol.entries > li")
        assert cards.count() == len(owners)
        for i, owner in enumerate(owners):
            card = cards.nth(i)
            assert card.locator(".entry-title").inner_text() == f"权利人 {i + 1}"
            lines = terms(card, "dl.record")
            assert list(lines) == ["姓名/名称", "证件种类", "证件号", "份额"], lines
            assert lines["姓名/名称"] == owner["name"]
            assert lines["证件种类"] == "居民身份证"
            assert lines["份额"] == owner["share"]
            number = owner["idNumber"]
            assert card.locator(".secret").inner_text() == f"{number[:4]}{'*' * 10}{number[-4:]}"
        # no full ID number on the screen until its holder taps to see it
        body = page.locator("body").inner_text()
        assert not [o["idNumber"] for o in owners if o["idNumber"] in body], body
        first, second = cards.nth(0), cards.nth(1)
        button = first.locator("button.reveal")
        assert button.inner_text() == "显示" and button.get_attribute("aria-pressed") == "false"
        assert button.get_attribute("aria-label") == "显示完整证件号"
        button.tap()
        assert first.locator(".secret").inner_text() == owners[0]["idNumber"]
        assert button.inner_text() == "隐藏" and button.get_attribute("aria-pressed") == "true"
        assert owners[1]["idNumber"] not in second.inner_text()
        button.tap()
        assert owners[0]["idNumber"] not in page.locator("body").inner_text()
        # no raw JSON of a record anywhere
        assert "idNumber" not in body and "resident-id" not in body and "{" not in text(page, "#fields")
        assert_fits(page, 360)
        assert accessibility_violations(page) == []
        screenshot(page, "property-360")

        page.locator("#lang").click()
        lines = terms(cards.nth(0), "dl.record")
        assert list(lines) == ["Name", "ID type", "ID number", "Share"], lines
        assert lines["ID type"] == "Resident ID card"
        assert cards.nth(0).locator("button.reveal").inner_text() == "Show"
        assert_fits(page, 360)
        assert accessibility_violations(page) == []
        screenshot(page, "property-360-en")
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(doc.obj())


def test_mortgage_certificate_shows_its_status(
    browser: BrowserContext, live_property: LiveVerifier, issue: IssueFn, world: World, s: Setup
) -> None:
    """A mortgage certificate: registered by the bank (ACTIVE, the bank and since when), then
    released (RELEASED, the certificate revoked)."""
    live = live_property
    (title,) = issue(
        [property_record(3)], doc_type=PROPERTY_CERTIFICATE, key=world.natres_key, verifier_url=live.base_url
    )
    unit, _ = register(s, certificate_of(title))
    (doc,) = issue(
        [mortgage_record(4)], doc_type=MORTGAGE_CERTIFICATE, key=world.natres_key, verifier_url=live.base_url
    )
    registered, mortgage_id = s.prop.register_mortgage(s.bank, unit, certificate_of(doc))
    live.wait_for_index()
    url = scan(doc, live)
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("VALID", "result valid")
        assert checks(page)["MORTGAGE_STATUS"] == "ACTIVE"
        assert_same_checks(page, live, url)
        assert page.locator("#property").is_hidden()
        assert page.locator("#mortgage").is_visible()
        assert page.locator("#mortgage").get_attribute("data-code") == "ACTIVE"
        assert text(page, "#mortgage-status") == "抵押权已登记，现行有效"
        assert "current" in (page.locator("#mortgage-status").get_attribute("class") or "")
        record = terms(page, "#mortgage-record")
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, registered)))
        assert record == {
            "不动产单元（哈希）": abbreviated(unit),
            "抵押权人": BANK_NAME,
            "抵押登记序号": str(mortgage_id),
            "抵押登记时间": since,
        }
        lines = page.eval_on_selector_all("#checks li", "lis => lis.map(li => li.textContent)")
        assert "✓ 抵押权状态：该证明所载抵押权已登记，现行有效。" in lines, lines
        screenshot(page, "mortgage-active")
        page.locator("#lang").click()
        assert text(page, "#mortgage-status") == "Mortgage registered and in force"
        assert terms(page, "#mortgage-record")["Mortgagee"] == BANK_NAME
        assert "Mortgage status" in text(page, "#checks")
    finally:
        page.close()

    released = s.prop.release_mortgage(s.bank, unit, mortgage_id)
    live.wait_for_index()
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert checks(page)["MORTGAGE_STATUS"] == "RELEASED"
        assert_same_checks(page, live, url)
        assert checks(page)["DOCUMENT_STATUS"] == "REVOKED"
        assert text(page, "#mortgage-status") == "抵押权已注销"
        assert "released" in (page.locator("#mortgage-status").get_attribute("class") or "")
        record = terms(page, "#mortgage-record")
        assert record["注销时间"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time(world, released)))
        assert terms(page, "#record")["当前状态"] == "已撤销"
        screenshot(page, "mortgage-released")
        page.locator("#lang").click()
        assert text(page, "#mortgage-status") == "The mortgage was released"
        assert "Released on" in terms(page, "#mortgage-record")
    finally:
        page.close()
    live.assert_never_saw(key_text(url))
    live.assert_kept_private(doc.obj())
