"""Concept lexicon: sets of Norwegian expressions for one health-policy idea, matched on lemmas.

An expression matches a segment when each of its content lemmas occurs in the segment (as a word or as
a compound part, so «journal» matches «pasientjournalen») within a window of a few content words. A word
that is itself a one-word term counts only as its longest term (``Lexicon.whole_words``): «akuttsengene»
is the municipal acute beds, not also hospital «seng». The lexicon lives in shared/data/concepts.json;
``load_lexicon(path)`` reads another one. Two services read it: the store groups points with its concepts
(services/store/points), classify's theme tagger takes the concepts a segment names as features.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from shared import norwegian as nb

CONCEPTS_FILE = Path(__file__).resolve().parent / "data" / "concepts.json"
WINDOW = 8  # content words an expression of several words may span
PART_WINDOW = 1  # the parts of a compound written as separate words must stand this close
ASPECT = "aspect"
FACETS = ("object", "actor", "population", "setting")  # every kind but aspect says what a point is about
# Function words that change an expression's meaning («skrive ut», «uten henvisning»): kept for matching.
PARTICLES: frozenset[str] = frozenset({"ut", "inn", "opp", "ned", "igjen", "uten", "utan", "ikke", "ikkje"})


@dataclass(frozen=True)
class Concept:
    id: str
    kind: str  # one of FACETS, or "aspect" (a generic action/instrument)
    themes: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass
class Lexicon:
    concepts: dict[str, Concept]
    # compiled expressions: concept id, lemma alternatives per slot (a slot is a lemma or its compound parts)
    _exprs: list[tuple[str, tuple[tuple[str, ...], ...]]] = field(default_factory=list)
    _by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    _single: dict[str, frozenset[str]] = field(default_factory=dict)
    _required: list[frozenset[str]] = field(default_factory=list)  # words an expression cannot do without
    whole_words: bool = True  # one-word terms: per word only the longest (see match)

    def match(self, positions: list[frozenset[str]]) -> set[str]:
        """Concept ids found in a segment given, per content word, the set {lemma, compound parts}."""
        present: dict[str, list[int]] = defaultdict(list)
        for i, terms in enumerate(positions):
            for t in terms:
                present[t].append(i)
        found: set[str] = set()
        single = self._single
        if self.whole_words:
            # a compound that is itself a term does not also count as its parts («helsesykepleier» is not
            # «sykepleier», «akuttseng» is not a hospital bed): per word, only the longest term found
            for terms in positions:
                keys = [t for t in terms if t in single]
                if keys:
                    found |= single[max(keys, key=lambda k: (len(k), k))]
        else:
            for key in present:
                hit = single.get(key)
                if hit:
                    found |= hit
        required = self._required
        words = present.keys()
        for key in present:
            for idx in self._by_key.get(key, ()):
                cid, slots = self._exprs[idx]
                if cid not in found and words >= required[idx] and _slots_match(slots, present):
                    found.add(cid)
        return found


def _slot_positions(slot: tuple[str, ...], present: dict[str, list[int]]) -> list[int]:
    """Positions where a slot is satisfied: its lemma, or all its parts at one position."""
    if len(slot) == 1:
        return present.get(slot[0], [])
    hits = [set(present.get(p, ())) for p in slot]
    common = set.intersection(*hits) if hits else set()
    return sorted(common)


def _slots_match(slots: tuple[tuple[str, ...], ...], present: dict[str, list[int]]) -> bool:
    options: list[list[int]] = []
    for slot in slots:
        pos = _slot_positions(slot, present)
        if not pos and len(slot) > 1:
            # a compound slot also matches when its parts stand as separate nearby words
            pos = _spread_positions(slot, present)
        if not pos:
            return False
        options.append(pos)
    if len(options) == 1:
        return True
    # some choice of one position per slot spans at most WINDOW words
    for start in options[0]:
        if all(any(abs(p - start) <= WINDOW for p in opts) for opts in options[1:]):
            return True
    return False


def _spread_positions(parts: tuple[str, ...], present: dict[str, list[int]]) -> list[int]:
    firsts = present.get(parts[0], [])
    return [
        s
        for s in firsts
        if all(any(0 < p - s <= PART_WINDOW * len(parts) for p in present.get(q, ())) for q in parts[1:])
    ]


_EMPTY: frozenset[str] = frozenset()


@lru_cache(maxsize=300_000)
def word_terms(tok: str) -> frozenset[str]:
    """{lemma} plus compound parts of one normalised token; empty for stopwords and most numbers."""
    if tok in PARTICLES:
        return frozenset([tok])
    if tok in nb.STOPWORDS or (tok.isdigit() and len(tok) != 4):
        return _EMPTY
    lem = nb.lemma(tok)
    if lem in nb.STOPWORDS:  # «flere» -> «mange»: keep the word itself, never its function-word lemma
        return frozenset([tok])
    parts = [p for p in nb.split_compound(tok) if p not in nb.STOPWORDS]
    return frozenset([lem, *parts])


def segment_positions(text: str) -> list[frozenset[str]]:
    """Per content word of text: {lemma} plus its compound parts (stopwords dropped, PARTICLES kept)."""
    out: list[frozenset[str]] = []
    for tok in nb.tokens(text):
        terms = word_terms(tok)
        if terms:
            out.append(terms)
    return out


def _compile_expression(expr: str) -> tuple[tuple[str, ...], ...]:
    slots: list[tuple[str, ...]] = []
    for tok in nb.tokens(expr):
        if tok in PARTICLES:
            slots.append((tok,))
            continue
        if tok in nb.STOPWORDS:
            continue
        lem = nb.lemma(tok)
        if lem in nb.STOPWORDS:
            slots.append((tok,))
            continue
        parts = tuple(p for p in nb.split_compound(tok) if p not in nb.STOPWORDS)
        slots.append((lem,))
        if len(parts) > 1:
            slots[-1] = (lem, *parts)  # lemma, then its parts as the alternative
    return tuple(slots)


def build_lexicon(raw: dict[str, object]) -> Lexicon:
    concepts: dict[str, Concept] = {}
    lex = Lexicon(concepts=concepts)
    items = raw.get("concepts", [])
    assert isinstance(items, list)
    for item in items:
        con = Concept(
            id=str(item["id"]),
            kind=str(item.get("kind", "object")),
            themes=tuple(item.get("themes", ())),
            terms=tuple(item["terms"]),
        )
        concepts[con.id] = con
        for term in con.terms:
            compiled = _compile_expression(term)
            if not compiled:
                continue
            # A slot (lemma, part1, part2...) is satisfied by the lemma or by all parts.
            slots = tuple(_slot_alternative(s) for s in compiled)
            for variant in slots_variants(slots):
                if len(variant) == 1 and len(variant[0]) == 1:  # one word: a plain lookup
                    key = variant[0][0]
                    lex._single[key] = lex._single.get(key, frozenset()) | {con.id}
                    continue
                lex._exprs.append((con.id, variant))
                lex._required.append(frozenset(w for slot in variant for w in slot))
    # Each expression is looked at only when its least used word is in the segment: every word it
    # requires must be there, and a word few expressions share («kad», «ambulanse») rules most out at once.
    uses: dict[str, int] = defaultdict(int)
    for required in lex._required:
        for w in required:
            uses[w] += 1
    for idx, required in enumerate(lex._required):
        lex._by_key[min(required, key=lambda w: (uses[w], w))].append(idx)
    return lex


def _slot_alternative(slot: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    if len(slot) == 1:
        return ((slot[0],),)
    return ((slot[0],), slot[1:])


def slots_variants(
    slots: tuple[tuple[tuple[str, ...], ...], ...],
) -> list[tuple[tuple[str, ...], ...]]:
    """Expand per-slot alternatives (whole lemma / parts) into concrete slot tuples."""
    variants: list[tuple[tuple[str, ...], ...]] = [()]
    for alts in slots:
        variants = [(*v, alt) for v in variants for alt in alts]
    return variants


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Read and compile a concept lexicon (default: shared/data/concepts.json)."""
    if path is None or path == CONCEPTS_FILE:
        return _default_lexicon()
    return build_lexicon(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return build_lexicon(json.loads(CONCEPTS_FILE.read_text(encoding="utf-8")))
