"""Analyst corrections through the store API on a real broker and SQLite/PostgreSQL: PATCH, undo, history,
document corrections, bad input, broker down, and precedence over later classifications in any order."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.store.app import create_app
from shared.events import DocumentMetadata, Envelope, SegmentCorrected, ThemeScore, make_event
from shared.ids import segment_id_for
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tests.store_events import at, doc_id, extracted, received, segment, timed

pytestmark = pytest.mark.integration


def themed(
    name: str,
    seq: int,
    n: int,
    minute: float,
    label: str,
    themes: dict[str, float],
    model: str = "m-1",
    needs_review: bool = False,
) -> Envelope[Any]:
    env = segment(name, seq, n, minute, label=label, model=model)
    data = env.data.model_copy(update={"themes": [ThemeScore(id=k, score=v) for k, v in themes.items()]})
    if needs_review:
        data = data.model_copy(update={"needs_review": True})
    return env.model_copy(update={"data": data})


def corrected(name: str, seq: int, minute: float, user: str = "kari", **fields: Any) -> Envelope[Any]:
    payload = SegmentCorrected(
        segment_id=segment_id_for(doc_id(name), seq),
        document_id=doc_id(name),
        user=user,
        at=at(minute),
        **fields,
    )
    return timed(make_event(payload, "test"), at(minute))


def seed() -> list[Envelope[Any]]:
    ex = extracted("Fjellby", 3, 1, sender="Fjellby kommune")
    ex.data.metadata = DocumentMetadata(sender="Fjellby kommune", sender_kind="kommune")
    ex2 = extracted("Sykepleierforbundet", 2, 1, sender="post@example.no")
    ex2.data.metadata = DocumentMetadata(sender="post@example.no", sender_kind="person")
    return [
        received("Fjellby", 0),
        ex,
        themed("Fjellby", 0, 3, 2, "other", {}),
        themed("Fjellby", 1, 3, 2, "challenge", {"personell": 0.9, "eldre": 0.4}),
        themed("Fjellby", 2, 3, 2, "measure", {"personell": 0.7}, needs_review=True),
        received("Sykepleierforbundet", 0),
        ex2,
        themed("Sykepleierforbundet", 0, 2, 2, "challenge", {"personell": 0.8}),
        themed("Sykepleierforbundet", 1, 2, 2, "example", {"digitalisering": 0.95}),
    ]


@pytest.fixture
async def store(settings: Settings, database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = settings.model_copy(update={"database_url": database_url})
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        from shared.kafka import ensure_topics

        await ensure_topics(settings)
        await app.state.runner.publisher.start(timeout_s=30)
        app.state.repo.apply(seed())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as c:
            yield app, c


SEG1 = segment_id_for(doc_id("Fjellby"), 1)


async def test_correct_undo_and_history(store: tuple[FastAPI, httpx.AsyncClient], settings: Settings) -> None:
    app, c = store
    r = await c.patch(
        f"/segments/{SEG1}",
        json={"label": "measure", "themes": ["eldre"], "note": "forslag"},
        headers={"X-Innspill-User": "kari"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["label"] == "measure" and body["model_label"] == "challenge" and body["corrected"] is True
    assert [t["id"] for t in body["themes"]] == ["eldre"]
    assert [t["id"] for t in body["model_themes"]] == ["personell", "eldre"]
    assert body["corrected_by"] == "kari" and body["sender_kind"] == "kommune"

    # A later re-classification by a new model changes the model's values, never the analyst's.
    app.state.repo.apply([themed("Fjellby", 1, 3, 500, "example", {"akutt": 0.9}, model="m-2")])
    seg = (await c.get(f"/segments/{SEG1}")).json()
    assert (seg["label"], seg["model_label"], seg["model_version"]) == ("measure", "example", "m-2")
    assert [t["id"] for t in seg["themes"]] == ["eldre"]

    doc = (await c.get(f"/documents/{doc_id('Fjellby')}")).json()
    assert doc["segments"][1]["corrected"] is True and doc["counts"]["labels"]["measure"] == 2

    r = await c.delete(f"/segments/{SEG1}/correction", headers={"X-Innspill-User": "ola"})
    assert r.status_code == 200
    assert (r.json()["label"], r.json()["corrected"]) == ("example", False)
    assert [t["id"] for t in r.json()["themes"]] == ["akutt"]

    hist = (await c.get(f"/segments/{SEG1}/history")).json()
    assert [h["user"] for h in hist["history"]] == ["kari", "ola"]
    assert (
        hist["history"][0]["before"]["label"] == "challenge"
        and hist["history"][0]["after"]["label"] == "measure"
    )
    assert hist["history"][0]["note"] == "forslag"
    assert hist["history"][1]["after"] == {"label": "example", "themes": ["akutt"]}

    published = await read_topic(
        settings.kafka_bootstrap, topics_for(settings).segments_corrected, min_count=2
    )
    assert [p["key"] for p in published] == [doc_id("Fjellby")] * 2
    assert published[0]["value"]["data"]["label"] == "measure"
    assert published[1]["value"]["data"]["reverted"] == ["label", "themes"]


async def test_bad_corrections_are_4xx_json_and_write_nothing(
    store: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = store
    bad: list[tuple[str, Any, int, str]] = [
        (SEG1, {"label": "solution"}, 422, "invalid_request"),
        (SEG1, {"themes": ["personell", "romfart"]}, 422, "unknown_theme"),
        (SEG1, {"themes": "personell"}, 422, "invalid_request"),
        (SEG1, {"themes": [3]}, 422, "invalid_request"),
        (SEG1, {}, 422, "empty_correction"),
        (SEG1, {"label": "measure", "revert": ["label"]}, 422, "conflicting_correction"),
        (SEG1, {"label": "measure", "colour": "red"}, 422, "invalid_request"),
        ("nope-00001", {"label": "measure"}, 404, "not_found"),
    ]
    for sid, payload, status, error in bad:
        r = await c.patch(f"/segments/{sid}", json=payload)
        assert (r.status_code, r.json()["error"]) == (status, error), (payload, r.text)
    r = await c.patch(f"/segments/{SEG1}", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert (await c.get(f"/segments/{SEG1}/history")).json()["history"] == []
    assert (await c.get(f"/segments/{SEG1}")).json()["corrected"] is False
    for payload in ({"sender_kind": "kommunen"}, {"sender": 5}, {}, {"title": ""}):
        r = await c.patch(f"/documents/{doc_id('Fjellby')}", json=payload)
        assert r.status_code == 422, payload
    assert (await c.patch("/documents/unknown", json={"sender": "X"})).status_code == 404
    assert (await c.get(f"/documents/{doc_id('Fjellby')}/corrections")).json() == []


async def test_broker_down_answers_503_and_writes_nothing(store: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, c = store
    await app.state.runner.publisher.stop()
    r = await c.patch(f"/segments/{SEG1}", json={"label": "measure"})
    assert r.status_code == 503 and r.json()["error"] == "broker_unavailable"
    assert (await c.get(f"/segments/{SEG1}")).json()["corrected"] is False
    assert (await c.get(f"/segments/{SEG1}/history")).json()["history"] == []


async def test_document_correction_survives_re_extraction(store: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, c = store
    did = doc_id("Sykepleierforbundet")
    r = await c.patch(
        f"/documents/{did}",
        json={"sender": "Norsk Sykepleierforbund", "sender_kind": "organisasjon"},
        headers={"X-Innspill-User": "kari"},
    )
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert (meta["sender"], meta["sender_kind"]) == ("Norsk Sykepleierforbund", "organisasjon")
    assert meta["model"]["sender"] == "post@example.no" and set(meta["corrected"]) == {
        "sender",
        "sender_kind",
    }
    again = extracted("Sykepleierforbundet", 2, 900, sender="post@example.no", title="Ny tittel")
    app.state.repo.apply([again])
    meta = (await c.get(f"/documents/{did}")).json()["metadata"]
    assert (meta["sender"], meta["sender_kind"], meta["title"]) == (
        "Norsk Sykepleierforbund",
        "organisasjon",
        "Ny tittel",
    )
    hits = (await c.get("/segments", params={"sender_kind": "organisasjon"})).json()
    assert hits["total"] == 2 and {h["sender"] for h in hits["items"]} == {"Norsk Sykepleierforbund"}
    r = await c.patch(f"/documents/{did}", json={"revert": ["sender_kind"]})
    assert r.json()["metadata"]["sender_kind"] == "ukjent"  # the re-extraction found no kind
    audit = (await c.get(f"/documents/{did}/corrections")).json()
    assert [a["user"] for a in audit] == ["kari", "anonym"]
    assert audit[0]["before"]["sender"] == "post@example.no"


async def test_filters_and_theme_counts(store: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = store

    async def total(**params: str) -> int:
        r = await c.get("/segments", params=params)
        assert r.status_code == 200, r.text
        return int(r.json()["total"])

    assert await total(theme="personell") == 3
    assert await total(theme="personell", min_score="0.75") == 2
    assert await total(theme="personell", sender_kind="kommune") == 2
    assert await total(theme="personell", label="challenge") == 2
    assert await total(needs_review="true") == 1
    assert await total(corrected="false") == 5
    for params in (
        {"theme": "romfart"},
        {"sender_kind": "alien"},
        {"min_score": "x"},
        {"min_score": "2"},
        {"needs_review": "nja"},
    ):
        r = await c.get("/segments", params=params)
        assert r.status_code == 422 and r.json()["error"] == "invalid_filter", params

    r = await c.patch(f"/segments/{SEG1}", json={"themes": ["eldre"]})
    assert r.status_code == 200
    assert await total(theme="personell") == 2 and await total(corrected="true") == 1

    themes = {t["id"]: t for t in (await c.get("/themes")).json()["themes"]}
    assert len(themes) == 15
    p = themes["personell"]
    assert (p["segments"], p["senders"]) == (2, 2)
    assert p["labels"]["challenge"] == {"segments": 1, "senders": 1}
    assert p["labels"]["measure"] == {"segments": 1, "senders": 1}
    assert p["sender_kinds"]["kommune"]["segments"] == 1 and p["sender_kinds"]["person"]["segments"] == 1
    assert themes["eldre"]["labels"]["challenge"] == {"segments": 1, "senders": 1}
    assert themes["akutt"]["segments"] == 0


def test_correction_wins_in_every_event_order(database_url: str, tmp_path: Path) -> None:
    """Corrections, undo and classifications by two model versions, applied in every order (and twice), give
    the same final state: the analyst's last word wins over any model output."""
    from services.store.db import make_engine, migrate
    from services.store.repository import Repository

    events = [
        themed("Os", 0, 1, 2, "challenge", {"personell": 0.9}),
        corrected("Os", 0, 3, label="measure", themes=["eldre"]),
        themed("Os", 0, 1, 10, "other", {"akutt": 0.9}, model="m-2"),
        corrected("Os", 0, 4, user="ola", reverted=["themes"]),
    ]
    engine = make_engine(database_url)
    migrate(engine)
    repo = Repository(engine)
    seen = set()
    try:
        for n, perm in enumerate(itertools.permutations(events)):
            if n % 3:  # a third of the 24 orders keeps the test fast; each event still comes first somewhere
                continue
            with engine.begin() as conn:
                for table in ("segments", "corrections", "segment_themes", "documents"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")
            for e in perm:
                repo.apply([e])
            repo.apply(list(perm))  # the whole log again, as one batch
            view = repo.get_document(doc_id("Os"))
            assert view is not None
            seg = view.segments[0]
            seen.add(
                (
                    seg.label,
                    seg.model_label,
                    seg.model_version,
                    tuple(t["id"] for t in seg.themes or []),
                    seg.corrected,
                    seg.corrected_by,
                )
            )
        assert seen == {("measure", "other", "m-2", ("akutt",), True, "kari")}
    finally:
        engine.dispose()
