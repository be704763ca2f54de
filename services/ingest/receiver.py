"""Accepting a document: stream to a temp file with a size cap, hash, sniff, store once, publish once.

HTTP uploads and the drop folder both go through :class:`Receiver`, so both follow the same rules.
A document counts as accepted only after ``documents.received`` was acknowledged by the broker; then a
receipt (:mod:`shared.receipts`) is stored in the blob store and the same bytes are reported as a
duplicate from then on.

Backpressure: at most ``ingest_max_concurrent`` documents are spooled and stored at once; further uploads
wait for a slot (their bodies stay in the socket buffers) instead of being refused, so a burst neither
exhausts memory or file handles nor turns work away that could be queued.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge

from services.ingest.validation import RejectedUpload, sanitize_filename, sniff_content_type
from shared.blobstore import BlobStore, BlobStoreUnavailable
from shared.events import DocumentReceived, Envelope, make_event, utcnow
from shared.filetypes import HEAD_BYTES
from shared.ids import document_id_for
from shared.kafka import BrokerUnavailable, Publisher
from shared.receipts import Receipt, read_receipt, write_receipt
from shared.settings import Settings
from shared.topics import topics_for

log = logging.getLogger(__name__)

ACCEPTED = Counter("innspill_ingest_documents_total", "Documents handled by ingest", ["source", "outcome"])
WAITING = Gauge("innspill_ingest_waiting", "Uploads waiting for a free slot")

__all__ = ["Receipt", "Receiver"]

T = TypeVar("T")


async def _blob_call(fn: Callable[..., T], *args: Any) -> T:
    """A blocking blob store call in a thread; any failure of the store becomes BlobStoreUnavailable."""
    try:
        return await asyncio.to_thread(fn, *args)
    except (RejectedUpload, BlobStoreUnavailable):
        raise
    except Exception as exc:
        raise BlobStoreUnavailable(f"blob store failed: {exc}") from exc


class Receiver:
    def __init__(self, settings: Settings, publisher: Publisher, blobs: BlobStore) -> None:
        self.settings = settings
        self.publisher = publisher
        self.blobs = blobs
        self.topic = topics_for(settings).documents_received
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._slots = asyncio.Semaphore(max(1, settings.ingest_max_concurrent))

    async def accept_stream(
        self, chunks: AsyncIterator[bytes], filename: str | Callable[[], str | None] | None, source: str
    ) -> Receipt:
        """Spool ``chunks`` to disk, refusing as soon as the size limit is passed (413).

        ``filename`` may be a callable: a streamed multipart part only knows its name once reading began.
        """
        WAITING.inc()
        try:
            await self._slots.acquire()
        finally:
            WAITING.dec()
        try:
            return await self._spool_and_accept(chunks, filename, source)
        finally:
            self._slots.release()

    async def _spool_and_accept(
        self, chunks: AsyncIterator[bytes], filename: str | Callable[[], str | None] | None, source: str
    ) -> Receipt:
        limit = self.settings.max_upload_bytes
        tmp = self.blobs.new_temp_path()
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with open(tmp, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise RejectedUpload(413, "too_large", f"file exceeds the limit of {limit} bytes")
                    if len(head) < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            name = filename() if callable(filename) else filename
            return await self._accept_file(tmp, digest.hexdigest(), size, head, name, source)
        finally:
            tmp.unlink(missing_ok=True)

    async def _accept_file(
        self, tmp: Path, sha256: str, size: int, head: bytes, filename: str | None, source: str
    ) -> Receipt:
        if size == 0:
            raise RejectedUpload(400, "empty_file", "the uploaded file is empty")
        content_type = sniff_content_type(head, tmp)
        name = sanitize_filename(filename)
        doc_id = document_id_for(sha256)
        lock, users = self._locks.get(sha256, (asyncio.Lock(), 0))
        self._locks[sha256] = (lock, users + 1)
        try:
            async with lock:
                stored = await _blob_call(read_receipt, self.blobs, sha256)
                if stored is not None:
                    return await self._duplicate(stored, name, source)
                uri = await _blob_call(self.blobs.put_file, tmp, sha256)
                received_at = utcnow()
                event = make_event(
                    DocumentReceived(
                        id=doc_id,
                        filename=name,
                        sha256=sha256,
                        bytes=size,
                        content_type=content_type,
                        blob_uri=uri,
                        source=source,
                        received_at=received_at,
                    ),
                    "innspill/ingest",
                    doc_id,
                )
                await self._publish(doc_id, event)
                receipt = Receipt(
                    doc_id,
                    sha256,
                    name,
                    size,
                    content_type,
                    duplicate=False,
                    event_id=event.id,
                    source=source,
                    received_at=received_at.isoformat(),
                )
                await _blob_call(write_receipt, self.blobs, receipt)
        finally:
            lock, users = self._locks[sha256]
            if users <= 1:
                del self._locks[sha256]
            else:
                self._locks[sha256] = (lock, users - 1)
        ACCEPTED.labels(source, "accepted").inc()
        log.info("document accepted", extra={"document_id": doc_id, "source": source, "bytes": size})
        return receipt

    async def _duplicate(self, stored: Receipt, name: str, source: str) -> Receipt:
        """The same bytes again. If the store has no final status for the document (it never finished, or
        its event was lost with a memory-only broker), ``documents.received`` is published again from the
        stored blob (idempotent: same ids) and the answer says ``redriven``. When the store cannot be
        asked, the answer is a plain duplicate (the store's sweeper re-drives it later anyway)."""
        status = await self._store_status(stored.document_id)
        redrive = status in ("received", "extracted", "unknown")
        if redrive:
            event = make_event(
                stored.replayed(self.blobs.uri_for(stored.sha256), utcnow()),
                "innspill/ingest",
                stored.document_id,
                "redrive",
                utcnow().isoformat(),
            )
            await self._publish(stored.document_id, event)
            log.info(
                "unfinished duplicate re-driven", extra={"document_id": stored.document_id, "status": status}
            )
        ACCEPTED.labels(source, "redriven" if redrive else "duplicate").inc()
        return Receipt(
            stored.document_id, stored.sha256, name, stored.bytes, stored.content_type, duplicate=True,
            redriven=redrive,
        )  # fmt: skip

    async def _store_status(self, document_id: str) -> str | None:
        """The document's status in the store, ``"unknown"`` when the store has no such document, ``None``
        when the store does not answer."""
        import httpx

        s = self.settings
        base = (
            s.store_url
            or f"http://{s.host if s.host not in ('0.0.0.0', '::') else '127.0.0.1'}:{s.store_port}"
        )
        headers = {"Authorization": f"Bearer {s.token}"} if s.token else {}
        try:
            async with httpx.AsyncClient(timeout=3.0, headers=headers) as client:
                resp = await client.get(f"{base.rstrip('/')}/documents/{document_id}")
        except httpx.HTTPError:
            return None
        if resp.status_code == 404:
            return "unknown"
        if resp.status_code != 200:
            return None
        status = resp.json().get("status")
        return str(status) if status else None

    async def _publish(self, key: str, event: Envelope[Any]) -> None:
        """Publish with a bounded wait; an unreachable broker becomes :class:`BrokerUnavailable`."""
        try:
            await self.publisher.start(timeout_s=10)
            await asyncio.wait_for(self.publisher.publish(self.topic, key, event), timeout=15)
        except (TimeoutError, BrokerUnavailable, OSError) as exc:
            raise BrokerUnavailable(f"broker {self.settings.kafka_bootstrap} unreachable") from exc
