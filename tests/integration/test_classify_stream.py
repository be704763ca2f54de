"""The classify agent through a real broker: segments.extracted in, segments.classified out, keyed by
document, with labels, scores and the model version; a poison record is dead-lettered and the good
record behind it is still classified."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classify.app import create_app
from services.classify.schema import write_manifest
from shared.events import LABELS, SegmentExtracted, make_event
from shared.ids import document_id_for, segment_id_for, sha256_hex
from shared.kafka import Publisher, ensure_topics
from shared.settings import Settings, get_settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tools.training import structured as S
from tools.training.data import context_items, load_labelled

pytestmark = pytest.mark.integration

TEXTS = [
    (["Utfordringer"], "Det er krevende å rekruttere sykepleiere, og mange stillinger står ubesatt."),
    (["Tiltak"], "Staten bør finansiere flere utdanningsplasser for sykepleiere i nord."),
    (["Gode eksempler"], "Vi har etablert et ambulant team, og erfaringene så langt er svært gode."),
    ([], "Med vennlig hilsen"),
]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A small structured model (labels, calibration, review threshold, themes) trained on part of the
    team's data (some seconds)."""
    examples = load_labelled()
    train, held = examples[::6], examples[1::12]
    path = tmp_path / "model"
    fields = S.fit_and_save(
        path,
        context_items(train),
        [e.label for e in train],
        [e.themes for e in train],
        context_items(held),
        [e.label for e in held],
        [e.themes for e in held],
        S.taxonomy_ids(get_settings().taxonomy),
        groups=S.DEFAULT_GROUPS,
    )
    write_manifest(path, {"kind": "structured", "model_version": "structured-itest", **fields})
    return path


def _segments(name: str) -> tuple[str, list[SegmentExtracted]]:
    doc = document_id_for(sha256_hex(name.encode()))
    return doc, [
        SegmentExtracted(
            segment_id=segment_id_for(doc, i),
            document_id=doc,
            seq=i,
            page=1,
            heading_path=h,
            text=t,
            kind="letter" if i == len(TEXTS) - 1 else "paragraph",
            segment_count=len(TEXTS),
        )
        for i, (h, t) in enumerate(TEXTS)
    ]


async def test_agent_classifies_batches_and_dead_letters_poison(settings: Settings, model_dir: Path) -> None:
    settings = settings.model_copy(update={"model_dir": model_dir, "classify_batch_size": 4})
    topics = topics_for(settings)
    await ensure_topics(settings)
    app = create_app(settings)
    publisher = Publisher(settings, "test-producer")
    await publisher.start()
    try:
        async with app.router.lifespan_context(app):
            assert await app.state.runner.wait_running(60)
            doc_a, segs_a = _segments("brev-a")
            doc_b, segs_b = _segments("brev-b")
            await publisher.publish_many(
                topics.segments_extracted,
                [(s.document_id, make_event(s, "test")) for s in segs_a + segs_b[:2]],
            )
            await publisher.publish_raw(topics.segments_extracted, doc_b, b'{"not": "an event"')
            await publisher.publish_many(
                topics.segments_extracted, [(s.document_id, make_event(s, "test")) for s in segs_b[2:]]
            )
            out = await read_topic(
                settings.kafka_bootstrap, topics.segments_classified, min_count=8, timeout_s=90
            )
            dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, min_count=1, timeout_s=30)
    finally:
        await publisher.stop()

    theme_ids = set(S.taxonomy_ids(get_settings().taxonomy))
    by_segment = {r["value"]["data"]["segment_id"]: r for r in out}
    assert set(by_segment) == {s.segment_id for s in segs_a + segs_b}
    for seg in segs_a + segs_b:
        record = by_segment[seg.segment_id]
        data = record["value"]["data"]
        assert record["key"] == seg.document_id
        assert record["value"]["type"] == "innspill.segment.classified"
        assert data["model_version"] == "structured-itest"
        assert isinstance(data["needs_review"], bool)
        assert {t["id"] for t in data["themes"]} <= theme_ids
        assert all(0 <= t["score"] <= 1 for t in data["themes"])
        assert (
            data["text"] == seg.text and data["heading_path"] == seg.heading_path and data["seq"] == seg.seq
        )
        assert set(data["scores"]) == set(LABELS) and abs(sum(data["scores"].values()) - 1) < 1e-4
        assert data["label"] == max(data["scores"], key=data["scores"].get)
    # The clear cases come out right; the good record published after the poison one is among them.
    assert [by_segment[s.segment_id]["value"]["data"]["label"] for s in segs_b] == [
        "challenge",
        "measure",
        "example",
        "other",
    ]
    # Letter furniture gets no theme; the content segments about nurses' recruitment get one.
    assert by_segment[segs_b[-1].segment_id]["value"]["data"]["themes"] == []
    assert any(by_segment[s.segment_id]["value"]["data"]["themes"] for s in segs_b[:3])
    assert len(dead) == 1
    letter = dead[0]["value"]["data"]
    assert dead[0]["key"] == doc_b and letter["stage"] == "classify"
    assert letter["topic"] == topics.segments_extracted and letter["value"] == '{"not": "an event"'
    assert "invalid SegmentExtracted" in letter["error"] or "JSON" in letter["error"]
