"""Train the point grouping's pair scorer (services/store/points/pairs.py) on the team's paraphrase sets.

    python -m tools.points.train_pairs [--gold-labels] [--model var/models/default]

Training sets (data/paraphrases): points_dev, points_letters_dev, points_train, points_letters_train,
points_letters_train2, points_letters_train3 (round 11). Never the sets that measure it: points_test,
points_test2, points_letters_test, heldout_k, nor the seeds.

By default each set's labels and themes are the ones a classifier predicts for it (letters classified
whole, as services/classify does), since that is what the store groups; ``--gold-labels`` uses the written
ones. Since round 7 the product classifier's label model trains on the whole-letter sets above
(tools/training/data.py ``PLANTED_LETTERS``), so its labels for them are labels of letters it has seen,
cleaner than any letter the store will get: the labels come instead from the default recipe built without
those letters (``var/models/without-planted``, built on first use, about a minute), a classifier that
never saw any training set, as the store's classifier never saw the letters it groups.

A pair is one candidate pair of two different senders with at least one planted segment (pairs.py); it is
positive when both make the same planted point.

The linkage threshold is chosen by leaving one set out at a time: train on the others, cluster the one
left out, and take the threshold that brings back the most planted points exactly (one group holding all
their senders and no other: how /points is checked); ties go to the best mean F0.5 over pairs with a
planted member (precision weighted above recall: an analyst must be able to trust a point's members).
The final model is trained on all the sets and written to services/store/points/pair_model.json with
those figures.

Round 12: the mutual-best boost (grouping.py ``letter_best``: two segments that are each other's best
match in their letters get ``mutual_boost`` added to their log-odds) is chosen with the threshold, over
``BOOSTS`` x ``THRESHOLDS``. The boost trades precision for recall, so it must keep the planted precision
of the best setting without it: among the settings whose mean left-out planted precision is at least
that, the most exact points win, ties as above.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from services.store.points.grouping import Config, PointGrouper, sender_key
from services.store.points.pairs import FEATURES, MODEL_FILE, PairModel
from tools.points.evaluate import (
    Row,
    exact_points,
    load_set,
    pair_scores,
    planted_precision,
    predicted_rows,
    sender_recovery,
    to_segments,
)

TRAIN_SETS: tuple[str, ...] = (
    "dev",
    "letters_dev",
    "train",
    "letters_train",
    "letters_train2",
    "letters_train3",
)
THRESHOLDS: tuple[float, ...] = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
BOOSTS: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)
#: The issue's bar for pairwise precision (round 15): with the sentence encoder the boost buys exact
#: points at a planted precision under it (0.792 at threshold 0.40), so the choice keeps to settings that
#: reach it on the sets left out.
PRECISION_FLOOR = 0.8
_BLANK = PairModel(weights=np.zeros(len(FEATURES)), bias=0.0, threshold=0.5)


def labeller(model: Path | None) -> Path:
    """The classifier whose labels the pairs train on: ``model``, or the default recipe without the
    planted letters (built into var/models/without-planted when it is not there yet)."""
    if model is not None:
        return model
    from shared.settings import get_settings
    from tools.training.ensure import ensure_model

    settings = get_settings()
    target = settings.data_dir / "models" / "without-planted"
    path, version, built = ensure_model(settings.model_copy(update={"model_dir": target}), planted=())
    print(f"labels from {version} ({'built now' if built else 'kept'}) at {path}")
    return path


def classifier_version(model: Path) -> str:
    """The classifier's model_version (innspill_model.json), or its folder name."""
    manifest = model / "innspill_model.json"
    if manifest.exists():
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("model_version") or model.name)
    return model.name


def set_rows(name: str, gold: bool, model: Path) -> list[Row]:
    rows = load_set(name)
    return rows if gold else predicted_rows(rows, model)


