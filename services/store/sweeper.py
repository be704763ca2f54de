"""Self-healing documents: the store re-drives any document that stopped short of a final status.

The store knows every document's status, so it is the one place that can notice a document that is
``received`` or ``extracted`` and no longer moving (an event lost by a memory-only broker restart, a
crash between two stages, a record parked on the dead-letter topic). Every ``sweep_interval_s`` the
:class:`Sweeper` looks at the documents that are not final:

* A document whose last event (``updated_at``) is older than ``redrive_after_s * 2**tries`` is re-driven:
  ``documents.received`` is published again from its stored blob (filename and content type from the
  document row or the ingest receipt). ``tries`` counts the document's earlier receipts (every
  ``documents.received`` the store recorded beyond the first), so the wait doubles with each re-drive
  and survives a store restart.
* After ``redrive_max_tries`` re-drives without reaching a final status, the document gets
  ``documents.failed`` with stage ``store`` and code ``stuck``: nothing accepted is left without a
  final status.
* Ingest receipts whose document the store has never seen (its ``documents.received`` was lost with the
  broker) are re-driven the same way once they are older than ``redrive_after_s``.

Re-drives are idempotent: ids are deterministic, so extract and classify produce the same segment ids and
the store upserts the same rows; a re-drive never duplicates a segment. Several store replicas may each
re-drive the same document; that costs work, never correctness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services.store.models import Document, StatusEvent, table_of
from services.store.status import IN_PROGRESS
from shared.blobstore import BlobStore, blob_store_for
from shared.events import DocumentFailed, make_event, utcnow
from shared.kafka import BrokerUnavailable, Publisher
from shared.receipts import Receipt, all_receipts, read_receipt
from shared.settings import Settings
from shared.stream_runner import StreamRunner
from shared.topics import topics_for

log = logging.getLogger(__name__)

DOCS = table_of(Document)
HIST = table_of(StatusEvent)
_CHUNK = 500

REDRIVES = Counter(
    "innspill_store_redrives_total",
    "Documents the sweeper re-drove (redriven) or gave up on (stuck).",
    ["outcome"],
)


@dataclass(frozen=True)
class Pending:
    """A document that is not final, as the sweeper sees it."""

    document_id: str
    last_event_at: datetime
    tries: int
    filename: str | None = None
    sha256: str | None = None
    size: int | None = None
    content_type: str | None = None


@dataclass
class SweepResult:
    redriven: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)


def _chunks(items: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def pending_documents(engine: Engine) -> list[Pending]:
    """Every document that is ``received`` or ``extracted``, with its re-drive count."""
    stmt = select(
        DOCS.c.id,
        DOCS.c.updated_at,
        DOCS.c.filename,
        DOCS.c.sha256,
        DOCS.c.bytes,
        DOCS.c.content_type,
    ).where(DOCS.c.status.in_(IN_PROGRESS))
    with engine.connect() as conn:
        rows = list(conn.execute(stmt))
        ids = [r.id for r in rows]
        receipts: dict[str, int] = {}
        for chunk in _chunks(ids):
            counted = select(HIST.c.document_id, func.count()).where(
                HIST.c.status == "received", HIST.c.document_id.in_(chunk)
            )
            receipts.update({d: int(n) for d, n in conn.execute(counted.group_by(HIST.c.document_id))})
    return [
        Pending(
            document_id=r.id,
            last_event_at=_aware(r.updated_at),
            tries=max(0, receipts.get(r.id, 0) - 1),
            filename=r.filename,
            sha256=r.sha256,
            size=r.bytes,
            content_type=r.content_type,
        )
        for r in rows
    ]


def known_ids(engine: Engine, ids: list[str]) -> set[str]:
    out: set[str] = set()
    with engine.connect() as conn:
        for chunk in _chunks(ids):
            out.update(r[0] for r in conn.execute(select(DOCS.c.id).where(DOCS.c.id.in_(chunk))))
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Sweeper:
    """Finds documents that are not final and re-drives them (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        publisher: Publisher,
        blobs: BlobStore,
        *,
        receipts_every: int = 4,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.blobs = blobs
        self.topics = topics_for(settings)
        self.receipts_every = max(1, receipts_every)
        #: When this process last re-drove a document: a re-drive whose event is lost is not repeated at once.
        self._sent: dict[str, datetime] = {}
        self._sweeps = 0

    def deadline(self, tries: int) -> timedelta:
        return timedelta(seconds=self.settings.redrive_after_s * (2**tries))

    async def sweep_once(self, now: datetime | None = None) -> SweepResult:
        """One look at every pending document (and, every few sweeps, at the ingest receipts)."""
        now = now or utcnow()
        result = SweepResult()
        pending = await asyncio.to_thread(pending_documents, self.engine)
        for doc in pending:
            last = max(doc.last_event_at, self._sent.get(doc.document_id, doc.last_event_at))
            if now - last < self.deadline(doc.tries):
                continue
            if doc.tries >= self.settings.redrive_max_tries:
                await self._give_up(doc, now)
                result.stuck.append(doc.document_id)
            elif await self._redrive(doc, now):
                result.redriven.append(doc.document_id)
        if self._sweeps % self.receipts_every == 0:
            result.redriven += await self._unseen_receipts(now)
        self._sweeps += 1
        # Forget re-drives of documents that are final now (or gone), so the map stays small.
        pending_ids = {d.document_id for d in pending} | set(result.redriven)
        self._sent = {k: v for k, v in self._sent.items() if k in pending_ids}
        return result

    async def _unseen_receipts(self, now: datetime) -> list[str]:
        receipts = await asyncio.to_thread(lambda: list(all_receipts(self.blobs)))
        by_id = {r.document_id: r for r in receipts}
        known = await asyncio.to_thread(known_ids, self.engine, list(by_id))
        out: list[str] = []
        for doc_id, receipt in by_id.items():
            if doc_id in known:
                continue
            accepted = _parse_time(receipt.received_at)
            last = max(accepted or now, self._sent.get(doc_id, accepted or now))
            if accepted is None or now - last < self.deadline(0):
                continue
            doc = Pending(
                doc_id, accepted, 0, receipt.filename, receipt.sha256, receipt.bytes, receipt.content_type
            )
            # The receipt's time: the store never saw this document, so its row should show when it came.
            if await self._redrive(doc, now, receipt, received_at=accepted):
                out.append(doc_id)
        return out

    async def _receipt_for(self, doc: Pending) -> Receipt | None:
        """The ingest receipt of a document whose row lacks its ``documents.received`` facts."""
        if doc.sha256:
            return await asyncio.to_thread(read_receipt, self.blobs, doc.sha256)
        for receipt in await asyncio.to_thread(lambda: list(all_receipts(self.blobs))):
            if receipt.document_id == doc.document_id:
                return receipt
        return None

    async def _redrive(
        self, doc: Pending, now: datetime, receipt: Receipt | None = None, received_at: datetime | None = None
    ) -> bool:
        if not (doc.sha256 and doc.filename and doc.content_type and doc.size is not None):
            receipt = receipt or await self._receipt_for(doc)
            if receipt is None:
                log.warning(
                    "cannot re-drive: no receipt and no stored facts", extra={"document_id": doc.document_id}
                )
                return False
            doc = Pending(
                doc.document_id, doc.last_event_at, doc.tries, receipt.filename, receipt.sha256,
                receipt.bytes, receipt.content_type,
            )  # fmt: skip
        assert doc.sha256 is not None and doc.filename and doc.content_type and doc.size is not None
        if not await asyncio.to_thread(self.blobs.exists, doc.sha256):
            await self._give_up(
                doc, now, "Originalfilen finnes ikke lenger i lageret; dokumentet kan ikke behandles på nytt."
            )
            return False
        stored = Receipt(doc.document_id, doc.sha256, doc.filename, doc.size, doc.content_type)
        event = make_event(
            stored.replayed(self.blobs.uri_for(doc.sha256), received_at or now),
            "innspill/store-sweeper",
            doc.document_id,
            "redrive",
            doc.tries + 1,
            now.isoformat(),
        )
        try:
            await self.publisher.publish(self.topics.documents_received, doc.document_id, event)
        except BrokerUnavailable as exc:
            log.warning(
                "re-drive postponed: broker unavailable",
                extra={"document_id": doc.document_id, "error": str(exc)},
            )
            return False
        self._sent[doc.document_id] = now
        REDRIVES.labels("redriven").inc()
        log.warning(
            "document re-driven",
            extra={
                "document_id": doc.document_id,
                "try": doc.tries + 1,
                "idle_s": (now - doc.last_event_at).total_seconds(),
            },
        )
        return True

    async def _give_up(self, doc: Pending, now: datetime, message: str | None = None) -> None:
        message = message or (
            f"Dokumentet ble ikke ferdig behandlet etter {doc.tries} nye forsøk; "
            "last det opp på nytt eller kjør «innspill replay»."
        )
        event = make_event(
            DocumentFailed(document_id=doc.document_id, stage="store", error_code="stuck", message=message),
            "innspill/store-sweeper",
            doc.document_id,
            "stuck",
            doc.tries,
        )
        try:
            await self.publisher.publish(self.topics.documents_failed, doc.document_id, event)
        except BrokerUnavailable as exc:
            log.warning("stuck document not marked yet: broker unavailable", extra={"error": str(exc)})
            return
        self._sent[doc.document_id] = now
        REDRIVES.labels("stuck").inc()
        log.error("document stuck: marked failed", extra={"document_id": doc.document_id, "tries": doc.tries})

    async def run(self, ready: Callable[[], bool]) -> None:
        """Sweep every ``sweep_interval_s`` while ``ready()`` (the broker answers and the agents run)."""
        while True:
            await asyncio.sleep(self.settings.sweep_interval_s)
            if not ready() or not self.publisher.started:
                continue
            try:
                result = await self.sweep_once()
                if result.redriven or result.stuck:
                    log.info("sweep", extra={"redriven": len(result.redriven), "stuck": len(result.stuck)})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep failed")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def start_sweeper(settings: Settings, engine: Engine, runner: StreamRunner) -> Callable[[], Awaitable[None]]:
    """Start the sweeper beside the store's agents; returns the coroutine function that stops it."""
    sweeper = Sweeper(settings, engine, runner.publisher, blob_store_for(settings))
    task = asyncio.create_task(sweeper.run(lambda: runner.ready), name="store-sweeper")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    return stop


__all__ = ["Pending", "SweepResult", "Sweeper", "pending_documents", "start_sweeper"]
