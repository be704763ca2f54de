"""Merged-paragraph training copies (tools/training/augment.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tools.training.augment import merged_copies, merged_label, sentence_count
from tools.training.data import Example


def _row(
    doc: str,
    seq: int,
    text: str,
    label: str,
    kind: str | None = "paragraph",
    path: tuple[str, ...] = ("Innspill",),
) -> Example:
    return Example(doc, seq, text, path, label, kind, ("personell",) if label != "other" else ())


def test_sentence_count_splits_on_sentence_ends_only() -> None:
    assert sentence_count("Vi mangler leger. Det er krevende å rekruttere! «Vikarer» koster mye.") == 3
    assert sentence_count("Bruk av f.eks. vikarer, ca. 20 % av vaktene") == 1


def test_merged_label_follows_the_dominant_function() -> None:
    problem = _row("a", 0, "Vi mangler leger. Vaktene blir tunge.", "challenge")
    ask = _row("a", 1, "Staten bør finansiere flere LIS1-stillinger.", "measure")
    setup = _row("a", 2, "Kommunen har 9 000 innbyggere.", "other")
    assert merged_label(problem, ask, "mixed") == "challenge"  # two sentences against one
    assert merged_label(problem, ask, "same") is None
    assert merged_label(setup, ask, "mixed") == "measure"  # set-up does not count against a tie
    assert merged_label(setup, problem, "mixed") == "challenge"
    assert merged_label(_row("a", 0, "Én. To.", "other"), ask, "mixed") is None  # mostly background
    assert (
        merged_label(ask, replace(ask, seq=2, label="example"), "mixed") is None
    )  # a tie between two content labels
    assert merged_label(problem, replace(problem, seq=1), "same") == "challenge"
    assert merged_label(setup, setup, "mixed") is None  # furniture and background are never merged
    # only paragraphs under the same heading
    assert merged_label(problem, _row("a", 1, "Mer penger.", "challenge", kind="bullet"), "mixed") is None
    assert merged_label(problem, _row("a", 1, "Mer penger.", "challenge", path=("Tiltak",)), "mixed") is None


def test_copies_are_seeded_whole_letters_under_their_own_name() -> None:
    rows = [
        row
        for d in range(8)
        for row in (
            _row(f"brev-{d}", 0, "Helse Nord", "other", kind="letterhead", path=()),
            _row(f"brev-{d}", 1, "Vi mangler sykepleiere. Turnover er høy.", "challenge"),
            _row(f"brev-{d}", 2, "Det er krevende å beholde dem.", "challenge"),
            _row(f"brev-{d}", 3, "Vi foreslår heltidsstillinger.", "measure", kind="bullet"),
        )
    ]
    copies = merged_copies(rows, 0.5, "same", seed=13)
    assert copies == merged_copies(list(reversed(rows)), 0.5, "same", seed=13)
    letters = {e.doc for e in copies}
    assert 0 < len(letters) < 8 and all(d.endswith("#merged") for d in letters)
    assert len(copies) == 3 * len(letters)  # letterhead, the merged pair, the bullet
    merged = [e for e in copies if e.seq == 1]
    assert all(
        e.text == "Vi mangler sykepleiere. Turnover er høy. Det er krevende å beholde dem." for e in merged
    )
    assert all(e.label == "challenge" and e.themes == ("personell",) for e in merged)
    assert merged_copies(rows, 0.0) == []
    with pytest.raises(ValueError, match="merge mode"):
        merged_copies(rows, 0.5, "sideways")


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--merge-mode", "sideways"], "sideways"), (["--merge-copies", "1.5"], "between 0 and 1")],
)
def test_train_refuses_a_bad_merge_option_before_training(
    tmp_path: Path, args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from tools.training.train import app

    result = CliRunner().invoke(app, ["structured", str(tmp_path / "model"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "model").exists()
