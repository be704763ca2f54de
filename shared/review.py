"""The review budget: how many of a letter's labels are flagged for an analyst to check.

The model flags a segment whose top score is below its review threshold (chosen on the team's held-out
letters). On a letter unlike the training letters every score falls, and the threshold alone would flag a
quarter to half of it; the flag then stops telling the analyst where to look. The budget keeps the flags of
the least confident ``budget`` share of the letter's segments and lifts the rest. Used by the store (the
flag an analyst sees), ``POST /classify`` with ``document: true`` and the end-to-end evaluation, so all
three agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Share of a letter's segments that may be flagged (issue 9: at most a fifth).
REVIEW_BUDGET = 0.2


def within_budget(
    confidence: Sequence[float | None],
    flagged: Sequence[bool],
    budget: float = REVIEW_BUDGET,
    total: int | None = None,
) -> list[bool]:
    """The model's flags of one letter's segments, kept for at most ``floor(budget * total)`` of them (at
    least one): the least confident first, ties in reading order. ``total`` is the letter's segment count
    when only some of its segments are at hand (default: as many as given).

    Rounded down, so that no letter of ``1 / budget`` segments or more (five at the default) has more than
    ``budget`` of them flagged, nor a set of such letters: rounded up (until stop 23), a letter of six
    segments could show two flags (a third), and the seed letters, where the budget decides, 21 % in all.
    A short letter (a web-form answer of three paragraphs) may still show its one least sure label.
    """
    n = max(len(flagged), total or 0)
    allowed = max(math.floor(budget * n + 1e-9), 1 if budget > 0 else 0)
    candidates = sorted(
        (i for i, f in enumerate(flagged) if f),
        key=lambda i: (confidence[i] if confidence[i] is not None else 0.0, i),
    )
    keep = set(candidates[:allowed])
    return [i in keep for i in range(len(flagged))]


__all__ = ["REVIEW_BUDGET", "within_budget"]
