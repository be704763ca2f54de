"""The classifier interface shared by every model kind, and the model-directory manifest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from shared.events import LABELS
from shared.review import within_budget

#: File in every model directory that names the model kind and its files.
MANIFEST = "innspill_model.json"
ModelKind = Literal["bert", "tfidf", "keywords", "ensemble", "structured"]
KINDS: tuple[str, ...] = ("bert", "tfidf", "keywords", "ensemble", "structured")


class ModelError(RuntimeError):
    """A model directory that is missing, incomplete or not one this project wrote."""


@dataclass(frozen=True)
class Item:
    """One segment to classify: its text and the headings above it (outermost first), plus optional
    structure from extraction: the segment ``kind``, its place in the letter (``seq`` of ``count``) and
    its neighbours' text and kind. Models that do not use the structure ignore it."""

    text: str
    heading_path: tuple[str, ...] = ()
    kind: str | None = None
    seq: int | None = None
    count: int | None = None
    prev_text: str | None = None
    prev_kind: str | None = None
    next_text: str | None = None
    next_kind: str | None = None

    @classmethod
    def of(
        cls,
        text: str,
        heading_path: list[str] | tuple[str, ...] | None = None,
        kind: str | None = None,
        **context: Any,
    ) -> Item:
        return cls(text=text, heading_path=tuple(heading_path or ()), kind=kind or None, **context)


#: Kinds of the labelled data mapped to the kinds extraction sends (``services/extract/model.py``).
KIND_ALIASES: dict[str, str] = {
    "bullet": "list_item",
    "signature": "letter",
    "closing": "letter",
    "greeting": "letter",
    "date": "letter",
    "reference": "letter",
    "letterhead": "letter",
}


def canonical_kind(kind: str | None) -> str | None:
    if not kind:
        return None
    kind = kind.strip().lower()
    return KIND_ALIASES.get(kind, kind)


def document_items(
    segments: Sequence[tuple[str, Sequence[str], str | None]],
) -> list[Item]:
    """Items for the segments of one letter in reading order, ``(text, heading_path, kind)`` each: every
    item gets its position and its neighbours, as the stream and ``POST /classify`` with
    ``document: true`` give them."""
    n = len(segments)
    out = []
    for i, (text, path, kind) in enumerate(segments):
        prev = segments[i - 1] if i > 0 else None
        nxt = segments[i + 1] if i + 1 < n else None
        out.append(
            Item(
                text=text,
                heading_path=tuple(path or ()),
                kind=canonical_kind(kind),
                seq=i,
                count=n,
                prev_text=prev[0] if prev else None,
                prev_kind=canonical_kind(prev[2]) if prev else None,
                next_text=nxt[0] if nxt else None,
                next_kind=canonical_kind(nxt[2]) if nxt else None,
            )
        )
    return out


@dataclass(frozen=True)
class Prediction:
    """The primary label plus a probability for each of the four labels (they sum to 1)."""

    label: str
    scores: dict[str, float] = field(default_factory=dict)
    #: Theme ids of the taxonomy with their scores, best first (models with a theme tagger only).
    themes: tuple[tuple[str, float], ...] = ()
    #: The top score is below the model's review threshold: an analyst should check this label.
    needs_review: bool = False

    @classmethod
    def from_probs(cls, probs: Any) -> Prediction:
        """Build from a probability vector ordered like ``LABELS``; renormalised, rounded to 6 places."""
        values = [max(float(p), 0.0) for p in probs]
        total = sum(values) or 1.0
        scores = {label: round(v / total, 6) for label, v in zip(LABELS, values, strict=True)}
        best = max(range(len(LABELS)), key=lambda i: values[i])
        return cls(label=LABELS[best], scores=scores)


def review_flags(preds: Sequence[Prediction], budget: float) -> list[bool]:
    """The review flags of one letter's predictions within its review budget (shared/review.py): the
    model's flags, kept for the least confident segments only."""
    return within_budget([max(p.scores.values()) for p in preds], [p.needs_review for p in preds], budget)


@runtime_checkable
class Classifier(Protocol):
    """What the service needs from a model: a version string and batched prediction."""

    model_version: str

    def predict(self, items: list[Item]) -> list[Prediction]: ...


def heading_text(heading_path: tuple[str, ...] | list[str]) -> str:
    """The heading path as the model sees it: outermost first, joined with `` > ``."""
    return " > ".join(h.strip() for h in heading_path if h and h.strip())


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST
    if not model_dir.is_dir():
        raise ModelError(
            f"model directory {model_dir} does not exist (run `python -m tools.cli.main ensure-model`)"
        )
    if not path.is_file():
        raise ModelError(f"{model_dir} has no {MANIFEST}; it is not an innspill model directory")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is unreadable: {exc}") from exc
    if manifest.get("kind") not in KINDS:
        raise ModelError(f"{path}: unknown model kind {manifest.get('kind')!r}; expected one of {KINDS}")
    if not manifest.get("model_version"):
        raise ModelError(f"{path}: model_version is missing")
    return manifest


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
