"""The end-to-end scorer: alignment of gold with extracted segments, lost segments counted wrong,
theme F1 and the review flag's figures."""

from __future__ import annotations

from services.classify.schema import Prediction
from tools.eval.end_to_end import align, calibration, label_scores, theme_scores


def pred(
    label: str, top: float, themes: tuple[tuple[str, float], ...] = (), review: bool = False
) -> Prediction:
    rest = (1 - top) / 3
    scores = {k: (top if k == label else rest) for k in ("challenge", "measure", "example", "other")}
    return Prediction(label=label, scores=scores, themes=themes, needs_review=review)


def test_alignment_tolerates_small_differences_and_marks_lost() -> None:
    gold = [{"text": "Det er krevende å rekruttere."}, {"text": "Helt borte fra PDF-en."}, {"text": "Tiltak"}]
    segs = [{"text": "Tiltak"}, {"text": "Det er krevende  å rekruttere"}]
    assert align(gold, segs) == [1, None, 0]


def test_lost_segments_count_as_wrong() -> None:
    pairs = [
        ({"label": "challenge"}, pred("challenge", 0.9)),
        ({"label": "measure"}, None),
        ({"label": "measure"}, pred("measure", 0.8)),
        ({"label": "other"}, pred("measure", 0.6, review=True)),
    ]
    s = label_scores(pairs)
    assert s["recovered"] == 0.75
    assert s["per_class"]["measure"]["recall"] == 0.5
    assert s["confusion"]["labels"][-1] == "lost" and s["confusion"]["matrix"][1] == [0, 1, 0, 0, 1]
    cal = calibration(pairs)
    assert cal["flagged_share"] == round(1 / 3, 4) and cal["wrong_caught"] == 1.0


def test_theme_scores() -> None:
    pairs = [
        ({"themes": ["akutt"]}, pred("measure", 0.9, (("akutt", 0.8), ("eldre", 0.6)))),
        ({"themes": ["eldre", "akutt"]}, None),
        ({"themes": []}, pred("other", 0.9)),
    ]
    t = theme_scores(pairs, ["akutt", "eldre", "barn"])
    # akutt: tp 1, fn 1 -> F1 2/3; eldre: fp 1, fn 1 -> 0; micro: tp 1, fp 1, fn 2 -> 0.4
    assert t["per_theme"]["akutt"]["f1"] == round(2 / 3, 4) and t["per_theme"]["eldre"]["f1"] == 0
    assert t["micro_f1"] == 0.4 and t["macro_f1"] == round((2 / 3 + 0) / 2, 4)


def test_card_shows_end_to_end_figures() -> None:
    from tools.eval.end_to_end import theme_scores as ts
    from tools.training.card import render

    pairs = [
        ({"label": "challenge", "themes": ["akutt"]}, pred("challenge", 0.9, (("akutt", 0.9),))),
        ({"label": "other"}, None),
    ]
    figures = {
        "letters": {"brev-1": {"macro_f1": 0.5, "recovered": 0.5, "n": 2}},
        "overall": label_scores(pairs),
        "calibration": calibration(pairs),
        "themes": ts(pairs, ["akutt"]),
    }
    card = {"model_version": "v", "kind": "structured", "end_to_end": {"seeds": figures}}
    text = render(card)
    assert "## End to end" in text and "| seeds | 1 | 0.500 |" in text and "brev-1 0.500" in text
