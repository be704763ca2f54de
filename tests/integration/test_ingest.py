"""ingest against a real broker: uploads, duplicates, bad input, broker outage, drop folder."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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


# --- malformed multipart: every case a specific 400, nothing published, nothing half-stored -------------


def _multipart(boundary: str, parts: list[tuple[str, str, bytes]], close: bool = True) -> bytes:
    body = b""
    for name, filename, data in parts:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return body + (f"--{boundary}--\r\n".encode() if close else b"")


async def _assert_nothing_accepted(settings: Settings) -> None:
    assert list(settings.blob_dir.rglob("*.received.json")) == []
    assert [p for p in settings.blob_dir.glob("??/*") if p.is_file()] == []
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received, timeout_s=3)
    assert records == []


async def test_malformed_multipart_bodies_are_specific_400s(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    pdf = letter_pdf_bytes(tmp_path)
    cases = [
        ("a" * 300, _multipart("a" * 300, [("file", "brev.pdf", pdf)]), "invalid_request"),
        (
            "XyZ",
            _multipart("XyZ", [("file", "brev.pdf", pdf[: len(pdf) // 2])], close=False),
            "truncated_body",
        ),
        ("XyZ", _multipart("XyZ", [("file", "a.pdf", pdf), ("file", "b.pdf", pdf)]), "multiple_files"),
        ("XyZ", b"--XyZ\r\n\x00\x01garbage without headers", "malformed_multipart"),
    ]
    for boundary, body, error in cases:
        resp = await client.post(
            "/documents", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )
        assert resp.status_code == 400, (error, resp.text)
        assert resp.json()["error"] == error and resp.json()["detail"]
    await _assert_nothing_accepted(settings)


async def test_client_disconnect_is_logged_at_info_and_accepts_nothing(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await ensure_topics(settings)
    app = create_app(settings)
    body = _multipart("XyZ", [("file", "brev.pdf", letter_pdf_bytes(tmp_path))])
    messages = [
        {"type": "http.request", "body": body[:2000], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/documents",
        "raw_path": b"/documents",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"multipart/form-data; boundary=XyZ"), (b"host", b"ingest")],
        "client": ("127.0.0.1", 50000),
        "server": ("ingest", 80),
    }
    caplog.set_level("INFO")
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    disconnects = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert disconnects and all(r.levelname == "INFO" for r in disconnects)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    await _assert_nothing_accepted(settings)


async def test_a_burst_waits_for_free_slots_instead_of_being_refused(
    settings: Settings, tmp_path: Path
) -> None:
    """60 uploads at once through 3 slots: all accepted, each published once, no temp file left."""
    narrow = settings.model_copy(update={"ingest_max_concurrent": 3})
    await ensure_topics(narrow)
    base = tmp_path / "letters"
    base.mkdir()
    pdfs = [letter_pdf_bytes(base, f"b{i}.pdf", variant=i) for i in range(60)]
    async for client in _client(narrow):
        responses = await asyncio.gather(
            *(
                client.post("/documents", files={"file": (f"b{i}.pdf", p, "application/pdf")})
                for i, p in enumerate(pdfs)
            )
        )
    assert [r.status_code for r in responses] == [202] * 60
    records = await read_topic(
        narrow.kafka_bootstrap, topics_for(narrow).documents_received, min_count=60, timeout_s=30
    )
    assert sorted(r["key"] for r in records) == sorted(r.json()["document_id"] for r in responses)
    assert list((narrow.blob_dir / ".tmp").iterdir()) == []


# --- drop folder: complete files only, links and odd entries refused, nothing lost --------------------------


async def _run_folder(settings: Settings, stable_s: float, body: Any) -> None:
    """Run the drop folder watcher with ``stable_s`` while ``body()`` works on the folder."""
    from services.ingest.receiver import Receiver
    from services.ingest.watcher import DropFolder
    from shared.blobstore import blob_store_for
    from shared.kafka import Publisher

    await ensure_topics(settings)
    publisher = Publisher(settings, "t-drop")
    folder = DropFolder(
        settings.drop_dir,
        Receiver(settings, publisher, blob_store_for(settings)),
        retry_s=1.0,
        stable_s=stable_s,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(folder.run(stop))
    try:
        await body()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await publisher.stop()


async def _wait_for(cond: Any, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for the drop folder"
        await asyncio.sleep(0.1)


async def test_drop_folder_waits_for_a_slow_writer(settings: Settings, tmp_path: Path) -> None:
    pdf = letter_pdf_bytes(tmp_path)
    target = settings.drop_dir / "sakte.pdf"
    settings.drop_dir.mkdir(parents=True, exist_ok=True)

    async def body() -> None:
        step = len(pdf) // 10 + 1
        with open(target, "wb") as fh:  # written over about 4 s, pauses shorter than the window
            for i in range(0, len(pdf), step):
                fh.write(pdf[i : i + step])
                fh.flush()
                await asyncio.sleep(0.4)
        await _wait_for(lambda: (settings.drop_dir / "processed" / "sakte.pdf").is_file())

    await _run_folder(settings, 1.5, body)
    assert (settings.drop_dir / "processed" / "sakte.pdf").read_bytes() == pdf
    assert list((settings.drop_dir / "rejected").iterdir()) == []
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received)
    assert [r["value"]["data"]["bytes"] for r in records] == [len(pdf)]


async def test_drop_folder_file_created_empty_and_filled_later(settings: Settings, tmp_path: Path) -> None:
    pdf = letter_pdf_bytes(tmp_path)
    target = settings.drop_dir / "tom.pdf"
    settings.drop_dir.mkdir(parents=True, exist_ok=True)

    async def body() -> None:
        target.touch()
        await asyncio.sleep(2.5)  # longer than the stability window: an empty file still is not refused
        assert target.is_file() and list((settings.drop_dir / "rejected").iterdir()) == []
        target.write_bytes(pdf)
        await _wait_for(lambda: (settings.drop_dir / "processed" / "tom.pdf").is_file())

    await _run_folder(settings, 1.0, body)
    assert (settings.drop_dir / "processed" / "tom.pdf").read_bytes() == pdf
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received)
    assert [r["value"]["data"]["bytes"] for r in records] == [len(pdf)]


async def test_drop_folder_refuses_symlinks_and_non_files(settings: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "utenfor.pdf"
    secret.write_bytes(letter_pdf_bytes(tmp_path))
    settings.drop_dir.mkdir(parents=True, exist_ok=True)
    (settings.drop_dir / "lenke.pdf").symlink_to(secret)
    (settings.drop_dir / "mappe").mkdir()
    os.mkfifo(settings.drop_dir / "fifo.pdf")
    rejected = settings.drop_dir / "rejected"

    async def body() -> None:
        await _wait_for(lambda: len([p for p in rejected.iterdir() if p.name.endswith(".reason.txt")]) == 3)

    await _run_folder(settings, 0.5, body)
    assert (rejected / "lenke.pdf").is_symlink(), "the link itself is moved, its target never read"
    assert (rejected / "lenke.pdf.reason.txt").read_text().startswith("symlink")
    assert (rejected / "mappe").is_dir() and (rejected / "mappe.reason.txt").read_text().startswith(
        "not_a_file"
    )
    assert (rejected / "fifo.pdf.reason.txt").read_text().startswith("not_a_file")
    assert secret.is_file()
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received, timeout_s=3)
    assert records == []


async def test_drop_folder_write_then_rename(settings: Settings, tmp_path: Path) -> None:
    pdf = letter_pdf_bytes(tmp_path)
    settings.drop_dir.mkdir(parents=True, exist_ok=True)
    part = settings.drop_dir / "brev.pdf.part"
    hidden = settings.drop_dir / ".brev2.pdf"

    async def body() -> None:
        half = len(pdf) // 2
        part.write_bytes(pdf[:half])
        hidden.write_bytes(pdf[:half])
        await asyncio.sleep(2.0)  # far longer than the window: a .part / dot file is still left alone
        assert part.is_file() and hidden.is_file()
        assert list((settings.drop_dir / "processed").iterdir()) == []
        with open(part, "ab") as fh:
            fh.write(pdf[half:])
        part.rename(settings.drop_dir / "brev.pdf")
        await _wait_for(lambda: (settings.drop_dir / "processed" / "brev.pdf").is_file())

    await _run_folder(settings, 0.5, body)
    assert (settings.drop_dir / "processed" / "brev.pdf").read_bytes() == pdf
    assert hidden.is_file(), "a dot file is never ingested or moved"
    records = await read_topic(settings.kafka_bootstrap, topics_for(settings).documents_received)
    assert [r["value"]["data"]["bytes"] for r in records] == [len(pdf)]
