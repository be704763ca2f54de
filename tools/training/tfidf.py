"""Fit and save the TF-IDF + logistic regression pipeline whose feature functions the service defines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from services.classify.schema import Item
from services.classify.tfidf import PIPELINE_FILE, file_sha256, headings, last_headings, ordered_proba, texts

__all__ = ["build_pipeline", "fit", "ordered_proba", "save"]


def build_pipeline(c: float = 8.0, class_weight: str | None = "balanced", seed: int = 13) -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                make_pipeline(
                    FunctionTransformer(texts),
                    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True),
                ),
            ),
            (
                "chars",
                make_pipeline(
                    FunctionTransformer(texts),
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=(2, 5),
                        sublinear_tf=True,
                        min_df=2,
                        max_features=60000,
                    ),
                ),
            ),
            (
                "heading",
                make_pipeline(
                    FunctionTransformer(headings),
                    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                ),
            ),
            (
                "last_heading",
                make_pipeline(
                    FunctionTransformer(last_headings),
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2),
                ),
            ),
        ]
    )
    clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def fit(items: list[Item], labels: list[str], **params: Any) -> Pipeline:
    pipe = build_pipeline(**params)
    pipe.fit(items, labels)
    return pipe


def save(pipe: Pipeline, model_dir: Path) -> dict[str, str]:
    """Write the pipeline; returns the manifest fields that let ``load`` verify it."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / PIPELINE_FILE
    joblib.dump(pipe, path, compress=3)
    return {"file": PIPELINE_FILE, "sha256": file_sha256(path)}
