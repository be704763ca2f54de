"""Model card writer and the metrics it reports."""

from __future__ import annotations

import json
from pathlib import Path

from tools.training.card import CARD_FILE, METRICS_FILE, read_card, write_card
from tools.training.evaluation import score


def test_score_counts_per_class_and_confusion() -> None:
    gold = ["challenge", "challenge", "measure", "example", "other", "other"]
    pred = ["challenge", "measure", "measure", "example", "other", "example"]
    m = score(gold, pred)
    assert m["n"] == 6 and m["accuracy"] == round(4 / 6, 4)
    assert m["per_class"]["challenge"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert m["per_class"]["measure"]["precision"] == 0.5
    # rows are the true label, columns the prediction, in LABELS order
    assert m["confusion"]["matrix"] == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]
    f1s = [m["per_class"][k]["f1"] for k in ("challenge", "measure", "example", "other")]
    assert abs(m["macro_f1"] - sum(f1s) / 4) < 1e-3


def test_card_has_scores_baselines_and_speed(tmp_path: Path) -> None:
    held = score(["challenge", "measure", "example", "other"], ["challenge", "measure", "other", "other"])
    everything = ["challenge", "measure", "example", "other"]
    gold = score(everything, everything)
    card = {
        "model_version": "tfidf-abc-s13",
        "kind": "tfidf",
        "base": None,
        "data": {"hash": "abc", "n_train": 10, "n_held": 4, "n_gold": 2},
        "recipe": {"C": 8.0},
        "evaluation": {"held_out": held, "gold": gold},
        "baselines": {"keywords": {"held_out": held, "gold": gold}},
        "speed": {"threads": 2, "runtime": "python", "batch_1": 120.0, "batch_32": 950.4},
        "notes": ["- a note"],
    }
    write_card(tmp_path, card)
    assert read_card(tmp_path) == json.loads(json.dumps(card))
    text = (tmp_path / CARD_FILE).read_text()
    assert "# Model card: tfidf-abc-s13" in text
    assert "macro-F1 **0.667**" in text and "macro-F1 **1.000**" in text
    assert "| example | 0 | 0 | 0 | 1 |" in text  # confusion row
    assert "| keywords | 0.667 | 1.000 |" in text
    assert "batch 32: 950 segments/second" in text
    assert (tmp_path / METRICS_FILE).is_file()


def test_card_without_gold_says_so(tmp_path: Path) -> None:
    held = score(["other"], ["other"])
    write_card(
        tmp_path, {"model_version": "v", "kind": "keywords", "evaluation": {"held_out": held, "gold": None}}
    )
    assert "Seed gold set**: not measured" in (tmp_path / CARD_FILE).read_text()


def test_calibration_error_and_interval() -> None:
    from services.classify.schema import Prediction
    from tools.training.evaluation import calibration_error, macro_f1_interval

    sure = Prediction.from_probs([1.0, 0.0, 0.0, 0.0])
    # Always right at full confidence: perfectly calibrated.
    assert calibration_error(["challenge"] * 4, [sure] * 4) == 0.0
    # Confident and right half the time: off by one half.
    assert abs(calibration_error(["challenge", "measure"], [sure, sure]) - 0.5) < 1e-9
    gold = ["challenge", "measure", "example", "other"] * 10
    low, high = macro_f1_interval(gold, gold)
    assert low == high == 1.0
    noisy = gold[:-4] + ["other", "other", "other", "challenge"]
    low, high = macro_f1_interval(gold, noisy)
    assert 0.0 < low < high <= 1.0


def test_card_end_to_end_section_with_a_set_without_gold_themes(tmp_path: Path) -> None:
    overall = score(["challenge", "measure", "other"], ["challenge", "other", "other"])
    overall["recovered"] = 0.9
    cal = {"ece": 0.01, "flagged_share": 0.1, "wrong_caught": 0.5}
    themed = {"micro_f1": 0.8, "macro_f1": 0.7, "per_theme": {"akutt": {"f1": 0.75}}}
    card = {
        "model_version": "v",
        "kind": "structured",
        "evaluation": {"held_out": overall, "gold": None},
        "end_to_end": {
            "heldout_k": {
                "letters": {"k-01": {"macro_f1": 0.9}},
                "overall": overall,
                "calibration": cal,
                "themes": themed,
            },
            "heldout_m": {
                "letters": {"m-01": {"macro_f1": 0.8}},
                "overall": overall,
                "calibration": cal,
                "themes": None,
            },
        },
    }
    write_card(tmp_path, card)
    text = (tmp_path / CARD_FILE).read_text()
    assert "- heldout_k, theme F1: akutt 0.75" in text
    assert "| heldout_m | 1 |" in text and "no gold themes" in text
    assert "heldout_m, theme F1" not in text
