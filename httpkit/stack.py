"""The HTTP stack every service runs, installed in one call so that the services cannot drift.

Outermost first: the access log with the request id, security headers, the per-client rate
limit, and the body guard that bounds and strictly parses every body before anything else;
then the service's own middlewares (added before :func:`install_stack`), then the routes. The
one error body's handlers and the docs page come with it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from common.errors import EregError
from httpkit.body import BodyGuard
from httpkit.docs import install_docs
from httpkit.errors import install_error_handlers
from httpkit.headers import SecurityHeaders
from httpkit.logs import AccessLog
from httpkit.ratelimit import ClientRateLimit, RateLimiter
from httpkit.settings import HttpSettings

JSON_TYPES = frozenset({"application/json"})


def install_stack(
    app: FastAPI,
    settings: HttpSettings,
    *,
    service: str,
    json_types: frozenset[str] = JSON_TYPES,
    on_error: Callable[[EregError], None] | None = None,
) -> None:
    """Error handlers, docs and the kit's middlewares on ``app``.

    Call it after the service's own middlewares: ``add_middleware`` wraps what is there, so
    those run inside the guard and see only bodies it accepted. ``on_error`` sees every refusal,
    the guard's included (the relay counts them).
    """
    install_error_handlers(app, on_error=on_error)
    install_docs(app, enabled=settings.docs)
    limiter = None
    if settings.rate_limit_per_second > 0:
        limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.max_body_bytes,
        limits=settings.json_limits(),
        json_types=json_types,
        on_refused=on_error,
    )
    app.add_middleware(ClientRateLimit, limiter=limiter, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(SecurityHeaders, hsts=settings.tls)
    app.add_middleware(AccessLog, service=service)
