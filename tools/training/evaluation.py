"""Scores and speed of a classifier on a labelled set: per-class P/R/F1, macro-F1, confusion matrix."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from services.classify.schema import Classifier, Item, Prediction
from shared.events import LABELS
from tools.training.data import Example


def score(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Metrics in a JSON-ready dict; confusion rows are the true label, columns the prediction."""
    p, r, f, support = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    per_class = {
        label: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(support[i]),
        }
        for i, label in enumerate(LABELS)
    }
    return {
        "n": len(gold),
        "macro_f1": round(
            float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)), 4
        ),
        "accuracy": round(sum(g == q for g, q in zip(gold, pred, strict=True)) / max(len(gold), 1), 4),
        "per_class": per_class,
        "confusion": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(gold, pred, labels=list(LABELS)).tolist(),
        },
    }


def calibration_error(gold: list[str], preds: list[Prediction], bins: int = 10) -> float:
    """Expected calibration error of the top score: how far, weighted by bin size, the mean top score in
    each of ``bins`` equal-width bins sits from the accuracy of the predictions in that bin."""
    if not preds:
        return 0.0
    top = np.array([max(p.scores.values()) if p.scores else 1.0 for p in preds])
    right = np.array([g == p.label for g, p in zip(gold, preds, strict=True)], dtype=float)
    which = np.minimum((top * bins).astype(int), bins - 1)
    err = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            err += mask.mean() * abs(top[mask].mean() - right[mask].mean())
    return float(err)


def macro_f1_interval(gold: list[str], pred: list[str], resamples: int = 300, seed: int = 0) -> list[float]:
    """90 % bootstrap interval of macro-F1 over segments: how much the figure could move with other
    segments of the same kind (small evaluation sets move a lot)."""
    if not gold:
        return [0.0, 0.0]
    rng = np.random.default_rng(seed)
    g, p = np.array(gold), np.array(pred)
    values = []
    for _ in range(resamples):
        idx = rng.integers(0, len(g), len(g))
        values.append(f1_score(g[idx], p[idx], labels=list(LABELS), average="macro", zero_division=0))
    low, high = np.percentile(values, [5, 95])
    return [round(float(low), 4), round(float(high), 4)]


def evaluate(classifier: Classifier, examples: list[Example], batch_size: int = 64) -> dict[str, Any]:
    preds: list[Prediction] = []
    for i in range(0, len(examples), batch_size):
        preds.extend(classifier.predict([e.item for e in examples[i : i + batch_size]]))
    gold, labels = [e.label for e in examples], [p.label for p in preds]
    out = score(gold, labels)
    out["calibration_error"] = round(calibration_error(gold, preds), 4)
    out["macro_f1_interval_90"] = macro_f1_interval(gold, labels)
    return out


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
    batches = (
        length_buckets(items, batch_size)
        if bucket
        else [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    )
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
