"""Cue words of the three content labels (bokmål and nynorsk): what a sentence that names a challenge, proposes
a measure or tells of working practice tends to say. The keyword baseline classifier scores with them
(services/classify/keywords.py); the point grouping prefers a sentence that carries its point's cue when it
picks the sentence that names the point."""

from __future__ import annotations

import re

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
_COMPILED = {label: [re.compile(p) for p in pats] for label, pats in CUES.items()}


def cue_counts(text: str) -> dict[str, int]:
    """How many cue patterns of each content label occur in ``text``."""
    low = text.lower()
    return {label: sum(1 for p in pats if p.search(low)) for label, pats in _COMPILED.items()}


__all__ = ["CUES", "cue_counts"]