def pairs_of(rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets of the candidate pairs of a set (different senders, a planted member)."""
    point = {r.id: r.point for r in rows}
    g = PointGrouper(Config(), pair_model=_BLANK)
    g._ingest(to_segments(rows))
    xs: list[np.ndarray] = []
    ys: list[int] = []
    for b in g.blocks.values():
        rows_idx = list(range(len(b.segs)))
        seen: set[tuple[int, int]] = set()
        for i, j, x in g.pair_candidates(b, rows_idx, rows_idx):
            for a, c, f in zip(i.tolist(), j.tolist(), x, strict=True):
                key = (min(a, c), max(a, c))
                sa, sc = b.segs[a], b.segs[c]
                if a == c or key in seen or sender_key(sa) == sender_key(sc):
                    continue
                pa, pc = point[sa.segment_id], point[sc.segment_id]
                if not (pa or pc):
                    continue
                seen.add(key)
                xs.append(f)
                ys.append(int(pa is not None and pa == pc))
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0, dtype=np.int64)
    return np.vstack(xs), np.asarray(ys, dtype=np.int64)


def fit(x: np.ndarray, y: np.ndarray, threshold: float, c: float) -> PairModel:
    clf = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    return PairModel(
        weights=clf.coef_[0].astype(np.float64), bias=float(clf.intercept_[0]), threshold=threshold
    )


def cluster_scores(
    rows: Sequence[Row], model: PairModel, threshold: float, boost: float = 0.0
) -> dict[str, float]:
    g = PointGrouper(Config(threshold=threshold, mutual_boost=boost), pair_model=model)
    g.fit(to_segments(rows))
    clusters = [[m.segment_id for m in p.members] for p in g.points(min_senders=1)]
    s = pair_scores(rows, clusters)
    pp, _tp, _fp = planted_precision(rows, clusters)
    exact = exact_points(sender_recovery(rows, clusters))
    f_half = 1.25 * pp * s.recall / (0.25 * pp + s.recall) if pp + s.recall else 0.0
    return {"planted_precision": pp, "recall": s.recall, "f_half": f_half, "exact": exact}


def _key(t: float, boost: float) -> str:
    return f"{t:.2f}" if not boost else f"{t:.2f} boost {boost:.1f}"


def left_out_summary(
    rows: dict[str, list[Row]], data: dict[str, tuple[np.ndarray, np.ndarray]], c: float
) -> dict[str, dict[str, float]]:
    """Per setting (threshold, boost): mean planted precision, recall and F0.5 and the sum of exact points
    over the sets, each clustered by a model trained on the others."""
    table: dict[tuple[float, float], list[dict[str, float]]] = {
        (t, b): [] for b in BOOSTS for t in THRESHOLDS
    }
    for left in TRAIN_SETS:
        x = np.vstack([data[n][0] for n in TRAIN_SETS if n != left])
        y = np.concatenate([data[n][1] for n in TRAIN_SETS if n != left])
        model = fit(x, y, 0.5, c)
        for t, b in table:
            table[(t, b)].append(cluster_scores(rows[left], model, t, b))
    print(
        "left-out sets, mean over them: threshold  boost  planted precision  recall  F0.5  exact points (sum)"
    )
    summary: dict[str, dict[str, float]] = {}
    for (t, b), scores in table.items():
        mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
        mean["exact"] = float(sum(s["exact"] for s in scores))
        summary[_key(t, b)] = {"threshold": t, "boost": b, **{k: round(v, 3) for k, v in mean.items()}}
        print(
            f"  {t:.2f}  {b:.1f}  {mean['planted_precision']:.3f}  {mean['recall']:.3f}  {mean['f_half']:.3f}  "
            f"{int(mean['exact'])}"
        )
    return summary


def choose(summary: dict[str, dict[str, float]]) -> tuple[float, float]:
    """(threshold, boost): without the boost, the most exact points (ties: F0.5, then the lower
    threshold); then the setting with the most exact points whose planted precision is at least that
    one's and at least ``PRECISION_FLOOR`` where some setting reaches it (ties: F0.5, the smaller boost,
    the lower threshold)."""

    def rank(s: dict[str, float]) -> tuple[float, float, float, float]:
        return (s["exact"], s["f_half"], -s["boost"], -s["threshold"])

    plain = max((s for s in summary.values() if not s["boost"]), key=rank)
    floor = plain["planted_precision"]
    if any(s["planted_precision"] >= PRECISION_FLOOR for s in summary.values()):
        floor = max(floor, PRECISION_FLOOR)
    kept = [s for s in summary.values() if s["planted_precision"] >= floor]
    best = max(kept, key=rank)
    return best["threshold"], best["boost"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold-labels", action="store_true", help="written labels and themes, not predicted")
    ap.add_argument(
        "--model",
        type=Path,
        default=None,
        help="classifier for labels (default: the default recipe without the planted letters)",
    )
    ap.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the logistic regression")
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    args = ap.parse_args(argv)
    if not args.gold_labels:
        args.model = labeller(args.model)
        if not args.model.exists():
            raise SystemExit(f"no classifier at {args.model}: pass another --model or --gold-labels")

    rows = {name: set_rows(name, args.gold_labels, args.model) for name in TRAIN_SETS}
    data = {name: pairs_of(r) for name, r in rows.items()}
    for name, (_x, y) in data.items():
        print(f"{name:14s} {len(y):6d} candidate pairs, {int(y.sum()):4d} positive")

    summary = left_out_summary(rows, data, args.C)
    best_t, best_boost = choose(summary)

    x = np.vstack([d[0] for d in data.values()])
    y = np.concatenate([d[1] for d in data.values()])
    final = dataclasses.replace(
        fit(x, y, best_t, args.C),
        mutual_boost=best_boost,
        about={
            "trained_on": list(TRAIN_SETS),
            "labels": "gold" if args.gold_labels else f"predicted by {classifier_version(args.model)}",
            "pairs": int(len(y)),
            "positive": int(y.sum()),
            "C": args.C,
            "threshold_by_left_out_set": summary,
        },
    )
    final.save(args.out)
    weights = ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, final.weights, strict=True))
    print(
        f"threshold {best_t:.2f}, mutual boost {best_boost:.1f}; weights: {weights}; bias {final.bias:+.2f}"
        f" -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
