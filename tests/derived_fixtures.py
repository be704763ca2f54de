"""Tiny labelled folders and derived (extracted) training files for the training-recipe tests."""

from __future__ import annotations

import json
from pathlib import Path

from tools.training import data as D
from tools.training import extracted as X


def write_labelled(folder: Path, docs: int) -> None:
    """``docs`` four-segment letters, one segment per label, in data/labelled's format."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "doc": f"t-{d}",
                "seq": s,
                "text": f"Tekst {d} {s}",
                "heading_path": [],
                "label": label,
                "kind": "bullet",
                "themes": [],
            }
        )
        for d in range(docs)
        for s, label in enumerate(("challenge", "measure", "example", "other"))
    ]
    (folder / "t.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_derived(labelled: Path, out: Path, suffix: str, kind: str) -> None:
    """A derived file in sync with ``labelled``: every row's text marked with ``suffix``, all of ``kind``."""
    rows = [
        {
            "doc": e.doc,
            "seq": e.seq,
            "text": f"{e.text} ({suffix})",
            "heading_path": [],
            "kind": kind,
            "label": e.label,
            "themes": [],
            "gold_seq": e.seq,
        }
        for e in D.load_labelled(labelled)
    ]
    header = {
        "format": X.FORMAT,
        "labelled_hash": X.labelled_hash(labelled),
        "rows": len(rows),
        "extractor_hash": f"test{suffix}",
    }
    out.write_text("\n".join(json.dumps(r) for r in [header, *rows]) + "\n", encoding="utf-8")
