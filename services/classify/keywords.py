"""Keyword rule baseline: cue words for each label (bokmål and nynorsk), a few form rules for letter
furniture, and the heading path as a tie-breaker. No training; it is the floor every model must beat."""

from __future__ import annotations

import math
import re

from services.classify.schema import Item, Prediction
from shared.cues import cue_counts
from shared.events import LABELS

# Headings that tell what a section asks for (only a tie-breaker: form beats position).
HEADING_CUES: dict[str, tuple[str, ...]] = {
    "challenge": (r"utfordr", r"krevende", r"krevjande"),
    "measure": (r"tiltak", r"forslag", r"støtte", r"anbefal", r"løsning"),
    "example": (r"erfaring", r"eksempel", r"praksis", r"nyttig"),
}
FURNITURE = (
    r"^med (vennlig|venleg) hilsen",
    r"^(vennlig|venleg) hilsen",
    r"^hilsen",
    r"^side \d+",
    r"https?://",
    r"www\.",
    r"^vår ref",
    r"^deres ref",
    r"^dato",
    r"^til\b",
    r"^kopi",
    r"viser til",
    r"høringsinnspill",
    r"^innspill",
    r"@",
    r"^postadresse",
    r"^telefon",
    r"^org\.? ?nr",
    r"^\d+\. [a-zæøå]+ \d{4}$",
)
_HEADING = {label: [re.compile(p) for p in pats] for label, pats in HEADING_CUES.items()}
_FURNITURE = [re.compile(p) for p in FURNITURE]


def looks_like_furniture(text: str) -> bool:
    """Letterhead, greeting, signature, page number, heading or question: no body of sentences."""
    low = text.strip().lower()
    words = low.split()
    if any(p.search(low) for p in _FURNITURE):
        return True
    if low.endswith("?") or low.endswith(":") and len(words) <= 6:
        return True
    return len(words) <= 5 and not low.endswith(".")


def rule_scores(item: Item) -> dict[str, float]:
    """Unnormalised evidence per label."""
    scores = {label: float(n) for label, n in cue_counts(item.text).items()}
    heading = " ".join(item.heading_path).lower()
    for label, pats in _HEADING.items():
        if any(p.search(heading) for p in pats):
            scores[label] += 0.5
    scores["other"] = 3.0 if looks_like_furniture(item.text) else 0.6
    return scores


class KeywordClassifier:
    """Rules only; ``predict`` turns evidence into probabilities with a softmax."""

    def __init__(self, model_version: str = "keywords-1") -> None:
        self.model_version = model_version

    def predict(self, items: list[Item]) -> list[Prediction]:
        out = []
        for item in items:
            s = rule_scores(item)
            exps = [math.exp(s[label]) for label in LABELS]
            out.append(Prediction.from_probs(exps))
        return out
