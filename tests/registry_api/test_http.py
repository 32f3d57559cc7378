"""The relay's HTTP edge, from the shared kit: security headers on every answer (errors and 404s
included), a request id taken or made and returned, the API docs page from the relay's own
assets (no script, no other host) or off, and JSON-lines access logs that carry no body.
"""

from __future__ import annotations

import json
import logging
import os
import re

import pytest
from fastapi.testclient import TestClient

from httpkit.logs import JsonLineFormatter
from tests.factories import World
from tests.registry_api.conftest import MakeRelay, anchor_json

pytestmark = pytest.mark.chain

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


def test_every_answer_carries_the_security_headers(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(rate_limit_per_second=0.01, rate_limit_burst=5)  # /healthz and /metrics are exempt
    answers = [
        relay.get("/healthz"),
        relay.get("/metrics"),
        relay.get("/no/such/path"),  # 404 from the framework
        relay.post("/healthz"),  # 405
        relay.post("/v1/anchors", content=b'{"a": 1, "a": 2}', headers={"content-type": "application/json"}),
        relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(os.urandom(32)))]),  # 202
    ]
    request_id = answers[-1].json()["requests"][0]["id"]
    answers += [relay.get(f"/v1/requests/{request_id}"), relay.get("/openapi.json")]
    answers.append(relay.get(f"/v1/requests/{request_id}"))  # the sixth that counts: 429
    assert [a.status_code for a in answers] == [200, 200, 404, 405, 400, 202, 200, 200, 429]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.url, name, answer.headers)
        assert "strict-transport-security" not in answer.headers
    behind_tls = make_relay(tls=True).get("/livez")
    assert behind_tls.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_the_request_id_is_taken_or_made_and_returned(relay: TestClient) -> None:
    given = relay.get("/livez", headers={"X-Request-ID": "window-7.req:42"})
    assert given.headers["x-request-id"] == "window-7.req:42"
    made = relay.get("/livez", headers={"X-Request-ID": "no spaces <or> tags"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"]), made.headers
    assert re.fullmatch(r"[0-9a-f]{32}", relay.get("/livez").headers["x-request-id"])


def test_the_docs_page_is_the_relays_own_and_can_be_off(make_relay: MakeRelay) -> None:
    relay = make_relay()
    page = relay.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text.lower() and "http://" not in page.text and "https://" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp, csp
    assert "/v1/anchors" in page.text
    assert relay.get("/redoc").status_code == 404
    closed = make_relay(docs=False)
    assert closed.get("/docs").status_code == 404 and closed.get("/openapi.json").status_code == 404


def test_access_logs_are_json_lines_without_bodies(
    world: World, relay: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    signed = anchor_json(world.sign_anchor(os.urandom(32)))
    with caplog.at_level(logging.INFO, logger="ereg.access"):
        relay.post("/v1/anchors?secret=query", json=[signed], headers={"X-Request-ID": "trace-1"})
    records = [r for r in caplog.records if r.name == "ereg.access"]
    assert records, caplog.records
    line = json.loads(JsonLineFormatter().format(records[-1]))
    assert line["requestId"] == "trace-1" and line["method"] == "POST" and line["path"] == "/v1/anchors"
    assert line["status"] == 202 and line["service"] == "relay" and isinstance(line["durationMs"], float)
    text = json.dumps(line)
    assert signed["signature"] not in text and "secret" not in text, text
