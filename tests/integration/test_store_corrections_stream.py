"""Corrections on the real broker: a store rebuilt from the topics keeps every correction, whatever order the
corrections and the classifications (old and new model) arrive in, and a PATCH made while the agents run is
applied once (the store consumes its own event again, idempotently)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from services.store.app import create_app
from shared.events import DocumentCorrected, Envelope, make_event
from shared.kafka import Publisher, ensure_topics
from shared.settings import Settings
from shared.topics import topics_for
from tests.integration.test_store_corrections import corrected, themed
from tests.store_events import at, doc_id, extracted, received, timed

pytestmark = pytest.mark.integration


async def poll(
    get: Callable[[], Awaitable[httpx.Response]],
    ok: Callable[[dict[str, Any]], bool],
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        r = await get()
        if r.status_code == 200:
            last = r.json()
            if ok(last):
                return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"not reached; last: {last}")


def doc_corrected(name: str, minute: float, user: str = "kari", **fields: Any) -> Envelope[Any]:
    payload = DocumentCorrected(document_id=doc_id(name), user=user, at=at(minute), **fields)
    return timed(make_event(payload, "test"), at(minute))


async def test_rebuild_from_topics_keeps_corrections(settings: Settings) -> None:
    await ensure_topics(settings)
    t = topics_for(settings)
    name = "Rebuild"
    did = doc_id(name)
    pub = Publisher(settings, "test")
    await pub.start()
    try:
        # Corrections first (as a rebuild may see them), then an old and a newer classification.
        await pub.publish_many(
            t.segments_corrected,
            [
                (did, corrected(name, 0, 30, label="measure", themes=["eldre"])),
                (did, corrected(name, 1, 31, label="example")),
                (did, corrected(name, 1, 32, user="ola", reverted=["label"])),
                # Document corrections travel on the same topic (keyed by document id), before the document
                # itself is known to the rebuilt store.
                (did, doc_corrected(name, 33, sender="Rebuild bydel", sender_kind="kommune", title="Svar")),
                (did, doc_corrected(name, 34, user="ola", reverted=["title"], note="tittelen var riktig")),
            ],
        )
        await pub.publish_many(
            t.segments_classified,
            [(did, themed(name, i, 3, 40, "challenge", {"personell": 0.9}, model="m-2")) for i in range(3)],
        )
        await pub.publish_many(
            t.segments_classified, [(did, themed(name, i, 3, 2, "other", {}, model="m-1")) for i in range(3)]
        )
        await pub.publish(t.documents_extracted, did, extracted(name, 3, 1))
        await pub.publish(t.documents_received, did, received(name, 0))

        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert await app.state.runner.wait_running(90)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
                body = await poll(
                    lambda: c.get(f"/documents/{did}"),
                    lambda b: (
                        b["status"] == "classified"
                        and all(s["model_version"] == "m-2" for s in b["segments"])
                        and b["segments"][0]["corrected"]
                        # the document's corrections come after the segments' on the topic and may land in
                        # a later batch: wait for the last one (the title put back) as well
                        and b["metadata"]["sender"] == "Rebuild bydel"
                        and b["metadata"]["title"] is None
                    ),
                )
                segs = body["segments"]
                assert [(s["label"], s["model_label"], s["corrected"]) for s in segs] == [
                    ("measure", "challenge", True),
                    ("challenge", "challenge", False),
                    ("challenge", "challenge", False),
                ]
                assert [x["id"] for x in segs[0]["themes"]] == ["eldre"]
                hist = (await c.get(f"/segments/{segs[1]['segment_id']}/history")).json()["history"]
                assert [h["user"] for h in hist] == ["kari", "ola"]
                meta = body["metadata"]
                assert (meta["sender"], meta["sender_kind"], meta["title"]) == (
                    "Rebuild bydel",
                    "kommune",
                    None,
                )
                assert (meta["model"]["sender"], meta["model"]["sender_kind"]) == (
                    "Rebuild kommune",
                    "ukjent",
                )
                assert set(meta["corrected"]) == {"sender", "sender_kind"}
                audit = (await c.get(f"/documents/{did}/corrections")).json()
                assert [(a["user"], a["values"], a["note"]) for a in audit] == [
                    ("kari", {"sender": "Rebuild bydel", "sender_kind": "kommune", "title": "Svar"}, None),
                    ("ola", {"title": None}, "tittelen var riktig"),
                ]
                assert audit[1]["before"] == {"title": "Svar"}

                # A PATCH while the agents run: published, stored, consumed back without a duplicate.
                r = await c.patch(
                    f"/segments/{segs[2]['segment_id']}",
                    json={"label": "example"},
                    headers={"X-Innspill-User": "per"},
                )
                assert r.status_code == 200 and r.json()["label"] == "example"
                await asyncio.sleep(2)
                hist = (await c.get(f"/segments/{segs[2]['segment_id']}/history")).json()["history"]
                assert [h["user"] for h in hist] == ["per"]
                # A document PATCH likewise: published on segments.corrected, consumed back once.
                r = await c.patch(
                    f"/documents/{did}", json={"date": "2. mars 2025"}, headers={"X-Innspill-User": "per"}
                )
                assert r.status_code == 200 and r.json()["metadata"]["date"] == "2. mars 2025"
                await asyncio.sleep(2)
                audit = (await c.get(f"/documents/{did}/corrections")).json()
                assert [a["user"] for a in audit] == ["kari", "ola", "per"]
                assert audit[2]["before"] == {"date": "1. mars 2025"}
                # The classifications replayed once more do not undo anything.
                await pub.publish_many(
                    t.segments_classified,
                    [(did, themed(name, i, 3, 50, "other", {}, model="m-3")) for i in range(3)],
                )
                body = await poll(
                    lambda: c.get(f"/documents/{did}"),
                    lambda b: all(s["model_version"] == "m-3" for s in b["segments"]),
                )
                assert [s["label"] for s in body["segments"]] == ["measure", "other", "example"]
                # ...nor does a re-extraction undo the document corrections.
                await pub.publish(t.documents_extracted, did, extracted(name, 3, 60, sender="Annen avsender"))
                body = await poll(
                    lambda: c.get(f"/documents/{did}"),
                    lambda b: b["metadata"]["model"]["sender"] == "Annen avsender",
                )
                meta = body["metadata"]
                assert (meta["sender"], meta["sender_kind"], meta["date"]) == (
                    "Rebuild bydel",
                    "kommune",
                    "2. mars 2025",
                )
    finally:
        await pub.stop()
