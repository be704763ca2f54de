"""Keyword rule baseline: cue words for each label (bokmål and nynorsk), a few form rules for letter
furniture, and the heading path as a tie-breaker. No training; it is the floor every model must beat."""

from __future__ import annotations

import math
import re

from services.classify.schema import Item, Prediction
from shared.events import LABELS

# Cue patterns per label, matched on the lower-cased text. Word stems cover inflections.
CUES: dict[str, tuple[str, ...]] = {
    "challenge": (
        r"utfordr",
        r"krevende",
        r"krevjande",
        r"mangl",
        r"vanskelig",
        r"vanskeleg",
        r"problem",
        r"risiko",
        r"svikt",
        r"press",
        r"knapphet",
        r"knappheit",
        r"mangel",
        r"ikke godt nok",
        r"ikkje godt nok",
        r"for lite",
        r"for få",
        r"barriere",
        r"hinder",
        r"utilstrekkelig",
        r"fragmentert",
        r"snakker ikke",
        r"snakkar ikkje",
        r"bekymr",
        r"uklar",
        r"svak",
        r"belast",
        r"lang ventetid",
        r"ventetid",
        r"sårbar",
        r"ikke tilstrekkelig",
        r"ikkje tilstrekkeleg",
    ),
    "measure": (
        r"\bbør\b",
        r"\bmå\b",
        r"foreslå",
        r"føreslå",
        r"anbefal",
        r"tilrå",
        r"behov for",
        r"ønsker",
        r"ønskjer",
        r"\bønske",
        r"trenger",
        r"treng\b",
        r"\bskal\b",
        r"må utredes",
        r"bør utredes",
        r"styrke",
        r"etablere",
        r"innføre",
        r"sikre",
        r"vurdere",
        r"prioriter",
        r"det er viktig at",
        r"ber om",
        r"oppfordr",
        r"legge til rette",
        r"leggje til rette",
        r"videreutvikle",
        r"vidareutvikle",
        r"planlegg",
    ),
    "example": (
        r"er etablert",
        r"har etablert",
        r"vart etablert",
        r"ble etablert",
        r"erfaring",
        r"prosjekt",
        r"positiv",
        r"fungerer",
        r"gode resultat",
        r"har innført",
        r"har vi",
        r"vi har",
        r"pilot",
        r"har gitt",
        r"har ført til",
        r"i drift",
        r"samarbeider",
        r"samarbeider med",
        r"modell",
        r"har utviklet",
        r"har utvikla",
        r"tilbyr",
        r"eksempel",
        r"blant anna",
        r"mellom anna",
    ),
}
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
_COMPILED = {label: [re.compile(p) for p in pats] for label, pats in CUES.items()}
_HEADING = {label: [re.compile(p) for p in pats] for label, pats in HEADING_CUES.items()}
_FURNITURE = [re.compile(p) for p in FURNITURE]


def cue_counts(text: str) -> dict[str, int]:
    """How many cue patterns of each content label occur in ``text``."""
    low = text.lower()
    return {label: sum(1 for p in pats if p.search(low)) for label, pats in _COMPILED.items()}


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
