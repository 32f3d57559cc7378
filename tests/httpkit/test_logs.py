"""Access and error logs as JSON lines with a request id, through a real uvicorn server.

The server runs the kit as a service composes it; the test reads its stderr line by line.
Nothing a client sends in a body, a query string or a header may appear there.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from httpkit.headers import SecurityHeaders
from httpkit.logs import CLIENT_CLOSED, AccessLog, JsonLineFormatter, configure_logging, request_id
from tests.httpkit.adversarial import unclosed_string

SERVER = textwrap.dedent(
    """
    import logging
    import sys

    import uvicorn
    from fastapi import FastAPI, Request

    from httpkit.blocking import WorkerPool
    from httpkit.body import BodyGuard, guarded_json
    from httpkit.docs import install_docs
    from httpkit.errors import install_error_handlers
    from httpkit.headers import SecurityHeaders
    from httpkit.jsonguard import JsonLimits
    from httpkit.logs import AccessLog, configure_logging
    from httpkit.ratelimit import ClientRateLimit

    configure_logging("kit-test")
    configure_logging("kit-test")  # idempotent: still one line per record
    log = logging.getLogger("ereg.test")
    pool = WorkerPool("test", workers=1, queue=0)
    app = FastAPI(docs_url=None, redoc_url=None)


    @app.post("/v1/thing")
    async def thing(request: Request) -> dict[str, int]:
        log.info("handling")
        value = guarded_json(request)
        await pool.run(lambda: log.info("in the pool"), deadline=5)
        return {"n": len(value)}


    @app.get("/sync")
    def sync() -> dict[str, str]:
        log.info("in a sync route")
        return {"ok": "yes"}


    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-in-exception")


    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(BodyGuard, max_bytes=1024 * 1024, limits=JsonLimits())
    app.add_middleware(ClientRateLimit, limiter=None)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
    """
)
ACCESS_FIELDS = {"ts", "level", "service", "requestId", "method", "path", "status", "durationMs"}
SECRETS = ("secret-body-value", "secret-query-value", "secret-header-value", "secret-in-exception")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    stderr = tmp_path / "stderr.log"
    port = free_port()
    with stderr.open("wb") as err:
        process = subprocess.Popen([sys.executable, str(script), str(port)], stderr=err, stdout=err)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/docs", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    pytest.fail("the server exited: " + stderr.read_text())
                time.sleep(0.05)
        yield base, stderr
    finally:
        process.terminate()
        process.wait(10)


def lines(stderr: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.read_text().splitlines() if line.strip()]


def test_request_ids_access_lines_and_no_secrets(server: tuple[str, Path]) -> None:
    base, stderr = server
    with httpx.Client(base_url=base) as client:
        posted = client.post(
            "/v1/thing?token=secret-query-value",
            json={"a": "secret-body-value"},
            headers={"X-Request-ID": "window-7:abc.123", "Authorization": "secret-header-value"},
        )
        assert posted.status_code == 200 and posted.json() == {"n": 1}
        assert posted.headers["x-request-id"] == "window-7:abc.123"
        made = client.get("/sync", headers={"X-Request-ID": "not a valid id!"})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        boom = client.get("/boom")
        assert boom.status_code == 500 and boom.json()["error"]["code"] == "INTERNAL"
        assert boom.headers["x-content-type-options"] == "nosniff"
        assert "secret-in-exception" not in boom.text
        refused = client.post(
            "/v1/thing", content=unclosed_string(120_000), headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 400 and refused.headers["content-security-policy"]
        missing = client.get("/nowhere")
        assert missing.status_code == 404 and missing.headers["x-frame-options"] == "DENY"
    time.sleep(0.2)  # the last access line is written after the response went out
    records = lines(stderr)  # every line is JSON
    text = stderr.read_text()
    for secret in SECRETS:
        assert secret not in text
    assert all(r["service"] == "kit-test" and "ts" in r and "level" in r for r in records)
    access = [r for r in records if "method" in r]
    assert all(set(r) == ACCESS_FIELDS for r in access)
    by_id = {r["requestId"]: r for r in access}
    assert by_id["window-7:abc.123"]["path"] == "/v1/thing"  # no query string
    assert by_id["window-7:abc.123"]["status"] == 200
    assert by_id[made.headers["x-request-id"]]["status"] == 200
    statuses = {(r["path"], r["status"]) for r in access}
    assert {("/boom", 500), ("/v1/thing", 400), ("/nowhere", 404)} <= statuses
    same_request = [r.get("message") for r in records if r.get("requestId") == "window-7:abc.123"]
    assert "handling" in same_request and "in the pool" in same_request  # threads carry the id
    assert "in a sync route" in [
        r.get("message") for r in records if r.get("requestId") == made.headers["x-request-id"]
    ]
    errors = [r for r in records if r.get("logger") == "ereg.error"]
    assert [r["message"] for r in errors] == ["unexpected error: RuntimeError"]
    assert errors[0]["requestId"] == boom.headers["x-request-id"]
    assert len([r for r in records if r.get("message") == "handling"]) == 1  # one handler, not two


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


@pytest.mark.usefixtures("restored_logging")
def test_configure_logging_is_idempotent_and_names_exceptions_by_type_only() -> None:
    configure_logging("unit")
    configure_logging("unit", "warning")
    ours = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonLineFormatter)]
    assert len(ours) == 1 and logging.getLogger().level == logging.WARNING
    try:
        raise ValueError("secret-body-value")
    except ValueError:
        record = logging.LogRecord("ereg.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(JsonLineFormatter().format(record))
    assert line["exception"] == "ValueError" and line["service"] == "unit"
    assert "secret-body-value" not in json.dumps(line)
    assert request_id() is None


@pytest.mark.anyio
async def test_a_client_gone_before_the_answer_is_logged_499_and_not_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ClientDisconnect()

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/v1/verify", "headers": []}
    with caplog.at_level(logging.INFO, logger="ereg.access"):
        await AccessLog(SecurityHeaders(app))(scope, receive, send)
    assert sent == []
    access = [getattr(r, "ereg_access", None) for r in caplog.records if r.name == "ereg.access"]
    assert access and access[-1] is not None and access[-1]["status"] == CLIENT_CLOSED == 499
    assert not [r for r in caplog.records if r.name == "ereg.error"]
