"""End to end: all four services as separate processes on a real broker, a PDF in, labelled segments out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from shared.events import LABELS
from shared.topics import topics_for
from tests.e2e.conftest import wait_for_status
from tests.kafka_helpers import read_topic
from tests.letters import render_letter_pdf
from tools.cli.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_pdf_becomes_labelled_segments(stack: Stack, tmp_path: Path) -> None:
    pdf = render_letter_pdf(tmp_path / "fjellbygd.pdf").read_bytes()
    resp = httpx.post(f"{stack.url('ingest')}/documents", files={"file": ("fjellbygd.pdf", pdf)}, timeout=30)
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["document_id"]

    doc = wait_for_status(stack, doc_id, "classified")
    assert doc["status"] == "classified", doc
    segments = doc["segments"]
    assert len(segments) >= 10
    assert [s["seq"] for s in segments] == list(range(len(segments)))
    assert {s["page"] for s in segments} >= {1, 2}, "a two-page letter has segments on both pages"
    for seg in segments:
        assert seg["label"] in LABELS
        assert set(seg["scores"]) == set(LABELS) and abs(sum(seg["scores"].values()) - 1) < 1e-3
        assert seg["model_version"]
    texts = [s["text"] for s in segments]
    assert any(t.startswith("Kommunen har ikke nok sykepleiere") for t in texts)
    assert not any(t == "Fjellbygd kommune - innspill" for t in texts), "running header leaked into body"
    under_q2 = [s for s in segments if s["heading_path"][:1] == ["2. Hvilke tiltak foreslår dere?"]]
    assert under_q2, "segments under question 2 carry it in their heading path"

    # An independent consumer sees the same segments on segments.classified.
    topic = topics_for(stack.settings).segments_classified
    records = asyncio.run(read_topic(stack.settings.kafka_bootstrap, topic, min_count=len(segments)))
    on_topic = {r["value"]["data"]["segment_id"] for r in records if r["key"] == doc_id}
    assert on_topic == {s["segment_id"] for s in segments}

    # Same bytes again: same id, flagged as duplicate.
    again = httpx.post(f"{stack.url('ingest')}/documents", files={"file": ("kopi.pdf", pdf)}, timeout=30)
    assert again.status_code == 200 and again.json() == {
        **again.json(),
        "document_id": doc_id,
        "duplicate": True,
    }

    # The segment search finds it by label and free text.
    found = httpx.get(
        f"{stack.url('store')}/segments", params={"q": "sykepleiere", "document_id": doc_id}
    ).json()
    assert found["total"] >= 1


def test_synchronous_classify_answers_a_batch_of_64(stack: Stack) -> None:
    items = [
        {"text": f"Kommunen mangler fastleger i {n} bygder.", "heading_path": ["Utfordringer"]}
        for n in range(64)
    ]
    resp = httpx.post(f"{stack.url('classify')}/classify", json={"items": items}, timeout=60)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] and len(body["results"]) == 64
    assert all(r["label"] in LABELS for r in body["results"])


def test_encrypted_pdf_ends_failed_with_reason(stack: Stack, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = render_letter_pdf(tmp_path / "plain.pdf")
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="hemmelig", owner_password="eier")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as fh:
        writer.write(fh)
    resp = httpx.post(f"{stack.url('ingest')}/documents", files={"file": ("locked.pdf", locked.read_bytes())})
    assert resp.status_code == 202
    doc = wait_for_status(stack, resp.json()["document_id"], "failed", timeout_s=60)
    assert doc["status"] == "failed"
    assert doc["error"]["code"] == "encrypted" and doc["error"]["stage"] == "extract"
