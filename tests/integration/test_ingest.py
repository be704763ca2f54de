"""ingest against a real broker: uploads, duplicates, bad input, broker outage, drop folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.ingest.app import create_app
from shared.kafka import ensure_topics
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tests.letters import letter_pdf_bytes
from tools.cli.broker import free_port

pytestmark = pytest.mark.integration


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await ensure_topics(settings)
    async for c in _client(settings):
        yield c


async def test_upload_publishes_once_and_duplicate_returns_same_id(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    pdf = letter_pdf_bytes(tmp_path)
    first = await client.post("/documents", files={"file": ("../brev.pdf", pdf, "application/pdf")})
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["status"] == "received" and body["duplicate"] is False
    assert len(body["document_id"]) == 32 and body["sha256"].startswith(body["document_id"])

    again = await client.post("/documents", files={"file": ("kopi.pdf", pdf, "application/pdf")})
    assert again.status_code == 200
    assert again.json()["document_id"] == body["document_id"] and again.json()["duplicate"] is True

    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received, idle_s=2)
    assert len(records) == 1
    event = records[0]["value"]
    assert records[0]["key"] == body["document_id"]
    assert event["type"] == "innspill.document.received" and event["specversion"] == "1.0"
    data = event["data"]
    assert data["filename"] == "brev.pdf" and data["source"] == "http" and data["bytes"] == len(pdf)
    assert data["blob_uri"] == f"blob://sha256/{body['sha256']}"
    blob = settings.blob_dir / body["sha256"][:2] / body["sha256"]
    assert blob.read_bytes() == pdf


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        (b"", 400, "empty_file"),
        (b"Dette er bare tekst, ikke en PDF.", 415, "unsupported_type"),
    ],
)
async def test_bad_uploads_get_json_errors(
    client: httpx.AsyncClient, payload: bytes, status: int, error: str
) -> None:
    resp = await client.post("/documents", files={"file": ("x.pdf", payload, "application/pdf")})
    assert resp.status_code == status
    assert resp.json()["error"] == error and resp.json()["detail"]


async def test_missing_file_field_and_wrong_content_type(client: httpx.AsyncClient) -> None:
    resp = await client.post("/documents", files={"other": ("x.pdf", b"%PDF-1.4", "application/pdf")})
    assert resp.status_code == 400 and resp.json()["error"] == "missing_file"
    resp = await client.post("/documents", content=b"%PDF-1.4", headers={"content-type": "application/pdf"})
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


async def test_oversized_upload_is_413_and_leaves_nothing(settings: Settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 10_000})
    await ensure_topics(small)
    async for client in _client(small):
        big = b"%PDF-1.4\n" + b"0" * 50_000
        resp = await client.post("/documents", files={"file": ("big.pdf", big, "application/pdf")})
        assert resp.status_code == 413 and resp.json()["error"] == "too_large"
    blobs = [p for p in small.blob_dir.rglob("*") if p.is_file()]
    assert blobs == []


async def test_broker_down_gives_503_and_no_half_accepted_file(tmp_path: Path) -> None:
    down = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}", data_dir=tmp_path / "var")
    async for client in _client(down):
        pdf = letter_pdf_bytes(tmp_path)
        resp = await client.post("/documents", files={"file": ("brev.pdf", pdf, "application/pdf")})
        assert resp.status_code == 503
        assert resp.headers["retry-after"] == "10" and resp.json()["error"] == "broker_unavailable"
    # No receipt was written, so the same bytes will be accepted as new once the broker is back.
    assert list(down.blob_dir.rglob("*.received.json")) == []


async def test_drop_folder_moves_files_to_processed_and_rejected(settings: Settings, tmp_path: Path) -> None:
    await ensure_topics(settings)
    settings.drop_dir.mkdir(parents=True, exist_ok=True)
    (settings.drop_dir / "brev.pdf").write_bytes(letter_pdf_bytes(tmp_path))
    (settings.drop_dir / "notat.txt").write_text("ikke en pdf")
    async for _ in _client(settings):
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            if not any(p.is_file() for p in settings.drop_dir.iterdir()):
                break
            await asyncio.sleep(0.2)
    assert (settings.drop_dir / "processed" / "brev.pdf").is_file()
    assert (settings.drop_dir / "rejected" / "notat.txt").is_file()
    reason = (settings.drop_dir / "rejected" / "notat.txt.reason.txt").read_text()
    assert reason.startswith("unsupported_type")
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received)
    assert [r["value"]["data"]["source"] for r in records] == ["folder"]


async def test_drop_folder_keeps_file_while_broker_is_down(tmp_path: Path) -> None:
    down = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}", data_dir=tmp_path / "var")
    down.drop_dir.mkdir(parents=True)
    (down.drop_dir / "brev.pdf").write_bytes(letter_pdf_bytes(tmp_path))
    from services.ingest.receiver import Receiver
    from services.ingest.watcher import DropFolder
    from shared.blobstore import LocalBlobStore
    from shared.kafka import Publisher

    folder = DropFolder(down.drop_dir, Receiver(down, Publisher(down, "t"), LocalBlobStore(down.blob_dir)))
    assert await folder.handle(down.drop_dir / "brev.pdf") == "retry"
    assert (down.drop_dir / "brev.pdf").is_file()


async def test_size_limit_is_enforced_while_streaming_without_content_length(settings: Settings) -> None:
    """A chunked upload (no Content-Length) is cut off at the limit, not read to the end first."""
    small = settings.model_copy(update={"max_upload_bytes": 100_000})
    await ensure_topics(small)
    sent = {"bytes": 0}

    async def body() -> AsyncIterator[bytes]:
        yield (
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        )
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB offered
            sent["bytes"] += 65536
            yield b"0" * 65536
        yield b"\r\n--XyZ--\r\n"

    async for client in _client(small):
        resp = await client.post(
            "/documents", content=body(), headers={"content-type": "multipart/form-data; boundary=XyZ"}
        )
        assert resp.status_code == 413 and resp.json()["error"] == "too_large"
    assert sent["bytes"] < 1_000_000, "the server stopped reading soon after the limit"
