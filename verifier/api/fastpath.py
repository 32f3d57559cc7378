"""A direct ASGI path for POST /v1/verify with a JSON or text body, the window's hot path.

It answers exactly as the FastAPI route would (same parsing, same verdicts, same error bodies)
but without the framework's per-request machinery, which costs more than the verification
itself. Uploads and anything unusual fall through to the FastAPI route.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from verifier.api.errors import ApiError, error_body
from verifier.api.routes.verify import BODY_MEDIA_TYPES, record, verdict_for_body

_JSON = (b"content-type", b"application/json")


class VerifyFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/verify":
            await self.app(scope, receive, send)
            return
        content_type = b"application/json"
        content_length: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
        media_type = content_type.split(b";")[0].strip().lower().decode("latin-1")
        if media_type not in BODY_MEDIA_TYPES:
            await self.app(scope, receive, send)
            return
        runtime: Any = scope["app"].state.runtime
        started = time.perf_counter()
        try:
            body = await _read(receive, runtime.settings.max_body_bytes, content_length)
            verdict = verdict_for_body(media_type, body, runtime)
        except ApiError as exc:
            payload = json.dumps(error_body(exc.code, exc.message, exc.message_zh), ensure_ascii=False).encode()
            await _respond(send, exc.status_code, payload)
            return
        record(runtime, verdict, started)
        await _respond(send, 200, verdict.model_dump_json(by_alias=True).encode())


async def _read(receive: Receive, limit: int, declared: bytes | None) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "DISCONNECTED", "the client went away", "客户端已断开连接")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is larger than {limit} bytes", f"请求体超过 {limit} 字节")


async def _respond(send: Send, status: int, payload: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
