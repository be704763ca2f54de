"""The team's labelled training letters: well-formed, big enough, varied, and not copied from the seeds."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from shared.events import LABELS

DATA = Path(__file__).resolve().parents[2] / "data" / "labelled"
KINDS = {
    "letterhead",
    "date",
    "reference",
    "title",
    "greeting",
    "heading",
    "question",
    "paragraph",
    "lead_in",
    "bullet",
    "table_header",
    "table_cell",
    "footnote",
    "closing",
    "signature",
}


def rows() -> list[dict]:
    out = []
    for path in sorted(DATA.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                row["_where"] = f"{path.name}:{n}"
                out.append(row)
    return out


def test_every_row_is_well_formed() -> None:
    for row in rows():
        where = row["_where"]
        assert row["label"] in LABELS, where
        assert row["kind"] in KINDS, where
        assert row["lang"] in ("nb", "nn"), where
        assert isinstance(row["heading_path"], list) and all(
            isinstance(h, str) for h in row["heading_path"]
        ), where
        assert row["text"].strip() == row["text"] and row["text"], where
        assert "\n" not in row["text"] and "  " not in row["text"], where


def test_sequences_are_consecutive_per_letter() -> None:
    by_doc: dict[str, list[int]] = {}
    for row in rows():
        by_doc.setdefault(row["doc"], []).append(row["seq"])
    for doc, seqs in by_doc.items():
        assert seqs == list(range(len(seqs))), doc


def test_size_and_variety() -> None:
    data = rows()
    docs = {r["doc"] for r in data}
    assert len(data) >= 2000 and len(docs) >= 60
    labels = Counter(r["label"] for r in data)
    assert all(labels[label] >= 0.15 * len(data) for label in LABELS), labels
    nynorsk_docs = {r["doc"] for r in data if r["lang"] == "nn"}
    assert len(nynorsk_docs) >= 15
    assert len({r["genre"] for r in data}) >= 5


def _ngrams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_eight_word_run_copied_from_the_seed_letters(shared_dir: Path) -> None:
    seed_grams: set[tuple[str, ...]] = set()
    for path in (shared_dir / "seeds").glob("*.txt"):
        seed_grams |= _ngrams(path.read_text(encoding="utf-8"))
    hits = [r["_where"] for r in rows() if _ngrams(r["text"]) & seed_grams]
    assert hits == [], f"segments sharing 8 words with the seeds: {hits[:10]}"


@pytest.mark.parametrize("label", LABELS)
def test_each_label_appears_in_both_languages(label: str) -> None:
    langs = {r["lang"] for r in rows() if r["label"] == label}
    assert langs == {"nb", "nn"}
