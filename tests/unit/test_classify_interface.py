"""The one classifier interface: predictions, manifests and the loader for every model kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.classify.keywords import KeywordClassifier
from services.classify.loader import load_classifier
from services.classify.schema import MANIFEST, Classifier, Item, ModelError, Prediction, write_manifest
from shared.events import LABELS
from tools.training import tfidf
from tools.training.data import Example

TINY = [
    Example("a", 0, "Med vennlig hilsen", (), "other"),
    Example(
        "a", 1, "Det er krevende å rekruttere sykepleiere i distriktene.", ("Utfordringer",), "challenge"
    ),
    Example("a", 2, "Kommunen bør få øremerkede midler til rehabilitering.", ("Tiltak",), "measure"),
    Example("a", 3, "Vi har etablert et felles team som fungerer godt.", ("Gode eksempler",), "example"),
    Example("b", 0, "Oslo, 3. mars 2023", (), "other"),
    Example("b", 1, "Ventetiden i psykisk helsevern er for lang for unge.", ("Utfordringer",), "challenge"),
    Example("b", 2, "Staten må finansiere flere lærlingplasser i helsefag.", ("Tiltak",), "measure"),
    Example("b", 3, "Prosjektet har gitt færre reinnleggelser i to år.", ("Erfaringer",), "example"),
]


def test_prediction_scores_cover_all_labels_and_sum_to_one() -> None:
    p = Prediction.from_probs([1.0, 3.0, 0.5, 0.5])
    assert p.label == "measure"
    assert set(p.scores) == set(LABELS)
    assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-5)


def test_keyword_classifier_is_a_classifier() -> None:
    clf = KeywordClassifier()
    assert isinstance(clf, Classifier)
    preds = clf.predict([Item.of("Med vennlig hilsen"), Item.of("Tekst", ["Tiltak"])])
    assert len(preds) == 2 and all(sum(p.scores.values()) == pytest.approx(1.0, abs=1e-5) for p in preds)


def test_tfidf_model_dir_round_trip(tmp_path: Path) -> None:
    pipe = tfidf.fit([e.item for e in TINY], [e.label for e in TINY], c=10.0)
    files = tfidf.save(pipe, tmp_path)
    write_manifest(tmp_path, {"kind": "tfidf", "model_version": "tfidf-test", **files})
    clf = load_classifier(tmp_path)
    assert clf.model_version == "tfidf-test"
    preds = clf.predict([e.item for e in TINY])
    assert [p.label for p in preds] == [e.label for e in TINY]
    assert all(
        set(p.scores) == set(LABELS) and sum(p.scores.values()) == pytest.approx(1.0, abs=1e-5) for p in preds
    )
    assert clf.predict([]) == []


def test_tfidf_refuses_a_pickle_it_did_not_write(tmp_path: Path) -> None:
    pipe = tfidf.fit([e.item for e in TINY], [e.label for e in TINY])
    files = tfidf.save(pipe, tmp_path)
    write_manifest(tmp_path, {"kind": "tfidf", "model_version": "v", **files, "sha256": "0" * 64})
    with pytest.raises(ModelError, match="sha256"):
        load_classifier(tmp_path)


def test_keywords_model_dir(tmp_path: Path) -> None:
    write_manifest(tmp_path, {"kind": "keywords", "model_version": "keywords-1"})
    assert load_classifier(tmp_path).predict([Item.of("Med vennlig hilsen")])[0].label == "other"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "no innspill_model.json"),
        ("{not json", "unreadable"),
        ({"kind": "svm", "model_version": "x"}, "unknown model kind"),
        ({"kind": "tfidf"}, "model_version is missing"),
        ({"kind": "tfidf", "model_version": "x", "file": "pipeline.joblib", "sha256": "ab"}, "missing"),
        ({"kind": "bert", "model_version": "x"}, "cannot load bert model"),
    ],
)
def test_broken_model_dirs_give_clear_errors(tmp_path: Path, manifest: object, message: str) -> None:
    if isinstance(manifest, dict):
        (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    elif isinstance(manifest, str):
        (tmp_path / MANIFEST).write_text(manifest)
    with pytest.raises(ModelError, match=message):
        load_classifier(tmp_path)


def test_missing_model_dir_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="ensure-model"):
        load_classifier(tmp_path / "nothing")
