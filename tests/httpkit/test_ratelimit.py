"""Token buckets per key (bounded, thread-safe) and the per-client middleware: 429 with Retry-After."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from httpkit.ratelimit import ClientRateLimit, RateLimiter, too_many


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert limiter.acquire("b") == 0.0  # another key, its own bucket
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 100
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0  # refilled to the burst, not beyond
    assert limiter.acquire("c", cost=3) == 0.0
    with pytest.raises(ValueError):
        limiter.acquire("c", cost=4)


def test_memory_is_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=1, max_keys=100, clock=clock)
    for n in range(10_000):
        limiter.acquire(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100
    assert limiter.acquire("10.0.39.15") > 0  # among the newest 100: still limited
    assert limiter.acquire("10.0.0.0") == 0.0  # evicted long ago: a fresh bucket


def test_thread_safe() -> None:
    limiter = RateLimiter(rate=1e-9, burst=500, clock=Clock())
    allowed = []

    def hammer() -> None:
        allowed.append(sum(1 for _ in range(200) if limiter.acquire("k") == 0.0))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 500


def test_too_many() -> None:
    refusal = too_many(0.2)
    assert (refusal.http_status, refusal.code, refusal.headers) == (429, "RATE_LIMITED", {"Retry-After": "1"})
    assert too_many(2.1, "QUOTA", "quota", "配额").headers == {"Retry-After": "3"}
    assert too_many(2.1, "QUOTA", "quota", "配额").code == "QUOTA"


def build(limiter: RateLimiter | None, *, trusted: tuple[str, ...] = ()) -> FastAPI:
    app = FastAPI()

    @app.get("/work")
    async def work() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(ClientRateLimit, limiter=limiter, trusted_proxies=trusted)
    return app


def test_per_client_429_with_retry_after() -> None:
    clock = Clock()
    app = build(RateLimiter(rate=0.5, burst=2, clock=clock))
    one = TestClient(app, client=("192.0.2.1", 1000))
    other = TestClient(app, client=("192.0.2.2", 1000))
    assert [one.get("/work").status_code for _ in range(2)] == [200, 200]
    refused = one.get("/work")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused.json()["error"]["message_zh"]
    assert other.get("/work").status_code == 200
    assert all(one.get("/healthz").status_code == 200 for _ in range(10))  # probes are exempt
    clock.now += 2
    assert one.get("/work").status_code == 200


def test_forwarded_for_only_from_a_trusted_proxy() -> None:
    clock = Clock()
    app = build(RateLimiter(rate=0.001, burst=1, clock=clock), trusted=("10.0.0.0/8",))
    proxy = TestClient(app, client=("10.1.2.3", 1000))
    # behind the proxy, each client (the last hop the proxy appended) has its own bucket
    assert proxy.get("/work", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}).status_code == 200
    assert proxy.get("/work", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.8"}).status_code == 200
    assert proxy.get("/work", headers={"X-Forwarded-For": "7.7.7.7, 198.51.100.7"}).status_code == 429
    # a client that is not a trusted proxy cannot choose its key
    direct = TestClient(app, client=("203.0.113.9", 1000))
    assert direct.get("/work", headers={"X-Forwarded-For": "198.51.100.50"}).status_code == 200
    assert direct.get("/work", headers={"X-Forwarded-For": "198.51.100.51"}).status_code == 429


def test_off_without_a_limiter() -> None:
    client = TestClient(build(None))
    assert all(client.get("/work").status_code == 200 for _ in range(50))
