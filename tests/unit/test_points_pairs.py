"""services/store/points: the learned pair scorer (pairs.py) and the semantic space (semantic.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.store.points.grouping import Config, PointGrouper, Segment, letter_best
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
        seg("d", "E", "Vi ber om øremerkede midler til digitalisering av legekontorene."),
    ]
    f = features_by_pair(segs)
    # funding for recruitment and funding for digital tools share only the aspect (a near miss)
    assert f[("n", "d")]["aspect_only"] == 1.0 and f[("n", "j")]["aspect_only"] == 0.0
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
    assert back.mutual_boost == 0.0
    boosted = PairModel(weights=model.weights, bias=-1.5, threshold=0.4, mutual_boost=1.5)
    boosted.save(path)
    assert load_pair_model.__wrapped__(path).mutual_boost == 1.5
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


def test_letter_best_marks_pairs_that_are_each_others_best_match() -> None:
    # rows: segments 0, 1 of letter A; columns: segments 0, 1 of letter B and 2 of letter C
    r = np.array([0, 0, 1, 1, 0, 1])
    c = np.array([0, 1, 0, 1, 2, 2])
    p = np.array([0.2, 0.6, 0.5, 0.1, 0.3, 0.3])
    rows, cols = np.array(["A", "A"]), np.array(["B", "B", "C"])
    mutual = letter_best(p, r, c, rows[r], cols[c])
    # A0-B1: B1 is A0's best in B (0.6 > 0.2) and A0 is B1's best in A (0.6 > 0.1)
    # A1-B0: B0 is A1's best in B (0.5 > 0.1) and A1 is B0's best in A (0.5 > 0.2)
    # C2 ties between A0 and A1: both count as best
    assert mutual.tolist() == [False, True, True, False, True, True]
    assert letter_best(np.zeros(0), r[:0], c[:0], rows[:0], cols[:0]).tolist() == []


def test_the_mutual_boost_moves_only_mutual_best_pairs() -> None:
    base = load_pair_model(MODEL_FILE)
    assert base is not None
    segs = [
        seg("a1", "A", "Kommunene trenger flere plasser i barnehagen for barn med særskilte behov."),
        seg("a2", "A", "Legevakten bør samlokaliseres med akuttmottaket i sykehuset."),
        seg("b1", "B", "Det må etableres felles legevakt og akuttmottak på samme sted ved sykehuset."),
        seg("b2", "B", "Helsestasjonen trenger flere stillinger for helsesykepleiere."),
    ]

    def edges(boost: float) -> dict[tuple[str, str], float]:
        g = PointGrouper(Config(mutual_boost=boost), pair_model=base)
        g._ingest(segs)
        b = g.blocks["challenge+measure+example"]
        idx = list(range(len(b.segs)))
        m = g._edges(b, idx, idx).tocoo()
        return {
            (b.segs[i].segment_id, b.segs[j].segment_id): float(v)
            for i, j, v in zip(m.row, m.col, m.data, strict=True)
        }

    plain, boosted = edges(0.0), edges(1.5)
    assert plain[("a2", "b1")] > 0
    before, after = plain[("a2", "b1")], boosted[("a2", "b1")]
    assert after / (1 - after) == pytest.approx(before / (1 - before) * np.exp(1.5), rel=1e-3)
    for pair, q in plain.items():
        if set(pair) != {"a2", "b1"} and pair in boosted:
            assert boosted[pair] == pytest.approx(q, rel=1e-5)


def test_the_boost_must_keep_the_planted_precision_of_the_plain_threshold() -> None:
    from tools.points.train_pairs import choose

    def row(t: float, b: float, pp: float, exact: float, f: float) -> dict[str, float]:
        return {
            "threshold": t,
            "boost": b,
            "planted_precision": pp,
            "recall": 0.5,
            "f_half": f,
            "exact": exact,
        }

    summary = {
        "a": row(0.3, 0.0, 0.72, 17, 0.61),
        "b": row(0.4, 0.0, 0.74, 11, 0.58),
        "c": row(0.35, 1.5, 0.68, 23, 0.64),  # more points, less precise than the plain choice: not taken
        "d": row(0.45, 1.5, 0.74, 19, 0.66),
        "e": row(0.5, 2.0, 0.73, 19, 0.65),
    }
    assert choose(summary) == (0.45, 1.5)
    del summary["d"], summary["e"]
    assert choose(summary) == (0.3, 0.0)


def test_where_some_setting_reaches_the_precision_bar_the_choice_keeps_to_it() -> None:
    from tools.points.train_pairs import PRECISION_FLOOR, choose

    def row(t: float, b: float, pp: float, exact: float) -> dict[str, float]:
        return {
            "threshold": t,
            "boost": b,
            "planted_precision": pp,
            "recall": 0.5,
            "f_half": 0.6,
            "exact": exact,
        }

    summary = {
        "plain": row(0.5, 0.0, 0.70, 15),
        "many": row(0.4, 1.5, PRECISION_FLOOR - 0.01, 38),  # over the plain choice's precision, under the bar
        "kept": row(0.45, 1.5, PRECISION_FLOOR + 0.001, 33),
    }
    assert choose(summary) == (0.45, 1.5)
    del summary["kept"]
    assert choose(summary) == (0.4, 1.5)  # nothing reaches the bar: the plain choice's precision rules
