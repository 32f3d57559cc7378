"""Rate limits: a token bucket per key, and the middleware that applies one per client address.

The limiter is thread-safe (sync routes and the event loop share it) and bounded in memory:
at most ``max_keys`` buckets, the least recently used evicted first, so a flood of addresses
costs a fixed amount of memory (an evicted key simply starts again with a full bucket).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from httpkit.errors import HttpError, json_error

__all__ = ["DEFAULT_EXEMPT", "ClientRateLimit", "RateLimiter", "client_address", "too_many"]

#: Paths a rate limit never applies to: probes and scrapes must see a loaded service as it is.
DEFAULT_EXEMPT = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})


def too_many(
    retry_after: float,
    code: str = "RATE_LIMITED",
    message: str = "too many requests",
    message_zh: str = "请求过于频繁",
) -> HttpError:
    """429 with ``Retry-After`` in whole seconds (at least 1)."""
    seconds = max(1, math.ceil(retry_after))
    return HttpError(
        429,
        code,
        f"{message}; retry after {seconds} s",
        f"{message_zh}，请 {seconds} 秒后重试",
        headers={"Retry-After": str(seconds)},
    )


class RateLimiter:
    """Token bucket per key: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate must be > 0, burst and max_keys >= 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)

    def acquire(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens of ``key``'s bucket: 0.0 if allowed, else the seconds until it would be."""
        if cost > self.burst:
            raise ValueError(f"cost {cost} exceeds the burst {self.burst}: it could never be allowed")
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (cost - tokens) / self.rate
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(addresses: Iterable[str]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(address.strip(), strict=False) for address in addresses if address.strip())


def _is_trusted(peer: str, networks: tuple[_Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_address(scope: Scope, trusted: tuple[_Network, ...] = ()) -> str:
    """The client's address: the peer, or the last hop of ``X-Forwarded-For`` when the peer is a trusted proxy.

    Only the last hop: that is the one the trusted proxy itself appended; hops before it are
    whatever the client chose to send.
    """
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(part.strip() for part in value.decode("latin-1").split(","))
    last = hops[-1] if hops else ""
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return peer


class ClientRateLimit:
    """Pure ASGI middleware: one bucket per client address, 429 ``RATE_LIMITED`` with ``Retry-After``.

    ``limiter=None`` turns it off (the setting ``rate_limit_per_second`` = 0).
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter | None,
        *,
        exempt: Iterable[str] = DEFAULT_EXEMPT,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt = frozenset(exempt)
        self.trusted = _networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is None or scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        wait = self.limiter.acquire(client_address(scope, self.trusted))
        if wait > 0:
            refusal = too_many(wait)
            await json_error(429, refusal.code, refusal.message, refusal.describe("zh"), refusal.headers)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)
