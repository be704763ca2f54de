"""The knowledge pages in Norwegian: review queue (needs_review and disagreement first, correction controls),
theme x label matrix linking to the segments, a theme page with points and quotes, the agreement on the
overview, corrected segments marked on the letter; with auth on, a PATCH without the token is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.store.app import create_app
from shared.events import SegmentCorrected, make_event
from shared.ids import segment_id_for
from shared.kafka import ensure_topics
from shared.settings import Settings
from tests.integration.test_store_corrections import seed
from tests.integration.test_store_points import LETTERS, letter_events
from tests.store_events import at, doc_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def ui(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        app.state.repo.apply(seed())
        for n, letter in enumerate(LETTERS):
            app.state.repo.apply(letter_events(*letter, minute=10 * n))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as c:
            yield app, c


UPDATING = "Punktene oppdateres med de nyeste brevene"


async def theme_page_when_grouped(c: httpx.AsyncClient, theme: str, timeout_s: float = 120) -> str:
    """The theme page once the background grouping has finished: until then each view says the points are
    being updated (the page waits only briefly for it)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        html = (await c.get(f"/ui/themes/{theme}")).text
        if UPDATING not in html:
            return html
        assert 'class="notice" role="status"' in html and "Ingen punkter" not in html
        assert asyncio.get_running_loop().time() < deadline, "the points were never grouped"
        await asyncio.sleep(0.2)


async def test_theme_page_shows_stored_points_while_a_regrouping_runs(
    ui: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, c = ui
    first = await theme_page_when_grouped(c, "digitalisering")
    assert "<strong>3</strong> avsendere" in first
    # a slow regrouping (as at 1,000 letters) must not hold the page: it shows the stored points and says so
    store = app.state.points
    release = threading.Event()
    refresh = store.refresh

    def slow_refresh(**kwargs: Any) -> Any:
        release.wait(30)
        return refresh(**kwargs)

    monkeypatch.setattr(store, "refresh", slow_refresh)
    app.state.repo.apply(
        letter_events(
            "p-nordoy",
            "Nordøy kommune",
            "kommune",
            [("measure", {"digitalisering": 0.9}, "Vi vil ha én felles journal for alle tjenestene.")],
            minute=90,
        )
    )
    started = time.perf_counter()
    html = (await c.get("/ui/themes/digitalisering")).text
    assert time.perf_counter() - started < 5
    assert UPDATING in html and "<strong>3</strong> avsendere" in html
    release.set()
    assert UPDATING not in await theme_page_when_grouped(c, "digitalisering")


async def test_review_queue_orders_and_offers_controls(ui: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = ui
    queue = (await c.get("/review", params={"limit": 5})).json()["items"]
    assert queue[0]["segment_id"] == segment_id_for(doc_id("Fjellby"), 2)  # needs_review comes first
    assert queue[0]["reason"] == "modellen ber om kontroll"
    html = (await c.get("/ui/review")).text
    assert "Kontroll av etiketter" in html and "data-review-queue" in html
    assert html.count('data-set-label="measure"') >= 5 and "tiltak" in html and "utfordring" in html
    assert "/static/review.js" in html


async def test_corrected_segment_is_marked_and_agreement_shows(ui: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, c = ui
    sid = segment_id_for(doc_id("Fjellby"), 1)
    event = make_event(
        SegmentCorrected(
            segment_id=sid, document_id=doc_id("Fjellby"), label="measure", user="kari", at=at(60)
        ),
        "test",
    )
    app.state.repo.apply([event])
    page = (await c.get(f"/ui/documents/{doc_id('Fjellby')}")).text
    assert "✎ Rettet av kari" in page and "modellen sa utfordring" in page
    overview = (await c.get("/ui/stats")).text
    assert "Samsvar mellom modell og analytikere" in overview and "1 kontrollerte segmenter" in overview
    review = (await c.get("/review")).json()["items"]
    assert sid not in {i["segment_id"] for i in review}  # corrected ones leave the queue


async def test_theme_matrix_and_points_page(ui: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = ui
    html = (await c.get("/ui/themes")).text
    assert "Digitalisering og teknologi" in html and "ulike avsendere" in html
    assert "/ui/segments?theme=digitalisering&amp;label=measure" in html
    # The matrix cell for digitalisering x tiltak: 3 senders (the three planted letters), 4 segments.
    assert ">3 / 4</a>" in html
    kommune = (await c.get("/ui/themes", params={"sender_kind": "kommune"})).text
    assert "/ui/segments?theme=digitalisering&amp;sender_kind=kommune&amp;label=measure" in kommune
    points = await theme_page_when_grouped(c, "digitalisering")
    assert "<strong>3</strong> avsendere" in points and "Vis i brevet" in points
    assert "Norsk Sykepleierforbund" in points and "<details>" in points
    assert (await c.get("/ui/themes/romfart")).status_code == 404
    segs = (await c.get("/ui/segments", params={"theme": "digitalisering", "label": "measure"})).text
    assert segs.count('class="correct') >= 4


async def test_with_auth_only_a_token_holder_corrects(settings: Settings) -> None:
    settings = settings.model_copy(update={"api_token": SecretStr("s3cret")})
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        await ensure_topics(settings)
        await app.state.runner.publisher.start(timeout_s=30)
        app.state.repo.apply(seed())
        sid = segment_id_for(doc_id("Fjellby"), 1)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as c:
            r = await c.patch(f"/segments/{sid}", json={"label": "measure"})
            assert r.status_code == 401
            r = await c.patch(
                f"/segments/{sid}", json={"label": "measure"}, headers={"Authorization": "Bearer nope"}
            )
            assert r.status_code == 403
            r = await c.patch(
                f"/segments/{sid}", json={"label": "measure"}, headers={"Authorization": "Bearer s3cret"}
            )
            assert r.status_code == 200 and r.json()["corrected_by"].startswith("token:")
            assert "s3cret" not in r.text
