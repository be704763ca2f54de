"""Search speed: the everyday queries over many letters (default 1,000 letters of 40 segments each, built
from the benchmark letters' segments), on SQLite and (with --postgres URL of an empty database) PostgreSQL.

    python -m tools.bench.search_speed [--letters 1000] [--segments 40] [--postgres URL] [--check]

Prints per query the number of hits and the median and worst time of one API search (count + first page of
50, ranked), over 5 runs. ``--check`` exits 1 when any median is 100 ms or more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from services.store.db import make_engine, migrate
from services.store.repository import Repository, SegmentFilter
from tools.bench.search_corpus import LETTERS, QUERIES, Letter, letter_events

LIMIT_MS = 100.0


def corpus(letters: int, per_letter: int) -> list[Letter]:
    pool = [s for letter in LETTERS for s in letter.segments]
    out = []
    for i in range(letters):
        segs = tuple(pool[(i * 7 + j) % len(pool)] for j in range(per_letter))
        out.append(Letter(f"brev-{i:04d}", LETTERS[i % len(LETTERS)].sender, segs))
    return out


def run(url: str, letters: int, per_letter: int) -> dict[str, tuple[int, float, float]]:
    engine = make_engine(url)
    try:
        migrate(engine)
        repo = Repository(engine)
        events = letter_events(corpus(letters, per_letter))
        t0 = time.perf_counter()
        for start in range(0, len(events), 2000):
            repo.apply(events[start : start + 2000])
        print(
            f"{engine.dialect.name}: stored and indexed {len(events)} events in {time.perf_counter() - t0:.1f} s"
        )
        if engine.dialect.name == "postgresql":
            # Planner statistics, as autovacuum keeps them in a running store: a bulk load just before the
            # queries would otherwise leave the planner guessing (nested loops over a third of the rows).
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        out = {}
        for q in QUERIES.values():
            times = []
            total = 0
            for _ in range(5):
                t = time.perf_counter()
                total, _hits = repo.search_segments(SegmentFilter(q=q), limit=50)
                times.append((time.perf_counter() - t) * 1000)
            out[q] = (total, statistics.median(times), max(times))
        return out
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=int, default=1000)
    ap.add_argument("--segments", type=int, default=40)
    ap.add_argument("--postgres")
    ap.add_argument("--check", action="store_true")
    ap.add_argument(
        "--no-cache", action="store_true", help="switch off the store's read cache (every run queries)"
    )
    args = ap.parse_args(argv)
    if args.no_cache:
        from services.store import read_cache

        read_cache.ENABLED = False
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite:///{Path(tmp) / 'speed.db'}"] + ([args.postgres] if args.postgres else [])
        for url in urls:
            results = run(url, args.letters, args.segments)
            print(f"{'query':28} {'hits':>6} {'median ms':>10} {'worst ms':>9}")
            for q, (total, med, worst) in results.items():
                print(f"{q:28} {total:6d} {med:10.1f} {worst:9.1f}")
                ok &= med < LIMIT_MS
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
