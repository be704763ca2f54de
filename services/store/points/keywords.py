"""Keywords of a point: the words its senders share, as an analyst would name the topic.

A keyword is a noun, at least four letters long and not a number: a lemma the word table lists as a noun
and not as a verb, so «sende», «øke» and «bore» (the lemma «bor» gets) stay out; a noun that is also a
verb («lege», «avtale») where the text writes a form only a noun has («legen», «avtalene»); a word the
table lacks, in its base form («fastlege»); or a noun part of a compound.
Ranked by how many of the point's senders use it, then by how rare it is in the team's letters: a word one
sender happens to use, however rare, says less about the point than one that most of them share, and fills
in only where the senders share fewer than ``MIN_KEYWORDS``. The lexicon's concept names (e.g. «felles
journal») come first where most members name the concept. A keyword inside another («legevakt» in
«legevaktsentral») is not repeated.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache

from shared import norwegian as nb
from shared.lexicon import PARTICLES, word_terms

MIN_LENGTH = 4
#: A compound part shorter than this is more often a suffix («else», «skap») than a word.
MIN_PART_LENGTH = 5
#: Fewer shared keywords than this, and words of one sender fill up.
MIN_KEYWORDS = 3


def _plain_word(word: str) -> bool:
    return (
        len(word) >= MIN_LENGTH
        and not any(ch.isdigit() for ch in word)
        and word not in nb.STOPWORDS
        and word not in PARTICLES
    )


def is_keyword_noun(word: str) -> bool:
    """A word that can name a topic whatever the text: a noun that is not also a verb, long enough, not a
    number. A compound the table does not list («følgetjeneste») is a noun when its last part is a noun of at
    least ``MIN_LENGTH`` letters (the head of a Norwegian compound comes last; shorter «heads» are mostly
    guesses)."""
    if not _plain_word(word):
        return False
    pos = nb.parts_of_speech(word)
    if not pos:
        parts = nb.split_compound(word)
        if len(parts) < 2 or len(parts[-1]) < MIN_LENGTH:  # «turnov» is no «tur» + «nov»
            return False
        pos = nb.parts_of_speech(parts[-1])
    return "noun" in pos and "verb" not in pos


#: Endings only a noun takes (definite forms), so a word that is also a verb («lege», «støtte», «avtale»)
#: counts as a noun where the text writes «legen», «støtta» or «avtalene».
_NOUN_ENDINGS = ("n", "en", "ne", "ene", "a", "ane", "et")


def _names_a_thing(tok: str, lem: str) -> bool:
    """Whether the word ``tok`` (lemma ``lem``) reads as a noun that can be a keyword."""
    if not _plain_word(lem):
        return False
    pos = nb.parts_of_speech(lem)
    if not pos:  # not in the word table: a compound with a noun head, or a word written in its base form
        return is_keyword_noun(lem) or (tok == lem and len(lem) > MIN_LENGTH)
    if "noun" not in pos:
        return False
    return "verb" not in pos or any(tok == lem + e for e in _NOUN_ENDINGS)


@lru_cache(maxsize=200_000)
def _token_terms(tok: str) -> tuple[str, ...]:
    """The keyword candidates of one normalised token: its lemma when the word names a thing, and the noun
    parts of a compound."""
    terms = word_terms(tok)
    if not terms:
        return ()
    lem = nb.lemma(tok)
    out = {lem} if lem in terms and _names_a_thing(tok, lem) else set()
    out.update(t for t in terms if t != lem and len(t) >= MIN_PART_LENGTH and is_keyword_noun(t))
    return tuple(sorted(out))


def _terms_of(text: str, weak: frozenset[str]) -> set[str]:
    """The keyword candidates of one text."""
    return {t for tok in nb.tokens(text) for t in _token_terms(tok) if t not in weak}


def concept_name(terms: Sequence[str]) -> str:
    """How a lexicon concept is shown: its first term, unless that is only a verb («rekruttere»); then its
    first term that is a keyword noun («rekruttering»)."""
    if not terms:
        return ""
    pos = nb.parts_of_speech(terms[0])
    if "verb" not in pos or "noun" in pos:
        return terms[0]
    return next((t for t in terms if is_keyword_noun(t)), terms[0])


def point_keywords(
    members: Sequence[tuple[str, str]],
    concepts: Sequence[str] = (),
    idf: Mapping[str, float] | None = None,
    weak: frozenset[str] = frozenset(),
    limit: int = 6,
) -> list[str]:
    """Keywords of a point from its members as (sender, text); ``concepts``: lexicon concept names to lead
    with; ``idf``: rarity of a term in the team's letters (a term they never use counts as the rarest)."""
    senders: dict[str, set[str]] = defaultdict(set)
    for sender, text in members:
        for t in _terms_of(text, weak):
            senders[t].add(sender)

    def rank(t: str) -> tuple[int, float, str]:
        return (-len(senders[t]), -(idf.get(t, math.inf) if idf else 0.0), t)

    keywords = list(dict.fromkeys(concepts))[:limit]
    ranked = sorted(senders, key=rank)
    shared = [t for t in ranked if len(senders[t]) > 1]
    alone = [t for t in ranked if len(senders[t]) == 1]
    for pool, upto in ((shared, limit), (alone, MIN_KEYWORDS)):
        for t in pool:
            if len(keywords) >= upto:
                break
            if not any(t in k or k in t for k in keywords):
                keywords.append(t)
    return keywords


def smoothed_idf(n: int, df: int) -> float:
    """Idf of a term found in ``df`` of ``n`` documents, smoothed as the grouping weighs its terms."""
    return math.log((n + 1) / (df + 1)) + 1.0


def idf_of(n: int, df: Mapping[str, int]) -> dict[str, float]:
    """Smoothed idf per term from a document count and document frequencies."""
    return {t: smoothed_idf(n, d) for t, d in df.items()}
