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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

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


def build_pipeline(c: float = 8.0, class_weight: str | None = "balanced", seed: int = 13) -> Pipeline:
    features = FeatureUnion([
        ("words", make_pipeline(
            FunctionTransformer(texts),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True),
        )),
        ("chars", make_pipeline(
            FunctionTransformer(texts),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=60000),
        )),
        ("heading", make_pipeline(
            FunctionTransformer(headings),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        )),
        ("last_heading", make_pipeline(
            FunctionTransformer(last_headings),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2),
        )),
    ])
    clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def fit(items: list[Item], labels: list[str], **params: Any) -> Pipeline:
    pipe = build_pipeline(**params)
    pipe.fit(items, labels)
    return pipe


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


def save(pipe: Pipeline, model_dir: Path) -> dict[str, str]:
    """Write the pipeline; returns the manifest fields that let ``load`` verify it."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / PIPELINE_FILE
    joblib.dump(pipe, path, compress=3)
    return {"file": PIPELINE_FILE, "sha256": file_sha256(path)}


def load(model_dir: Path, manifest: dict[str, Any]) -> TfidfClassifier:
    path = model_dir / manifest.get("file", PIPELINE_FILE)
    if not path.is_file():
        raise ModelError(f"{path} is missing")
    if file_sha256(path) != manifest.get("sha256"):
        raise ModelError(f"{path} does not match the sha256 in its manifest; refusing to unpickle it")
    return TfidfClassifier(joblib.load(path), manifest["model_version"])
