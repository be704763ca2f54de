"""classify's Kafka side: ``segments.extracted`` -> ``segments.classified`` in micro-batches.

At-least-once: a micro-batch is acked (its offsets committed) only after every good record's
classification was acknowledged by the broker and every bad one was dead-lettered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import faust
from aiokafka.errors import KafkaError

from services.classify import metrics
from services.classify.inference import InferenceService
from services.classify.schema import Item, canonical_kind
from shared.events import Envelope, SegmentClassified, SegmentExtracted, ThemeScore, make_event
from shared.kafka import BrokerUnavailable, Publisher, with_retries
from shared.retry import Backoff, retry
from shared.settings import Settings
from shared.streams import decode_batch, guarded, make_faust_app, raw_topic, run_batches
from shared.topics import topics_for

log = logging.getLogger(__name__)

APP_ID = "classify"
STAGE = "classify"
SOURCE = "innspill/classify"
DRAIN_S = 30.0


def classified_event(
    env: Envelope[Any],
    label: str,
    scores: dict[str, float],
    version: str,
    themes: tuple[tuple[str, float], ...] = (),
    needs_review: bool = False,
) -> Envelope[Any]:
    seg: SegmentExtracted = env.data
    out = SegmentClassified(
        **seg.model_dump(),
        label=label,
        scores=scores,
        model_version=version,
        themes=[ThemeScore(id=t, score=s) for t, s in themes],
        needs_review=needs_review,
    )
    # Deterministic id: the same segment classified by the same model gives the same event id.
    return make_event(out, SOURCE, seg.segment_id, version)


def batch_items(segments: list[SegmentExtracted]) -> list[Item]:
    """Items with the structure extraction sent: kind, place in the letter, and the neighbours found in
    the same micro-batch (a letter's segments arrive in order on one partition)."""
    by_pos = {(s.document_id, s.seq): s for s in segments}
    out = []
    for s in segments:
        prev, nxt = by_pos.get((s.document_id, s.seq - 1)), by_pos.get((s.document_id, s.seq + 1))
        out.append(
            Item.of(
                s.text,
                s.heading_path,
                canonical_kind(s.kind),
                seq=s.seq,
                count=s.segment_count,
                prev_text=prev.text if prev else None,
                prev_kind=canonical_kind(prev.kind) if prev else None,
                next_text=nxt.text if nxt else None,
                next_kind=canonical_kind(nxt.kind) if nxt else None,
            )
        )
    return out


class SegmentClassifier:
    """Handles micro-batches: decode, predict in the inference thread, publish, then return."""

    def __init__(self, settings: Settings, publisher: Publisher, inference: InferenceService) -> None:
        self.settings = settings
        self.publisher = publisher
        self.inference = inference
        self.topic = topics_for(settings).segments_classified

    async def classify(self, envelopes: list[Envelope[Any]]) -> None:
        items = batch_items([env.data for env in envelopes])
        preds = await self.inference.predict(items, "stream")
        version = self.inference.model_version
        await self.publisher.publish_many(
            self.topic,
            [
                (
                    env.data.document_id,
                    classified_event(env, p.label, p.scores, version, p.themes, p.needs_review),
                )
                for env, p in zip(envelopes, preds, strict=True)
            ],
        )

    async def handle(self, events: Sequence[Any]) -> None:
        """One micro-batch. Waits out a lost broker (nothing is dead-lettered for that); a batch that
        keeps failing otherwise is redone one record at a time so only the bad record is parked."""
        good: list[tuple[Any, Envelope[Any]]] | None = None

        async def once() -> None:
            nonlocal good
            if good is None:  # decode (and dead-letter poison) once, also when the batch is retried
                good = await decode_batch(
                    stage=STAGE, events=events, expect=SegmentExtracted, publisher=self.publisher
                )
                metrics.DEAD_LETTERED.inc(len(events) - len(good))
            await self._classify_batch(good)

        await retry(
            once,
            what="classify batch (broker unavailable)",
            backoff=Backoff(self.settings.retry_backoff_s),
            retry_on=(BrokerUnavailable, KafkaError),
            logger=log,
        )

    async def _classify_batch(self, good: list[tuple[Any, Envelope[Any]]]) -> None:
        if not good:
            return
        try:
            await with_retries(
                lambda: self.classify([env for _, env in good]),
                attempts=self.settings.max_retries,
                backoff_s=self.settings.retry_backoff_s,
                what=f"{STAGE}:batch",
            )
        except (BrokerUnavailable, KafkaError):
            raise  # the broker is away: wait for it in handle(), park nothing
        except Exception:  # the model failed on something in the batch: find the record
            log.exception("batch failed; classifying its records one by one", extra={"events": len(good)})
            for event, _ in good:
                ok = await guarded(
                    stage=STAGE,
                    event=event,
                    expect=SegmentExtracted,
                    handler=lambda env: self.classify([env]),
                    publisher=self.publisher,
                    settings=self.settings,
                )
                if not ok:
                    metrics.DEAD_LETTERED.inc()


def build_consumer(settings: Settings, publisher: Publisher, inference: InferenceService) -> faust.App:
    app = make_faust_app(APP_ID, settings)
    worker = SegmentClassifier(settings, publisher, inference)
    within = settings.classify_batch_wait_ms / 1000.0

    @app.agent(raw_topic(app, topics_for(settings).segments_extracted), name=f"{APP_ID}.segments")
    async def classify_segments(stream: Any) -> None:
        await run_batches(stream, settings.classify_batch_size, within, worker.handle, DRAIN_S)

    return app
