"""The one error body of the services and the handlers that produce it.

Every refusal at the HTTP edge is ``{"error": {"code", "message", "message_zh"}}``. Services
raise :class:`HttpError` (or any :class:`~common.errors.EregError`, whose ``http_status``
says the status); :func:`install_error_handlers` translates that root only, plus the
framework's own refusals (validation, 404/405) and, last, anything unexpected as a 500 that
names the exception type and nothing else. Pure-ASGI code (middlewares answering before a
route runs) uses :func:`json_error` for the same body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from common.errors import EregError

__all__ = [
    "ERROR_RESPONSES",
    "ErrorBody",
    "ErrorDetail",
    "HttpError",
    "error_body",
    "install_error_handlers",
    "json_error",
    "send_internal_error",
]

log = logging.getLogger("ereg.error")

#: Longest validation message echoed back: pydantic's text is bounded, but a route's own
#: validator could say more than a client needs.
_MAX_DETAIL = 200


class HttpError(EregError):
    """A refusal at the HTTP edge: a status, a stable code, English and Chinese words.

    ``headers`` travel with the answer (``Retry-After`` on a 429 or 503).
    """

    code = "HTTP_ERROR"
    message_zh = "请求错误"
    http_status = 400

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        message_zh: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, message_zh, code=code)
        self.http_status = status
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def status_code(self) -> int:
        """Alias of ``http_status`` for code written against the services' former errors."""
        return self.http_status


class ErrorDetail(BaseModel):
    """What went wrong: a stable machine-readable code and the words in both languages."""

    code: str
    message: str
    message_zh: str


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer (for the OpenAPI document)."""

    error: ErrorDetail


def error_body(code: str, message: str, message_zh: str) -> dict[str, Any]:
    """``{"error": {"code", "message", "message_zh"}}``."""
    return {"error": {"code": code, "message": message, "message_zh": message_zh}}


#: ``responses=`` for routes and routers: the refusals every JSON route can give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    413: {"model": ErrorBody, "description": "Body too large"},
    415: {"model": ErrorBody, "description": "Unsupported media type"},
    422: {"model": ErrorBody, "description": "Invalid request"},
    429: {"model": ErrorBody, "description": "Too many requests"},
    503: {"model": ErrorBody, "description": "Busy or a backend unavailable"},
}


def json_error(
    status: int,
    code: str,
    message: str,
    message_zh: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error body as a response, for middlewares that answer before any route runs."""
    return JSONResponse(error_body(code, message, message_zh), status_code=status, headers=dict(headers or {}))


async def send_internal_error(exc: BaseException, scope: Scope, receive: Receive, send: Send) -> None:
    """Log ``exc`` by its type name and answer 500 ``INTERNAL`` (for middlewares, before a response started)."""
    # the type name only: an exception's text may carry a body, a key or a node's answer
    log.error("unexpected error: %s", type(exc).__name__)
    await json_error(500, "INTERNAL", "internal error", "服务内部错误")(scope, receive, send)


#: The framework's own refusals (no route, wrong method, …) in the project's codes.
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "请求有误"),
    401: ("UNAUTHORIZED", "未经认证"),
    403: ("FORBIDDEN", "无权访问"),
    404: ("NOT_FOUND", "未找到"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    406: ("NOT_ACCEPTABLE", "无法提供所请求的格式"),
    413: ("PAYLOAD_TOO_LARGE", "请求体过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的媒体类型"),
    429: ("RATE_LIMITED", "请求过于频繁"),
    503: ("UNAVAILABLE", "服务暂不可用"),
}


def install_error_handlers(app: FastAPI, *, on_error: Callable[[EregError], None] | None = None) -> None:
    """Answer every error of ``app`` with the one error body.

    ``on_error`` sees each :class:`EregError` before it is answered (the relay counts its
    refusals by code); it must not raise.
    """

    async def ereg_error(_request: Request, exc: Exception) -> Response:
        if not isinstance(exc, EregError):  # registered for it only
            raise exc
        if on_error is not None:
            on_error(exc)
        status = exc.http_status
        if status >= 500:
            log.error("request failed: %s (%s)", exc.code, type(exc).__name__)
        headers = exc.headers if isinstance(exc, HttpError) else None
        return json_error(status, exc.code, exc.message, exc.describe("zh"), headers)

    async def validation_error(_request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):  # registered for it only
            raise exc
        errors = exc.errors()
        first: Mapping[str, Any] = errors[0] if errors else {}
        where = "/".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", ""))[:_MAX_DETAIL]
        return json_error(422, "INVALID_REQUEST", f"invalid request at {where}: {message}", f"请求参数有误：{where}")

    async def http_error(_request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):  # registered for it only
            raise exc
        code, message_zh = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "请求错误"))
        return json_error(exc.status_code, code, str(exc.detail)[:_MAX_DETAIL], message_zh, exc.headers)

    async def unexpected(_request: Request, exc: Exception) -> Response:
        # the type name only: an exception's text may carry a body, a key or a node's answer
        log.error("unexpected error: %s", type(exc).__name__)
        return json_error(500, "INTERNAL", "internal error", "服务内部错误")

    app.add_exception_handler(EregError, ereg_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
