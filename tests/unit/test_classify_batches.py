"""Micro-batch handling of the classify agent with a fake publisher and fake faust events: poison is
parked once, a record the model fails on is found and parked alone, a lost broker parks nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.classify.consumer import SegmentClassifier
from services.classify.inference import InferenceService
from services.classify.keywords import KeywordClassifier
from services.classify.schema import Item, Prediction
from shared.events import SegmentExtracted, encode, make_event
from shared.kafka import BrokerUnavailable
from shared.settings import Settings


@dataclass
class Msg:
    topic: str
    partition: int
    offset: int


@dataclass
class Event:
    key: bytes
    value: bytes
    message: Msg


class FakePublisher:
    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.published: list[tuple[str, str, Any]] = []
        self.dead: list[tuple[bytes | None, str]] = []

    async def publish_many(self, topic: str, items: list[tuple[str, Any]]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise BrokerUnavailable("broker away")
        self.published += [(topic, key, ev) for key, ev in items]

    async def dead_letter(
        self,
        stage: str,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        error: str,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.dead.append((value, error))


class Fussy(KeywordClassifier):
    """A real rule model that fails on one text, like a model bug would."""

    def predict(self, items: list[Item]) -> list[Prediction]:
        if any("BOOM" in it.text for it in items):
            raise ValueError("cannot classify this")
        return super().predict(items)


def _event(offset: int, text: str, doc: str = "doc1") -> Event:
    seg = SegmentExtracted(segment_id=f"{doc}-{offset}", document_id=doc, seq=offset, page=1, text=text)
    return Event(doc.encode(), encode(make_event(seg, "test")), Msg("t.segments.extracted", 0, offset))


def _worker(tmp_path: Path, publisher: FakePublisher, model: KeywordClassifier) -> SegmentClassifier:
    settings = Settings(data_dir=tmp_path, max_retries=2, retry_backoff_s=0.001)
    return SegmentClassifier(settings, publisher, InferenceService(model))  # type: ignore[arg-type]  # a test double or a deliberately loose value


async def test_poison_is_parked_and_the_rest_published(tmp_path: Path) -> None:
    pub = FakePublisher()
    poison = Event(b"doc1", b"\xff not json", Msg("t.segments.extracted", 0, 1))
    await _worker(tmp_path, pub, KeywordClassifier()).handle(
        [_event(0, "Med vennlig hilsen"), poison, _event(2, "Staten bør styrke tilbudet.")]
    )
    assert [v for v, _ in pub.dead] == [b"\xff not json"]
    assert [(key, ev.data.label) for _, key, ev in pub.published] == [("doc1", "other"), ("doc1", "measure")]
    assert all(ev.data.model_version == "keywords-1" for _, _, ev in pub.published)


async def test_a_record_the_model_fails_on_is_found_and_parked_alone(tmp_path: Path) -> None:
    pub = FakePublisher()
    await _worker(tmp_path, pub, Fussy()).handle(
        [_event(0, "Med vennlig hilsen"), _event(1, "BOOM"), _event(2, "Staten bør styrke tilbudet.")]
    )
    assert len(pub.dead) == 1 and "cannot classify this" in pub.dead[0][1]
    assert [ev.data.seq for _, _, ev in pub.published] == [0, 2]


async def test_lost_broker_is_waited_out_and_poison_parked_once(tmp_path: Path) -> None:
    pub = FakePublisher(fail_times=5)  # more than max_retries: the batch is retried as a whole
    poison = Event(b"doc1", b"{}", Msg("t.segments.extracted", 0, 1))
    await _worker(tmp_path, pub, KeywordClassifier()).handle([_event(0, "Med vennlig hilsen"), poison])
    assert len(pub.dead) == 1
    assert [ev.data.seq for _, _, ev in pub.published] == [0]
