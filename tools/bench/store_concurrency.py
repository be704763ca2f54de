"""Concurrent reads of the store: ``N`` clients at once on ``GET /segments`` over a 10,000-segment database.

    python -m tools.bench.store_concurrency [--docs 100] [--segments 100] [--clients 200] [--rounds 3]
                                            [--postgres URL] [--token T] [--client raw|httpx]

Fills a fresh database (SQLite file, and PostgreSQL when ``--postgres`` names an empty database), serves
the real store app with uvicorn on a free port (API only, no broker), then fires ``--clients`` requests
at the same moment, ``--rounds`` times, each with a different filter (label, q, document, paging), and
prints latency percentiles per round. The issue's bar: p95 <= 1 s for 200 concurrent requests.
The default client opens one raw asyncio connection per request and costs next to no CPU, so on a 2-core
box the figures are the server's; ``--client httpx`` shows what a heavier client adds (its "client
floor" line: the same burst on ``/healthz``, which does no work).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import uvicorn

from services.store.app import create_app
from services.store.db import make_engine, migrate
from services.store.repository import Repository
from shared.events import LABELS
from shared.settings import Settings
from tools.bench.store import make_events
from tools.cli.broker import free_port

QUERIES = ["økonomi", "samhandling", '"om samhandling"', "avsnitt økonomi", "tema"]


def fill(url: str, docs: int, per_doc: int) -> int:
    engine = make_engine(url)
    migrate(engine)
    events = make_events(docs, per_doc)
    repo = Repository(engine)
    for i in range(0, len(events), 500):
        repo.apply(events[i : i + 500])
    engine.dispose()
    return docs * per_doc


def params_for(i: int, doc_ids: list[str], mixed: bool = True) -> dict[str, str]:
    """The filters of request ``i``: all the same (the issue's probe: plain ``GET /segments``), or a mix
    of label, full-text, document and paging filters (``mixed``)."""
    if not mixed:
        return {}
    kind = i % 4
    if kind == 0:
        return {"label": LABELS[i % len(LABELS)], "offset": str((i * 50) % 2000)}
    if kind == 1:
        return {"q": QUERIES[i % len(QUERIES)]}
    if kind == 2:
        return {"document_id": doc_ids[i % len(doc_ids)]}
    return {"q": QUERIES[i % len(QUERIES)], "label": LABELS[i % len(LABELS)]}


async def raw_get(base: str, target: str, headers: dict[str, str]) -> int:
    """One HTTP/1.1 GET on its own connection with asyncio streams; returns the status. A client that
    costs almost no CPU per request: on a 2-core box httpx alone spends ~1 s on 200 requests, which
    would be measured as the server's latency."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        None,
    )
    if length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
    writer.close()
    return status


async def burst(
    base: str,
    n: int,
    doc_ids: list[str],
    headers: dict[str, str],
    mixed: bool,
    path: str = "/segments",
    client: str = "raw",
) -> list[float]:
    if client == "raw":
        return await _raw_burst(base, n, doc_ids, headers, mixed, path)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60, headers=headers) as http:
        start = asyncio.Event()

        async def one(i: int) -> float:
            await start.wait()
            t0 = time.perf_counter()
            resp = await http.get(path, params=params_for(i, doc_ids, mixed))
            resp.raise_for_status()
            return time.perf_counter() - t0

        tasks = [asyncio.create_task(one(i)) for i in range(n)]
        await asyncio.sleep(0.1)
        start.set()
        return list(await asyncio.gather(*tasks))


async def _raw_burst(
    base: str, n: int, doc_ids: list[str], headers: dict[str, str], mixed: bool, path: str
) -> list[float]:
    start = asyncio.Event()

    async def one(i: int) -> float:
        params = params_for(i, doc_ids, mixed)
        target = path + ("?" + urlencode(params) if params else "")
        await start.wait()
        t0 = time.perf_counter()
        status = await raw_get(base, target, headers)
        if status != 200:
            raise RuntimeError(f"GET {target}: HTTP {status}")
        return time.perf_counter() - t0

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.sleep(0.1)
    start.set()
    return list(await asyncio.gather(*tasks))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench(url: str, args: argparse.Namespace) -> None:
    segments = fill(url, args.docs, args.segments)
    port = free_port()
    # The store in its own process, as it runs in production (the clients here must not share its GIL).
    cmd = [sys.executable, "-m", "tools.bench.store_concurrency", "--serve", url, "--port", str(port)]
    cmd += ["--token", args.token] if args.token else []
    server = subprocess.Popen(cmd + (["--no-cache"] if args.no_cache else []))
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the store did not start")
        time.sleep(0.2)
    try:
        docs = httpx.get(f"{base}/documents", params={"limit": 1000}, headers=headers, timeout=30).json()
        doc_ids = [d["id"] for d in docs["items"]]
        t0 = time.perf_counter()
        httpx.get(f"{base}/segments", params={"q": "økonomi"}, headers=headers, timeout=30).raise_for_status()
        print(f"  one request alone: {1000 * (time.perf_counter() - t0):.0f} ms ({segments} segments)")
        floor = asyncio.run(
            burst(base, args.clients, doc_ids, headers, mixed=False, path="/healthz", client=args.client)
        )
        print(
            f"  client floor ({args.client} client): {args.clients} concurrent GET /healthz: "
            f"p95 {pct(floor, 95):.2f} s"
        )
        for r, mixed in [(r, m) for m in (False, True) for r in range(args.rounds)]:
            t0 = time.perf_counter()
            lat = asyncio.run(burst(base, args.clients, doc_ids, headers, mixed, client=args.client))
            wall = time.perf_counter() - t0
            what = "mixed filters" if mixed else "identical"
            print(
                f"  {what} round {r + 1}: {args.clients} concurrent GET /segments: p50 {pct(lat, 50):.2f} s, "
                f"p95 {pct(lat, 95):.2f} s, max {max(lat):.2f} s, mean {statistics.mean(lat):.2f} s, "
                f"all done in {wall:.2f} s"
            )
    finally:
        server.terminate()
        server.wait(30)


def serve(url: str, port: int, token: str | None, cache: bool) -> None:
    from services.store import read_cache

    read_cache.ENABLED = cache
    settings = Settings(database_url=url, store_port=port, api_token=token)
    uvicorn.run(
        create_app(settings, consume=False), host="127.0.0.1", port=port, log_config=None, access_log=False
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--segments", type=int, default=100, help="segments per document")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--postgres", help="an empty PostgreSQL database URL to benchmark as well")
    ap.add_argument("--token", help="serve with this API token (auth on the hot path)")
    ap.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: one asyncio connection per request, next to no client CPU (default); httpx: an httpx "
        "AsyncClient (the older figures; its own CPU shows up as latency on 2 cores)",
    )
    ap.add_argument("--no-cache", action="store_true", help="serve without the read cache (the old figures)")
    ap.add_argument("--serve", help=argparse.SUPPRESS)  # internal: run the store on this database URL
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.token, not args.no_cache)
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (file, WAL):")
        bench(f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.postgres:
        print("PostgreSQL:")
        bench(args.postgres, args)


if __name__ == "__main__":
    main()
