"""Prometheus metrics of the classify service (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SEGMENTS = Counter(
    "innspill_classify_segments",
    "Segments classified, by source (stream or api) and label.",
    ["source", "label"],
)
DEAD_LETTERED = Counter("innspill_classify_dead_lettered", "Records sent to the dead-letter topic.")
BATCH_SIZE = Histogram(
    "innspill_classify_batch_size",
    "Segments per inference batch.",
    ["source"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
INFERENCE_SECONDS = Histogram(
    "innspill_classify_inference_seconds",
    "Wall time of one inference batch.",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
