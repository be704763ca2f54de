"""How corrections and model output combine into the final values (pure functions, no database).

The rules:

* The model's values are kept as they are; the final value of a field is the analyst's when a correction of
  it is in force, else the model's. So a later classification (a replay, a new model version) changes the
  model's values and never the final value of a corrected field.
* Corrections of one segment are folded in time order (ties broken by event id), each field separately: a
  correction that names a field sets it, one that lists the field in ``reverted`` clears it (back to the
  model). The result depends only on the set of corrections, never on the order they arrived in, and
  applying the same correction twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.events import DOCUMENT_FIELDS


@dataclass(frozen=True)
class CorrectionFacts:
    """What the fold needs of one ``segments.corrected`` event."""

    event_id: str
    at: datetime
    user: str
    label: str | None = None
    themes: Sequence[str] | None = None
    reverted: Sequence[str] = ()
    #: The model's values when the correction was made (the history shows them as "before").
    model_label: str | None = None
    model_themes: Sequence[str] | None = None


@dataclass(frozen=True)
class FinalSegment:
    label: str
    themes: list[dict[str, Any]]
    corrected: bool
    label_corrected: bool
    themes_corrected: bool
    corrected_by: str | None
    corrected_at: datetime | None


def ordered(corrections: Iterable[CorrectionFacts]) -> list[CorrectionFacts]:
    return sorted(corrections, key=lambda c: (c.at, c.event_id))


def fold_segment(
    model_label: str, model_themes: Sequence[Mapping[str, Any]] | None, corrections: Iterable[CorrectionFacts]
) -> FinalSegment:
    """The final label and themes of a segment from the model's values and every correction of it."""
    label: str | None = None
    themes: list[str] | None = None
    label_by: tuple[str, datetime] | None = None
    themes_by: tuple[str, datetime] | None = None
    for c in ordered(corrections):
        if "label" in c.reverted:
            label, label_by = None, None
        elif c.label is not None:
            label, label_by = c.label, (c.user, c.at)
        if "themes" in c.reverted:
            themes, themes_by = None, None
        elif c.themes is not None:
            themes, themes_by = list(dict.fromkeys(c.themes)), (c.user, c.at)
    model = [dict(t) for t in (model_themes or [])]
    # The analyst's themes are certain: score 1.0.
    final_themes = model if themes is None else [{"id": t, "score": 1.0} for t in themes]
    marks = [m for m in (label_by, themes_by) if m is not None]
    last = max(marks, key=lambda m: m[1]) if marks else None
    return FinalSegment(
        label=label if label is not None else model_label,
        themes=final_themes,
        corrected=bool(marks),
        label_corrected=label_by is not None,
        themes_corrected=themes_by is not None,
        corrected_by=last[0] if last else None,
        corrected_at=last[1] if last else None,
    )


@dataclass(frozen=True)
class HistoryStep:
    """One correction with the final values just before and just after it."""

    facts: CorrectionFacts
    note: str | None
    before: FinalSegment
    after: FinalSegment


def segment_history(
    model_label: str,
    model_themes: Sequence[Mapping[str, Any]] | None,
    corrections: Sequence[tuple[CorrectionFacts, str | None]],
) -> list[HistoryStep]:
    """Before/after of each correction, in time order (derived, so it never depends on arrival order). Each
    step is seen against the model's values recorded with it (the current ones when none were recorded)."""
    steps: list[HistoryStep] = []
    seen: list[CorrectionFacts] = []
    notes = {c.event_id: note for c, note in corrections}
    for c in ordered(c for c, _ in corrections):
        label = c.model_label or model_label
        themes = (
            [{"id": t, "score": 1.0} for t in c.model_themes] if c.model_themes is not None else model_themes
        )
        before = fold_segment(label, themes, seen)
        seen.append(c)
        steps.append(HistoryStep(c, notes.get(c.event_id), before, fold_segment(label, themes, seen)))
    return steps


@dataclass(frozen=True)
class DocumentCorrectionFacts:
    event_id: str
    at: datetime
    user: str
    #: Corrected fields; a ``None`` value reverts the field to what extraction found.
    values: Mapping[str, Any]


def fold_document(
    model: Mapping[str, Any], corrections: Iterable[DocumentCorrectionFacts]
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Final document metadata and the corrected fields ({field: {by, at}}) from extraction's values."""
    final: dict[str, Any] = {f: model.get(f) for f in DOCUMENT_FIELDS}
    marks: dict[str, dict[str, str]] = {}
    for c in sorted(corrections, key=lambda c: (c.at, c.event_id)):
        for f, v in c.values.items():
            if f not in DOCUMENT_FIELDS:
                continue
            if v is None:
                final[f] = model.get(f)
                marks.pop(f, None)
            else:
                final[f] = v
                marks[f] = {"by": c.user, "at": c.at.isoformat()}
    if final.get("sender_kind") is None:
        final["sender_kind"] = "ukjent"
    return final, marks


def document_befores(
    model: Mapping[str, Any], corrections: Iterable[DocumentCorrectionFacts]
) -> dict[str, dict[str, Any]]:
    """For each correction (by event id), the final values of the fields it names just before it: the audit's
    "before", derived in time order so that it depends only on the set of corrections."""
    out: dict[str, dict[str, Any]] = {}
    seen: list[DocumentCorrectionFacts] = []
    for c in sorted(corrections, key=lambda c: (c.at, c.event_id)):
        final, _ = fold_document(model, seen)
        out[c.event_id] = {f: final.get(f) for f in c.values if f in DOCUMENT_FIELDS}
        seen.append(c)
    return out
