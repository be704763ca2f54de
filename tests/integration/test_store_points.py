"""``GET /points`` over the store on SQLite and PostgreSQL: the same proposal from several senders in different
words is one point with the right sender count, a near miss stays apart, a new letter joins the existing
point (same id), a recompute keeps ids, and the points export has one sheet per theme."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from services.store.app import create_app
from services.store.points.encoder import load_encoder
from services.store.themes.points import FULL_UP_TO, PointStore
from shared.events import DocumentMetadata, Envelope, SegmentCorrected, ThemeScore, make_event
from shared.settings import Settings
from tests.store_events import at, doc_id, extracted, received, segment, timed

pytestmark = pytest.mark.integration

# (letter, sender, kind, [(label, themes, text)]) written for this test.
LETTERS: list[tuple[str, str, str, list[tuple[str, dict[str, float], str]]]] = [
    (
        "p-fjellby",
        "Fjellby kommune",
        "kommune",
        [
            ("other", {}, "Vi viser til høringsbrevet og takker for muligheten."),
            (
                "measure",
                {"digitalisering": 0.9},
                "Vi foreslår at kommuner og sykehus får en felles pasientjournal.",
            ),
            (
                "measure",
                {"personell": 0.8},
                "Staten bør gi øremerkede midler til rekruttering av sykepleiere.",
            ),
        ],
    ),
    (
        "p-elvdal",
        "Elvdal kommune",
        "kommune",
        [
            (
                "measure",
                {"digitalisering": 0.85},
                "Kommunen og sykehuset må kunne lese og skrive i den samme journalen.",
            ),
            (
                "measure",
                {"personell": 0.7},
                "Det trengs en egen tilskuddsordning for å rekruttere og beholde sykepleiere i distriktene.",
            ),
        ],
    ),
    (
        "p-nsf",
        "Norsk Sykepleierforbund",
        "organisasjon",
        [
            ("measure", {"digitalisering": 0.9}, "Innfør én felles journalløsning for hele helsetjenesten."),
            (
                "measure",
                {"digitalisering": 0.8},
                "Staten bør gi øremerkede midler til velferdsteknologi i hjemmene.",
            ),
        ],
    ),
]
LATE = (
    "p-havby",
    "Havby kommune",
    "kommune",
    [
        (
            "measure",
            {"digitalisering": 0.9},
            ("Helseopplysninger må følge pasienten digitalt mellom kommune og sykehus, i en felles journal."),
        ),
    ],
)

# ... and one more that words it as a challenge.
WORDED_AS_PROBLEM = (
    "p-fjordlag",
    "Fjordlaget for pårørende",
    "organisasjon",
    [
        (
            "challenge",
            {"digitalisering": 0.9},
            "Det er et problem at kommunen og sykehuset ikke deler én felles journal for pasienten.",
        ),
    ],
)


def letter_events(
    name: str, sender: str, kind: str, segs: list[tuple[str, dict[str, float], str]], minute: float
) -> list[Envelope[Any]]:
    ex = extracted(name, len(segs), minute + 1, sender=sender)
    ex.data.metadata = DocumentMetadata(sender=sender, sender_kind=kind)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    out: list[Envelope[Any]] = [received(name, minute), ex]
    for i, (label, themes, text) in enumerate(segs):
        env = segment(name, i, len(segs), minute + 2, label=label, text=text, heading_path=[])
        data = env.data.model_copy(update={"themes": [ThemeScore(id=k, score=v) for k, v in themes.items()]})
        out.append(env.model_copy(update={"data": data}))
    return out


@pytest.fixture
async def store(database_url: str, settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = settings.model_copy(update={"database_url": database_url})
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        for n, letter in enumerate(LETTERS):
            app.state.repo.apply(letter_events(*letter, minute=10 * n))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as c:
            yield app, c


def by_first_word(points: list[dict[str, Any]]) -> dict[frozenset[str], dict[str, Any]]:
    return {frozenset(s["document_id"] for s in p["segments"]): p for p in points}


async def test_points_group_paraphrases_and_stay_stable(store: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, c = store
    if load_encoder() is not None:  # what the consumer starts after each batch: the new segments' vectors
        assert app.state.points.embed_pending() == 7 and app.state.points.embed_pending() == 0
    r = await c.get("/points", params={"min_senders": 2})
    assert r.status_code == 200, r.text
    groups = by_first_word(r.json()["points"])
    journal = frozenset(doc_id(n) for n in ("p-fjellby", "p-elvdal", "p-nsf"))
    recruit = frozenset(doc_id(n) for n in ("p-fjellby", "p-elvdal"))
    assert set(groups) == {journal, recruit}  # the welfare-technology funding near miss stays alone
    assert groups[journal]["sender_count"] == 3 and groups[journal]["label"] == "measure"
    assert "digitalisering" in groups[journal]["themes"]
    first = groups[journal]["segments"][0]
    assert set(first) >= {"segment_id", "document_id", "sender", "page", "text"}
    assert r.json()["points"][0]["id"] == groups[journal]["id"]  # most senders first
    journal_id = groups[journal]["id"]
    if load_encoder() is not None:  # each groupable segment's encoder vector is kept: regroupings read it
        kept = app.state.points._content_segments()
        assert len(kept) == 7 and all(s.vector is not None and s.vector.shape == (384,) for s in kept)

    only = (await c.get("/points", params={"theme": "personell"})).json()["points"]
    assert [p["sender_count"] for p in only] == [2]
    assert (await c.get("/points", params={"sender_kind": "kommune"})).json()["points"][0][
        "sender_count"
    ] == 2
    assert (await c.get("/points", params={"label": "challenge"})).json()["points"] == []
    for bad in ({"theme": "romfart"}, {"label": "x"}, {"min_senders": "0"}, {"sender_kind": "alien"}):
        assert (await c.get("/points", params=bad)).status_code == 422

    # A late letter joins the existing point incrementally: same id, one more sender. A collection this small
    # is regrouped whole on every refresh (FULL_UP_TO); here it stands in for a large one.
    app.state.points.full_up_to = 0
    app.state.repo.apply(letter_events(*LATE, minute=100))
    assert app.state.points.refresh().mode == "incremental"  # 7 content segments, 6 at the last grouping
    after = (await c.get("/points")).json()["points"]
    joined = next(p for p in after if p["id"] == journal_id)
    assert joined["sender_count"] == 4 and doc_id("p-havby") in {s["document_id"] for s in joined["segments"]}

    # A sender who words the same point as a problem joins it too (a point may mix labels; round 7), and
    # the mixed point is not taken for a stale one: the next refresh has nothing to do.
    # Grown by a quarter since the last whole grouping (8 of 6): everything is regrouped, ids carried over.
    app.state.repo.apply(letter_events(*WORDED_AS_PROBLEM, minute=110))
    assert app.state.points.refresh().mode == "full"
    mixed = next(p for p in (await c.get("/points")).json()["points"] if p["id"] == journal_id)
    assert mixed["sender_count"] == 5 and mixed["label"] == "measure"
    assert sorted({s["label"] for s in mixed["segments"]}) == ["challenge", "measure"]
    assert app.state.points.refresh().mode == "none"
    assert app.state.points.refresh(full=False).mode == "none"

    # A recompute regroups everything and keeps the id.
    assert (await c.post("/points/recompute")).json()["mode"] == "full"
    again = (await c.get("/points")).json()["points"]
    assert next(p for p in again if p["id"] == journal_id)["sender_count"] == 5

    # A small collection: the next letter, well short of a quarter's growth, is regrouped with the rest.
    app.state.points.full_up_to = FULL_UP_TO
    app.state.repo.apply(letter_events("p-nyby", "Nyby kommune", "kommune", LATE[3], minute=120))
    assert app.state.points.refresh().mode == "full"
    again = (await c.get("/points")).json()["points"]
    assert next(p for p in again if p["id"] == journal_id)["sender_count"] == 6

    # The points export: one row per point, one sheet per theme.
    csv_text = (await c.get("/export/points.csv")).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("point_id,label,themes,sender_count")
    assert len(csv_text.strip().splitlines()) == 1 + len(again)
    wb = load_workbook(io.BytesIO((await c.get("/export/points.xlsx")).content))
    assert {"Digitalisering og teknologi", "Personell og kompetanse"} <= set(wb.sheetnames)


async def test_an_unsure_other_joins_its_point_until_an_analyst_confirms_it(
    store: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """A proposal the model called «other» without confidence counts for the point it makes (the sender
    count an analyst reads is the one the letters give); a sure «other» does not, nor one an analyst set."""
    app, c = store
    unsure = {"other": 0.55, "challenge": 0.05, "measure": 0.35, "example": 0.05}
    sure = {"other": 0.995, "challenge": 0.002, "measure": 0.002, "example": 0.001}
    text = "Pasientjournalen bør være felles for kommunen, fastlegen og sykehuset."
    events: list[Envelope[Any]] = []
    for n, (name, sender, scores) in enumerate(
        [("p-unsure", "Nesby kommune", unsure), ("p-sure", "Vikøy kommune", sure)]
    ):
        letter = letter_events(name, sender, "kommune", [("other", {"digitalisering": 0.9}, text)], 200 + n)
        seg = letter[-1]
        letter[-1] = seg.model_copy(update={"data": seg.data.model_copy(update={"scores": scores})})
        events.extend(letter)
    app.state.repo.apply(events)

    journal = next(p for p in (await c.get("/points")).json()["points"] if "journal" in p["summary"])
    members = {s["document_id"]: s for s in journal["segments"]}
    assert doc_id("p-unsure") in members and doc_id("p-sure") not in members
    assert journal["sender_count"] == 4 and members[doc_id("p-unsure")]["label"] == "other"

    # the analyst's correction, as the store's consumer applies it from innspill.segment.corrected
    fix = SegmentCorrected(
        segment_id=members[doc_id("p-unsure")]["segment_id"],
        document_id=doc_id("p-unsure"),
        user="kari",
        at=at(210),
        label="other",
    )
    app.state.repo.apply([timed(make_event(fix, "test"), at(210))])
    after = next(p for p in (await c.get("/points")).json()["points"] if p["id"] == journal["id"])
    assert after["sender_count"] == 3 and doc_id("p-unsure") not in {
        s["document_id"] for s in after["segments"]
    }


async def test_an_analyst_takes_a_quote_out_of_a_point(
    store: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    """``POST /points/{id}/exclusions``: the quote leaves the point now, after a recompute, in a new
    process and in a store rebuilt from the topics (the exclusion is an event on segments.corrected, with
    who and when); bad requests get clear errors."""
    from shared.events import PointExcluded, decode
    from shared.kafka import ensure_topics
    from shared.topics import topics_for
    from tests.kafka_helpers import read_topic

    app, c = store
    settings = app.state.settings
    await ensure_topics(settings)
    await app.state.runner.publisher.start(timeout_s=30)
    journal = next(p for p in (await c.get("/points")).json()["points"] if p["sender_count"] == 3)
    nsf = next(s for s in journal["segments"] if s["document_id"] == doc_id("p-nsf"))
    r = await c.post(
        f"/points/{journal['id']}/exclusions",
        json={"segment_id": nsf["segment_id"], "note": "handler om noe annet"},
        headers={"X-Innspill-User": "kari"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["exclusion"]["user"] == "kari" and r.json()["exclusion"]["point_id"] == journal["id"]

    def holder(points: list[dict[str, Any]]) -> dict[str, Any]:
        return next(p for p in points if nsf["segment_id"] in {s["segment_id"] for s in p["segments"]})

    now = (await c.get("/points", params={"min_senders": 1})).json()["points"]
    kept = next(p for p in now if p["id"] == journal["id"])
    assert kept["sender_count"] == 2 and doc_id("p-nsf") not in {s["document_id"] for s in kept["segments"]}
    assert holder(now)["id"] != journal["id"] and holder(now)["sender_count"] == 1

    assert (await c.post("/points/recompute")).status_code == 200
    again = (await c.get("/points", params={"min_senders": 1})).json()["points"]
    assert holder(again)["sender_count"] == 1
    fresh = PointStore(app.state.repo.engine)  # another process: what is stored decides
    fresh.refresh(full=True)
    assert holder(fresh.points(min_senders=1))["sender_count"] == 1

    log = (await c.get("/points/exclusions")).json()["exclusions"]
    assert [(e["segment_id"], e["user"], e["note"]) for e in log] == [
        (nsf["segment_id"], "kari", "handler om noe annet")
    ]

    missing = await c.post("/points/pt-nope/exclusions", json={"segment_id": nsf["segment_id"]})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    stranger = await c.post(f"/points/{journal['id']}/exclusions", json={"segment_id": nsf["segment_id"]})
    assert stranger.status_code == 422 and stranger.json()["error"] == "not_a_member"
    assert (await c.post(f"/points/{journal['id']}/exclusions", json={})).status_code == 422

    # a store rebuilt from the topics: the letters and the exclusion event read back from segments.corrected
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).segments_corrected)
    events = [decode(json.dumps(r["value"]), PointExcluded) for r in records]
    assert [e.data.segment_id for e in events] == [nsf["segment_id"]]
    again_store = rebuilt_store(tmp_path, events)
    assert holder(again_store.points(min_senders=1))["sender_count"] == 1
    assert len(again_store.exclusions()) == 1

    # with the broker gone, nothing is written
    await app.state.runner.publisher.stop()
    recruit = next(p for p in (await c.get("/points")).json()["points"] if p["sender_count"] == 2)
    down = await c.post(
        f"/points/{recruit['id']}/exclusions", json={"segment_id": recruit["segments"][0]["segment_id"]}
    )
    assert down.status_code == 503 and down.json()["error"] == "broker_unavailable"
    assert len((await c.get("/points/exclusions")).json()["exclusions"]) == 1
    assert (
        next(p for p in (await c.get("/points")).json()["points"] if p["id"] == recruit["id"])["sender_count"]
        == 2
    )


def rebuilt_store(tmp_path: Path, corrections: list[Envelope[Any]]) -> PointStore:
    """A store rebuilt on a new database from the letters and the corrections read back from the topic,
    each correction delivered twice (kept once), and regrouped from scratch."""
    from services.store.db import make_engine, migrate
    from services.store.repository import Repository

    engine = make_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    migrate(engine)
    rebuilt = Repository(engine)
    for n, letter in enumerate(LETTERS):
        rebuilt.apply(letter_events(*letter, minute=10 * n))
    rebuilt.apply(corrections)
    rebuilt.apply(corrections)
    points = PointStore(engine)
    points.refresh(full=True)
    return points


async def test_an_analyst_merges_two_points(store: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path) -> None:
    """``POST /points/{id}/merges``: the other point's quotes join this one now, after a recompute, in a new
    process and in a store rebuilt from the topics (a PointsMerged event on segments.corrected); a quote
    taken out after the merge leaves again; bad requests get clear errors."""
    from shared.events import PointExcluded, PointsMerged, decode
    from shared.kafka import ensure_topics
    from shared.topics import topics_for
    from tests.kafka_helpers import read_topic

    app, c = store
    settings = app.state.settings
    await ensure_topics(settings)
    await app.state.runner.publisher.start(timeout_s=30)
    recruit_docs = {doc_id("p-fjellby"), doc_id("p-elvdal")}
    funding_docs = recruit_docs | {doc_id("p-nsf")}

    async def docs_now(point: str) -> set[str]:
        points = (await c.get("/points", params={"min_senders": 1})).json()["points"]
        return docs_of(points, point)

    everything = (await c.get("/points", params={"min_senders": 1})).json()["points"]
    recruit = next(p["id"] for p in everything if {s["document_id"] for s in p["segments"]} == recruit_docs)
    welfare = next(p for p in everything if "velferdsteknologi" in p["segments"][0]["text"])
    assert len(welfare["segments"]) == 1
    r = await c.post(
        f"/points/{recruit}/merges",
        json={"point_id": welfare["id"], "note": "begge ber om øremerkede midler"},
        headers={"X-Innspill-User": "ola"},
    )
    assert r.status_code == 200, r.text
    merge = r.json()["merge"]
    assert (merge["point_id"], merge["merged_point_id"], merge["user"]) == (recruit, welfare["id"], "ola")
    assert len(merge["segment_ids"]) == 3

    now = (await c.get("/points", params={"min_senders": 1})).json()["points"]
    assert docs_of(now, recruit) == funding_docs and docs_of(now, welfare["id"]) == set()
    assert next(p for p in now if p["id"] == recruit)["sender_count"] == 3
    assert (await c.post("/points/recompute")).status_code == 200
    assert await docs_now(recruit) == funding_docs
    fresh = PointStore(app.state.repo.engine)  # another process: what is stored decides
    fresh.refresh(full=True)
    assert docs_of(fresh.points(min_senders=1), recruit) == funding_docs

    log = (await c.get("/points/merges")).json()["merges"]
    assert [(m["point_id"], m["merged_point_id"], m["note"]) for m in log] == [
        (recruit, welfare["id"], "begge ber om øremerkede midler")
    ]
    missing = await c.post(f"/points/{recruit}/merges", json={"point_id": "pt-nope"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert "pt-nope" in missing.json()["detail"]
    itself = await c.post(f"/points/{recruit}/merges", json={"point_id": recruit})
    assert itself.status_code == 422 and itself.json()["error"] == "same_point"
    assert (await c.post(f"/points/{recruit}/merges", json={})).status_code == 422

    # taken out again after the merge: the later correction wins
    welfare_seg = welfare["segments"][0]["segment_id"]
    out = await c.post(f"/points/{recruit}/exclusions", json={"segment_id": welfare_seg})
    assert out.status_code == 200, out.text
    assert await docs_now(recruit) == recruit_docs

    # a store rebuilt from the topics keeps the merge
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).segments_corrected)
    events = [decode(json.dumps(r["value"]), (PointsMerged, PointExcluded)) for r in records]
    events.sort(key=lambda e: e.data.at)  # two keys, maybe two partitions: the store orders by time
    assert [type(e.data) for e in events] == [PointsMerged, PointExcluded]
    assert docs_of(rebuilt_store(tmp_path, events).points(min_senders=1), recruit) == recruit_docs
    again = rebuilt_store(tmp_path / "merged", events[:1])
    assert docs_of(again.points(min_senders=1), recruit) == funding_docs and len(again.merges()) == 1
    await app.state.runner.publisher.stop()


async def test_an_analyst_names_a_point(store: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path) -> None:
    """``PATCH /points/{id}``: the analyst's name replaces the model's summary in ``/points`` and the export,
    through a recompute and in a store rebuilt from the topics; a blank name gives the model's back."""
    from shared.events import PointNamed, decode
    from shared.kafka import ensure_topics
    from shared.topics import topics_for
    from tests.kafka_helpers import read_topic

    app, c = store
    settings = app.state.settings
    await ensure_topics(settings)
    await app.state.runner.publisher.start(timeout_s=30)
    journal = next(p for p in (await c.get("/points")).json()["points"] if p["sender_count"] == 3)
    title = "Én felles journal for kommuner og sykehus"
    r = await c.patch(
        f"/points/{journal['id']}", json={"summary": f"  {title} "}, headers={"X-Innspill-User": "kari"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"]["summary"] == title and r.json()["name"]["user"] == "kari"

    async def shown() -> dict[str, Any]:
        return next(p for p in (await c.get("/points")).json()["points"] if p["id"] == journal["id"])

    named = await shown()
    assert (named["summary"], named["model_summary"], named["named_by"]) == (
        title,
        journal["summary"],
        "kari",
    )
    assert title in (await c.get("/export/points.csv")).content.decode("utf-8-sig")
    assert (await c.post("/points/recompute")).status_code == 200
    assert (await shown())["summary"] == title

    missing = await c.patch("/points/pt-nope", json={"summary": "x"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert (await c.patch(f"/points/{journal['id']}", json={"summary": "x" * 301})).status_code == 422

    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).segments_corrected)
    events = [decode(json.dumps(r["value"]), PointNamed) for r in records]
    again = rebuilt_store(tmp_path, events)
    assert next(p for p in again.points() if p["id"] == journal["id"])["summary"] == title

    assert (await c.patch(f"/points/{journal['id']}", json={"summary": "  "})).status_code == 200
    back = await shown()
    assert (back["summary"], back["named_by"]) == (journal["summary"], None)
    log = (await c.get("/points/names")).json()["names"]
    assert [(n["summary"], n["user"]) for n in log] == [(None, "anonym"), (title, "kari")]
    await app.state.runner.publisher.stop()


def docs_of(points: list[dict[str, Any]], point: str) -> set[str]:
    """The letters quoted by one point of a ``/points`` answer."""
    return {s["document_id"] for p in points if p["id"] == point for s in p["segments"]}
