"""A tiny simulated review end to end: held-out letters rendered, extracted, classified into a real SQLite
store, 10 queue segments corrected through the correction service on a real broker, exported, retrained
with ``--extra-labelled``, measured. The corrected (gold) labels must be in the export and in the retrained
model's card."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.eval.simulated_review import USER, main
from tools.training.data import data_hash, read_jsonl

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HELDOUT = REPO / "data" / "heldout" / "heldout_k.jsonl"
SMALL = "kommune_a.jsonl"  # one labelled file: the default recipe trains on it in about 20 s


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def test_tiny_simulated_review(
    tmp_path: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not HELDOUT.is_file() or not (REPO / "data" / "labelled" / SMALL).is_file():
        pytest.skip("data/heldout or data/labelled is missing")
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    shutil.copy(REPO / "data" / "labelled" / SMALL, labelled / SMALL)
    # The model the review sees, also used as "before": the default recipe on the small folder.
    review_model = tmp_path / "review-model"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.training.train",
            "default",
            str(review_model),
            "--labelled",
            str(labelled),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "run"
    rc = main(
        [
            "--review-letters",
            "2",
            "--eval-letters",
            "2",
            "--corrections",
            "10",
            "--model",
            str(review_model),
            "--before-model",
            str(review_model),
            "--labelled",
            str(labelled),
            "--bootstrap",
            kafka_bootstrap,
            "--work",
            str(work),
            "--render-dir",
            str(tmp_path / "eval"),
            "--rounds",
            "100",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "label macro-F1" in printed and "agreement of the review" in printed

    figures = json.loads((work / "figures.json").read_text(encoding="utf-8"))
    assert figures["review_letters"] == ["heldout_k-01", "heldout_k-03"]
    assert figures["eval_letters"] == ["heldout_k-05", "heldout_k-07"]
    assert figures["corrected"] == 10 == len(figures["corrections"])
    for c in figures["corrections"]:
        assert c["final_label"] == c["gold_label"]
        assert sorted(c["final_themes"]) == sorted(c["gold_themes"])
    assert figures["label_changes"] == sum(
        c["model_label"] != c["gold_label"] for c in figures["corrections"]
    )
    assert figures["agreement"]["reviewed"] == 10
    assert figures["agreement"]["changed"] == figures["label_changes"]
    for side in ("before", "after"):
        assert figures[side]["n"] == 13 + 27  # gold segments of heldout_k-05 and -07
        assert 0.0 <= figures[side]["macro_f1"] <= 1.0
    assert figures["gain"]["macro_f1"] == pytest.approx(
        figures["after"]["macro_f1"] - figures["before"]["macro_f1"], abs=1e-3
    )
    ci = figures["gain"]["bootstrap"]["macro_f1"]["ci95"]
    assert ci[0] <= ci[1] and figures["gain"]["bootstrap"]["letters"] == 2

    # The export holds the ten corrections with the gold label of the letter they came from.
    export = work / "corrections.jsonl"
    rows = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 10
    by_id = {f"{r['doc'].removeprefix('store:')}-{r['seq']:05d}": r for r in rows}
    assert set(by_id) == {c["segment_id"] for c in figures["corrections"]}
    gold_rows = [
        json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    gold_rows = [g for g in gold_rows if g["doc"] in figures["review_letters"]]
    for c in figures["corrections"]:
        row = by_id[c["segment_id"]]
        assert row["label"] == c["gold_label"] and row["model_label"] == c["model_label"]
        assert sorted(row["themes"]) == sorted(c["gold_themes"])
        assert row["corrected_by"] == USER and row["version"].startswith("corrections-")
        # the gold label, checked independently of the tool's alignment: the most similar gold text
        best = max(
            gold_rows,
            key=lambda g: difflib.SequenceMatcher(None, _norm(g["text"]), _norm(row["text"])).ratio(),
        )
        assert difflib.SequenceMatcher(None, _norm(best["text"]), _norm(row["text"])).ratio() >= 0.9
        assert row["label"] == best["label"]
    meta = json.loads((work / "corrections.meta.json").read_text(encoding="utf-8"))
    assert meta["rows"] == 10 and meta["changed"] == figures["label_changes"]

    # The retrained model's card names the export and the hash of exactly these labelled rows.
    card = json.loads((work / "model-after" / "metrics.json").read_text(encoding="utf-8"))
    extra = card["data"]["extra_labelled"]
    assert len(extra) == 1 and Path(extra[0]["file"]) == export and extra[0]["segments"] == 10
    assert extra[0]["hash"] == data_hash(read_jsonl(export))
    assert card["model_version"] == figures["after"]["model_version"] != figures["before"]["model_version"]
    assert extra[0]["hash"] in (work / "model-after" / "MODEL_CARD.md").read_text(encoding="utf-8")
    before_card = json.loads((review_model / "metrics.json").read_text(encoding="utf-8"))
    assert card["data"]["n_train"] == before_card["data"]["n_train"] + 10
