"""TF-IDF + logistic regression: word and character n-grams of the text, and the heading path as separate
features (word n-grams of the whole path, character n-grams of the innermost heading).

Dense form features (length, sentence count, end punctuation, keyword cue counts) were tried and dropped:
they fit the team's short written segments well but cost about 0.1 macro-F1 on the longer real letters.

The fitted pipeline is stored with joblib. Loading a pickle runs code, so the loader only opens a file
whose SHA-256 matches the one recorded in the manifest this project wrote next to it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.pipeline import Pipeline

from services.classify.schema import Item, ModelError, Prediction, heading_text
from shared.events import LABELS

PIPELINE_FILE = "pipeline.joblib"


def texts(items: list[Item]) -> list[str]:
    return [it.text for it in items]


def headings(items: list[Item]) -> list[str]:
    return [heading_text(it.heading_path) or "__none__" for it in items]


def last_headings(items: list[Item]) -> list[str]:
    """The innermost heading alone: it says most about what the section asks for."""
    return [it.heading_path[-1] if it.heading_path else "__none__" for it in items]


def ordered_proba(pipe: Pipeline, items: list[Item]) -> np.ndarray:
    """Probabilities with columns in ``LABELS`` order (whatever order the classifier learnt)."""
    raw = pipe.predict_proba(items)
    classes = list(pipe.classes_)
    out = np.zeros((len(items), len(LABELS)))
    for j, label in enumerate(LABELS):
        if label in classes:
            out[:, j] = raw[:, classes.index(label)]
    return out


class TfidfClassifier:
    def __init__(self, pipeline: Pipeline, model_version: str) -> None:
        self.pipeline = pipeline
        self.model_version = model_version

    def predict_proba(self, items: list[Item]) -> np.ndarray:
        return ordered_proba(self.pipeline, items)

    def predict(self, items: list[Item]) -> list[Prediction]:
        if not items:
            return []
        return [Prediction.from_probs(row) for row in self.predict_proba(items)]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(model_dir: Path, manifest: dict[str, Any]) -> TfidfClassifier:
    path = model_dir / manifest.get("file", PIPELINE_FILE)
    if not path.is_file():
        raise ModelError(f"{path} is missing")
    if file_sha256(path) != manifest.get("sha256"):
        raise ModelError(f"{path} does not match the sha256 in its manifest; refusing to unpickle it")
    return TfidfClassifier(joblib.load(path), manifest["model_version"])
