"""Faust agents of the store: four topics, consumed in micro-batches, one transaction per batch.

Per batch: every record is decoded through :func:`shared.streams.guarded` (a poison record goes to the
dead-letter topic), the decoded events are written in one transaction in a worker thread, and only then
does faust ack the records. If the batch write fails for a reason other than a lost database connection,
the records are written one by one, so that a single bad record is dead-lettered and the rest stored.
While the database is unreachable the batch is retried (with capped backoff) and the stream waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from sqlalchemy.exc import InterfaceError, OperationalError

from services.store import metrics
from services.store.repository import Repository
from shared.events import DocumentExtracted, DocumentFailed, DocumentReceived, Envelope, SegmentClassified
from shared.kafka import Publisher
from shared.settings import Settings
from shared.stream_runner import StreamRunner
from shared.streams import guarded, make_faust_app, raw_topic, run_batches
from shared.topics import topics_for

log = logging.getLogger(__name__)

APP_ID = "store"
STAGE = "store"
BATCH_MAX = 200
BATCH_WITHIN_S = 0.2
#: On shutdown, how long an in-flight batch may take to finish before its agent is cancelled.
DRAIN_S = 20.0
_DB_DOWN = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Feed:
    topic: str
    kind: str  # topic name without the prefix, used as a metric label
    payload: type


def feeds_for(settings: Settings) -> list[Feed]:
    t = topics_for(settings)
    return [
        Feed(t.documents_received, "documents.received", DocumentReceived),
        Feed(t.documents_extracted, "documents.extracted", DocumentExtracted),
        Feed(t.segments_classified, "segments.classified", SegmentClassified),
        Feed(t.documents_failed, "documents.failed", DocumentFailed),
    ]


class BatchWriter:
    def __init__(self, settings: Settings, repo: Repository, publisher: Publisher) -> None:
        self.settings = settings
        self.repo = repo
        self.publisher = publisher
        self._lock = asyncio.Lock()  # one writer at a time per process: SQLite allows no more anyway

    async def handle(self, feed: Feed, events: Sequence[Any]) -> None:
        """Store one micro-batch. Returns only when every record is stored or dead-lettered."""
        delay = self.settings.retry_backoff_s
        while True:
            try:
                await self._handle_once(feed, events)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("batch not handled; retrying", extra={"topic": feed.kind, "events": len(events)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _handle_once(self, feed: Feed, events: Sequence[Any]) -> None:
        decoded: list[tuple[Any, Envelope[Any]]] = []
        for event in events:
            box: list[Envelope[Any]] = []
            ok = await guarded(
                stage=STAGE, event=event, expect=feed.payload, handler=_collector(box),
                publisher=self.publisher, settings=self.settings,
            )
            if ok:
                decoded.append((event, box[0]))
            else:
                metrics.EVENTS.labels(feed.kind, "dead_lettered").inc()
        if not decoded:
            return
        metrics.BATCH_SIZE.observe(len(decoded))
        try:
            await self.write([env for _, env in decoded])
        except Exception:
            metrics.WRITE_ERRORS.labels("batch").inc()
            log.exception("batch write failed; writing its events one by one", extra={"topic": feed.kind})
            for event, _ in decoded:
                ok = await guarded(
                    stage=STAGE, event=event, expect=feed.payload, handler=lambda env: self.write([env]),
                    publisher=self.publisher, settings=self.settings,
                )
                metrics.EVENTS.labels(feed.kind, "stored" if ok else "dead_lettered").inc()
        else:
            metrics.EVENTS.labels(feed.kind, "stored").inc(len(decoded))
        await self._update_gauges()

    async def write(self, envelopes: list[Envelope[Any]]) -> None:
        """Write in a worker thread. A lost database is waited for; any other error is raised."""
        delay = self.settings.retry_backoff_s
        async with self._lock:
            while True:
                started = time.perf_counter()
                try:
                    await asyncio.to_thread(self.repo.apply, envelopes)
                    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
                    return
                except _DB_DOWN as exc:
                    metrics.WRITE_ERRORS.labels("database_unavailable").inc()
                    log.warning("database unavailable; retrying", extra={"error": repr(exc)[:500], "delay_s": delay})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)

    async def _update_gauges(self) -> None:
        with contextlib.suppress(Exception):
            for status, n in (await asyncio.to_thread(self.repo.status_counts)).items():
                metrics.DOCUMENTS.labels(status).set(n)


def _collector(box: list[Envelope[Any]]) -> Callable[[Envelope[Any]], Awaitable[None]]:
    async def collect(envelope: Envelope[Any]) -> None:
        box[:] = [envelope]

    return collect


def _agent_for(feed: Feed, writer: BatchWriter) -> Callable[[Any], Awaitable[None]]:
    async def agent(stream: Any) -> None:
        await run_batches(stream, BATCH_MAX, BATCH_WITHIN_S, lambda events: writer.handle(feed, events), DRAIN_S)

    agent.__name__ = agent.__qualname__ = f"store_{feed.kind.replace('.', '_')}"
    return agent


def build_faust_app(settings: Settings, writer: BatchWriter) -> faust.App:
    app = make_faust_app(APP_ID, settings)
    for feed in feeds_for(settings):
        app.agent(raw_topic(app, feed.topic), name=f"{APP_ID}.{feed.kind}")(_agent_for(feed, writer))
    return app


def make_runner(settings: Settings, repo: Repository) -> StreamRunner:
    """The store's stream side: agents that write batches through ``repo``, connecting in the background."""
    return StreamRunner(
        settings, APP_ID, lambda publisher: build_faust_app(settings, BatchWriter(settings, repo, publisher))
    )
