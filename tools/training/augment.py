"""Training copies of letters with neighbouring paragraphs merged: longer, mixed segments like the ones real
letters have (the team's content segments average 18-25 words, the seeds' 26-52).

A recipe option, off by default. Measured in round 18 (services/classify/README.md): end to end, every
variant lost on the team's held-out letters (0.001-0.012 macro-F1) and on heldout_k, and what ``mixed``
seemed to gain on the hard-genre set (heldout_m) came and went with the draw of the copied letters.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

from shared.events import CONTENT_LABELS
from tools.training.data import Example

#: Modes: ``same`` merges two paragraphs with the same content label; ``mixed`` also merges two with
#: different labels: the merged text takes the label of the part with more sentences (LABELS.md: the
#: dominant function decides; two content parts that tie are not merged). An «other» part is set-up: its
#: content neighbour keeps its label when it has at least as many sentences, else the pair is not merged.
MODES = ("same", "mixed")
_PARAGRAPH = frozenset({"paragraph", None})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«])")


def sentence_count(text: str) -> int:
    return sum(1 for s in _SENTENCE_END.split(text) if s.strip())


def merged_label(a: Example, b: Example, mode: str) -> str | None:
    """The label of ``a`` and ``b`` merged into one segment, or None when they are not to be merged."""
    if a.kind not in _PARAGRAPH or b.kind not in _PARAGRAPH or a.heading_path != b.heading_path:
        return None
    if a.label == b.label:
        return a.label if a.label in CONTENT_LABELS else None
    if mode != "mixed" or not (a.label in CONTENT_LABELS or b.label in CONTENT_LABELS):
        return None
    na, nb = sentence_count(a.text), sentence_count(b.text)
    if a.label == "other":
        return b.label if nb >= na else None
    if b.label == "other":
        return a.label if na >= nb else None
    if na == nb:
        return None
    return a.label if na > nb else b.label


def _merged_letter(rows: list[Example], mode: str) -> list[Example]:
    """One letter (rows in reading order) with each mergeable pair of neighbours joined."""
    out: list[Example] = []
    i = 0
    while i < len(rows):
        a = rows[i]
        label = merged_label(a, rows[i + 1], mode) if i + 1 < len(rows) else None
        if label is None:
            out.append(a)
            i += 1
            continue
        b = rows[i + 1]
        themes = (
            None
            if a.themes is None and b.themes is None
            else tuple(sorted({*(a.themes or ()), *(b.themes or ())}))
        )
        out.append(replace(a, text=f"{a.text} {b.text}", label=label, themes=themes))
        i += 2
    return out


def merged_copies(
    examples: list[Example], share: float, mode: str = "mixed", seed: int = 13
) -> list[Example]:
    """Copies of a seeded ``share`` of the letters (as ``DOC#merged``, so their neighbours stay their own)
    with neighbouring paragraphs merged by ``mode``; letters with nothing to merge give no copy."""
    if mode not in MODES:
        raise ValueError(f"merge mode {mode!r} is not one of {MODES}")
    if share <= 0:
        return []
    by_doc: dict[str, list[Example]] = {}
    for e in examples:
        by_doc.setdefault(e.doc, []).append(e)
    rng = random.Random(f"merge:{seed}")
    out: list[Example] = []
    for doc in sorted(by_doc):
        if rng.random() >= share:
            continue
        rows = _merged_letter(sorted(by_doc[doc], key=lambda e: e.seq), mode)
        if len(rows) < len(by_doc[doc]):  # something was merged
            out.extend(replace(e, doc=f"{doc}#merged") for e in rows)
    return out
