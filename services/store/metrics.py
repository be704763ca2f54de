"""Prometheus metrics of the store (served by ``/metrics`` from shared.http)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "innspill_store_events_total",
    "Events consumed by the store, by topic (without prefix) and outcome (stored, dead_lettered).",
    ["topic", "outcome"],
)
WRITE_ERRORS = Counter(
    "innspill_store_write_errors_total",
    "Failed database writes (each is retried or falls back to per-event writes).",
    ["kind"],
)
BATCH_SECONDS = Histogram(
    "innspill_store_batch_write_seconds",
    "Time to write one micro-batch in one transaction.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "innspill_store_batch_events",
    "Events per micro-batch.",
    buckets=(1, 5, 10, 25, 50, 100, 200, 500),
)
DOCUMENTS = Gauge("innspill_store_documents", "Documents in the store by status.", ["status"])
