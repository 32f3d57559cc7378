"""Prometheus metrics of the verifier (one registry per app, so tests never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.verifications = Counter(
            "ereg_verifications", "Verifications by verdict", ["verdict"], registry=self.registry
        )
        self.verify_seconds = Histogram(
            "ereg_verify_seconds",
            "Time to verify one document (server side)",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.bad_requests = Counter("ereg_bad_requests", "Refused requests by code", ["code"], registry=self.registry)
        self.index_block = Gauge("ereg_index_block", "Last block in the index", registry=self.registry)
        self.index_age = Gauge("ereg_index_age_seconds", "Seconds since the index last synced", registry=self.registry)
        self.index_lag = Gauge("ereg_index_lag_blocks", "Blocks the index is behind the chain", registry=self.registry)
        self.ready = Gauge("ereg_ready", "1 when the verifier can decide (see /readyz)", registry=self.registry)
        self.health_check = Gauge(
            "ereg_health_check",
            "1 when a health check passes (as of its last probe)",
            ["check"],
            registry=self.registry,
        )
        self.offloaded = Counter(
            "ereg_verifications_offloaded",
            "Verifications that needed the chain or IPFS and ran on the request pool",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
