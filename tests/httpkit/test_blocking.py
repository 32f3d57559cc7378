"""Bulkhead (a cap per backend, a breaker after a down error) and WorkerPool (own threads, 503s)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import anyio
import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from httpkit.blocking import Bulkhead, WorkerPool
from httpkit.errors import HttpError


class Down(Exception):
    """What a backend that is down raises (a timeout, a refused connection)."""


class Busy(Exception):
    pass


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_bulkhead_caps_concurrent_calls_without_waiting() -> None:
    head = Bulkhead("ipfs", 2)
    inside = threading.Barrier(3)
    release = threading.Event()

    def hang() -> str:
        inside.wait()
        release.wait(10)
        return "done"

    threads = [threading.Thread(target=head.call, args=(hang,), kwargs={"on_busy": Busy}) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()  # both calls are inside the backend
    assert head.in_flight == 2
    with pytest.raises(Busy):
        head.call(lambda: "third", on_busy=Busy)
    release.set()
    for thread in threads:
        thread.join()
    assert head.call(lambda: "free again", on_busy=Busy) == "free again"
    assert head.in_flight == 0


def test_a_down_error_opens_the_breaker_for_the_cooldown() -> None:
    clock = Clock()
    head = Bulkhead("chain", 4, cooldown=2.0, trip_on=(Down,), clock=clock)
    calls = 0

    def down() -> None:
        nonlocal calls
        calls += 1
        raise Down()

    with pytest.raises(Down):
        head.call(down, on_busy=Busy)
    assert head.is_open
    with pytest.raises(Busy):
        head.call(down, on_busy=Busy)  # refused at once, the backend not called
    assert calls == 1
    clock.now += 2.0
    assert not head.is_open
    with pytest.raises(Down):
        head.call(down, on_busy=Busy)  # the probe fails: open again
    assert calls == 2 and head.is_open
    clock.now += 2.0
    assert head.call(lambda: "up", on_busy=Busy) == "up"  # the probe succeeds: closed
    assert head.call(lambda: "up", on_busy=Busy) == "up"


def test_other_errors_do_not_trip() -> None:
    head = Bulkhead("chain", 1, trip_on=(Down,))
    missing: dict[str, int] = {}
    with pytest.raises(KeyError):
        head.call(lambda: missing["x"], on_busy=Busy)
    assert not head.is_open
    with pytest.raises(Down):
        head.call(lambda: (_ for _ in ()).throw(Down()), on_busy=Busy, trip_on=())  # per call: no trip
    assert not head.is_open


def test_half_open_lets_one_probe_through() -> None:
    clock = Clock()
    head = Bulkhead("ipfs", 4, cooldown=1.0, trip_on=(Down,), clock=clock)
    with pytest.raises(Down):
        head.call(lambda: (_ for _ in ()).throw(Down()), on_busy=Busy)
    clock.now += 1.0
    probing = threading.Event()
    release = threading.Event()

    def slow_probe() -> str:
        probing.set()
        release.wait(10)
        return "ok"

    probe = threading.Thread(target=head.call, args=(slow_probe,), kwargs={"on_busy": Busy})
    probe.start()
    probing.wait(10)
    with pytest.raises(Busy):
        head.call(lambda: "second", on_busy=Busy)  # while the probe is out, the others are refused
    release.set()
    probe.join()
    assert head.call(lambda: "second", on_busy=Busy) == "second"


@pytest.mark.anyio
async def test_pool_refuses_when_full_and_recovers() -> None:
    pool = WorkerPool("verify", workers=2, queue=1)
    release = threading.Event()
    try:
        held = [asyncio.ensure_future(pool.run(lambda: release.wait(10), deadline=30)) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert pool.in_flight == 3
        with pytest.raises(HttpError) as info:
            await pool.run(lambda: "fourth", deadline=30)
        assert (info.value.http_status, info.value.code, info.value.headers) == (503, "BUSY", {"Retry-After": "1"})
        release.set()
        assert await asyncio.gather(*held) == [True, True, True]
        assert await pool.run(lambda: "now", deadline=30) == "now"
    finally:
        release.set()
        pool.close()


@pytest.mark.anyio
async def test_deadline_exceeded_and_the_thread_keeps_its_place() -> None:
    pool = WorkerPool("verify", workers=1, queue=0)
    release = threading.Event()
    finished = threading.Event()

    def hung() -> None:
        release.wait(10)
        finished.set()

    try:
        with pytest.raises(HttpError) as info:
            await pool.run(hung, deadline=0.05)
        assert (info.value.http_status, info.value.code) == (503, "DEADLINE_EXCEEDED")
        assert info.value.headers == {"Retry-After": "1"}
        assert pool.in_flight == 1  # the abandoned call still holds its thread
        with pytest.raises(HttpError, match="busy"):
            await pool.run(lambda: None, deadline=1)
        release.set()
        await anyio.to_thread.run_sync(finished.wait, 10)
        for _ in range(100):
            if pool.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert await pool.run(lambda: 7, deadline=5) == 7
    finally:
        release.set()
        pool.close()


@pytest.mark.anyio
async def test_errors_and_context_reach_the_caller() -> None:
    pool = WorkerPool("verify", workers=1, queue=0)
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")
    marker.set("request-42")
    try:
        assert await pool.run(marker.get, deadline=5) == "request-42"
        with pytest.raises(ZeroDivisionError):
            await pool.run(lambda: 1 // 0, deadline=5)
    finally:
        pool.close()


def test_a_hung_pool_leaves_sync_routes_their_threads() -> None:
    """The pool has its own threads: work hung in it cannot take the threads sync routes run on."""
    pool = WorkerPool("backend", workers=2, queue=0)
    release = threading.Event()
    app = FastAPI()

    @app.get("/hang")
    async def hang() -> None:
        await pool.run(lambda: release.wait(30), deadline=30)

    @app.get("/sync")
    def sync() -> dict[str, str]:
        return {"thread": threading.current_thread().name}

    try:
        with TestClient(app) as client:
            portal = client.portal
            assert portal is not None
            limiter = portal.call(anyio.to_thread.current_default_thread_limiter)
            tokens = limiter.total_tokens
            limiter.total_tokens = 1  # the shared limiter down to one thread: the pool must not need it
            hung = [threading.Thread(target=client.get, args=("/hang",)) for _ in range(2)]
            for thread in hung:
                thread.start()
            for _ in range(500):
                if pool.in_flight == 2:
                    break
                time.sleep(0.01)
            assert pool.in_flight == 2
            assert limiter.borrowed_tokens == 0
            answer = client.get("/sync")
            assert answer.status_code == 200
            assert not answer.json()["thread"].startswith("ereg-backend")
            release.set()
            for thread in hung:
                thread.join(10)
            limiter.total_tokens = tokens
    finally:
        release.set()
        pool.close()
