"""Baseline scores on the same splits as the model under test, for its card."""

from __future__ import annotations

from typing import Any

from services.classify.keywords import KeywordClassifier
from tools.training.recipe import Splits, evaluations


def baseline_scores(splits: Splits, *, tfidf_c: float = 8.0, seed: int = 13) -> dict[str, Any]:
    """The keyword rules and TF-IDF + logistic regression (fitted in memory on the train split)."""
    from services.classify.tfidf import TfidfClassifier
    from tools.training import tfidf

    pipe = tfidf.fit([e.item for e in splits.train], [e.label for e in splits.train], c=tfidf_c, seed=seed)
    return {
        "keywords": evaluations(KeywordClassifier(), splits),
        "tfidf+logreg": evaluations(TfidfClassifier(pipe, "baseline"), splits),
    }


def comparison_notes(card: dict[str, Any], baselines: dict[str, Any]) -> list[str]:
    """Say plainly when a baseline beats the model on the gold set (or on the held-out split without gold)."""
    split = "gold" if card["evaluation"].get("gold") else "held_out"
    mine = card["evaluation"].get(split)
    if not mine:
        return []
    notes = []
    for name, scores in baselines.items():
        other = scores.get(split)
        if other and other["macro_f1"] > mine["macro_f1"]:
            notes.append(
                f"- The {name} baseline beats this model on the {split} set "
                f"(macro-F1 {other['macro_f1']:.3f} vs {mine['macro_f1']:.3f}); for why, see "
                'services/classify/README.md, "Why the baseline wins".'
            )
    return notes
