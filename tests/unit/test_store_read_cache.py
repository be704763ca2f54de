"""The store's read cache: a write by anyone misses it at once; a burst of one read runs one query;
control characters in ``q`` are refused before any query runs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from services.store.app import create_app
from services.store.db import make_engine, migrate
from services.store.read_cache import cache_stats
from services.store.repository import Repository, SegmentFilter
from shared.settings import Settings
from tools.bench.store import make_events


def repo_with(tmp_path: Path, docs: int) -> tuple[Repository, list]:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    repo = Repository(engine)
    events = make_events(docs, 10)
    return repo, events


def test_write_misses_the_cache_at_once(tmp_path: Path) -> None:
    repo, events = repo_with(tmp_path, 3)
    first_doc = events[:12]  # received, extracted and 10 segments of the first document
    repo.apply(first_doc)
    f = SegmentFilter(label=None)
    assert repo.search_segments(f, limit=50)[0] == 10
    assert repo.search_segments(f, limit=50)[0] == 10
    assert cache_stats(repo.engine)["hits"] >= 1
    repo.apply(events[12:])  # another process could have written this: the version changes all the same
    assert repo.search_segments(f, limit=50)[0] == 30
    # A second Repository on the same database (another replica) sees the same, fresh figures.
    other = Repository(make_engine(f"sqlite:///{tmp_path / 'c.db'}"))
    assert other.search_segments(f, limit=50)[0] == 30


def test_a_burst_of_one_read_runs_one_query(tmp_path: Path) -> None:
    repo, events = repo_with(tmp_path, 5)
    repo.apply(events)
    f = SegmentFilter(q="økonomi")
    before = cache_stats(repo.engine)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: repo.search_segments(f, limit=20)[0], range(64)))
    after = cache_stats(repo.engine)
    assert len(set(results)) == 1 and results[0] == 50
    assert after["misses"] - before["misses"] == 1
    assert after["hits"] - before["hits"] == 63


async def test_store_refuses_control_characters_in_q(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=tmp_path / "var")
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
            bad = await client.get("/segments", params={"q": "\x00"})
            assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
            assert (await client.get("/segments", params={"q": "økonomi"})).status_code == 200
