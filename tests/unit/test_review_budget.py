"""The review budget (shared/review.py): which of a letter's model flags an analyst is shown."""

from __future__ import annotations

from shared.review import within_budget


def test_keeps_the_least_confident_flags_within_a_fifth() -> None:
    confidence = [0.95, 0.40, 0.55, 0.30, 0.62, 0.90, 0.50, 0.97, 0.99, 0.93]
    flagged = [c < 0.7 for c in confidence]  # five flags on ten segments
    shown = within_budget(confidence, flagged, 0.2)
    assert [i for i, f in enumerate(shown) if f] == [1, 3]  # 0.30 and 0.40: the two least confident


def test_a_letter_within_budget_keeps_every_flag_and_adds_none() -> None:
    confidence = [0.9, 0.5, 0.95, 0.99, 0.97, 0.96, 0.98, 0.92, 0.91, 0.94]
    flagged = [False, True, False, False, False, False, False, False, False, False]
    assert within_budget(confidence, flagged, 0.2) == flagged
    assert within_budget(confidence, [False] * 10, 0.2) == [False] * 10


def test_the_letters_segment_count_sets_the_budget_while_segments_arrive() -> None:
    # 4 of a letter's 20 segments are in, all flagged: 4 may be shown (a fifth of 20), not 1 (of 4)
    assert within_budget([0.3, 0.4, 0.5, 0.6], [True] * 4, 0.2, total=20) == [True] * 4
    assert within_budget([0.3, 0.4, 0.5, 0.6, 0.7], [True] * 5, 0.2) == [True, False, False, False, False]
    assert within_budget([0.3, 0.4, 0.5, 0.6], [True] * 4, 0.2) == [True, False, False, False]


def test_no_letter_of_five_segments_or_more_has_more_than_its_share_flagged() -> None:
    for n in range(1, 41):
        shown = within_budget([0.5] * n, [True] * n, 0.2)
        assert sum(shown) == max(n // 5, 1)
        assert n < 5 or sum(shown) <= 0.2 * n


def test_ties_and_unknown_scores_go_in_reading_order() -> None:
    assert within_budget([0.5, 0.5, 0.5, 0.5, 0.5], [True] * 5, 0.2) == [True, False, False, False, False]
    assert within_budget([None, 0.2, 0.9, 0.9, 0.9], [True, True, False, False, False], 0.2) == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_budget_bounds() -> None:
    flags = [True, True, False]
    assert within_budget([0.1, 0.2, 0.9], flags, 1.0) == flags
    assert within_budget([0.1, 0.2, 0.9], flags, 0.0) == [False, False, False]
    assert within_budget([], [], 0.2) == []
