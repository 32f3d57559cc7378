"""Counting the JSON-RPC requests a relay makes to its (real) node, by method.

The count is taken at the web3 provider of the relay's own chain client: every request the
relay sends passes through ``provider.make_request`` (one HTTP round trip each) or, batched,
``provider.make_batch_request`` (one round trip for the lot), and the node answers each one as
usual. ``calls`` counts the requests by method, batched or not; ``round_trips`` the HTTP posts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chain.client import ChainClient


class RpcCount:
    """JSON-RPC requests by method since the count started (or since :meth:`reset`)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.round_trips = 0

    def __getitem__(self, method: str) -> int:
        return self.calls[method]

    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
        self.round_trips = 0


_ACTIVE = "_ereg_rpc_counts"


@contextmanager
def counting_rpc(client: ChainClient) -> Iterator[RpcCount]:
    """Count the requests ``client`` sends while the block runs.

    The provider's ``make_request`` and ``make_batch_request`` are wrapped once and for good, and web3's cache of the
    request function (built around the ``make_request`` it first saw) is dropped so that the
    wrapper is the one called from then on; the wrapper counts into whichever counts are open.
    """
    provider: Any = client.w3.provider
    active: list[RpcCount] | None = getattr(provider, _ACTIVE, None)
    if active is None:
        active = []
        original = provider.make_request

        original_batch = provider.make_batch_request

        def make_request(method: Any, params: Any) -> Any:
            for count in list(getattr(provider, _ACTIVE)):
                count.calls[str(method)] += 1
                count.round_trips += 1
            return original(method, params)

        def make_batch_request(requests: Any) -> Any:
            for count in list(getattr(provider, _ACTIVE)):
                count.calls.update(str(method) for method, _params in requests)
                count.round_trips += 1
            return original_batch(requests)

        provider.make_request = make_request
        provider.make_batch_request = make_batch_request
        provider._request_func_cache = (None, None)  # rebuilt around the wrapper on the next request
        provider._batch_request_func_cache = (None, None)
        setattr(provider, _ACTIVE, active)
    count = RpcCount()
    active.append(count)
    try:
        yield count
    finally:
        active.remove(count)
