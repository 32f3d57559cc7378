"""Refuses request bodies above the configured size before they are read into memory, and JSON
nested deeper than documents.model.MAX_JSON_DEPTH before anything parses it (web3's
dependencies raise the recursion limit so far that deep JSON would overflow the C stack)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from documents.model import MAX_JSON_DEPTH, json_too_deep
from registry_api.errors import error_body


def too_large_detail(max_bytes: int) -> str:
    return f"the body is larger than {max_bytes} bytes"


class BodyLimit:
    """A declared Content-Length above the limit is refused at once; a streamed body once it passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_too_deep(body):
            await _send_error(
                send,
                400,
                error_body(
                    "MALFORMED_JSON",
                    f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels",
                    f"请求体中数组或对象嵌套超过 {MAX_JSON_DEPTH} 层",
                ),
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await _send_error(
            send,
            413,
            error_body("PAYLOAD_TOO_LARGE", too_large_detail(self.max_bytes), f"请求体超过 {self.max_bytes} 字节"),
        )


async def _send_error(send: Send, status: int, body: dict[str, object]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
