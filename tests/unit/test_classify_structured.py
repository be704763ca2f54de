"""The structured model: lemma features, calibration, review flag, theme tagger, extra labelled files,
and POST /classify returning themes and needs_review."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.classify.app import create_app
from services.classify.loader import load_classifier
from services.classify.schema import Item, ModelError, document_items, read_manifest, write_manifest
from services.classify.structured import StructuredClassifier, concept_tokens, lemma_text, temper
from shared.review import within_budget
from shared.settings import Settings
from tools.training import recipe as R
from tools.training import structured as S

IDS = ["akutt", "personell", "digitalisering"]
ROWS = [
    ("Kommunen mangler legevaktleger om natta.", "challenge", ["akutt", "personell"], "paragraph"),
    ("Det er krevende å rekruttere sykepleiere.", "challenge", ["personell"], "paragraph"),
    ("Journalsystemene snakker ikke sammen.", "challenge", ["digitalisering"], "list_item"),
    ("Staten bør finansiere felles journal.", "measure", ["digitalisering"], "paragraph"),
    ("Vi foreslår en nasjonal ordning for legevakt.", "measure", ["akutt"], "list_item"),
    ("Kommunene må få tilskudd til lærlingplasser.", "measure", ["personell"], "paragraph"),
    ("Prosjektet Trygg natt er etablert i regionen.", "example", ["akutt"], "paragraph"),
    ("Vi har god erfaring med digital hjemmeoppfølging.", "example", ["digitalisering"], "paragraph"),
    ("Med vennlig hilsen", "other", [], "closing"),
    ("Ola Nordmann, rådgiver", "other", [], "signature"),
]


def write_letters(folder: Path, n: int = 8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for d in range(n):
        for seq, (text, label, themes, kind) in enumerate(ROWS):
            row = {
                "doc": f"t-{d}",
                "seq": seq,
                "text": f"{text} ({d})" if label != "other" else text,
                "heading_path": [],
                "label": label,
                "kind": kind,
                "themes": themes,
            }
            lines.append(json.dumps(row, ensure_ascii=False))
    (folder / "t.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("structured")
    write_letters(root / "labelled")
    extra = root / "corrections.jsonl"
    extra.write_text(
        json.dumps(
            {
                "doc": "x-1",
                "seq": 0,
                "text": "Ambulansene bør få flere biler.",
                "heading_path": [],
                "label": "measure",
                "themes": ["akutt"],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    taxonomy = root / "themes.json"
    taxonomy.write_text(json.dumps({"themes": [{"id": t, "name": t} for t in IDS]}), encoding="utf-8")
    splits = R.prepare(root / "labelled", 0.25, 13, root / "no-gold.jsonl", extra=[extra])
    assert splits.info["extra_labelled"][0]["segments"] == 1
    assert any(e.doc == "x-1" for e in splits.train) and not any(e.doc == "x-1" for e in splits.held)
    R.train_structured(root / "model", splits, taxonomy=taxonomy, measure_speed=False)
    return root / "model"


def test_predicts_labels_calibrated_scores_and_themes(model: Path) -> None:
    clf = load_classifier(model)
    assert isinstance(clf, StructuredClassifier)
    manifest = read_manifest(model)
    assert manifest["theme_ids"] == IDS and 0.3 <= manifest["temperature"] <= 5.0
    items = document_items(
        [
            ("Kommunen mangler legevaktleger om natta.", [], "paragraph"),
            ("Staten bør finansiere felles journal.", [], "paragraph"),
            ("Med vennlig hilsen", [], "closing"),
        ]
    )
    preds = clf.predict(items)
    assert [p.label for p in preds] == ["challenge", "measure", "other"]
    assert "akutt" in {t for t, _ in preds[0].themes}
    assert "digitalisering" in {t for t, _ in preds[1].themes}
    assert preds[2].themes == ()  # letter furniture gets no theme
    for p in preds:
        assert abs(sum(p.scores.values()) - 1) < 1e-4
        assert p.needs_review == (max(p.scores.values()) < manifest["review_threshold"])
    card = json.loads((model / "metrics.json").read_text())
    assert card["evaluation"]["held_out_themes"]["micro_f1"] > 0


def test_review_flag_follows_the_threshold(model: Path) -> None:
    manifest = read_manifest(model)
    manifest["review_threshold"] = 1.01
    write_manifest(model.parent / "strict", manifest)
    (model.parent / "strict" / S.MODEL_FILE).write_bytes((model / S.MODEL_FILE).read_bytes())
    preds = load_classifier(model.parent / "strict").predict([Item.of("Det er krevende å rekruttere.")])
    assert preds[0].needs_review


def test_tampered_file_is_refused(model: Path, tmp_path: Path) -> None:
    manifest = read_manifest(model)
    write_manifest(tmp_path, manifest)
    (tmp_path / S.MODEL_FILE).write_bytes((model / S.MODEL_FILE).read_bytes() + b"x")
    with pytest.raises(ModelError, match="sha256"):
        load_classifier(tmp_path)


def test_concepts_give_the_theme_tagger_words_it_never_saw() -> None:
    # two wordings of the shared-journal idea name the same concept and so the same theme tokens
    a, b = concept_tokens(
        [
            Item("Vi trenger en felles journal for alle."),
            Item("Pasientopplysningene må kunne deles digitalt."),
        ]
    )
    shared = set(a.split()) & set(b.split())
    assert "c_journal_deling" in shared and "t_digitalisering" in shared
    assert concept_tokens([Item("Med vennlig hilsen")]) == [""]


def test_lemmas_share_evidence_across_inflections() -> None:
    assert lemma_text("utfordringene") == lemma_text("utfordringer")


def test_temperature_and_review_threshold() -> None:
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.4, 0.3, 0.2, 0.1]])
    soft = temper(probs, 2.0)
    assert soft[0, 0] < 0.7 and np.allclose(soft.sum(axis=1), 1)
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1, 1], size=200)
    t = S.review_threshold(p, max_share=0.18)
    assert (p.max(axis=1) < t).mean() <= 0.18


def test_review_threshold_is_the_highest_within_the_share() -> None:
    # ten segments, top scores 0.50 .. 0.95: a share of 0.4 allows four flags, and no fifth
    top = np.linspace(0.5, 0.95, 10)
    probs = np.column_stack([top, 1 - top, np.zeros(10), np.zeros(10)])
    t = S.review_threshold(probs, max_share=0.4)
    assert (top < t).sum() == 4 and t == pytest.approx(top[4], abs=1e-3)
    assert S.review_threshold(probs, max_share=0.0) == pytest.approx(0.5)  # nothing below the lowest


def test_api_returns_themes_and_review_flag(model: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_dir=model)
    with TestClient(create_app(settings, stream=False)) as client:
        resp = client.post(
            "/classify",
            json={
                "document": True,
                "items": [
                    {"text": "Kommunen mangler legevaktleger om natta.", "kind": "paragraph"},
                    {"text": "Med vennlig hilsen", "kind": "letter"},
                ],
            },
        )
    assert resp.status_code == 200, resp.text
    first, last = resp.json()["results"]
    assert first["label"] == "challenge" and {t["id"] for t in first["themes"]} <= set(IDS)
    assert first["themes"] and last["themes"] == [] and isinstance(first["needs_review"], bool)


def test_api_keeps_a_letters_review_flags_within_the_budget(model: Path, tmp_path: Path) -> None:
    """With ``document: true`` the flags are the model's, kept for the least confident fifth of the letter
    (shared/review.py), as the store shows them; item by item they are the model's own."""
    texts = [
        "Kommunen mangler legevaktleger om natta.",
        "Vi foreslår et felles kompetanseløft.",
        "Xq zpr wvk lmt.",
        "Om regionen",
        "Det er etablert et ambulant team.",
        "Bra.",
        "Helse Nord RHF",
        "Vedlegg",
        "Hva med neste år?",
        "Tiltak",
    ]
    items = [{"text": t, "kind": "paragraph"} for t in texts]
    # the same model, unsure of nearly everything: a review threshold of 0.99
    unsure = tmp_path / "unsure"
    shutil.copytree(model, unsure)
    manifest = unsure / "innspill_model.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "review_threshold": 0.99}))

    def flags(budget: float, document: bool) -> tuple[list[bool], list[float]]:
        settings = Settings(data_dir=tmp_path / "var", model_dir=unsure, review_budget=budget)
        with TestClient(create_app(settings, stream=False)) as client:
            resp = client.post("/classify", json={"document": document, "items": items})
        assert resp.status_code == 200, resp.text
        results = resp.json()["results"]
        return [r["needs_review"] for r in results], [max(r["scores"].values()) for r in results]

    model_flags, top = flags(1.0, True)
    assert sum(model_flags) >= 5
    shown, _ = flags(0.1, True)
    assert shown == within_budget(top, model_flags, 0.1) and sum(shown) == 1
    assert flags(0.1, False)[0] == flags(1.0, False)[0]  # item by item: no letter, no budget


