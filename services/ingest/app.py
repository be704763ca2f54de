"""ingest: HTTP upload and watched drop folder -> ``documents.received``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.ingest.multipart_stream import FilePart, UploadDisconnected
from services.ingest.receiver import Receiver
from services.ingest.validation import RejectedUpload
from services.ingest.watcher import DropFolder
from shared.blobstore import BlobStoreUnavailable, S3BlobStore, blob_store_for
from shared.http import error_response, install_common, serve
from shared.kafka import BrokerProbe, BrokerUnavailable, Publisher, ensure_topics
from shared.logging import configure_logging
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


class UploadAccepted(BaseModel):
    document_id: str
    sha256: str
    status: str
    duplicate: bool = False
    #: With ``duplicate``: the earlier upload never finished, so it was sent through the pipeline again.
    redriven: bool = False
    filename: str
    bytes: int
    content_type: str


class ErrorBody(BaseModel):
    error: str
    detail: Any


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _client_of(request: Request) -> str | None:
    return f"{request.client.host}:{request.client.port}" if request.client else None


async def _ensure_topics(settings: Settings) -> None:
    await ensure_topics(settings, timeout_s=10)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    blobs = blob_store_for(settings)
    publisher = Publisher(settings, "innspill-ingest")
    receiver = Receiver(settings, publisher, blobs)
    # Readiness follows the broker; when it answers again the topics are ensured (a memory-only broker
    # that restarted would otherwise auto-create them with the wrong partition counts).
    probe = BrokerProbe(settings, on_up=lambda: _ensure_topics(settings))
    drop = DropFolder(settings.drop_dir, receiver, stable_s=settings.drop_stable_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with contextlib.suppress(BrokerUnavailable):
            await publisher.start(timeout_s=10)  # a missing broker is retried per request
        if isinstance(blobs, S3BlobStore):
            try:
                await asyncio.to_thread(blobs.ensure_bucket)
            except Exception as exc:  # retried per request; uploads answer 503 until it is reachable
                log.warning("blob store not reachable at start", extra={"error": str(exc)})
        probe.start()
        stop = asyncio.Event()
        watcher = asyncio.create_task(drop.run(stop))
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(watcher, timeout=5)
            await probe.stop()
            await publisher.stop()

    app = FastAPI(title="innspill ingest", version="1", lifespan=lifespan)
    install_common(app, settings, health=lambda: {"broker": probe.ok})

    @app.post(
        "/documents",
        status_code=202,
        response_model=UploadAccepted,
        openapi_extra=_UPLOAD_BODY,
        responses={
            200: {"model": UploadAccepted, "description": "The same bytes were accepted before"},
            400: {"model": ErrorBody},
            401: {"model": ErrorBody},
            403: {"model": ErrorBody},
            413: {"model": ErrorBody},
            415: {"model": ErrorBody},
            503: {"model": ErrorBody},
        },
        tags=["documents"],
    )
    async def upload(request: Request) -> JSONResponse:
        """Upload one PDF or .docx in the multipart field ``file``."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
            return error_response(
                413, "too_large", f"file exceeds the limit of {settings.max_upload_bytes} bytes"
            )
        try:
            part = FilePart(request)
            receipt = await receiver.accept_stream(part.chunks(), lambda: part.filename, source="http")
        except RejectedUpload as exc:
            return error_response(exc.status, exc.error, exc.detail)
        except UploadDisconnected as exc:
            log.info("client disconnected mid-upload", extra={"client": _client_of(request)})
            return error_response(400, "client_disconnected", str(exc))
        except BrokerUnavailable as exc:
            return error_response(503, "broker_unavailable", str(exc), {"Retry-After": "10"})
        except BlobStoreUnavailable as exc:
            log.warning("blob store unavailable", extra={"error": str(exc)})
            return error_response(503, "blob_store_unavailable", str(exc), {"Retry-After": "10"})
        body = UploadAccepted(
            document_id=receipt.document_id,
            sha256=receipt.sha256,
            status="redriven" if receipt.redriven else "duplicate" if receipt.duplicate else "received",
            duplicate=receipt.duplicate,
            redriven=receipt.redriven,
            filename=receipt.filename,
            bytes=receipt.bytes,
            content_type=receipt.content_type,
        )
        return JSONResponse(body.model_dump(), status_code=200 if receipt.duplicate else 202)

    return app


def main() -> None:
    settings = get_settings()
    configure_logging("ingest", settings.log_level)
    serve(create_app(settings), settings, settings.ingest_port)
