"""Labelled data loading, the by-document split and the data hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.training.data import DataError, Example, data_hash, load_gold, read_jsonl, split_by_document


def _examples(n_docs: int = 20, per_doc: int = 5) -> list[Example]:
    return [
        Example(f"doc{d}", s, f"tekst {d} {s}", (), "other") for d in range(n_docs) for s in range(per_doc)
    ]


def test_split_is_by_document_and_repeatable() -> None:
    ex = _examples()
    train, held = split_by_document(ex, 0.15, seed=13)
    assert {e.doc for e in train}.isdisjoint({e.doc for e in held})
    assert len({e.doc for e in held}) == 3 and len(train) + len(held) == len(ex)
    assert {e.doc for e in split_by_document(list(reversed(ex)), 0.15, seed=13)[1]} == {e.doc for e in held}
    assert {e.doc for e in split_by_document(ex, 0.15, seed=14)[1]} != {e.doc for e in held}


def test_a_new_batch_leaves_the_other_batches_held_out_letters_alone() -> None:
    def batch(name: str, n: int) -> list[Example]:
        return [Example(f"{name}-{d:02d}", 0, f"tekst {name} {d}", (), "other") for d in range(1, n + 1)]

    before = batch("kommune_a", 20) + batch("helse_b", 14)
    after = before + batch("brev_m", 17)
    held_before = {e.doc for e in split_by_document(before, 0.15, seed=13)[1]}
    held_after = {e.doc for e in split_by_document(after, 0.15, seed=13)[1]}
    assert held_after - held_before and all(d.startswith("brev_m-") for d in held_after - held_before)
    assert held_before <= held_after
    assert {d.split("-")[0] for d in held_before} == {"kommune_a", "helse_b"}  # every writer held out


def test_data_hash_ignores_order_but_not_content() -> None:
    ex = _examples(3, 2)
    assert data_hash(ex) == data_hash(list(reversed(ex)))
    changed = [*ex[:-1], Example(ex[-1].doc, ex[-1].seq, ex[-1].text, ex[-1].heading_path, "measure")]
    assert data_hash(changed) != data_hash(ex)


def test_read_jsonl_skips_a_torn_last_line_and_rejects_bad_labels(tmp_path: Path) -> None:
    good = {"doc": "a", "seq": 0, "text": "Hei", "heading_path": ["H"], "label": "other"}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(good) + "\n" + '{"doc": "a", "se')
    assert read_jsonl(path) == [Example("a", 0, "Hei", ("H",), "other")]
    path.write_text(json.dumps({**good, "label": "tiltak"}) + "\n")
    with pytest.raises(DataError, match="label 'tiltak'"):
        read_jsonl(path)


def test_gold_is_optional(tmp_path: Path) -> None:
    assert load_gold(tmp_path / "absent.jsonl") is None


def test_gold_reads_when_present(shared_dir: Path) -> None:
    gold = load_gold(shared_dir / "seeds" / "gold.jsonl")
    assert gold and {e.label for e in gold} == {"challenge", "measure", "example", "other"}
    assert all(e.doc.startswith("gold:") for e in gold)
