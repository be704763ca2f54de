"""Scores and speed of a classifier on a labelled set: per-class P/R/F1, macro-F1, confusion matrix."""

from __future__ import annotations

import time
from typing import Any

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from services.classify.data import Example
from services.classify.schema import Classifier, Item
from shared.events import LABELS


def score(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Metrics in a JSON-ready dict; confusion rows are the true label, columns the prediction."""
    p, r, f, support = precision_recall_fscore_support(
        gold, pred, labels=list(LABELS), zero_division=0
    )
    per_class = {
        label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4), "support": int(support[i])}
        for i, label in enumerate(LABELS)
    }
    return {
        "n": len(gold),
        "macro_f1": round(float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)), 4),
        "accuracy": round(sum(g == q for g, q in zip(gold, pred, strict=True)) / max(len(gold), 1), 4),
        "per_class": per_class,
        "confusion": {"labels": list(LABELS), "matrix": confusion_matrix(gold, pred, labels=list(LABELS)).tolist()},
    }


def evaluate(classifier: Classifier, examples: list[Example], batch_size: int = 64) -> dict[str, Any]:
    preds: list[str] = []
    for i in range(0, len(examples), batch_size):
        chunk = [e.item for e in examples[i : i + batch_size]]
        preds.extend(p.label for p in classifier.predict(chunk))
    return score([e.label for e in examples], preds)


def length_buckets(items: list[Item], batch_size: int) -> list[list[Item]]:
    """Batches of similar length (sorted by text length), as the service would see after bucketing."""
    ordered = sorted(items, key=lambda it: len(it.text) + len(" > ".join(it.heading_path)))
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def throughput(
    classifier: Classifier, items: list[Item], batch_size: int, min_seconds: float = 2.0, bucket: bool = True
) -> float:
    """Segments per second over real segments, repeated until ``min_seconds`` have passed."""
    if not items:
        return 0.0
    batches = length_buckets(items, batch_size) if bucket else [
        items[i : i + batch_size] for i in range(0, len(items), batch_size)
    ]
    classifier.predict(batches[0])  # warm-up
    done, start = 0, time.perf_counter()
    while True:
        for batch in batches:
            classifier.predict(batch)
            done += len(batch)
            if batch_size == 1 and done >= 400 and time.perf_counter() - start > min_seconds:
                break
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed
