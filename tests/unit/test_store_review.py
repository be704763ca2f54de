"""Review queue reasons and the agreement measure (per-label F1, bootstrap interval from 30 reviewed)."""

from __future__ import annotations

import pytest

from services.store.corrections.review import agreement, disagreement, f1_per_label


def test_disagreement_reasons() -> None:
    assert disagreement("other", [{"id": "akutt", "score": 0.9}], []) is not None
    assert disagreement("other", [{"id": "akutt", "score": 0.3}], []) is None
    assert disagreement("measure", [], ["Utfordringer i dag"]) is not None
    assert disagreement("challenge", [], ["Utfordringer i dag"]) is None
    assert disagreement("measure", [], ["Forslag og utfordringer"]) is None  # mixed hints: no claim
    assert disagreement("example", None, None) is None


def test_f1_per_label() -> None:
    pairs = [("challenge", "challenge"), ("challenge", "measure"), ("measure", "measure"), ("other", "other")]
    f1 = f1_per_label(pairs)
    assert f1["challenge"] == pytest.approx(2 / 3)
    assert f1["measure"] == pytest.approx(2 / 3)
    assert f1["other"] == 1.0 and f1["example"] == 1.0  # absent from both


def test_agreement_interval_only_from_30() -> None:
    few = agreement([("challenge", "challenge")] * 10)
    assert few["reviewed"] == 10 and "macro_ci95" not in few and few["changed"] == 0
    pairs = [("challenge", "challenge")] * 20 + [("challenge", "measure")] * 5 + [("measure", "measure")] * 10
    many = agreement(pairs)
    assert many["reviewed"] == 35 and many["changed"] == 5
    lo, hi = many["labels"]["challenge"]["ci95"]
    assert lo <= many["labels"]["challenge"]["f1"] <= hi and lo < hi
    assert many["macro_ci95"][0] <= many["macro_f1"] <= many["macro_ci95"][1]
    assert agreement(pairs) == many  # seeded: the same figures every time
    assert agreement([])["macro_f1"] is None
