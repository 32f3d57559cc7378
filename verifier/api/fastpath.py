"""A direct ASGI path for POST /v1/verify with a JSON or text body, the window's hot path.

It answers exactly as the FastAPI route would (the same request logic in
:mod:`verifier.api.verifying`, the same verdicts and error bodies) but without the framework's
per-request machinery, which costs more than the verification itself. It sits behind the HTTP
kit's :class:`~httpkit.body.BodyGuard`, so the body it reads is the one the guard bounded and
parsed: the fast path never parses a body itself. Uploads and other media types fall through to
the FastAPI route.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from httpkit.body import media_type
from httpkit.errors import HttpError, json_error
from verifier.api.verifying import (
    BODY_MEDIA_TYPES,
    CREDENTIAL_MEDIA_TYPE,
    TEXT_MEDIA_TYPES,
    record,
    request_from_credential,
    request_from_json,
    request_from_text,
    request_media_type,
    verify,
)
from verifier.runtime import Runtime

_JSON = (b"content-type", b"application/json")


class VerifyFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/verify":
            await self.app(scope, receive, send)
            return
        kind = request_media_type(media_type(scope))
        if kind not in BODY_MEDIA_TYPES:
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        state: dict[str, Any] = scope.get("state", {})
        started = time.perf_counter()
        try:
            if kind in TEXT_MEDIA_TYPES:
                request = request_from_text(state["body"])
            elif kind == CREDENTIAL_MEDIA_TYPE:
                request = request_from_credential(state["body"])
            elif "json" in state:
                request = request_from_json(state["json"])
            else:
                raise HttpError(400, "MALFORMED_JSON", "a JSON body is required", "需要 JSON 请求体")
            verdict = await verify(runtime, request)
        except HttpError as exc:
            runtime.metrics.bad_requests.labels(exc.code).inc()
            await json_error(exc.http_status, exc.code, exc.message, exc.describe("zh"), exc.headers)(
                scope, receive, send
            )
            return
        record(runtime, verdict, started)
        payload = verdict.model_dump_json(by_alias=True).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
