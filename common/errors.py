"""The root of every error the project raises on purpose.

Each error carries a stable machine-readable ``code``, an English ``message`` and a Chinese
``message_zh``. Packages derive their own trees from :class:`EregError` (``ChainError``,
``DocumentError``, ``StorageError``, ``IssuerError``, the services' HTTP errors); the edges
(the CLI and the HTTP handlers) translate this root only, so a new error never needs a new
handler and is never shown as a stack trace.

``http_status`` is the status an HTTP edge answers with when the error reaches it unhandled:
500 for the root (something the service should not have let through), a 4xx where the caller
is at fault, 502/503 where a backend is.
"""

from __future__ import annotations

from typing import Any


class EregError(Exception):
    """Root error: ``code``, ``message`` (English) and ``message_zh`` (Chinese)."""

    code: str = "EREG_ERROR"
    message_zh: str = "操作失败"
    http_status: int = 500

    def __init__(self, message: str = "", message_zh: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if message_zh is not None:
            self.message_zh = message_zh  # this error's own words, instead of the class's
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message or super().__str__()

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as its class, its args and its attributes, rebuilt without calling __init__ (a
        # subclass's takes other arguments than ``args`` holds): what a worker process raises
        # reaches the process that waits for it whole, not as a TypeError of unpickling
        return (_rebuild, (type(self), self.args, dict(vars(self))))

    def describe(self, lang: str = "en") -> str:
        """The message in ``lang`` ("zh" or "en"), falling back to the other one when empty."""
        if lang == "zh":
            return self.message_zh or self.message
        return self.message or self.message_zh


def _rebuild(cls: type[EregError], args: tuple[Any, ...], state: dict[str, Any]) -> EregError:
    error = cls.__new__(cls, *args)
    error.args = args
    vars(error).update(state)
    return error
