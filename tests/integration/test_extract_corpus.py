"""Robustness on the shared PDF corpus (``../shared/pdf-corpus``): every file ends as manifest.json
expects, without a crash or a hang.

* the whole corpus through the sandboxed engine (one child process per file, as the worker runs it);
* the files up to 300 KB through the real broker and the faust agent (OCR off there, for time).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.extract import ocr
from services.extract.app import create_app
from services.extract.model import ExtractionError, ExtractionResult, Limits
from services.extract.sandbox import extract_in_sandbox
from shared.blobstore import LocalBlobStore
from shared.events import DocumentReceived, make_event
from shared.ids import document_id_for, sha256_hex
from shared.kafka import Publisher
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BROKER_MAX_BYTES = 300_000


def corpus(shared_dir: Path) -> tuple[Path, list[dict[str, Any]]]:
    root = shared_dir / "pdf-corpus"
    if not (root / "manifest.json").is_file():
        pytest.skip("no PDF corpus in ../shared")
    return root, json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def check(expect: str, outcome: str, text_chars: int, ocr_pages: int) -> str | None:
    """None when the outcome is what the manifest expects, else why not."""
    if expect == "text":
        ok = outcome == "extracted" and text_chars > 0
    elif expect == "no-text":
        ok = outcome == "no_text" or (outcome == "extracted" and ocr_pages > 0 and text_chars > 0)
    else:  # "encrypted", "corrupt"
        ok = outcome == expect
    return None if ok else f"expected {expect}, got {outcome} ({text_chars} chars, {ocr_pages} OCR pages)"


def test_every_corpus_file_through_the_sandboxed_engine(shared_dir: Path) -> None:
    root, manifest = corpus(shared_dir)
    limits = Limits(timeout_s=180, max_pages=500, max_memory_mb=2048, ocr_enabled=ocr.available("nor+eng"))
    problems = []
    for entry in manifest:
        try:
            result: ExtractionResult = extract_in_sandbox(
                root / entry["file"], limits, entry["file"], "application/pdf"
            )
            outcome, chars, ocr_pages = (
                "extracted",
                sum(len(s.text) for s in result.segments),
                len(result.ocr_pages),
            )
        except ExtractionError as exc:
            outcome, chars, ocr_pages = exc.code, 0, 0
        why = check(entry["expect"], outcome, chars, ocr_pages)
        if why:
            problems.append(f"{entry['file']}: {why}")
    assert not problems, problems


async def wait_for_outcomes(settings: Settings, ids: set[str], timeout_s: float) -> tuple[list, list]:
    """Poll documents.extracted and documents.failed until every document has an outcome."""
    topics = topics_for(settings)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        extracted = await read_topic(
            settings.kafka_bootstrap, topics.documents_extracted, min_count=0, idle_s=1
        )
        failed = await read_topic(settings.kafka_bootstrap, topics.documents_failed, min_count=0, idle_s=1)
        if ids <= {r["key"] for r in extracted + failed} or loop.time() > deadline:
            return extracted, failed
        await asyncio.sleep(2)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Settings]:
    quick = settings.model_copy(update={"ocr_enabled": False, "extract_timeout_s": 120.0})
    app = create_app(quick)
    async with app.router.lifespan_context(app):
        assert await app.state.runner.wait_running(60)
        yield quick


async def test_small_corpus_files_through_the_broker(service: Settings, shared_dir: Path) -> None:
    settings = service
    root, manifest = corpus(shared_dir)
    topics = topics_for(settings)
    blobs = LocalBlobStore(settings.blob_dir)
    chosen = [e for e in manifest if e["bytes"] <= BROKER_MAX_BYTES]
    assert {e["expect"] for e in chosen} == {"text", "no-text", "encrypted", "corrupt"}
    ids: dict[str, dict[str, Any]] = {}
    pub = Publisher(settings, "test-corpus")
    await pub.start(timeout_s=20)
    try:
        for entry in chosen:
            data = (root / entry["file"]).read_bytes()
            sha = sha256_hex(data)
            uri = blobs.put_bytes(data, sha)
            doc = DocumentReceived(
                id=document_id_for(sha),
                filename=entry["file"],
                sha256=sha,
                bytes=len(data),
                content_type="application/pdf",
                blob_uri=uri,
                source="folder",
                received_at=datetime.now(UTC),
            )
            ids[doc.id] = entry
            await pub.publish(topics.documents_received, doc.id, make_event(doc, "test", doc.id))
    finally:
        await pub.stop()

    extracted, failed = await wait_for_outcomes(settings, set(ids), timeout_s=600)
    segments = await read_topic(
        settings.kafka_bootstrap, topics.segments_extracted, timeout_s=10, min_count=1
    )
    chars: dict[str, int] = {}
    for r in segments:
        chars[r["key"]] = chars.get(r["key"], 0) + len(r["value"]["data"]["text"])
    outcome = {r["key"]: ("extracted", r["value"]["data"]) for r in extracted}
    outcome.update({r["key"]: (r["value"]["data"]["error_code"], r["value"]["data"]) for r in failed})
    problems = []
    for doc_id, entry in ids.items():
        if doc_id not in outcome:
            problems.append(f"{entry['file']}: no outcome")
            continue
        code, data = outcome[doc_id]
        why = check(entry["expect"], code, chars.get(doc_id, 0), len(data.get("ocr_pages", []) or []))
        if why:
            problems.append(f"{entry['file']}: {why}")
    dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, timeout_s=3, min_count=0)
    assert not dead, "no corpus file may end on the dead-letter topic"
    assert not problems, problems
