"""``python -m tools.corrections.export``: reviewed labels as data/labelled JSONL the training reads, with a
version in every row and a meta file; undone corrections and seed text are left out."""

from __future__ import annotations

import json
from pathlib import Path

from services.store.db import make_engine, migrate
from services.store.repository import Repository
from shared.events import SegmentCorrected, make_event
from shared.ids import segment_id_for
from tests.integration.test_store_corrections import themed
from tests.store_events import at, doc_id, extracted, received, segment
from tools.corrections.export import main
from tools.training.data import read_jsonl


def correction(name: str, seq: int, minute: int, **kw: object) -> object:
    payload = SegmentCorrected(
        segment_id=segment_id_for(doc_id(name), seq),
        document_id=doc_id(name),
        user="kari",
        at=at(minute),
        **kw,
    )  # type: ignore[arg-type]  # a test double or a deliberately loose value
    return make_event(payload, "test")


def test_export_writes_training_rows(database_url: str, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    seed_text = "Dette er en setning fra et frøbrev som aldri skal brukes til trening av modellen"
    (seeds / "000_x.txt").write_text(seed_text, encoding="utf-8")
    engine = make_engine(database_url)
    migrate(engine)
    repo = Repository(engine)
    repo.apply(
        [
            received("Eks", 0),
            extracted("Eks", 4, 1, sender="Eks kommune"),
            themed("Eks", 0, 4, 2, "challenge", {"personell": 0.9}),
            themed("Eks", 1, 4, 2, "other", {}),
            themed("Eks", 2, 4, 2, "measure", {}),
            segment("Eks", 3, 4, 2, label="other", text=seed_text),
        ]
    )
    repo.apply(
        [
            correction("Eks", 0, 10, label="measure", themes=["personell", "eldre"]),
            correction("Eks", 1, 10, label="other"),  # a confirmation is a reviewed label too
            correction("Eks", 2, 10, label="example"),
            correction("Eks", 2, 11, reverted=["label"]),  # undone: not exported
            correction("Eks", 3, 10, label="challenge"),  # seed text: never exported
        ]
    )
    engine.dispose()
    out = tmp_path / "corr.jsonl"
    assert main([str(out), "--database-url", database_url, "--seeds-dir", str(seeds)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["seq"], r["label"], r["model_label"]) for r in rows] == [
        (0, "measure", "challenge"),
        (1, "other", "other"),
    ]
    assert rows[0]["themes"] == ["personell", "eldre"] and "themes" not in rows[1]
    assert rows[0]["doc"] == f"store:{doc_id('Eks')}" and rows[0]["corrected_by"] == "kari"
    meta = json.loads((tmp_path / "corr.meta.json").read_text())
    assert meta["rows"] == 2 and meta["changed"] == 1 and meta["left_out_overlapping_seeds"] == 1
    assert {r["version"] for r in rows} == {meta["version"]} and meta["version"].startswith("corrections-")
    examples = read_jsonl(out)  # the training command's reader
    assert [(e.label, e.themes) for e in examples] == [("measure", ("personell", "eldre")), ("other", None)]
