"""End to end: all four services as separate processes on a real broker, a PDF in, labelled segments out."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.broker import free_port
from shared.events import LABELS
from shared.runner import Stack, running_stack
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tests.letters import render_letter_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def default_model_dir() -> Path:
    env = os.environ.get("INNSPILL_MODEL_DIR")
    path = Path(env) if env else REPO / "var" / "models" / "default"
    if not path.is_dir():
        pytest.fail(f"no classifier at {path}: run `make model` (make test does it) first")
    return path


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"e2e{uuid.uuid4().hex[:6]}",
        data_dir=tmp / "var",
        database_url=f"sqlite:///{tmp / 'store.db'}",
        model_dir=default_model_dir(),
        ingest_port=free_port(), extract_port=free_port(), classify_port=free_port(), store_port=free_port(),
    )
    with running_stack(settings, tmp / "logs", explicit_bootstrap=True) as s:
        yield s


def wait_for_status(stack: Stack, doc_id: str, want: str, timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    last: dict = {}
    while time.monotonic() < deadline:
        resp = httpx.get(f"{stack.url('store')}/documents/{doc_id}", timeout=5)
        if resp.status_code == 200:
            last = resp.json()
            if last["status"] in (want, "failed"):
                return last
        time.sleep(0.5)
    raise AssertionError(f"document {doc_id} not {want} after {timeout_s}s; last seen: {last.get('status')}")


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
    assert not any("Fjellbygd kommune - innspill" == t for t in texts), "running header leaked into body"
    under_q2 = [s for s in segments if s["heading_path"][:1] == ["2. Hvilke tiltak foreslår dere?"]]
    assert under_q2, "segments under question 2 carry it in their heading path"

    # An independent consumer sees the same segments on segments.classified.
    topic = topics_for(stack.settings).segments_classified
    records = asyncio.run(read_topic(stack.settings.kafka_bootstrap, topic, min_count=len(segments)))
    on_topic = {r["value"]["data"]["segment_id"] for r in records if r["key"] == doc_id}
    assert on_topic == {s["segment_id"] for s in segments}

    # Same bytes again: same id, flagged as duplicate.
    again = httpx.post(f"{stack.url('ingest')}/documents", files={"file": ("kopi.pdf", pdf)}, timeout=30)
    assert again.status_code == 200 and again.json() == {**again.json(), "document_id": doc_id, "duplicate": True}

    # The segment search finds it by label and free text.
    found = httpx.get(f"{stack.url('store')}/segments", params={"q": "sykepleiere", "document_id": doc_id}).json()
    assert found["total"] >= 1


def test_synchronous_classify_answers_a_batch_of_64(stack: Stack) -> None:
    items = [{"text": f"Kommunen mangler fastleger i {n} bygder.", "heading_path": ["Utfordringer"]}
             for n in range(64)]
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
