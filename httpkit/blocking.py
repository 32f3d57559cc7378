"""Blocking work off the event loop, bounded: a bulkhead per backend and a worker pool per service.

A hung chain node or IPFS daemon must delay only the requests that need it. :class:`Bulkhead`
caps how many calls may be inside one backend at once and, after a call failed the way a down
backend fails, refuses at once for a cooldown instead of queueing more callers behind it.
:class:`WorkerPool` runs blocking request work on its own threads (never the anyio thread
limiter that sync routes share), refuses with 503 ``BUSY`` when all threads and queue places
are taken, and answers 503 ``DEADLINE_EXCEEDED`` when the work does not finish in time.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from httpkit.errors import HttpError

__all__ = ["Bulkhead", "WorkerPool"]

T = TypeVar("T")


class Bulkhead:
    """At most ``limit`` concurrent calls into one backend; an open breaker refuses at once.

    States: closed (calls pass while a slot is free); open for ``cooldown`` seconds after a
    call raised one of ``trip_on``; then half-open: one probe call passes, the others are
    refused until it returns; its success closes the breaker, its failure opens it again.
    """

    def __init__(
        self,
        name: str,
        limit: int,
        *,
        cooldown: float = 2.0,
        trip_on: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.name = name
        self.limit = limit
        self.cooldown = cooldown
        self.trip_on = trip_on
        self._clock = clock
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._probing = False
        self._in_flight = 0

    @property
    def is_open(self) -> bool:
        """True while the breaker refuses calls (a backend that just failed)."""
        with self._lock:
            return self._clock() < self._open_until

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def call(
        self,
        fn: Callable[[], T],
        *,
        on_busy: Callable[[], Exception],
        trip_on: tuple[type[BaseException], ...] | None = None,
    ) -> T:
        """``fn()`` inside the bulkhead, or ``raise on_busy()`` without waiting."""
        trips = self.trip_on if trip_on is None else trip_on
        probe = self._admit()
        if probe is None:
            raise on_busy()
        if not self._slots.acquire(blocking=False):
            self._leave(probe, failed=False)
            raise on_busy()
        failed = False
        try:
            return fn()
        except trips:
            failed = True
            raise
        finally:
            self._slots.release()
            self._leave(probe, failed=failed)

    def _admit(self) -> bool | None:
        """None: refuse; True: this call is the half-open probe; False: an ordinary call."""
        with self._lock:
            now = self._clock()
            if now < self._open_until:
                return None
            probe = self._open_until > 0.0
            if probe:
                if self._probing:
                    return None
                self._probing = True
            self._in_flight += 1
            return probe

    def _leave(self, probe: bool, *, failed: bool) -> None:
        with self._lock:
            self._in_flight -= 1
            if probe:
                self._probing = False
            if failed:
                self._open_until = self._clock() + self.cooldown
            elif probe:
                self._open_until = 0.0  # the probe got through: closed again


def _consume(future: asyncio.Future[Any]) -> None:
    # an abandoned call (past its deadline) may still fail later; retrieve it so asyncio stays quiet
    if not future.cancelled():
        future.exception()


class WorkerPool:
    """A bounded thread pool for blocking request work, with a deadline per call."""

    def __init__(self, name: str, *, workers: int, queue: int) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("workers must be >= 1 and queue >= 0")
        self.name = name
        self.workers = workers
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ereg-{name}")
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Calls running or waiting for a thread, abandoned ones included until they finish."""
        with self._lock:
            return self._in_flight

    async def run(self, fn: Callable[[], T], *, deadline: float) -> T:
        """``fn()`` on a pool thread; 503 ``BUSY`` when full, 503 ``DEADLINE_EXCEEDED`` after ``deadline`` s.

        The thread of a call past its deadline finishes on its own (the backend's own timeout
        bounds it) and holds its place in the pool until then.
        """
        with self._lock:
            if self._in_flight >= self.capacity:
                raise HttpError(
                    503,
                    "BUSY",
                    f"the service is busy ({self.name}); retry shortly",
                    "服务繁忙，请稍后重试",
                    headers={"Retry-After": "1"},
                )
            self._in_flight += 1
        context = contextvars.copy_context()  # the request id follows the work into the thread
        try:
            submitted: Future[T] = self._executor.submit(context.run, fn)
        except BaseException:
            self._release()
            raise
        submitted.add_done_callback(lambda _f: self._release())
        waiting = asyncio.wrap_future(submitted)
        waiting.add_done_callback(_consume)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), deadline)
        except TimeoutError:
            raise HttpError(
                503,
                "DEADLINE_EXCEEDED",
                f"the request did not finish within {deadline:g} s",
                f"请求未能在 {deadline:g} 秒内完成",
                headers={"Retry-After": "1"},
            ) from None

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def close(self) -> None:
        """Stop taking work; queued calls are cancelled, running ones finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
