"""JSON-lines logs on stderr, every line of a request carrying its request id.

:class:`AccessLog` is the outermost middleware: it takes the request id from ``X-Request-ID``
(when it is a short token) or makes one, returns it in the response, holds it in a context
variable for every log line written while the request runs (threads started through anyio or
:class:`httpkit.blocking.WorkerPool` inherit it), and writes one line per request: method,
path, status, duration. Never a body, a query string or a header value: those carry personal
data and keys.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpkit.errors import send_internal_error

__all__ = ["AccessLog", "JsonLineFormatter", "configure_logging", "request_id"]

_REQUEST_ID: ContextVar[str | None] = ContextVar("ereg_request_id", default=None)
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
_MAX_PATH = 256
#: The status logged for a request whose client went away before an answer (nginx's convention).
CLIENT_CLOSED = 499
_ACCESS = "ereg_access"  # the LogRecord attribute carrying an access line's fields
_service = "ereg"

access_log = logging.getLogger("ereg.access")
error_log = logging.getLogger("ereg.error")


def request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return _REQUEST_ID.get()


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: ts, level, service, requestId, and the message or access fields.

    An exception is named by its type only: its text may hold what a client sent.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "service": _service,
        }
        rid = getattr(record, "request_id", None) or _REQUEST_ID.get()
        if rid is not None:
            line["requestId"] = rid
        fields = getattr(record, _ACCESS, None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["logger"] = record.name
            line["message"] = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler configure_logging installed, so a second call replaces it."""


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for the root logger and uvicorn's; idempotent.

    uvicorn's own access lines are dropped (:class:`AccessLog` writes the project's); run
    uvicorn with ``log_config=None`` so it does not install its handlers again.
    """
    global _service
    _service = service
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(handler)
    handler = _OurHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def _request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _VALID_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


class AccessLog:
    """Pure ASGI middleware, outermost: request id in and out, one access line per request.

    An exception that escapes the app is answered with a 500 (if nothing was sent yet),
    logged by type name, and not re-raised: this is the outermost layer, and the server's
    traceback would be a second, unstructured log of it.
    """

    def __init__(self, app: ASGIApp, *, service: str | None = None) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id_of(scope)
        token = _REQUEST_ID.set(rid)
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(n, v) for n, v in message.get("headers", ()) if bytes(n).lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            if status is None:
                status = CLIENT_CLOSED
        except Exception as exc:  # noqa: BLE001 - the outermost layer: answer and log, never a traceback
            if status is None:
                await send_internal_error(exc, scope, receive, send_with_id)
            else:
                error_log.error("error after the response started: %s", type(exc).__name__)
        finally:
            duration = (time.perf_counter() - started) * 1000
            fields: dict[str, Any] = {
                "method": scope.get("method", ""),
                "path": str(scope.get("path", ""))[:_MAX_PATH],
                "status": status if status is not None else 500,
                "durationMs": round(duration, 3),
            }
            if self.service is not None:
                fields = {"service": self.service, **fields}
            access_log.info("request", extra={_ACCESS: fields, "request_id": rid})
            _REQUEST_ID.reset(token)