def test_structured_model_does_not_import_torch(model: Path) -> None:
    """The service path (InferenceService, as classify starts) never brings torch in for this model."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from services.classify.inference import InferenceService\n"
        "from services.classify.schema import Item\n"
        f"svc = InferenceService.from_dir(Path({str(model)!r}), 2)\n"
        "svc.classifier.predict([Item.of('Vi bør gjøre noe.')])\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_document_pass_gives_the_same_scores_in_any_batching(model: Path) -> None:
    """Neighbours in the batch reuse their first-stage row; others are classified from the item's
    context: a letter classified whole or one segment at a time gets the same scores."""
    clf = load_classifier(model)
    assert isinstance(clf, StructuredClassifier) and clf.stack is not None
    assert read_manifest(model)["document_pass"] is True
    items = document_items([(text, [], kind) for text, _, _, kind in ROWS])
    whole = clf.predict(items)
    single = [p for it in items for p in clf.predict([it])]
    for a, b in zip(whole, single, strict=True):
        assert a.label == b.label
        assert all(abs(a.scores[k] - b.scores[k]) < 1e-6 for k in a.scores)


def test_document_pass_uses_the_neighbours(model: Path) -> None:
    clf = load_classifier(model)
    assert isinstance(clf, StructuredClassifier)
    items = document_items([(text, [], kind) for text, _, _, kind in ROWS])
    raw = clf.raw_proba(items)
    # without letter context (no seq) the first stage with its own temperature decides
    loose = [Item.of(it.text, it.heading_path, it.kind) for it in items]
    assert np.allclose(clf.predict_proba(loose), temper(clf.raw_proba(loose), clf.temperature))
    # with context, changing only a neighbour's text changes the segment's scores
    second = clf.stacked_proba(items[1:2], raw[1:2])
    moved = replace(items[1], prev_text=ROWS[6][0], prev_kind="paragraph")
    assert not np.allclose(second, clf.stacked_proba([moved], clf.raw_proba([moved])))


def test_theme_tagger_reads_the_neighbours_text(model: Path) -> None:
    clf = load_classifier(model)
    assert isinstance(clf, StructuredClassifier)
    assert clf.theme_context is not None and clf.theme_context_weight == S.THEME_CONTEXT_WEIGHT
    item = Item.of("Dette må løses.", [], "paragraph", seq=1, count=3)
    alone = clf.theme_proba([item])
    with_context = clf.theme_proba(
        [replace(item, prev_text=ROWS[2][0], next_text=ROWS[3][0], prev_kind="list_item")]
    )
    j = clf.theme_ids.index("digitalisering")
    # a segment between two about records leans further toward digitalisering than one alone
    assert with_context[0, j] > alone[0, j]


def _with_manifest(model: Path, folder: Path, **fields: object) -> StructuredClassifier:
    manifest = {**read_manifest(model), **fields}
    write_manifest(folder, manifest)
    (folder / S.MODEL_FILE).write_bytes((model / S.MODEL_FILE).read_bytes())
    clf = load_classifier(folder)
    assert isinstance(clf, StructuredClassifier)
    return clf


def test_a_content_segment_falls_back_to_its_likeliest_theme(model: Path, tmp_path: Path) -> None:
    assert read_manifest(model)["theme_floor"] == S.THEME_FLOOR
    items = document_items(
        [("Staten bør finansiere felles journal.", [], "paragraph"), ("Med vennlig hilsen", [], "closing")]
    )
    row = load_classifier(model).theme_proba(items)[0]  # type: ignore[attr-defined]
    top = IDS[int(np.argmax(row))]
    # every threshold just above the segment's best score: no theme reaches one
    high = {t: round(float(row.max()) + 0.01, 4) for t in IDS}
    near = _with_manifest(model, tmp_path / "near", theme_thresholds=high, theme_floor=0.5)
    preds = near.predict(items)
    assert preds[0].label == "measure" and [t for t, _ in preds[0].themes] == [top]
    assert preds[1].themes == ()  # not for letter furniture
    # the floor is a share of the threshold: under it, or with no floor, no theme
    far = _with_manifest(model, tmp_path / "far", theme_thresholds={t: 2.0 for t in IDS}, theme_floor=0.5)
    assert far.predict(items)[0].themes == ()
    off = _with_manifest(model, tmp_path / "off", theme_thresholds=high, theme_floor=None)
    assert off.predict(items)[0].themes == ()


def test_theme_thresholds_shrink_toward_one_common_threshold() -> None:
    ids = ["a", "b"]
    # theme a separates best at 0.8, theme b at 0.3; over both themes 0.3 does best
    probs = np.array([[0.85, 0.35], [0.75, 0.32], [0.1, 0.31], [0.2, 0.1], [0.1, 0.36], [0.1, 0.05]])
    y = np.array([[1, 1], [0, 1], [0, 1], [0, 0], [0, 1], [0, 0]])
    own = S.theme_thresholds(probs, y, ids, shrink=1.0)
    common = S.theme_thresholds(probs, y, ids, shrink=0.0)
    half = S.theme_thresholds(probs, y, ids, shrink=0.5)
    assert own["a"] == pytest.approx(0.8) and own["b"] <= 0.3
    assert common["a"] == common["b"]
    assert half["a"] == pytest.approx((own["a"] + common["a"]) / 2)
    # a theme missing from the held-out letters: 0.5 per theme alone, else the common threshold
    assert S.theme_thresholds(probs, np.array([[1, 0]] * 6), ids, shrink=1.0)["b"] == 0.5
    assert S.theme_thresholds(probs, np.array([[1, 0]] * 6), ids, shrink=0.5)["b"] == pytest.approx(
        S.theme_thresholds(probs, np.array([[1, 0]] * 6), ids, shrink=0.0)["a"]
    )


def test_function_tokens_come_from_the_sentence_alone() -> None:
    from services.classify.structured import function_tokens

    toks = function_tokens("Staten må sikre finansiering av legevakt.").split()
    assert "c_must_early" in toks and toks[0].startswith("f0_")
    problem = function_tokens("Det er krevende å rekruttere, og vi mangler leger.").split()
    assert {"c_problem_early", "c_need_late"} <= set(problem)
    assert "cc_problem_need" in problem
    assert function_tokens("Med vennlig hilsen").split()[-1] == "ncue_0"


def test_heading_noise_copies_are_seeded_whole_letters() -> None:
    items = [
        Item.of(f"Setning {d}-{i}", [f"Overskrift {d}-{i % 2}"], "paragraph")
        for d in range(6)
        for i in range(4)
    ]
    docs = [f"d{d}" for d in range(6) for _ in range(4)]
    copies, which, names = S.heading_noise_copies(items, docs, 0.5, seed=13)
    again = S.heading_noise_copies(items, docs, 0.5, seed=13)
    assert (copies, which, names) == again
    assert copies and len(copies) % 4 == 0 and len(copies) < len(items)
    for copy, i, name in zip(copies, which, names, strict=True):
        assert copy.text == items[i].text and name == f"{docs[i]}#noise"
        # a copy never keeps its own letter's heading
        assert copy.heading_path == () or not copy.heading_path[0].startswith(f"Overskrift {docs[i][1:]}-")
    assert S.heading_noise_copies(items, docs, 0.0, seed=13) == ([], [], [])


def test_heading_weight_scales_the_heading_blocks() -> None:
    items = [Item.of("Staten må sikre legevakt.", ["Utfordringer"], "paragraph")] * 3
    full = S._features(("lemma_words", "heading"), heading_weight=1.0).fit_transform(items)
    low = S._features(("lemma_words", "heading"), heading_weight=0.2).fit_transform(items)
    assert full.shape == low.shape
    assert np.isclose(low.sum(), full.sum() - 0.8 * 3)  # each row's unit-norm heading block shrinks


def test_shuffle_headings_swaps_sections_between_letters() -> None:
    from tools.eval.end_to_end import shuffle_headings

    letters = {
        name: [
            {"text": f"{name} a", "heading_path": [f"{name} H1"], "kind": "paragraph"},
            {"text": f"{name} b", "heading_path": [f"{name} H1"], "kind": "paragraph"},
            {"text": f"{name} c", "heading_path": [], "kind": "letter"},
        ]
        for name in ("x", "y", "z")
    }
    out = shuffle_headings(letters, 13)
    assert out == shuffle_headings(letters, 13)
    for name, segs in out.items():
        assert [s["text"] for s in segs] == [s["text"] for s in letters[name]]
        assert segs[0]["heading_path"] == segs[1]["heading_path"] != [f"{name} H1"]
        assert segs[2]["heading_path"] == []
