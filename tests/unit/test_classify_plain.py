"""Letters as plain text (issue 9, round 3): the plain-text rendering of labelled letters, the shipped
derived file of the team's letters rendered that way and extracted, and the recipe's ``mixed`` source
that trains on both renderings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.derived_fixtures import write_derived, write_labelled
from tools.eval import plain as P
from tools.extract.render import soffice
from tools.training import data as D
from tools.training import extracted as X
from tools.training import recipe as R

ROWS: list[dict[str, Any]] = [
    {"seq": 0, "kind": "letterhead", "text": "Testby kommune, helse og omsorg"},
    {"seq": 1, "kind": "date", "text": "Testby, 1. mars 2024"},
    {"seq": 2, "kind": "heading", "text": "Utfordringer"},
    {"seq": 3, "kind": "paragraph", "text": " ".join(["Det er for få fastleger i kommunen."] * 8)},
    {"seq": 4, "kind": "lead_in", "text": "Vi foreslår:"},
    {"seq": 5, "kind": "bullet", "text": "flere utdanningsstillinger for allmennleger"},
    {"seq": 6, "kind": "bullet", "text": "bedre finansiering av legevakt"},
    {"seq": 7, "kind": "table_header", "text": "Tiltak"},
    {"seq": 8, "kind": "table_cell", "text": "Felles journal"},
    {"seq": 9, "kind": "footnote", "text": "1 Se rapporten fra 2023."},
    {"seq": 10, "kind": "signature", "text": "Kari Nordmann, kommunalsjef"},
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("doc", [f"brev-{i}" for i in range(12)])
def test_plain_lines_keep_every_word_and_drop_the_structure(doc: str) -> None:
    lines = P.plain_lines(ROWS, doc)
    width = P._choose(doc, "width", P.WIDTHS)
    assert all(len(ln.rstrip()) <= width for ln in lines)
    joined = _norm(" ".join(lines))
    for row in ROWS:
        assert _norm(row["text"]) in joined  # nothing lost, only wrapped
    # the footnote goes to the end, as on a printed page
    assert _norm(lines[-1]) == "1 Se rapporten fra 2023."
    # no markup survives: a bullet is at most a glyph at the start of a line
    bullet = P._choose(doc, "bullet", P.BULLETS)
    item = [ln for ln in lines if "utdanningsstillinger" in ln][0]
    assert item.startswith(f"{bullet} " if bullet else "flere")
    # the long paragraph is hard-wrapped, as text extracted from a PDF is
    assert sum("fastleger" in ln for ln in lines) >= 2
    assert P.plain_lines(ROWS, doc) == lines  # deterministic per letter


def test_a_tables_column_headers_share_one_line_as_in_a_text_export() -> None:
    rows = [
        {"seq": 0, "kind": "question", "text": "2. Hva er krevende, og hvilke tiltak trengs?"},
        {"seq": 1, "kind": "table_header", "text": "Krevende faktorer", "col": 0},
        {"seq": 2, "kind": "table_header", "text": "Tiltak", "col": 1},
        {"seq": 3, "kind": "table_cell", "text": "Journalene snakker ikke sammen.", "col": 0},
        {"seq": 4, "kind": "table_cell", "text": "Felles løsning for meldinger.", "col": 1},
    ]
    lines = [ln.strip() for ln in P.plain_lines(rows, "brev-1") if ln.strip()]
    assert "Krevende faktorer Tiltak" in lines
    assert lines.index("Krevende faktorer Tiltak") < lines.index("Journalene snakker ikke sammen.")
    assert "Tiltak" not in lines  # no header of its own over the second column


def test_a_one_line_row_label_shares_its_line_with_the_cell_beside_it() -> None:
    rows = [
        {"seq": 0, "kind": "question", "text": "1. Hvilke erfaringer har dere gjort?"},
        {"seq": 1, "kind": "table_cell", "text": "Felles prosjekter", "col": 0, "row": 1},
        {
            "seq": 2,
            "kind": "table_cell",
            "text": " ".join(["Tre kommuner deler en rådgiver."] * 4),
            "col": 1,
            "row": 1,
        },
        {
            "seq": 3,
            "kind": "table_cell",
            "text": " ".join(["Lange saksganger i mange råd"] * 3),
            "col": 0,
            "row": 2,
        },
        {"seq": 4, "kind": "table_cell", "text": "Saker går til hvert kommunestyre.", "col": 1, "row": 2},
    ]
    joining = [d for d in (f"brev-{i}" for i in range(12)) if P._choose(d, "rowjoin", P.ROW_JOINS)]
    keeping = [d for d in (f"brev-{i}" for i in range(12)) if not P._choose(d, "rowjoin", P.ROW_JOINS)]
    assert joining and keeping  # letters differ, as text exports do
    for doc in joining:
        lines = [ln.strip() for ln in P.plain_lines(rows, doc) if ln.strip()]
        assert lines[1].startswith("Felles prosjekter Tre kommuner deler")
        # a label that wraps in its column keeps lines of its own
        assert not any(ln.startswith("Lange saksganger") and "Saker går" in ln for ln in lines)
    for doc in keeping:
        lines = [ln.strip() for ln in P.plain_lines(rows, doc) if ln.strip()]
        assert lines[1] == "Felles prosjekter"


def test_letters_vary_in_width_bullets_and_separation() -> None:
    docs = [f"brev-{i}" for i in range(40)]
    for axis, options in (("width", P.WIDTHS), ("bullet", P.BULLETS), ("separation", P.SEPARATIONS)):
        assert {P._choose(d, axis, options) for d in docs} == set(options)


def test_shipped_plain_file_is_in_sync_with_the_labelled_data() -> None:
    header = X.read_header(X.PLAIN_OUT)
    assert header["rendering"] == "plain"
    assert header["labelled_hash"] == X.labelled_hash(D.LABELLED_DIR), (
        "data/derived/extracted_plain.jsonl is out of date: run "
        "`python -m tools.training.extracted build --rendering plain`"
    )
    rows = X.load(X.PLAIN_OUT)
    assert len(rows) == header["rows"]
    assert {e.doc for e in rows} == {e.doc for e in D.load_labelled(D.LABELLED_DIR)}
    assert header["gold_recovered"] >= 0.8
    assert not {e.kind for e in rows} & {"bullet", "signature", "closing"}
    # not the structured file again: extraction makes other segments of plain text
    structured = {(e.doc, e.text) for e in X.load(X.DEFAULT_OUT)}
    assert sum((e.doc, e.text) not in structured for e in rows) > 0.05 * len(rows)


def test_mixed_source_trains_and_calibrates_on_both_renderings(tmp_path: Path) -> None:
    write_labelled(tmp_path / "labelled", 10)
    write_derived(tmp_path / "labelled", tmp_path / "x.jsonl", "pdf", "paragraph")
    write_derived(tmp_path / "labelled", tmp_path / X.PLAIN_OUT.name, "plain", "paragraph")
    splits = R.prepare(tmp_path / "labelled", gold_path=tmp_path / "none.jsonl")
    held_docs = {e.doc for e in splits.held}
    train, held = R.structured_examples(splits, "mixed", tmp_path / "x.jsonl")
    assert splits.info["source_used"] == "mixed"
    plain_train = [e for e in train if e.text.endswith("(plain)")]
    assert len(plain_train) == len(train) // 2 and all(e.doc.endswith("#plain") for e in plain_train)
    assert {e.doc for e in held} == held_docs | {f"{d}#plain" for d in held_docs}
    assert not {e.doc.removesuffix("#plain") for e in train} & held_docs  # held-out letters stay out


def test_mixed_source_without_a_plain_file_uses_the_structured_rendering(tmp_path: Path) -> None:
    write_labelled(tmp_path / "labelled", 10)
    write_derived(tmp_path / "labelled", tmp_path / "x.jsonl", "pdf", "paragraph")
    splits = R.prepare(tmp_path / "labelled", gold_path=tmp_path / "none.jsonl")
    train, held = R.structured_examples(splits, "mixed", tmp_path / "x.jsonl")
    assert splits.info["source_used"] == "extracted"
    assert all(e.text.endswith("(pdf)") for e in train + held)


@pytest.mark.skipif(not soffice(), reason="LibreOffice renders the letters")
def test_plain_letters_render_and_extract_like_the_seeds(tmp_path: Path) -> None:
    from tools.eval import end_to_end as E

    rows = [{**r, "doc": "brev-1", "heading_path": [], "label": "other"} for r in ROWS]
    letters = E.plain_letters({"brev-1": rows}, tmp_path)
    assert [r["seq"] for r in letters[0].gold] == [r["seq"] for r in ROWS if r["kind"] != "table_header"]
    segs = E.extract_cached(letters[0].pdf, tmp_path / "cache")
    found = E.align(letters[0].gold, segs)
    long_paragraph = found[3]
    assert long_paragraph is not None  # its hard-wrapped lines join into one segment again
    assert "fastleger" in segs[long_paragraph]["text"]
    # a short letter with a blank line or a glyph between its parts loses nothing
    assert None not in found, [r["text"] for r, j in zip(letters[0].gold, found, strict=True) if j is None]


def test_alternate_source_puts_each_training_letter_in_one_rendering(tmp_path: Path) -> None:
    write_labelled(tmp_path / "labelled", 20)
    write_derived(tmp_path / "labelled", tmp_path / "x.jsonl", "pdf", "paragraph")
    write_derived(tmp_path / "labelled", tmp_path / X.PLAIN_OUT.name, "plain", "paragraph")
    splits = R.prepare(tmp_path / "labelled", gold_path=tmp_path / "none.jsonl")
    train, held = R.structured_examples(splits, "alternate", tmp_path / "x.jsonl")
    by_letter: dict[str, set[str]] = {}
    for e in train:
        by_letter.setdefault(e.doc.removesuffix("#plain"), set()).add(e.text.rsplit(" ", 1)[-1])
    assert set(by_letter) == {e.doc for e in splits.train}
    assert all(len(kinds) == 1 for kinds in by_letter.values())  # never both renderings
    assert {"(pdf)"} in by_letter.values() and {"(plain)"} in by_letter.values()
    mixed, held_mixed = R.structured_examples(splits, "mixed", tmp_path / "x.jsonl")
    assert len(mixed) == 2 * len(train) and held_mixed == held
