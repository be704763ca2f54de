"""services/store/points: the learned pair scorer (pairs.py) and the semantic space (semantic.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.store.points.grouping import Config, PointGrouper, Segment
from services.store.points.pairs import FEATURES, MODEL_FILE, PairModel, load_pair_model
from services.store.points.semantic import SPACE_FILE, load_space, space_terms

ROOT = Path(__file__).resolve().parents[2]


def seg(sid: str, sender: str, text: str, themes: tuple[str, ...] = (), label: str = "measure") -> Segment:
    return Segment(
        segment_id=sid, document_id=f"doc-{sender}", sender=sender, label=label, themes=themes, text=text
    )


def features_by_pair(segs: list[Segment]) -> dict[tuple[str, str], dict[str, float]]:
    g = PointGrouper()
    g._ingest(segs)
    assert list(g.blocks) == ["challenge+measure+example"]  # the learned scorer groups across labels
    b = g.blocks["challenge+measure+example"]
    idx = list(range(len(b.segs)))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for i, j, x in g.pair_candidates(b, idx, idx):
        for a, c, row in zip(i.tolist(), j.tolist(), x, strict=True):
            out[(b.segs[a].segment_id, b.segs[c].segment_id)] = dict(zip(FEATURES, row.tolist(), strict=True))
    return out


def test_pair_features_read_concepts_and_themes() -> None:
    segs = [
        seg("n", "A", "Vi ber om øremerkede midler til rekruttering av sykepleiere.", ("personell",)),
        seg(
            "f",
            "B",
            "Vi ber om øremerkede midler til rekruttering av fastleger.",
            ("personell", "allmennlege"),
        ),
        seg("j", "C", "Vi ber om øremerkede midler til rekruttering av sykepleiere i hjemmetjenesten."),
        seg("c", "D", "Det er vanskelig å rekruttere sykepleiere til hjemmetjenesten.", label="challenge"),
    ]
    f = features_by_pair(segs)
    assert f[("n", "j")]["label_differs"] == 0.0 and f[("j", "c")]["label_differs"] == 1.0
    nf = f[("n", "f")]
    assert nf["actor_clash"] == 1.0  # nurses and GPs, none in common
    assert nf["theme_jaccard"] == pytest.approx(0.5) and nf["theme_clash"] == 0.0
    assert nf["theme_unknown"] == 0.0 and nf["words_shared"] >= 3
    nj = f[("n", "j")]
    assert nj["actor_clash"] == 0.0 and nj["theme_unknown"] == 1.0
    assert 0.0 < nj["cosine"] <= 1.0 and -1.0 <= nj["semantic"] <= 1.0
    assert f[("f", "n")]["cosine"] == pytest.approx(nf["cosine"])  # symmetric


def test_semantic_space_links_a_point_across_words() -> None:
    space = load_space()
    assert space is not None, f"{SPACE_FILE} is missing: python -m tools.points.build_semantic"
    z = space.embed(
        [
            "Vi trenger én felles pasientjournal for fastlege og sykehus.",
            "Journalopplysninger må kunne deles mellom kommune og sykehus.",
            "Skolen bør ha en time fysisk aktivitet hver dag.",
            "og",  # no known term: the zero vector
        ]
    )
    assert np.allclose(np.linalg.norm(z[:3], axis=1), 1.0, atol=1e-4)
    assert not z[3].any()
    assert z[0] @ z[1] > z[0] @ z[2] + 0.2


def test_semantic_space_vocabulary_comes_from_the_labelled_letters() -> None:
    from tools.points.build_semantic import SOURCES, corpus

    space = load_space()
    assert space is not None
    texts = corpus(SOURCES, 6)
    df: dict[str, int] = {}
    for text in texts:
        for t in set(space_terms(text)):
            df[t] = df.get(t, 0) + 1
    assert set(space.terms) == {t for t, k in df.items() if k >= 2}, (
        "rebuild: python -m tools.points.build_semantic"
    )


def test_pair_model_round_trip_and_feature_mismatch(tmp_path: Path) -> None:
    model = PairModel(weights=np.arange(1, len(FEATURES) + 1, dtype=np.float64), bias=-1.5, threshold=0.4)
    path = tmp_path / "pairs.json"
    model.save(path)
    back = load_pair_model(path)
    assert back is not None and back.threshold == 0.4 and np.allclose(back.weights, model.weights)
    x = np.zeros((2, len(FEATURES)))
    x[1, 0] = 1.0
    p = back.probability(x)
    assert p[0] == pytest.approx(1 / (1 + np.exp(1.5))) and p[1] > p[0]
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["features"] = raw["features"][:-1]
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="retrain"):
        load_pair_model(bad)


def test_stored_pair_model_is_trained_on_the_training_sets_only() -> None:
    from tools.points.train_pairs import TRAIN_SETS

    model = load_pair_model(MODEL_FILE)
    assert model is not None, "python -m tools.points.train_pairs"
    assert tuple(model.about["trained_on"]) == TRAIN_SETS
    assert 0.0 < model.threshold < 1.0
    w = dict(zip(FEATURES, model.weights.tolist(), strict=True))
    assert w["cosine"] > 0 and w["semantic"] > 0 and w["object_clash"] < 0


def test_unknown_scorer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="learned"):
        PointGrouper(Config(scorer="magic"))


def test_training_pairs_have_both_classes() -> None:
    from tools.points.evaluate import load_set
    from tools.points.train_pairs import pairs_of

    x, y = pairs_of(load_set("letters_dev"))
    assert x.shape == (len(y), len(FEATURES))
    assert 0 < int(y.sum()) < len(y)


def test_pdf_rows_keep_lost_planted_segments_as_missing_senders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import services.classify.loader as loader
    import tools.eval.end_to_end as e2e
    from services.classify.schema import Prediction
    from tools.points import evaluate as ev

    gold = [
        {"seq": 0, "text": "Kommunen takker for invitasjonen.", "sender": "Nordby kommune", "point": None},
        {"seq": 1, "text": "Vi trenger én felles journal.", "sender": "Nordby kommune", "point": "p1"},
        {"seq": 2, "text": "Avsnittet som forsvant i PDF-en.", "sender": "Nordby kommune", "point": "p2"},
    ]
    extracted = [
        {"text": "Kommunen takker for invitasjonen.", "heading_path": [], "kind": "paragraph", "page": 1},
        {"text": "Vi trenger én felles journal.", "heading_path": [], "kind": "paragraph", "page": 1},
    ]
    monkeypatch.setattr(e2e, "team_letters", lambda *a, **k: [e2e.Letter("brev-1", gold, tmp_path / "x.pdf")])
    monkeypatch.setattr(e2e, "extract_cached", lambda *a, **k: extracted)
    monkeypatch.setattr(loader, "load_classifier", lambda *a, **k: None)

    def classify(_clf: object, segs: list[dict[str, object]]) -> list[Prediction]:
        return [
            Prediction(label="other", scores={"other": 0.9}, themes=()),
            Prediction(
                label="measure", scores={"measure": 0.8}, themes=(("digitalisering", 0.7), ("eldre", 0.1))
            ),
        ][: len(segs)]

    monkeypatch.setattr(e2e, "classify_letter", classify)
    rows = ev.pdf_rows("letters_dev", tmp_path)
    by_point = {r.point: r for r in rows if r.point}
    assert by_point["p1"].label == "measure" and by_point["p1"].themes == ("digitalisering",)
    assert by_point["p2"].label == "other" and "lost" in by_point["p2"].id  # not groupable, still planted
    assert all(r.sender == "Nordby kommune" for r in rows) and len(rows) == 3
