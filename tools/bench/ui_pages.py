"""Page timings of the analyst UI with many letters loaded (default 1,000 letters of 40 segments each, built
from the benchmark letters' segments as in tools/bench/search_speed.py), on SQLite.

    python -m tools.bench.ui_pages [--letters 1000] [--segments 40] [--runs 5]

Prints per page the HTTP status, the size and the median and worst time of a full render (server side,
through the ASGI app, no network), over ``--runs`` runs. Target: every page under 300 ms. Figures, not a test.
The letters' content segments carry one or two themes each (``search_corpus.bench_themes``) and each letter
its sender kind, so the theme matrix, the theme pages with their points and ``GET /themes`` and
``GET /points`` are timed on a full store; the first theme page starts the grouping of all letters into
points in the background, and its time and the grouping's are printed first.
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
from services.store.themes.taxonomy import load_taxonomy
from shared.settings import Settings
from tools.bench.search_corpus import letter_events
from tools.bench.search_speed import corpus

LIMIT_MS = 300.0


def pages(doc_id: str, theme: str) -> list[str]:
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
        "/ui/themes?sender_kind=kommune",
        f"/ui/themes/{theme}",
        f"/ui/themes/{theme}?label=measure",
        f"/ui/themes/{theme}?sender_kind=kommune&min_senders=3",
        "/themes",
        f"/points?theme={theme}",
        "/ui/review",
    ]


async def measure(
    letters: int, per_letter: int, runs: int, tmp: Path
) -> list[tuple[str, int, int, float, float]]:
    settings = Settings(data_dir=tmp / "var", database_url=f"sqlite:///{tmp / 'ui.db'}")
    app = create_app(settings, consume=False)
    out = []
    async with app.router.lifespan_context(app):
        theme_ids = load_taxonomy(settings.taxonomy).ids
        events = letter_events(corpus(letters, per_letter), theme_ids=theme_ids)
        t0 = time.perf_counter()
        for start in range(0, len(events), 2000):
            app.state.repo.apply(events[start : start + 2000])
        print(f"stored {letters} letters ({len(events)} events) in {time.perf_counter() - t0:.1f} s")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store", timeout=60) as client:
            doc_id = (await client.get("/documents", params={"limit": 1})).json()["items"][0]["id"]
            theme = theme_ids[0]
            # the first visit to a theme page starts grouping every letter's segments into points in the
            # background and shows the page at once; later visits read the stored points
            t = time.perf_counter()
            first = await client.get(f"/ui/themes/{theme}")
            print(
                f"first theme page: {first.status_code} in {(time.perf_counter() - t) * 1000:.0f} ms"
                f" (points being updated: {'oppdateres' in first.text})"
            )
            await asyncio.wrap_future(app.state.points.refresh_started())
            print(f"grouping all letters into points, in the background: {time.perf_counter() - t:.1f} s")
            for path in pages(doc_id, theme):
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
