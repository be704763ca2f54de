"""Search quality: everyday queries with known answers (tools/bench/search_corpus.py), scored per query
for recall and precision over the whole result set, on SQLite and (with --postgres URL) PostgreSQL.

    python -m tools.bench.search_quality [--postgres URL] [--scope all|text] [--json] [--check]

``--check`` exits 1 when the mean recall or mean precision is below 0.9 (the target of issue 12) or
when the two databases return different result sets.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from services.store.db import make_engine, migrate
from services.store.repository import Repository, SegmentFilter
from tools.bench.search_corpus import QUERIES, doc_names, gold, letter_events

TARGET = 0.9


def evaluate(url: str, scope: str | None = None) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        migrate(engine)
        repo = Repository(engine)
        repo.apply(letter_events())
        names = doc_names()
        per_query: dict[str, Any] = {}
        for qid, q in QUERIES.items():
            total, hits = repo.search_segments(SegmentFilter(q=q, scope=scope), limit=1000)
            got = [(names[h.segment.document_id], h.segment.seq) for h in hits]
            want = gold(qid)
            tp = len(set(got) & want)
            per_query[qid] = {
                "query": q,
                "hits": total,
                "relevant": len(want),
                "recall": tp / len(want) if want else 1.0,
                "precision": tp / len(got) if got else (1.0 if not want else 0.0),
                "missed": sorted(want - set(got)),
                "wrong": sorted(set(got) - want),
                "result": got,
            }
        n = len(per_query)
        return {
            "database": engine.dialect.name,
            "queries": per_query,
            "mean_recall": sum(r["recall"] for r in per_query.values()) / n,
            "mean_precision": sum(r["precision"] for r in per_query.values()) / n,
        }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", help="a PostgreSQL URL of an empty database to compare with")
    ap.add_argument("--scope", choices=("all", "text"), default="all")
    ap.add_argument("--json", action="store_true", help="print the full results as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 below the targets or on a mismatch")
    args = ap.parse_args(argv)
    scope = None if args.scope == "all" else args.scope
    with tempfile.TemporaryDirectory() as tmp:
        runs = [evaluate(f"sqlite:///{Path(tmp) / 'bench.db'}", scope)]
        if args.postgres:
            runs.append(evaluate(args.postgres, scope))
    if args.json:
        print(json.dumps(runs, ensure_ascii=False, indent=2))
    ok = True
    for run in runs:
        if not args.json:
            print(f"\n{run['database']} (scope={args.scope})")
            print(f"{'query':28} {'hits':>5} {'gold':>5} {'recall':>7} {'precision':>9}")
            for r in run["queries"].values():
                print(
                    f"{r['query']:28} {r['hits']:5d} {r['relevant']:5d} {r['recall']:7.2f} {r['precision']:9.2f}"
                )
                for kind in ("missed", "wrong"):
                    if r[kind]:
                        print(f"{'':4}{kind}: {', '.join(f'{n}#{s}' for n, s in r[kind])}")
            print(f"{'mean':28} {'':5} {'':5} {run['mean_recall']:7.2f} {run['mean_precision']:9.2f}")
        ok &= run["mean_recall"] >= TARGET and run["mean_precision"] >= TARGET
    if len(runs) == 2:
        same = all(
            set(map(tuple, runs[0]["queries"][q]["result"]))
            == set(map(tuple, runs[1]["queries"][q]["result"]))
            for q in QUERIES
        )
        print(f"\nsame result sets on sqlite and postgresql: {same}")
        ok &= same
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
