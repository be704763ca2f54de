"""Accepting a document: stream to a temp file with a size cap, hash, sniff, store once, publish once.

HTTP uploads and the drop folder both go through :class:`Receiver`, so both follow the same rules.
A document counts as accepted only after ``documents.received`` was acknowledged by the broker; then a
small receipt is written beside the blob and the same bytes are reported as a duplicate from then on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from prometheus_client import Counter

from services.ingest.validation import RejectedUpload, sanitize_filename, sniff_content_type
from shared.blobstore import LocalBlobStore
from shared.events import DocumentReceived, make_event, utcnow
from shared.ids import document_id_for
from shared.kafka import BrokerUnavailable, Publisher
from shared.settings import Settings
from shared.topics import topics_for

log = logging.getLogger(__name__)

ACCEPTED = Counter("innspill_ingest_documents_total", "Documents handled by ingest", ["source", "outcome"])


@dataclass(frozen=True)
class Receipt:
    document_id: str
    sha256: str
    filename: str
    bytes: int
    content_type: str
    duplicate: bool


class Receiver:
    def __init__(self, settings: Settings, publisher: Publisher, blobs: LocalBlobStore) -> None:
        self.settings = settings
        self.publisher = publisher
        self.blobs = blobs
        self.topic = topics_for(settings).documents_received
        self._locks: dict[str, asyncio.Lock] = {}

    def _receipt_path(self, sha256: str) -> Path:
        return self.blobs.path_for(self.blobs.uri_for(sha256)).with_suffix(".received.json")

    async def accept_stream(
        self, chunks: AsyncIterator[bytes], filename: str | Callable[[], str | None] | None, source: str
    ) -> Receipt:
        """Spool ``chunks`` to disk, refusing as soon as the size limit is passed (413).

        ``filename`` may be a callable: a streamed multipart part only knows its name once reading began.
        """
        limit = self.settings.max_upload_bytes
        tmp = self.blobs.new_temp_path()
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with open(tmp, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise RejectedUpload(413, "too_large", f"file exceeds the limit of {limit} bytes")
                    if len(head) < 1024:
                        head += chunk[: 1024 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            name = filename() if callable(filename) else filename
            return await self._accept_file(tmp, digest.hexdigest(), size, head, name, source)
        finally:
            tmp.unlink(missing_ok=True)

    async def accept_path(self, path: Path, source: str) -> Receipt:
        async def chunks() -> AsyncIterator[bytes]:
            with open(path, "rb") as fh:
                while block := fh.read(1 << 20):
                    yield block

        return await self.accept_stream(chunks(), path.name, source)

    async def _accept_file(
        self, tmp: Path, sha256: str, size: int, head: bytes, filename: str | None, source: str
    ) -> Receipt:
        if size == 0:
            raise RejectedUpload(400, "empty_file", "the uploaded file is empty")
        content_type = sniff_content_type(head, tmp)
        name = sanitize_filename(filename)
        doc_id = document_id_for(sha256)
        lock = self._locks.setdefault(sha256, asyncio.Lock())
        async with lock:
            receipt_file = self._receipt_path(sha256)
            if receipt_file.is_file():
                ACCEPTED.labels(source, "duplicate").inc()
                return Receipt(doc_id, sha256, name, size, content_type, duplicate=True)
            uri = self.blobs.put_file(tmp, sha256)
            event = make_event(
                DocumentReceived(
                    id=doc_id,
                    filename=name,
                    sha256=sha256,
                    bytes=size,
                    content_type=content_type,
                    blob_uri=uri,
                    source=source,
                    received_at=utcnow(),
                ),
                "innspill/ingest",
                doc_id,
            )
            await self._publish(doc_id, event)
            receipt = Receipt(doc_id, sha256, name, size, content_type, duplicate=False)
            receipt_file.write_text(json.dumps({**asdict(receipt), "event_id": event.id}))
        self._locks.pop(sha256, None)
        ACCEPTED.labels(source, "accepted").inc()
        log.info("document accepted", extra={"document_id": doc_id, "source": source, "bytes": size})
        return receipt

    async def _publish(self, key: str, event: object) -> None:
        """Publish with a bounded wait; an unreachable broker becomes :class:`BrokerUnavailable`."""
        try:
            await self.publisher.start(timeout_s=10)
            await asyncio.wait_for(self.publisher.publish(self.topic, key, event), timeout=15)  # type: ignore[arg-type]
        except (TimeoutError, BrokerUnavailable, OSError) as exc:
            raise BrokerUnavailable(f"broker {self.settings.kafka_bootstrap} unreachable") from exc
