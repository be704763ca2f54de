"""Page timings of the analyst UI with many letters loaded (default 1,000 letters of 40 segments each, built
from the benchmark letters' segments as in tools/bench/search_speed.py), on SQLite.

    python -m tools.bench.ui_pages [--letters 1000] [--segments 40] [--runs 5]

Prints per page the HTTP status, the size and the median and worst time of a full render (server side,
through the ASGI app, no network), over ``--runs`` runs. Target: every page under 300 ms. Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from services.store.app import create_app
from shared.settings import Settings
from tools.bench.search_corpus import letter_events
from tools.bench.search_speed import corpus

LIMIT_MS = 300.0


def pages(doc_id: str) -> list[str]:
    return [
        "/",
        "/?status=classified",
        f"/ui/documents/{doc_id}",
        "/ui/segments",
        "/ui/segments?annet=vis",
        "/ui/segments?q=fastlegen",
        "/ui/segments?q=legevakta&label=challenge&sort=confidence",
        "/ui/segments?q=%22felles+journal%22&scope=text",
        "/ui/stats",
        "/ui/upload",
        "/ui/themes",
        "/ui/review",
    ]


async def measure(
    letters: int, per_letter: int, runs: int, tmp: Path
) -> list[tuple[str, int, int, float, float]]:
    settings = Settings(data_dir=tmp / "var", database_url=f"sqlite:///{tmp / 'ui.db'}")
    app = create_app(settings, consume=False)
    out = []
    async with app.router.lifespan_context(app):
        events = letter_events(corpus(letters, per_letter))
        t0 = time.perf_counter()
        for start in range(0, len(events), 2000):
            app.state.repo.apply(events[start : start + 2000])
        print(f"stored {letters} letters ({len(events)} events) in {time.perf_counter() - t0:.1f} s")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store", timeout=60) as client:
            doc_id = (await client.get("/documents", params={"limit": 1})).json()["items"][0]["id"]
            for path in pages(doc_id):
                times = []
                status = size = 0
                for _ in range(runs):
                    t = time.perf_counter()
                    resp = await client.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    status, size = resp.status_code, len(resp.content)
                out.append((path, status, size, statistics.median(times), max(times)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=int, default=1000)
    ap.add_argument("--segments", type=int, default=40)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--no-cache", action="store_true", help="switch off the store's read cache (every run queries)"
    )
    args = ap.parse_args()
    if args.no_cache:
        from services.store import read_cache

        read_cache.ENABLED = False
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(measure(args.letters, args.segments, args.runs, Path(tmp)))
    print(f"{'page':62} {'status':>6} {'kB':>7} {'median ms':>10} {'worst ms':>9}")
    for path, status, size, med, worst in rows:
        flag = "" if med < LIMIT_MS else "  > 300 ms"
        print(f"{path[:62]:62} {status:>6} {size / 1000:>7.1f} {med:>10.1f} {worst:>9.1f}{flag}")


if __name__ == "__main__":
    main()
