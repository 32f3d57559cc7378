"""The one error body every 4xx/5xx answer has: a stable code and messages in English and Chinese."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    message_zh: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status_code: int, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.message_zh = message_zh


def error_body(code: str, message: str, message_zh: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "message_zh": message_zh}}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    413: {"model": ErrorBody, "description": "Body too large"},
    415: {"model": ErrorBody, "description": "Unsupported media type"},
    422: {"model": ErrorBody, "description": "Invalid request"},
}
