"""Prometheus metrics of the relay (one registry per app, so tests never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class RelayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "ereg_relay_accepted",
            "Signed requests accepted (new or duplicate)",
            ["kind", "duplicate"],
            registry=self.registry,
        )
        self.refused = Counter("ereg_relay_refused", "Refused requests by code", ["code"], registry=self.registry)
        self.transactions = Counter(
            "ereg_relay_transactions",
            "Relay transactions by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "ereg_relay_batch_size",
            "Signed messages per transaction",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=self.registry,
        )
        self.settled = Counter(
            "ereg_relay_settled", "Requests settled by final state", ["state"], registry=self.registry
        )
        self.requests = Gauge(
            "ereg_relay_requests", "Requests in the queue by state", ["state"], registry=self.registry
        )
        self.chain_errors = Counter(
            "ereg_relay_chain_errors", "Batcher rounds cut short by the chain", ["code"], registry=self.registry
        )

        self.property_steps = Counter(
            "ereg_relay_property_steps",
            "Property workflow steps by function and outcome (EXECUTED, SUBMITTED, DUPLICATE or the refusal code)",
            ["function", "outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
