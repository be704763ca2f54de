"""What is worth an analyst's look first, and how often analysts agree with the model.

Review queue: uncorrected segments ranked by a priority: ``needs_review`` first, then a disagreement between
the label and the segment's themes or heading (e.g. «annet» with a confident theme, «tiltak» under a heading
«Utfordringer»), then the lowest model confidence.

Agreement: per-label F1 of the model's label against the final label over the reviewed segments (those whose
label an analyst set, confirmations included), with a 95 % percentile-bootstrap interval once 30 are reviewed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, true
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.store.models import Correction, Document, Segment, table_of
from shared.events import LABELS

#: Heading words that say which label a heading's paragraphs tend to have.
HEADING_HINTS: dict[str, re.Pattern[str]] = {
    "challenge": re.compile(r"\b(utfordring\w*|problem\w*|risiko\w*|mangl\w*|barrier\w*)", re.IGNORECASE),
    "measure": re.compile(
        r"\b(tiltak\w*|forslag\w*|anbefal\w*|innspill til tiltak|løsning\w*)", re.IGNORECASE
    ),
    "example": re.compile(r"\b(eksempl?\w*|erfaring\w*|prosjekt\w*|god praksis)", re.IGNORECASE),
}
CONFIDENT_THEME = 0.6
#: Below this top score the queue calls a segment's confidence low.
LOW_CONFIDENCE = 0.8
QUEUE_SCAN = 2000
MIN_FOR_INTERVAL = 30
BOOTSTRAP_ROUNDS = 1000


def disagreement(
    label: str, themes: Sequence[dict[str, Any]] | None, heading_path: Sequence[str] | None
) -> str | None:
    """Why the label looks at odds with the themes or the heading, in Norwegian; None when it does not."""
    confident = [t for t in themes or [] if float(t.get("score", 0)) >= CONFIDENT_THEME]
    if label == "other" and confident:
        return "«annet», men med tydelig tema"
    heading = " ".join(heading_path or [])
    if heading:
        hinted = [lb for lb, rx in HEADING_HINTS.items() if rx.search(heading)]
        if len(hinted) == 1 and hinted[0] != label:
            return "etiketten passer ikke med overskriften"
    return None


@dataclass(frozen=True)
class QueueItem:
    segment: Segment
    sender: str | None
    filename: str | None
    reason: str


def review_queue(engine: Engine, limit: int = 50, document_id: str | None = None) -> list[QueueItem]:
    """Uncorrected segments most worth checking, best first.

    The ``QUEUE_SCAN`` candidates (``needs_review`` first, then the least confident) are ranked on the few
    columns the priority needs; only the ``limit`` chosen ones are then loaded in full."""
    seg = table_of(Segment)
    rows: list[Any] = []
    with engine.connect() as conn:
        # needs_review first, then the rest; each part least confident first, read in the order of the
        # review index (corrected, needs_review, confidence, segment_id), so nothing has to sort every segment.
        for flagged in (True, False):
            stmt = sa_select(
                seg.c.segment_id,
                seg.c.label,
                seg.c.themes,
                seg.c.heading_path,
                seg.c.needs_review,
                seg.c.confidence,
            ).where(seg.c.corrected == false(), seg.c.needs_review == (true() if flagged else false()))
            if document_id:
                stmt = stmt.where(seg.c.document_id == document_id)
            stmt = stmt.order_by(seg.c.confidence.asc(), seg.c.segment_id)
            rows.extend(conn.execute(stmt.limit(QUEUE_SCAN - len(rows))).all())
            if len(rows) >= QUEUE_SCAN:
                break
    ranked: list[tuple[tuple[int, float, str], str]] = []
    for r in rows:
        why = disagreement(r.label, r.themes, r.heading_path)
        conf = r.confidence if r.confidence is not None else 0.0
        if r.needs_review:
            reason, tier = "modellen ber om kontroll", 0
        elif why:
            reason, tier = why, 1
        else:
            # The rest of the queue is ordered by confidence; only a low score is called low.
            word = "lav sikkerhet" if conf < LOW_CONFIDENCE else "sikkerhet"
            reason, tier = f"{word} {conf:.2f}".replace(".", ","), 2
        ranked.append(((tier, conf, r.segment_id), reason))
    ranked.sort(key=lambda r: r[0])
    chosen = ranked[:limit]
    if not chosen:
        return []
    with Session(engine) as s:
        full = {
            sg.segment_id: (sg, sender, filename)
            for sg, sender, filename in s.exec(
                select(Segment, Document.sender, Document.filename)
                .join(Document, col(Document.id) == col(Segment.document_id))
                .where(col(Segment.segment_id).in_([key[2] for key, _ in chosen]))
            )
        }
    return [
        QueueItem(full[key[2]][0], full[key[2]][1], full[key[2]][2], reason)
        for key, reason in chosen
        if key[2] in full
    ]


def f1_per_label(pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """F1 of model (first) against final (second) label, per label; 1.0 for a label absent from both."""
    out: dict[str, float] = {}
    for lb in LABELS:
        tp = sum(1 for m, f in pairs if m == lb and f == lb)
        fp = sum(1 for m, f in pairs if m == lb and f != lb)
        fn = sum(1 for m, f in pairs if m != lb and f == lb)
        out[lb] = 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    return out


def _interval(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    lo = values[int(0.025 * (len(values) - 1))]
    hi = values[int(round(0.975 * (len(values) - 1)))]
    return lo, hi


def agreement(pairs: Sequence[tuple[str, str]], *, seed: int = 0) -> dict[str, Any]:
    """Per-label and macro F1 of the model against the analysts, with bootstrap 95 % intervals (n >= 30)."""
    n = len(pairs)
    out: dict[str, Any] = {"reviewed": n, "changed": sum(1 for m, f in pairs if m != f), "labels": {}}
    if not n:
        out["macro_f1"] = None
        return out
    f1 = f1_per_label(pairs)
    out["macro_f1"] = sum(f1.values()) / len(f1)
    out["accuracy"] = sum(1 for m, f in pairs if m == f) / n
    samples: dict[str, list[float]] = {lb: [] for lb in [*LABELS, "macro"]}
    if n >= MIN_FOR_INTERVAL:
        rng = random.Random(seed)
        for _ in range(BOOTSTRAP_ROUNDS):
            sample = [pairs[rng.randrange(n)] for _ in range(n)]
            sf1 = f1_per_label(sample)
            for lb, v in sf1.items():
                samples[lb].append(v)
            samples["macro"].append(sum(sf1.values()) / len(sf1))
    for lb in LABELS:
        support = sum(1 for _, f in pairs if f == lb)
        entry: dict[str, Any] = {"f1": f1[lb], "support": support}
        if samples[lb]:
            entry["ci95"] = list(_interval(samples[lb]))
        out["labels"][lb] = entry
    if samples["macro"]:
        out["macro_ci95"] = list(_interval(samples["macro"]))
    return out


def reviewed_pairs(engine: Engine) -> list[tuple[str, str]]:
    """(model label, final label) of every segment whose label an analyst set and has not undone."""
    with engine.connect() as conn:
        corrected = list(
            conn.execute(
                sa_select(col(Segment.segment_id), col(Segment.model_label), col(Segment.label)).where(
                    col(Segment.corrected).is_(True)
                )
            )
        )
        ids = [r[0] for r in corrected]
        label_set: set[str] = set()
        for i in range(0, len(ids), 500):
            rows = conn.execute(
                sa_select(col(Correction.segment_id), col(Correction.label), col(Correction.reverted))
                .where(col(Correction.segment_id).in_(ids[i : i + 500]))
                .order_by(col(Correction.at), col(Correction.event_id))
            )
            state: dict[str, bool] = {}
            for sid, label, reverted in rows:
                if "label" in (reverted or []):
                    state[sid] = False
                elif label is not None:
                    state[sid] = True
            label_set |= {sid for sid, on in state.items() if on}
    return [(m or f, f) for sid, m, f in corrected if sid in label_set]
