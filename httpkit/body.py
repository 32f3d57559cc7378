"""One body reader with its limit, and the guard that parses JSON bodies before anything else.

:class:`BodyGuard` sits in front of every route: a body over the limit is refused with a 413
before it is held in memory (a declared ``Content-Length`` at once, a streamed body as soon as
it passes the limit), and a JSON body is parsed by :func:`httpkit.jsonguard.parse_json` before
authentication, routing or validation look at it. Routes read the one parsed value with
:func:`guarded_json`, so no second, more lenient parser ever sees the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.to_thread
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpkit.errors import HttpError, json_error
from httpkit.jsonguard import JsonLimits, parse_json

__all__ = [
    "INLINE_PARSE_BYTES",
    "BodyGuard",
    "GuardedRoute",
    "guarded_body",
    "guarded_json",
    "media_type",
    "read_body",
    "too_large",
]

#: Bodies up to this size are parsed on the event loop (well under a millisecond); larger ones
#: in a worker thread, so a 1 MiB body never holds up other requests.
INLINE_PARSE_BYTES = 64 * 1024
_GUARD_THREADS = 4  # the guard's own threads: sync routes waiting on a backend cannot starve it
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_STATE_JSON = "json"
_STATE_BODY = "body"


def too_large(limit: int) -> HttpError:
    """413 ``PAYLOAD_TOO_LARGE``."""
    return HttpError(413, "PAYLOAD_TOO_LARGE", f"the body is larger than {limit} bytes", f"请求体超过 {limit} 字节")


async def read_body(receive: Receive, scope: Scope, limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes.

    Raises :class:`HttpError` 413 when the declared length or the bytes received pass the
    limit, :class:`~starlette.requests.ClientDisconnect` when the client goes away.
    """
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def media_type(scope: Scope) -> str:
    """The request's media type, lower case, without parameters ("" when none is given)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1").split(";", 1)[0].strip().lower())
    return ""


def _is_json(kind: str, json_types: frozenset[str]) -> bool:
    return kind in json_types or (kind.startswith("application/") and kind.endswith("+json"))


class BodyGuard:
    """Pure ASGI middleware: bounded body, strict JSON parsed first, body replayed downstream.

    For POST/PUT/PATCH it stores the raw bytes in ``scope["state"]["body"]`` and, for a
    non-empty JSON body (``application/json``, ``application/*+json``, or ``json_types``), the
    parsed value in ``scope["state"]["json"]``. ``on_refused`` sees each refusal (metrics).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        limits: JsonLimits = JsonLimits(),  # noqa: B008 - frozen, shared on purpose
        json_types: frozenset[str] = frozenset({"application/json"}),
        on_refused: Callable[[HttpError], None] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits
        self.json_types = frozenset(kind.lower() for kind in json_types)
        self.on_refused = on_refused
        self._limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, scope, self.max_bytes)
            state: dict[str, Any] = scope.setdefault("state", {})
            state[_STATE_BODY] = body
            if body and _is_json(media_type(scope), self.json_types):
                state[_STATE_JSON] = await self._parse(body)
        except ClientDisconnect:
            return  # nobody to answer
        except HttpError as refusal:
            if self.on_refused is not None:
                self.on_refused(refusal)
            response = json_error(
                refusal.http_status, refusal.code, refusal.message, refusal.describe("zh"), refusal.headers
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _parse(self, body: bytes) -> Any:
        if len(body) <= INLINE_PARSE_BYTES:
            return parse_json(body, self.limits)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(_GUARD_THREADS)
        return await anyio.to_thread.run_sync(parse_json, body, self.limits, limiter=self._limiter)


def _state(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.scope.get("state", {})
    if _STATE_BODY not in state:
        raise RuntimeError("no BodyGuard in front of this route")
    return state


def guarded_json(request: Request) -> Any:
    """The JSON value :class:`BodyGuard` parsed from this request's body.

    400 ``MALFORMED_JSON`` when the body is empty, 415 when it is not JSON.
    """
    state = _state(request)
    if _STATE_JSON in state:
        return state[_STATE_JSON]
    if not state[_STATE_BODY]:
        raise HttpError(400, "MALFORMED_JSON", "a JSON body is required", "需要 JSON 请求体")
    raise HttpError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "the body must be JSON (Content-Type: application/json)",
        "请求体必须是 JSON（Content-Type: application/json）",
    )


def guarded_body(request: Request) -> bytes:
    """The raw body :class:`BodyGuard` read (at most its ``max_bytes``)."""
    body: bytes = _state(request)[_STATE_BODY]
    return body


class _GuardedRequest(Request):
    """A request whose ``json()`` is the value :class:`BodyGuard` parsed, strictly, before routing."""

    async def json(self) -> Any:
        return guarded_json(self)


class GuardedRoute(APIRoute):
    """A route class for FastAPI routes with pydantic bodies: FastAPI's own (lenient) ``json.loads``
    never sees the body; validation gets the guard's value, so one parser decides.

    Use as ``APIRouter(route_class=GuardedRoute)``.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            return await handler(_GuardedRequest(request.scope, request.receive))

        return guarded
