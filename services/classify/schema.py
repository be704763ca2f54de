"""The classifier interface shared by every model kind, and the model-directory manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from shared.events import LABELS

#: File in every model directory that names the model kind and its files.
MANIFEST = "innspill_model.json"
ModelKind = Literal["bert", "tfidf", "keywords", "ensemble"]
KINDS: tuple[str, ...] = ("bert", "tfidf", "keywords", "ensemble")


class ModelError(RuntimeError):
    """A model directory that is missing, incomplete or not one this project wrote."""


@dataclass(frozen=True)
class Item:
    """One segment to classify: its text and the headings above it (outermost first)."""

    text: str
    heading_path: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, heading_path: list[str] | tuple[str, ...] | None = None) -> Item:
        return cls(text=text, heading_path=tuple(heading_path or ()))


@dataclass(frozen=True)
class Prediction:
    """The primary label plus a probability for each of the four labels (they sum to 1)."""

    label: str
    scores: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_probs(cls, probs: Any) -> Prediction:
        """Build from a probability vector ordered like ``LABELS``; renormalised, rounded to 6 places."""
        values = [max(float(p), 0.0) for p in probs]
        total = sum(values) or 1.0
        scores = {label: round(v / total, 6) for label, v in zip(LABELS, values, strict=True)}
        best = max(range(len(LABELS)), key=lambda i: values[i])
        return cls(label=LABELS[best], scores=scores)


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
