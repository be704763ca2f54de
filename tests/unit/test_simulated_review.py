"""The simulated review's split and its scores (the end-to-end run is tests/integration/test_simulated_review.py)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from services.classify.schema import Prediction
from shared.events import LABELS
from tools.eval.end_to_end import Scored
from tools.eval.simulated_review import macro_f1, paired_gain_interval, split_letters, theme_micro_f1
from tools.training.evaluation import score

NAMES = [f"heldout_k-{i:02d}" for i in range(1, 25)]


def test_split_is_odd_then_even_and_disjoint() -> None:
    a, b = split_letters(list(reversed(NAMES)), 12)
    assert a == [f"heldout_k-{i:02d}" for i in range(1, 25, 2)]
    assert b == [f"heldout_k-{i:02d}" for i in range(2, 25, 2)]
    a3, b2 = split_letters(NAMES, 3, eval_letters=2)
    assert a3 == ["heldout_k-01", "heldout_k-03", "heldout_k-05"]
    assert b2 == ["heldout_k-07", "heldout_k-09"]
    a14, b10 = split_letters(NAMES, 14)
    assert set(a14).isdisjoint(b10) and len(a14) + len(b10) == 24
    assert {"heldout_k-02", "heldout_k-04"} <= set(a14)


@pytest.mark.parametrize("n", [0, 24, -1])
def test_split_needs_both_halves(n: int) -> None:
    with pytest.raises(ValueError):
        split_letters(NAMES, n)


def _pairs(rng: random.Random, n: int) -> list[tuple[dict[str, Any], Prediction | None]]:
    out: list[tuple[dict[str, Any], Prediction | None]] = []
    for _ in range(n):
        gold = {"label": rng.choice(LABELS), "themes": rng.sample(["a", "b", "c"], rng.randrange(3))}
        pred = None
        if rng.random() > 0.1:  # one in ten lost by extraction
            pred = Prediction(rng.choice(LABELS), themes=tuple((t, 0.9) for t in rng.sample(["a", "b"], 1)))
        out.append((gold, pred))
    return out


def test_macro_f1_matches_the_evaluation_score() -> None:
    pairs = _pairs(random.Random(1), 300)
    gold = [g["label"] for g, _ in pairs]
    pred = [p.label if p else "lost" for _, p in pairs]
    assert macro_f1(pairs) == pytest.approx(score(gold, pred)["macro_f1"], abs=1e-4)
    perfect = [(g, Prediction(g["label"])) for g, _ in pairs]
    assert macro_f1(perfect) == pytest.approx(1.0)


def test_theme_micro_f1() -> None:
    g = {"label": "other", "themes": ["a", "b"]}
    pairs: list[tuple[dict[str, Any], Prediction | None]] = [
        (g, Prediction("other", themes=(("a", 0.9), ("c", 0.8)))),  # tp 1, fp 1, fn 1
        (g, None),  # fn 2
    ]
    assert theme_micro_f1(pairs) == pytest.approx(2 / (2 + 1 + 3))


def test_gain_interval_is_zero_for_the_same_model_and_positive_for_a_better_one() -> None:
    rng = random.Random(7)
    before = Scored({f"l{i}": _pairs(rng, 30) for i in range(8)})
    same = paired_gain_interval(before, before, rounds=200)
    assert same["macro_f1"]["ci95"] == [0.0, 0.0]
    better = Scored(
        {name: [(g, Prediction(g["label"])) for g, _ in rows] for name, rows in before.letters.items()}
    )
    up = paired_gain_interval(before, better, rounds=200)
    assert up["macro_f1"]["ci95"][0] > 0.3
    assert up["macro_f1"]["share_positive"] == 1.0
