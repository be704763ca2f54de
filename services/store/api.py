"""The JSON query API and the exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.store import schemas
from services.store.exports import csv_chunks, csv_header, export_filename, export_lang, xlsx_report
from services.store.filters import FilterError, parse_segment_filter, segment_filter_params
from services.store.queries import MAX_OFFSET, Queries, SegmentFilter
from services.store.read_cache import cached_read
from services.store.status import Status
from services.store.themes.taxonomy import load_taxonomy
from shared.http import ApiError
from shared.settings import Settings

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
ExportLang = Annotated[str | None, Query(max_length=5, description="Column headers: nb (default) or en")]


async def segment_filter(
    params: Annotated[dict[str, str | None], Depends(segment_filter_params)],
) -> SegmentFilter:
    try:
        return parse_segment_filter(**params)
    except FilterError as exc:
        raise ApiError(422, "invalid_filter", str(exc)) from exc


Filters = Annotated[SegmentFilter, Depends(segment_filter)]


class SegmentPages:
    """``GET /segments`` pages as JSON bytes, cached like the query under them (read_cache.py): a burst of
    the same request serialises the page once, not once per client."""

    def __init__(self, repo: Queries) -> None:
        self.repo = repo
        self.engine = repo.engine

    @cached_read
    def json(self, f: SegmentFilter, limit: int, offset: int) -> bytes:
        total, hits = self.repo.search_segments(f, limit=limit, offset=offset)
        page = schemas.SegmentPage(
            total=total, limit=limit, offset=offset, items=[schemas.hit_out(h) for h in hits]
        )
        return page.model_dump_json().encode("utf-8")


def make_router(repo: Queries) -> APIRouter:
    router = APIRouter()

    @router.get("/documents", response_model=schemas.DocumentPage, tags=["documents"])
    def list_documents(
        status: Status | None = None,
        sender: Annotated[str | None, Query(max_length=500, description="Exact sender name")] = None,
        q: Annotated[str | None, Query(max_length=200, description="Text in filename or title")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> schemas.DocumentPage:
        """Documents, newest first."""
        total, docs, counts = repo.list_documents(
            status=status, sender=sender, q=q, limit=limit, offset=offset
        )
        return schemas.DocumentPage(
            total=total,
            limit=limit,
            offset=offset,
            items=[schemas.summary(d, counts.get(d.id)) for d in docs],
        )

    @router.get("/documents/{document_id}", response_model=schemas.DocumentDetail, tags=["documents"])
    def get_document(document_id: str) -> schemas.DocumentDetail:
        """One document with its status, error, metadata, counts, segments (reading order) and history."""
        view = repo.get_document(document_id)
        if view is None:
            raise ApiError(404, "not_found", f"no document with id {document_id!r}")
        return schemas.detail(view)

    pages = SegmentPages(repo)

    @router.get("/segments", response_model=schemas.SegmentPage, tags=["segments"])
    def search_segments(f: Filters, limit: Limit = 50, offset: Offset = 0) -> Response:
        """Classified segments matching all given filters, newest document first, in reading order."""
        return Response(pages.json(f, limit, offset), media_type="application/json")

    @router.get("/stats", response_model=schemas.Stats, tags=["segments"])
    def stats() -> schemas.Stats:
        """Segments per label overall and per document, documents per status."""
        return schemas.Stats.model_validate(repo.stats())

    @router.get("/export/segments.csv", tags=["exports"], response_class=StreamingResponse)
    def export_csv(f: Filters, lang: ExportLang = None) -> StreamingResponse:
        """Matching segments as CSV (UTF-8 with BOM; formula-like cells neutralised). Column headers in
        Norwegian; ``lang=en`` for the machine names."""
        code = export_lang(lang)
        return StreamingResponse(
            (chunk.encode("utf-8") for chunk in csv_chunks(repo.iter_segments(f), header=csv_header(code))),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export_filename(f, "csv", lang=code)}"'},
        )

    @router.get("/export/segments.xlsx", tags=["exports"], response_class=Response)
    def export_xlsx(request: Request, f: Filters, lang: ExportLang = None) -> Response:
        """Matching segments as an Excel workbook for a report: title, date, sender kind, themes, citation
        and a link back to each segment; autofilter, frozen header, widths, wrapped text (formula-like
        cells neutralised). Column headers in Norwegian; ``lang=en`` for the machine names."""
        code = export_lang(lang)
        names = {t.id: t.name for t in load_taxonomy(Settings().taxonomy).themes}
        return Response(
            xlsx_report(repo.iter_segments(f), lang=code, base_url=str(request.base_url), theme_names=names),
            media_type=XLSX_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{export_filename(f, "xlsx", lang=code)}"'
            },
        )

    return router
