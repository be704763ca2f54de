"""The encoder blend tool's mixing (tools/eval/encoder_blend.py), with fakes for both models."""

from __future__ import annotations

import numpy as np
import pytest

from services.classify.schema import Item, Prediction
from shared.events import LABELS
from tools.eval.encoder_blend import Blended, blend, encoder_input


def test_encoder_input_puts_the_nearest_heading_first() -> None:
    assert (
        encoder_input("Vi foreslår felles journal.", ("Svar", "Tiltak"))
        == "Tiltak: Vi foreslår felles journal."
    )
    assert encoder_input("Med vennlig hilsen", ()) == "Med vennlig hilsen"


def test_blend_ends_are_the_two_models_and_rows_sum_to_one() -> None:
    base = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]])
    other = np.array([[0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]])
    assert np.allclose(blend(base, other, 0.0), base, atol=1e-5)
    assert np.allclose(blend(base, other, 1.0), other, atol=1e-5)
    half = blend(base, other, 0.5)
    assert np.allclose(half.sum(axis=1), 1.0)
    assert half[0, 0] == pytest.approx(half[0, 1], abs=1e-6)  # geometric mean of a swapped pair: a tie
    assert half[1].argmax() == 3  # a flat base leaves the other model's choice


class _Base:
    model_version = "fake-1"

    def predict(self, items: list[Item]) -> list[Prediction]:
        p = Prediction.from_probs([0.6, 0.2, 0.1, 0.1])
        return [
            Prediction(p.label, p.scores, themes=(("digitalisering", 0.8),), needs_review=True) for _ in items
        ]


class _Encoder:
    def probs(self, items: list[Item]) -> np.ndarray:
        return np.tile([0.01, 0.97, 0.01, 0.01], (len(items), 1))


def test_blended_changes_the_label_and_keeps_themes_and_flags() -> None:
    items = [Item("Det bør etableres en felles akuttsentral.", ("Tiltak",))]
    strong = Blended(_Base(), _Encoder(), 0.8).predict(items)[0]  # type: ignore[arg-type]
    assert strong.label == LABELS[1]
    assert strong.themes == (("digitalisering", 0.8),) and strong.needs_review
    assert sum(strong.scores.values()) == pytest.approx(1.0, abs=1e-5)
    alone = Blended(_Base(), _Encoder(), 0.0).predict(items)[0]  # type: ignore[arg-type]
    assert alone.label == LABELS[0]
