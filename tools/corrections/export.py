"""Export the store's label corrections as a versioned labelled-data file (data/labelled's JSONL format).

    python -m tools.corrections.export OUT.jsonl [--database-url URL] [--seeds-dir DIR]

One row per segment whose label an analyst set and has not undone (a confirmation of the model's label counts:
it is a reviewed label too): ``{doc, seq, text, heading_path, label, kind, sender, themes?}`` plus the
provenance (``source``, ``version``, ``model_label``, ``corrected_by``, ``corrected_at``). ``themes`` is
only written when an analyst set the themes. The training command takes the file with ``--extra-labelled``.

The version (``corrections-<UTC time>-<hash of the rows>``) is written into every row and, with the counts,
into ``OUT.meta.json`` beside the file, so a model card can name exactly which export it was trained on.
Segments that share an 8-word run with the seed letters are left out: the seeds are for evaluation only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.store.corrections.rules import CorrectionFacts, fold_segment
from services.store.db import make_engine, migrate
from services.store.models import Correction, Document, Segment
from shared.settings import Settings

SOURCE = "store-corrections"
SHINGLE = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def seed_shingles(seeds_dir: Path | None) -> set[tuple[str, ...]]:
    """8-word runs of the seed letters (``*.txt``) and of the seeds gold texts."""
    out: set[tuple[str, ...]] = set()
    if seeds_dir is None or not seeds_dir.is_dir():
        return out
    for path in sorted(seeds_dir.glob("*.txt")):
        out |= shingles(path.read_text(encoding="utf-8", errors="replace"))
    for path in sorted(seeds_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out |= shingles(str(json.loads(line).get("text") or ""))
    return out


def corrected_rows(engine: Engine) -> list[dict[str, Any]]:
    """Rows of every segment with a label correction in force, in document and reading order."""
    with engine.connect() as conn:
        facts: dict[str, list[CorrectionFacts]] = {}
        for c in conn.execute(select(Correction)):
            facts.setdefault(c.segment_id, []).append(
                CorrectionFacts(c.event_id, c.at, c.user, c.label, c.themes, tuple(c.reverted or ()))
            )
        if not facts:
            return []
        rows: list[dict[str, Any]] = []
        ids = sorted(facts)
        for i in range(0, len(ids), 500):
            stmt = (
                select(Segment, col(Document.sender))
                .join(Document, col(Document.id) == col(Segment.document_id))
                .where(col(Segment.segment_id).in_(ids[i : i + 500]))
            )
            for r in conn.execute(stmt):
                model_label = r.model_label or r.label
                final = fold_segment(model_label, r.model_themes, facts[r.segment_id])
                if not final.label_corrected:
                    continue
                row: dict[str, Any] = {
                    "doc": f"store:{r.document_id}",
                    "seq": r.seq,
                    "text": r.text,
                    "heading_path": list(r.heading_path or []),
                    "label": final.label,
                    "kind": r.kind,
                    "sender": r.sender,
                    "source": SOURCE,
                    "model_label": model_label,
                    "corrected_by": final.corrected_by,
                    "corrected_at": final.corrected_at.isoformat() if final.corrected_at else None,
                }
                if final.themes_corrected:
                    row["themes"] = [t["id"] for t in final.themes]
                rows.append(row)
    rows.sort(key=lambda r: (r["doc"], r["seq"]))
    return rows


def export_corrections(engine: Engine, out: Path, seeds_dir: Path | None = None) -> dict[str, Any]:
    """Write ``out`` and ``out.meta.json``; returns the metadata."""
    seeds = seed_shingles(seeds_dir)
    rows = corrected_rows(engine)
    kept = [r for r in rows if not (seeds and shingles(r["text"]) & seeds)]
    digest = hashlib.sha256(
        "\n".join(
            json.dumps({k: v for k, v in r.items() if k != "version"}, sort_keys=True, ensure_ascii=False)
            for r in kept
        ).encode()
    ).hexdigest()
    now = datetime.now(UTC)
    version = f"corrections-{now:%Y%m%dT%H%M%SZ}-{digest[:8]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in kept:
            fh.write(json.dumps({**r, "version": version}, ensure_ascii=False) + "\n")
    tmp.replace(out)
    labels: dict[str, int] = {}
    for r in kept:
        labels[r["label"]] = labels.get(r["label"], 0) + 1
    meta = {
        "version": version,
        "source": SOURCE,
        "exported_at": now.isoformat(),
        "rows": len(kept),
        "changed": sum(1 for r in kept if r["label"] != r["model_label"]),
        "labels": labels,
        "left_out_overlapping_seeds": len(rows) - len(kept),
        "sha256": digest,
        "documents": len({r["doc"] for r in kept}),
    }
    out.with_name(out.name.removesuffix(".jsonl") + ".meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return meta


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.corrections.export", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", type=Path, help="the JSONL file to write")
    parser.add_argument(
        "--database-url", help="the store's database (default: INNSPILL_DATABASE_URL / settings)"
    )
    parser.add_argument(
        "--seeds-dir", type=Path, help="seed letters to keep out (default: the settings' seeds_dir)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    settings = Settings()
    engine = make_engine(args.database_url or settings.resolved_database_url)
    try:
        migrate(engine)
        meta = export_corrections(engine, args.out, args.seeds_dir or settings.seeds_dir)
    finally:
        engine.dispose()
    print(json.dumps(meta, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
