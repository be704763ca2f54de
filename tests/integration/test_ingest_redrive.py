"""Uploading the same bytes again re-drives a document that never finished (real broker, real store API):
a finished document stays a plain duplicate, an unfinished one is published to documents.received again."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from services.ingest.app import create_app as create_ingest
from services.store.app import create_app as create_store
from services.store.db import make_engine, migrate
from services.store.repository import Repository
from shared.events import DocumentExtracted, DocumentReceived, decode, make_event
from shared.kafka import ensure_topics
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tests.letters import letter_pdf_bytes
from tools.cli.broker import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def store_api(settings: Settings) -> Iterator[str]:
    """The real store app (API only, no agents) on a free port in a thread."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_store(settings, consume=False), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "store did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


async def test_reupload_of_unfinished_document_redrives_it(
    settings: Settings, store_api: str, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"store_url": store_api})
    await ensure_topics(settings)
    pdf = letter_pdf_bytes(tmp_path, "brev.pdf", variant=3)
    app = create_ingest(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            first = await client.post("/documents", files={"file": ("brev.pdf", pdf)})
            assert first.status_code == 202
            doc_id = first.json()["document_id"]
            topic = topics_for(settings).documents_received

            # The store never saw it (its event was lost): the same bytes re-drive it.
            again = await client.post("/documents", files={"file": ("brev.pdf", pdf)})
            assert again.status_code == 200, again.text
            body = again.json()
            assert body["document_id"] == doc_id and body["duplicate"] and body["redriven"]
            assert body["status"] == "redriven"
            records = await read_topic(settings.kafka_bootstrap, topic, min_count=2)
            mine = [r for r in records if r["key"] == doc_id]
            assert len(mine) == 2 and mine[1]["value"]["data"]["source"] == "replay"

            # Once the store has it final, the same bytes are a plain duplicate and nothing is published.
            repo = Repository(make_engine(settings.resolved_database_url))
            migrate(repo.engine)
            received = mine[0]["value"]
            repo.apply(
                [
                    decode(json.dumps(received), DocumentReceived),
                    make_event(DocumentExtracted(document_id=doc_id, page_count=1, segment_count=0), "t"),
                ]
            )
            final = await client.post("/documents", files={"file": ("brev.pdf", pdf)})
            assert final.status_code == 200
            assert final.json()["duplicate"] and not final.json()["redriven"]
            assert final.json()["status"] == "duplicate"
            records = await read_topic(settings.kafka_bootstrap, topic, min_count=2, idle_s=1.5)
            assert len([r for r in records if r["key"] == doc_id]) == 2


async def test_reupload_when_store_does_not_answer_is_a_plain_duplicate(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"store_url": f"http://127.0.0.1:{free_port()}"})
    await ensure_topics(settings)
    pdf = letter_pdf_bytes(tmp_path, "brev.pdf", variant=4)
    app = create_ingest(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            assert (await client.post("/documents", files={"file": ("a.pdf", pdf)})).status_code == 202
            again = await client.post("/documents", files={"file": ("a.pdf", pdf)})
            assert again.status_code == 200 and again.json()["duplicate"] and not again.json()["redriven"]
