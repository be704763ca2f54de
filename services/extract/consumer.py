"""extract's Kafka side: ``documents.received`` -> ``segments.extracted`` + ``documents.extracted``.

One received document through extraction to events: segments first, then the document summary.
Several documents are extracted at once (``Settings.extract_workers``, 0 = one per CPU core): the agent
runs that many concurrent actors over the topic, each hands its document to a pool of warm sandboxed
workers, and each record is acked only after its output is published (faust commits an offset only
once every record before it is acked).

Failures become ``documents.failed`` (stage "extract") with the engine's error code; only broker
trouble is raised, so ``guarded`` retries it and finally dead-letters the record.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import faust
from prometheus_client import Counter, Histogram

from services.extract.model import (
    BLOB_MISSING,
    OUTPUT_TOO_LARGE,
    ExtractionError,
    ExtractionResult,
    Limits,
    Segment,
)
from services.extract.sandbox import SandboxPool
from shared.blobstore import BlobNotFound, InvalidBlobUri, blob_store_for
from shared.events import (
    EXTRACTOR_VERSION,
    DocumentExtracted,
    DocumentFailed,
    DocumentMetadata,
    DocumentReceived,
    Envelope,
    Section,
    SegmentExtracted,
    encode,
    make_event,
)
from shared.ids import segment_id_for
from shared.kafka import Publisher
from shared.settings import Settings
from shared.streams import guarded, make_faust_app, raw_topic
from shared.topics import topics_for

log = logging.getLogger(__name__)

APP_ID = "extract"
SOURCE = "innspill/extract"

DOCUMENTS = Counter("innspill_extract_documents_total", "Documents processed, by outcome", ["outcome"])
PAGES = Counter("innspill_extract_pages_total", "Pages of successfully extracted documents")
OCR_PAGES = Counter("innspill_extract_ocr_pages_total", "Pages read by OCR")
SEGMENTS = Counter("innspill_extract_segments_total", "Segments published")
SECONDS = Histogram(
    "innspill_extract_seconds",
    "Wall time to extract one document",
    ["outcome"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)


#: The largest event extract publishes. Kafka brokers refuse records over about 1 MB by default (the
#: producer's own cap is 4 MiB), so a document with a bigger segment fails with its own code instead
#: of being retried and dead-lettered without a final status.
MAX_EVENT_BYTES = 900_000


def workers_for(settings: Settings) -> int:
    """Documents extracted at once: the setting, or one per CPU core this process may use."""
    if settings.extract_workers > 0:
        return settings.extract_workers
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def segment_payload(document_id: str, seq: int, seg: Segment, total: int) -> SegmentExtracted:
    """The ``segments.extracted`` payload of one extracted segment (``total``: segments in the letter)."""
    return SegmentExtracted(
        segment_id=segment_id_for(document_id, seq),
        document_id=document_id,
        seq=seq,
        page=seg.page,
        heading_path=seg.heading_path,
        text=seg.text,
        kind=seg.kind,
        ocr=seg.ocr,
        segment_count=total,
    )


def extracted_summary(document_id: str, result: ExtractionResult) -> DocumentExtracted:
    """The ``documents.extracted`` payload of one extraction result."""
    return DocumentExtracted(
        document_id=document_id,
        metadata=DocumentMetadata(**vars(result.metadata)),
        page_count=result.page_count,
        sections=[
            Section(heading_path=s.heading_path, page=s.page, segment_count=s.segment_count)
            for s in result.sections
        ],
        segment_count=len(result.segments),
        ocr_pages=result.ocr_pages,
        extractor_version=EXTRACTOR_VERSION,
    )


def limits_for(settings: Settings) -> Limits:
    return Limits(
        timeout_s=settings.extract_timeout_s,
        max_pages=settings.extract_max_pages,
        max_memory_mb=settings.extract_max_memory_mb,
        ocr_enabled=settings.ocr_enabled,
        ocr_languages=settings.ocr_languages,
    )


class Extractor:
    def __init__(self, settings: Settings, publisher: Publisher) -> None:
        self.settings = settings
        self.publisher = publisher
        self.blobs = blob_store_for(settings)
        self.topics = topics_for(settings)
        self.limits = limits_for(settings)
        self.concurrency = workers_for(settings)
        self.pool = SandboxPool(self.concurrency, self.limits)

    async def handle(self, envelope: Envelope[Any]) -> None:
        doc: DocumentReceived = envelope.data
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(self._extract, doc)
        except ExtractionError as exc:
            await self._publish_failed(doc.id, exc.code, exc.message)
            DOCUMENTS.labels(exc.code).inc()
            SECONDS.labels(exc.code).observe(time.monotonic() - started)
            log.info(
                "extraction failed",
                extra={"document_id": doc.id, "error_code": exc.code, "detail": exc.message},
            )
            return
        try:
            await self._publish_result(doc.id, result)
        except ExtractionError as exc:  # output the broker would refuse: a final status, not a retry
            await self._publish_failed(doc.id, exc.code, exc.message)
            DOCUMENTS.labels(exc.code).inc()
            log.info("extraction output refused", extra={"document_id": doc.id, "error_code": exc.code})
            return
        elapsed = time.monotonic() - started
        DOCUMENTS.labels("extracted").inc()
        SECONDS.labels("extracted").observe(elapsed)
        PAGES.inc(result.page_count)
        OCR_PAGES.inc(len(result.ocr_pages))
        SEGMENTS.inc(len(result.segments))
        log.info(
            "document extracted",
            extra={
                "document_id": doc.id,
                "pages": result.page_count,
                "segments": len(result.segments),
                "seconds": round(elapsed, 2),
            },
        )

    def _extract(self, doc: DocumentReceived) -> ExtractionResult:
        # The blob as a local file for the sandbox: the blob itself (folder store) or a temporary
        # download removed afterwards (S3).
        try:
            with self.blobs.local_path(doc.blob_uri) as path:
                return self.pool.extract(path, doc.filename, doc.content_type)
        except InvalidBlobUri as exc:
            raise ExtractionError(
                BLOB_MISSING, f"the blob URI {doc.blob_uri!r} is not one this store holds"
            ) from exc
        except BlobNotFound as exc:
            raise ExtractionError(BLOB_MISSING, f"no blob at {doc.blob_uri}") from exc

    def close(self) -> None:
        self.pool.close()

    async def _publish_result(self, document_id: str, result: ExtractionResult) -> None:
        total = len(result.segments)
        items = []
        for seq, seg in enumerate(result.segments):
            event = make_event(segment_payload(document_id, seq, seg, total), SOURCE, document_id, seq)
            size = len(encode(event))
            if size > MAX_EVENT_BYTES:
                raise ExtractionError(
                    OUTPUT_TOO_LARGE,
                    f"segment {seq + 1} (page {seg.page}) holds {len(seg.text):,} characters, "
                    f"{size:,} bytes as an event; the limit is {MAX_EVENT_BYTES:,}",
                )
            items.append((document_id, event))
        if items:
            await self.publisher.publish_many(self.topics.segments_extracted, items)
        summary = extracted_summary(document_id, result)
        await self.publisher.publish(
            self.topics.documents_extracted,
            document_id,
            make_event(summary, SOURCE, document_id, "extracted"),
        )

    async def _publish_failed(self, document_id: str, code: str, message: str) -> None:
        failed = DocumentFailed(document_id=document_id, stage="extract", error_code=code, message=message)
        await self.publisher.publish(
            self.topics.documents_failed, document_id, make_event(failed, SOURCE, document_id, "failed", code)
        )


def build_consumer(settings: Settings, publisher: Publisher) -> faust.App:
    """The faust app with its one agent, run as ``concurrency`` actors: each received document is
    extracted in the worker pool, its output published, then acked."""
    app = make_faust_app(APP_ID, settings)
    extractor = Extractor(settings, publisher)

    @app.agent(
        raw_topic(app, topics_for(settings).documents_received),
        name=f"{APP_ID}.documents",
        concurrency=extractor.concurrency,
    )
    async def extract_documents(stream: Any) -> None:
        async for event in stream.events():
            await guarded(
                stage=APP_ID,
                event=event,
                expect=DocumentReceived,
                handler=extractor.handle,
                publisher=publisher,
                settings=settings,
            )

    @app.task
    async def warm_workers() -> None:
        await asyncio.to_thread(extractor.pool.warm)

    return app
