"""store's Kafka side: faust agents on five topics, consumed in micro-batches, one transaction per batch.

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
from shared.events import (
    DocumentCorrected,
    DocumentExtracted,
    DocumentFailed,
    DocumentReceived,
    Envelope,
    Expect,
    PointExcluded,
    PointNamed,
    PointsMerged,
    SegmentClassified,
    SegmentCorrected,
)
from shared.kafka import Publisher
from shared.retry import Backoff, retry
from shared.settings import Settings
from shared.stream_runner import StreamRunner
from shared.streams import decode_batch, guarded, make_faust_app, raw_topic, run_batches
from shared.topics import topics_for

log = logging.getLogger(__name__)

APP_ID = "store"
STAGE = "store"
BATCH_MAX = 200
BATCH_WITHIN_S = 0.1  # the longest a partial batch waits: on an idle stack, part of every letter's latency
#: On shutdown, how long an in-flight batch may take to finish before its agent is cancelled.
DRAIN_S = 20.0
_DB_DOWN = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Feed:
    topic: str
    kind: str  # topic name without the prefix, used as a metric label
    payload: Expect


def feeds_for(settings: Settings) -> list[Feed]:
    t = topics_for(settings)
    return [
        Feed(t.documents_received, "documents.received", DocumentReceived),
        Feed(t.documents_extracted, "documents.extracted", DocumentExtracted),
        Feed(t.segments_classified, "segments.classified", SegmentClassified),
        Feed(t.documents_failed, "documents.failed", DocumentFailed),
        # Analysts' corrections of segments and of documents (the store publishes them itself): applied
        # idempotently, so a store rebuilt from the topics keeps every correction.
        Feed(
            t.segments_corrected,
            "segments.corrected",
            (SegmentCorrected, DocumentCorrected, PointExcluded, PointsMerged, PointNamed),
        ),
    ]


class BatchWriter:
    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        publisher: Publisher,
        after_write: Callable[[], object] | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.publisher = publisher
        #: Called after each stored batch (the points' background embedding); must not block.
        self.after_write = after_write
        self._lock = asyncio.Lock()  # one writer at a time per process: SQLite allows no more anyway

    async def handle(self, feed: Feed, events: Sequence[Any]) -> None:
        """Store one micro-batch. Returns only when every record is stored or dead-lettered."""
        await retry(
            lambda: self._handle_once(feed, events),
            what=f"store batch of {feed.kind}",
            backoff=Backoff(self.settings.retry_backoff_s),
            logger=log,
        )

    async def _handle_once(self, feed: Feed, events: Sequence[Any]) -> None:
        decoded = await decode_batch(
            stage=STAGE, events=events, expect=feed.payload, publisher=self.publisher
        )
        if len(decoded) < len(events):
            metrics.EVENTS.labels(feed.kind, "dead_lettered").inc(len(events) - len(decoded))
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
                    stage=STAGE,
                    event=event,
                    expect=feed.payload,
                    handler=lambda env: self.write([env]),
                    publisher=self.publisher,
                    settings=self.settings,
                )
                metrics.EVENTS.labels(feed.kind, "stored" if ok else "dead_lettered").inc()
        else:
            metrics.EVENTS.labels(feed.kind, "stored").inc(len(decoded))
        if self.after_write is not None:
            self.after_write()
        await self._update_gauges()

    async def write(self, envelopes: list[Envelope[Any]]) -> None:
        """Write in a worker thread. A lost database is waited for; any other error is raised."""

        async def once() -> None:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self.repo.apply, envelopes)
            except _DB_DOWN:
                metrics.WRITE_ERRORS.labels("database_unavailable").inc()
                raise
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

        async with self._lock:
            await retry(
                once,
                what="store write (database unavailable)",
                backoff=Backoff(self.settings.retry_backoff_s),
                retry_on=_DB_DOWN,
                logger=log,
            )

    async def _update_gauges(self) -> None:
        with contextlib.suppress(Exception):
            for status, n in (await asyncio.to_thread(self.repo.status_counts)).items():
                metrics.DOCUMENTS.labels(status).set(n)


def _agent_for(feed: Feed, writer: BatchWriter) -> Callable[[Any], Awaitable[None]]:
    async def agent(stream: Any) -> None:
        await run_batches(
            stream, BATCH_MAX, BATCH_WITHIN_S, lambda events: writer.handle(feed, events), DRAIN_S
        )

    agent.__name__ = agent.__qualname__ = f"store_{feed.kind.replace('.', '_')}"
    return agent


def build_consumer(
    settings: Settings,
    publisher: Publisher,
    repo: Repository,
    after_write: Callable[[], object] | None = None,
) -> faust.App:
    writer = BatchWriter(settings, repo, publisher, after_write)
    app = make_faust_app(APP_ID, settings)
    for feed in feeds_for(settings):
        app.agent(raw_topic(app, feed.topic), name=f"{APP_ID}.{feed.kind}")(_agent_for(feed, writer))
    return app


def make_runner(
    settings: Settings, repo: Repository, after_write: Callable[[], object] | None = None
) -> StreamRunner:
    """The store's stream side: agents that write batches through ``repo``, connecting in the background;
    ``after_write`` is called after every stored batch."""
    return StreamRunner(
        settings, APP_ID, lambda publisher: build_consumer(settings, publisher, repo, after_write)
    )
