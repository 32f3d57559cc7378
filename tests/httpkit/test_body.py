"""BodyGuard: the body limit and the strict JSON parse run before any route, through real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from httpkit.body import INLINE_PARSE_BYTES, BodyGuard, read_body
from httpkit.errors import HttpError
from httpkit.jsonguard import JsonLimits
from tests.httpkit.adversarial import ADVERSARIAL
from tests.httpkit.conftest import AppFactory


@pytest.fixture
def client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app(max_bytes=2 * 1024 * 1024), raise_server_exceptions=False) as test_client:
        yield test_client


def test_json_is_parsed_once_and_handed_to_the_route(client: TestClient) -> None:
    response = client.post(
        "/echo",
        content=b'{"a": [1, 2, {"b": null}], "big": 9007199254740993}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json() == {"value": {"a": [1, 2, {"b": None}], "big": 9007199254740992.0}}
    response = client.post("/echo", content=b'{"x": 1}', headers={"Content-Type": "application/vnd.ereg+json"})
    assert response.json() == {"value": {"x": 1}}


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_adversarial_bodies_are_4xx_before_the_route(client: TestClient, kind: str) -> None:
    response = client.post(
        "/echo", content=ADVERSARIAL[kind](1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"
    assert response.json()["error"]["message_zh"]
    assert client.app.state.calls == 0  # type: ignore[attr-defined]


def test_large_valid_body_is_parsed_off_the_loop(client: TestClient) -> None:
    value = {"items": ["x" * 100] * 2000}
    body = json.dumps(value).encode()
    assert len(body) > INLINE_PARSE_BYTES
    response = client.post("/echo", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"value": value}


def test_declared_length_over_the_limit_is_413(make_app: AppFactory) -> None:
    with TestClient(make_app(max_bytes=100), raise_server_exceptions=False) as client:
        response = client.post(
            "/echo", content=b"[" + b"1," * 100 + b"1]", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert client.app.state.calls == 0  # type: ignore[attr-defined]
        assert client.post("/echo", json=[1]).status_code == 200


@pytest.mark.anyio
async def test_streamed_body_over_the_limit_is_413_without_reading_the_rest() -> None:
    chunks = [b"x" * 60, b"x" * 60, b"never read"]
    served: list[bytes] = []

    async def receive() -> Message:
        chunk = chunks.pop(0)
        served.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    with pytest.raises(HttpError) as info:
        await read_body(receive, {"type": "http", "headers": []}, 100)
    assert info.value.http_status == 413
    assert len(served) == 2


@pytest.mark.anyio
async def test_guard_answers_a_streamed_oversize_body_itself() -> None:
    sent: list[Message] = []
    reached = False

    async def app(scope: object, receive: object, send: object) -> None:
        nonlocal reached
        reached = True

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 64, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    guard = BodyGuard(app, max_bytes=1000, limits=JsonLimits())
    await guard({"type": "http", "method": "POST", "headers": [(b"content-type", b"application/json")]}, receive, send)
    assert not reached
    assert sent[0]["status"] == 413


def test_non_json_bodies_pass_raw(client: TestClient) -> None:
    response = client.post("/raw", content=b"plain {not json", headers={"Content-Type": "text/plain"})
    assert response.json() == {"length": 15, "again": 15}  # replayed to the route
    response = client.post("/echo", content=b"plain", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_empty_json_body(client: TestClient) -> None:
    response = client.post("/echo", content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


def test_get_is_not_touched(client: TestClient) -> None:
    assert client.get("/ok").json() == {"status": "ok"}
