"""Write throughput of the store: classified segments per second through Repository.apply in
micro-batches (as the agents write them), on SQLite and, when given, PostgreSQL.

    python -m tools.bench.store [--docs 50] [--segments 100] [--batch 200] [--postgres URL]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.store.db import make_engine, migrate
from services.store.repository import Repository, SegmentFilter
from shared.events import LABELS, DocumentExtracted, DocumentReceived, Envelope, SegmentClassified, make_event
from shared.ids import document_id_for, segment_id_for, sha256_hex


def make_events(docs: int, per_doc: int) -> list[Envelope[Any]]:
    rng = random.Random(7)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    out: list[Envelope[Any]] = []
    for d in range(docs):
        sha = sha256_hex(f"bench-{d}".encode())
        doc = document_id_for(sha)
        out.append(
            make_event(
                DocumentReceived(
                    id=doc,
                    filename=f"brev-{d}.pdf",
                    sha256=sha,
                    bytes=100_000,
                    content_type="application/pdf",
                    blob_uri=f"blob://sha256/{sha}",
                    source="http",
                    received_at=t0 + timedelta(seconds=d),
                ),
                "bench",
            )
        )
        out.append(
            make_event(DocumentExtracted(document_id=doc, page_count=5, segment_count=per_doc), "bench")
        )
        for i in range(per_doc):
            label = rng.choice(LABELS)
            out.append(
                make_event(
                    SegmentClassified(
                        segment_id=segment_id_for(doc, i),
                        document_id=doc,
                        seq=i,
                        page=1 + i // 20,
                        heading_path=["Utfordringer", f"Tema {i % 7}"],
                        text=f"Avsnitt {i} om samhandling og økonomi. " * 8,
                        label=label,
                        scores={lab: (0.7 if lab == label else 0.1) for lab in LABELS},
                        model_version="bench",
                        segment_count=per_doc,
                    ),
                    "bench",
                )
            )
    return out


def run(url: str, events: list[Envelope[Any]], batch: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    repo = Repository(engine)
    segs = sum(isinstance(e.data, SegmentClassified) for e in events)
    for label, evs in (("first pass", events), ("replay (all upserts hit)", events)):
        start = time.perf_counter()
        for i in range(0, len(evs), batch):
            repo.apply(evs[i : i + batch])
        dt = time.perf_counter() - start
        print(
            f"  {label:26s} {len(evs):7d} events in {dt:6.2f} s = {len(evs) / dt:8.0f} events/s "
            f"({segs / dt:.0f} segments/s)"
        )
    start = time.perf_counter()
    total, _ = repo.search_segments(SegmentFilter(q="økonomi", label="measure"), limit=50)
    print(
        f"  search q+label over {segs} segments: {total} hits in {1000 * (time.perf_counter() - start):.1f} ms"
    )
    start = time.perf_counter()
    repo.stats()
    print(f"  /stats query: {1000 * (time.perf_counter() - start):.1f} ms")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=50)
    ap.add_argument("--segments", type=int, default=100, help="segments per document")
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--postgres", help="an empty PostgreSQL database URL to benchmark as well")
    args = ap.parse_args()
    events = make_events(args.docs, args.segments)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite (file, WAL), batch {args.batch}:")
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", events, args.batch)
    if args.postgres:
        print(f"PostgreSQL, batch {args.batch}:")
        run(args.postgres, events, args.batch)


if __name__ == "__main__":
    main()
