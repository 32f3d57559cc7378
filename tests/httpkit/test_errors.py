"""One error body for every refusal, from the one set of handlers."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from common.errors import EregError
from httpkit.errors import ERROR_RESPONSES, ErrorBody, HttpError, error_body, install_error_handlers, json_error


class Conflict(EregError):
    code = "CONFLICT_HERE"
    message_zh = "冲突"
    http_status = 409


class Item(BaseModel):
    name: str


def build(seen: list[EregError]) -> FastAPI:
    app = FastAPI()

    @app.get("/busy")
    async def busy() -> None:
        raise HttpError(429, "RATE_LIMITED", "slow down", "请慢一点", headers={"Retry-After": "3"})

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already there")

    @app.get("/root")
    async def root() -> None:
        raise EregError("plain root")

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("secret-value-123 must never reach a log or a client")

    @app.post("/items")
    async def items(item: Item) -> Item:
        return item

    install_error_handlers(app, on_error=seen.append)
    return app


@pytest.fixture
def seen() -> list[EregError]:
    return []


@pytest.fixture
def client(seen: list[EregError]) -> TestClient:
    return TestClient(build(seen), raise_server_exceptions=False)


def test_http_error_carries_status_code_words_and_headers() -> None:
    exc = HttpError(503, "BUSY", "busy", "繁忙", headers={"Retry-After": "1"})
    assert isinstance(exc, EregError)
    assert (exc.http_status, exc.status_code, exc.code, exc.message, exc.message_zh) == (
        503,
        503,
        "BUSY",
        "busy",
        "繁忙",
    )
    assert exc.headers == {"Retry-After": "1"}
    assert exc.describe("zh") == "繁忙"
    assert error_body("C", "m", "中") == {"error": {"code": "C", "message": "m", "message_zh": "中"}}


def test_refusal_with_headers(client: TestClient, seen: list[EregError]) -> None:
    response = client.get("/busy")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json() == error_body("RATE_LIMITED", "slow down", "请慢一点")
    assert [e.code for e in seen] == ["RATE_LIMITED"]


def test_any_ereg_error_answers_with_its_status(client: TestClient) -> None:
    response = client.get("/conflict")
    assert response.status_code == 409
    assert response.json() == error_body("CONFLICT_HERE", "already there", "冲突")
    response = client.get("/root")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "EREG_ERROR"


def test_validation_error_is_422(client: TestClient) -> None:
    response = client.post("/items", json={"name": 5})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "INVALID_REQUEST"
    assert "body/name" in body["message"] and body["message_zh"]


def test_framework_refusals_in_the_project_codes(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    response = client.delete("/busy")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"


def test_unexpected_error_is_500_named_by_type_only(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ereg.error"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == error_body("INTERNAL", "internal error", "服务内部错误")
    assert "secret-value-123" not in response.text
    assert any("ValueError" in r.getMessage() for r in caplog.records)
    assert not any("secret-value-123" in r.getMessage() for r in caplog.records)


def test_json_error_and_openapi_responses() -> None:
    response = json_error(413, "PAYLOAD_TOO_LARGE", "too big", "过大", {"X-A": "1"})
    assert response.status_code == 413
    assert response.headers["x-a"] == "1"
    assert json.loads(bytes(response.body)) == error_body("PAYLOAD_TOO_LARGE", "too big", "过大")
    assert set(ERROR_RESPONSES) == {400, 413, 415, 422, 429, 503}
    assert all(spec["model"] is ErrorBody for spec in ERROR_RESPONSES.values())
