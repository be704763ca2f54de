"""The precedence rules of corrections: the analyst's value wins over any model output, each field on its
own, undo goes back to the model, and the order corrections arrive in never matters."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from services.store.corrections.rules import (
    CorrectionFacts,
    DocumentCorrectionFacts,
    fold_document,
    fold_segment,
    segment_history,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MODEL_THEMES = [{"id": "personell", "score": 0.8}]


def c(minute: int, eid: str, **kw: object) -> CorrectionFacts:
    return CorrectionFacts(event_id=eid, at=T0 + timedelta(minutes=minute), user=f"u{minute}", **kw)  # type: ignore[arg-type]  # a test double or a deliberately loose value


def test_no_correction_keeps_the_model_values() -> None:
    final = fold_segment("challenge", MODEL_THEMES, [])
    assert (final.label, final.themes, final.corrected) == ("challenge", MODEL_THEMES, False)
    assert final.corrected_by is None


def test_label_correction_wins_and_leaves_themes_to_the_model() -> None:
    final = fold_segment("challenge", MODEL_THEMES, [c(1, "a", label="measure")])
    assert final.label == "measure" and final.label_corrected and not final.themes_corrected
    assert final.themes == MODEL_THEMES
    assert final.corrected and final.corrected_by == "u1"
    # A new model output (different model label/themes) changes nothing for the corrected label.
    newer = fold_segment("other", [{"id": "akutt", "score": 0.9}], [c(1, "a", label="measure")])
    assert newer.label == "measure" and newer.themes == [{"id": "akutt", "score": 0.9}]


def test_themes_correction_is_certain_and_may_be_empty() -> None:
    final = fold_segment("challenge", MODEL_THEMES, [c(1, "a", themes=["eldre", "eldre", "akutt"])])
    assert final.themes == [{"id": "eldre", "score": 1.0}, {"id": "akutt", "score": 1.0}]
    assert fold_segment("challenge", MODEL_THEMES, [c(1, "a", themes=[])]).themes == []


def test_undo_returns_to_the_model_per_field() -> None:
    steps = [c(1, "a", label="measure", themes=["eldre"]), c(2, "b", reverted=("label",))]
    final = fold_segment("challenge", MODEL_THEMES, steps)
    assert final.label == "challenge" and not final.label_corrected
    assert final.themes == [{"id": "eldre", "score": 1.0}] and final.corrected
    both = fold_segment("challenge", MODEL_THEMES, [*steps, c(3, "c", reverted=("label", "themes"))])
    assert (both.label, both.themes, both.corrected) == ("challenge", MODEL_THEMES, False)


def test_any_arrival_order_and_duplicates_give_the_same_result() -> None:
    steps = [
        c(1, "a", label="measure"),
        c(2, "b", label="example"),
        c(3, "c", reverted=("label",)),
        c(4, "d", label="other", themes=["brukere"]),
    ]
    expected = fold_segment("challenge", MODEL_THEMES, steps)
    assert expected.label == "other"
    for perm in itertools.permutations(steps):
        assert fold_segment("challenge", MODEL_THEMES, [*perm, perm[0]]) == expected


def test_same_time_is_broken_by_event_id() -> None:
    a, b = c(1, "a", label="measure"), c(1, "b", label="example")
    assert fold_segment("challenge", None, [b, a]).label == "example"
    assert fold_segment("challenge", None, [a, b]).label == "example"


def test_history_has_before_and_after_of_each_step() -> None:
    steps = [(c(2, "b", reverted=("label",)), None), (c(1, "a", label="measure"), "feil etikett")]
    hist = segment_history("challenge", MODEL_THEMES, steps)
    assert [h.facts.event_id for h in hist] == ["a", "b"]
    assert (hist[0].before.label, hist[0].after.label, hist[0].note) == (
        "challenge",
        "measure",
        "feil etikett",
    )
    assert (hist[1].before.label, hist[1].after.label) == ("measure", "challenge")


def test_document_corrections_fold_per_field_and_revert() -> None:
    model = {"sender": "post@example.no", "sender_kind": "person", "date": None, "title": "Innspill"}
    d1 = DocumentCorrectionFacts("a", T0, "ola", {"sender": "Fjellby kommune", "sender_kind": "kommune"})
    d2 = DocumentCorrectionFacts("b", T0 + timedelta(minutes=1), "kari", {"sender_kind": None})
    final, marks = fold_document(model, [d2, d1])
    assert final == {"sender": "Fjellby kommune", "sender_kind": "person", "date": None, "title": "Innspill"}
    assert set(marks) == {"sender"} and marks["sender"]["by"] == "ola"
