"""extract's Kafka side: ``documents.received`` -> ``segments.extracted`` + ``documents.extracted``.

One received document through extraction to events: segments first, then the document summary.

Failures become ``documents.failed`` (stage "extract") with the engine's error code; only broker
trouble is raised, so ``guarded`` retries it and finally dead-letters the record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import faust
from prometheus_client import Counter, Histogram

from services.extract.engine import EXTRACTOR_VERSION
from services.extract.model import BLOB_MISSING, ExtractionError, ExtractionResult, Limits
from services.extract.sandbox import extract_in_sandbox
from shared.blobstore import InvalidBlobUri, LocalBlobStore
from shared.events import (
    DocumentExtracted,
    DocumentFailed,
    DocumentMetadata,
    DocumentReceived,
    Envelope,
    Section,
    SegmentExtracted,
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
        self.blobs = LocalBlobStore(settings.blob_dir)
        self.topics = topics_for(settings)
        self.limits = limits_for(settings)

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
        await self._publish_result(doc.id, result)
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
        try:
            path = self.blobs.path_for(doc.blob_uri)
        except InvalidBlobUri as exc:
            raise ExtractionError(
                BLOB_MISSING, f"the blob URI {doc.blob_uri!r} is not one this store holds"
            ) from exc
        if not path.is_file():
            raise ExtractionError(BLOB_MISSING, f"no blob at {doc.blob_uri}")
        return extract_in_sandbox(path, self.limits, doc.filename, doc.content_type)

    async def _publish_result(self, document_id: str, result: ExtractionResult) -> None:
        total = len(result.segments)
        items = []
        for seq, seg in enumerate(result.segments):
            payload = SegmentExtracted(
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
            items.append((document_id, make_event(payload, SOURCE, document_id, seq)))
        if items:
            await self.publisher.publish_many(self.topics.segments_extracted, items)
        summary = DocumentExtracted(
            document_id=document_id,
            metadata=DocumentMetadata(**vars(result.metadata)),
            page_count=result.page_count,
            sections=[
                Section(heading_path=s.heading_path, page=s.page, segment_count=s.segment_count)
                for s in result.sections
            ],
            segment_count=total,
            ocr_pages=result.ocr_pages,
            extractor_version=EXTRACTOR_VERSION,
        )
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
    """The faust app with its one agent: each received document is extracted, then acked."""
    app = make_faust_app(APP_ID, settings)
    extractor = Extractor(settings, publisher)

    @app.agent(raw_topic(app, topics_for(settings).documents_received), name=f"{APP_ID}.documents")
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

    return app
