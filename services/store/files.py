"""``GET /documents/{id}/file``: the original bytes of a document, streamed from the blob store with the
content type ingest recorded, so the UI can open a PDF at a page (``…/file#page=N``)."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from services.store.models import Document
from services.store.queries import Queries
from shared.blobstore import (
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    InvalidBlobUri,
    blob_store_for,
    iter_chunks,
)
from shared.http import ApiError
from shared.settings import Settings

#: Types served inline; anything else is sent as a download (never rendered by the browser as a page).
INLINE_TYPES = ("application/pdf", "text/plain", "image/png", "image/jpeg")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def content_disposition(filename: str | None, inline: bool) -> str:
    """RFC 6266 header with an ASCII fallback and the UTF-8 name («høringssvar.pdf»)."""
    name = filename or "dokument"
    fallback = _SAFE_NAME.sub("_", name).strip() or "dokument"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def make_files_router(repo: Queries, settings: Settings) -> APIRouter:
    router = APIRouter()
    store: BlobStore = blob_store_for(settings)

    @router.get(
        "/documents/{document_id}/file",
        tags=["documents"],
        response_class=StreamingResponse,
        responses={404: {"description": "No such document, or its bytes are not in the blob store"}},
    )
    def document_file(document_id: str) -> StreamingResponse:
        """The original bytes of a document with its content type (PDFs inline, so ``#page=N`` works)."""
        with Session(repo.engine) as s:
            doc = s.get(Document, document_id)
        if doc is None:
            raise ApiError(404, "not_found", f"no document with id {document_id!r}")
        if not doc.blob_uri:
            raise ApiError(404, "file_not_found", "the store has not seen this document's bytes yet")
        try:
            size = store.size(doc.blob_uri)
            fh = store.open(doc.blob_uri)
        except (BlobNotFound, InvalidBlobUri) as exc:
            raise ApiError(
                404, "file_not_found", f"the original file is not in the blob store: {exc}"
            ) from exc
        except BlobStoreUnavailable as exc:
            raise ApiError(503, "blob_store_unavailable", str(exc)) from exc

        ctype = (doc.content_type or "application/octet-stream").split(";")[0].strip().lower()
        inline = ctype in INLINE_TYPES
        return StreamingResponse(
            iter_chunks(fh),
            media_type=ctype if inline else "application/octet-stream",
            headers={
                "Content-Disposition": content_disposition(doc.filename, inline),
                "Content-Length": str(size),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, max-age=3600",
            },
        )

    return router
