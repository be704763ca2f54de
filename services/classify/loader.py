"""Open any model directory this project wrote, by the kind its ``innspill_model.json`` names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from services.classify.schema import Classifier, Item, ModelError, Prediction, read_manifest


class EnsembleClassifier:
    """Weighted average of member probabilities (members are model directories inside this one)."""

    def __init__(self, members: list[tuple[Any, float]], model_version: str) -> None:
        self.members = members
        self.model_version = model_version

    def predict_proba(self, items: list[Item]) -> np.ndarray:
        total = sum(w for _, w in self.members)
        return sum(w * m.predict_proba(items) for m, w in self.members) / total

    def predict(self, items: list[Item]) -> list[Prediction]:
        if not items:
            return []
        return [Prediction.from_probs(row) for row in self.predict_proba(items)]


def load_classifier(model_dir: Path, *, threads: int | None = None, runtime: str | None = None) -> Classifier:
    """Load a model directory; raises :class:`ModelError` with a clear message when it is unusable.

    ``runtime`` ("torch" or "onnx") overrides the manifest's choice for BERT checkpoints."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    kind, version = manifest["kind"], manifest["model_version"]
    try:
        if kind == "keywords":
            from services.classify.keywords import KeywordClassifier

            return KeywordClassifier(version)
        if kind == "tfidf":
            from services.classify import tfidf

            return tfidf.load(model_dir, manifest)
        if kind == "structured":
            from services.classify import structured

            return structured.load(model_dir, manifest)
        if kind == "bert":
            from services.classify.bert import BertClassifier

            chosen = runtime or manifest.get("runtime", "torch")
            if chosen == "onnx" and not manifest.get("onnx"):
                chosen = "torch"
            return BertClassifier(
                model_dir, version, runtime=chosen, threads=threads, onnx_file=manifest.get("onnx")
            )
        members = [
            (load_classifier(model_dir / m["dir"], threads=threads, runtime=runtime), float(m["weight"]))
            for m in manifest.get("members", [])
        ]
        if not members:
            raise ModelError(f"{model_dir}: ensemble without members")
        return EnsembleClassifier(members, version)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot load {kind} model from {model_dir}: {type(exc).__name__}: {exc}") from exc
