"""Security headers on every response: JSON answers, errors, 404s, static files and pages.

A header the app set itself wins (a page sends its own, wider Content-Security-Policy); the
middleware only fills in what is missing, at the response's start message, so nothing that
answers inside it can skip them. An exception that escapes the app before it answered is
answered here (a 500 with the headers), not by the framework's outermost layer, which sits
outside every middleware and would send its 500 without them.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpkit.errors import send_internal_error

__all__ = ["DEFAULT_CSP", "HSTS", "SecurityHeaders"]

#: For JSON answers: nothing may load, frame, or submit anything.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI middleware adding CSP, nosniff, frame, referrer and resource policies (and HSTS behind TLS)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False, csp: str = DEFAULT_CSP) -> None:
        self.app = app
        headers = [
            (b"content-security-policy", csp.encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if hsts:
            headers.append((b"strict-transport-security", HSTS.encode("latin-1")))
        self.headers: tuple[tuple[bytes, bytes], ...] = tuple(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _value in headers}
                headers.extend(pair for pair in self.headers if pair[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            raise  # nobody to answer; the access log records it
        except Exception as exc:
            if started:
                raise  # too late to answer: the access log names it
            await send_internal_error(exc, scope, receive, send_with_headers)
