"""Training on what production sees: the derived file of extracted team letters, its alignment to the
labelled rows, and how the recipe uses it (split by document, calibration on the held-out letters as
extracted, fallback when the file does not match the labelled data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.derived_fixtures import write_derived, write_labelled
from tools.training import data as D
from tools.training import extracted as X
from tools.training import recipe as R


def test_shipped_file_is_in_sync_with_the_labelled_data() -> None:
    header = X.read_header(X.DEFAULT_OUT)
    assert header["labelled_hash"] == X.labelled_hash(D.LABELLED_DIR), (
        "data/derived/extracted.jsonl is out of date: run `python -m tools.training.extracted build`"
    )
    rows = X.load(X.DEFAULT_OUT)
    assert len(rows) == header["rows"]
    labelled_docs = {e.doc for e in D.load_labelled(D.LABELLED_DIR)}
    assert {e.doc for e in rows} == labelled_docs
    assert header["gold_recovered"] >= 0.9
    # extraction's kinds, not the writers' own
    assert not {e.kind for e in rows} & {"bullet", "signature", "closing"}


def test_rows_take_the_label_of_the_row_they_came_from() -> None:
    gold = [
        {"seq": 0, "text": "Utfordringer i legevakten", "label": "other", "themes": []},
        {
            "seq": 1,
            "text": "Det er for få leger på vakt om natten.",
            "label": "challenge",
            "themes": ["akutt"],
        },
        {"seq": 2, "text": "Staten bør finansiere flere stillinger.", "label": "measure", "themes": []},
    ]
    segs = [
        {"text": "Høringsinnspill fra Testby kommune", "heading_path": [], "kind": "letter"},
        {"text": "Utfordringer i legevakten", "heading_path": [], "kind": "heading"},
        {
            "text": "Det er for få leger på vakt om natten. Staten bør",
            "heading_path": ["U"],
            "kind": "list_item",
        },
        {"text": "finansiere flere stillinger.", "heading_path": ["U"], "kind": "paragraph"},
        {"text": "Det er for få leger på vakt om natten", "heading_path": ["U"], "kind": "paragraph"},
        {"text": "2", "heading_path": [], "kind": "paragraph"},
    ]
    rows = X.letter_rows("d", gold, segs, "Høringsinnspill fra Testby kommune")
    got = {r["seq"]: (r["label"], r["gold_seq"], r["themes"]) for r in rows}
    assert got[0] == ("other", None, [])  # running header: furniture
    assert got[1] == ("other", 0, [])
    assert got[4] == ("challenge", 1, ["akutt"])
    assert got[5] == ("other", None, [])  # page number
    assert 2 not in got and 3 not in got  # a merged and a split segment: no clean label, left out


def test_recipe_trains_on_extracted_rows_and_calibrates_on_held_out_ones(tmp_path: Path) -> None:
    write_labelled(tmp_path / "labelled", 10)
    write_derived(tmp_path / "labelled", tmp_path / "x.jsonl", "pdf", "list_item")
    splits = R.prepare(tmp_path / "labelled", gold_path=tmp_path / "none.jsonl")
    held_docs = {e.doc for e in splits.held}
    train, held = R.structured_examples(splits, "extracted", tmp_path / "x.jsonl")
    assert all(e.text.endswith("(pdf)") for e in train + held)
    assert {e.doc for e in held} == held_docs and not held_docs & {e.doc for e in train}
    both, held2 = R.structured_examples(splits, "both", tmp_path / "x.jsonl")
    assert len(both) == 2 * len(train) and held2 == held
    assert {e.doc for e in both if not e.text.endswith("(pdf)")} == {f"{e.doc}#labelled" for e in train}
    labelled, held3 = R.structured_examples(splits, "labelled", tmp_path / "x.jsonl")
    assert labelled == splits.train and held3 == splits.held
    # the extractor that made the rows is recorded, for the model's version
    assert splits.info["extractor"] == "testpdf"
    with pytest.raises(ValueError):
        R.structured_examples(splits, "pdf", tmp_path / "x.jsonl")


def test_out_of_date_file_falls_back_to_labelled_rows(tmp_path: Path) -> None:
    write_labelled(tmp_path / "labelled", 10)
    write_derived(tmp_path / "labelled", tmp_path / "x.jsonl", "pdf", "list_item")
    write_labelled(tmp_path / "labelled", 11)  # a new letter since the file was built
    splits = R.prepare(tmp_path / "labelled", gold_path=tmp_path / "none.jsonl")
    train, held = R.structured_examples(splits, "both", tmp_path / "x.jsonl")
    assert train == splits.train and held == splits.held
    assert splits.info["source_used"] == "labelled"
    assert not X.in_sync(tmp_path / "x.jsonl", tmp_path / "labelled")
