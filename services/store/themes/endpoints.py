"""``GET /themes`` and the taxonomy."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.store.api import XLSX_TYPE
from services.store.corrections.service import publish_correction, user_of
from services.store.exports import points_csv, points_xlsx
from services.store.filters import FilterError, check_choices
from services.store.repository import Repository
from services.store.themes.points import NotAMember, PointNotFound, PointStore, SamePoint
from services.store.themes.repository import ThemeCounts
from services.store.themes.taxonomy import load_taxonomy
from shared.events import PointExcluded, PointNamed, PointsMerged, make_event
from shared.http import ApiError
from shared.kafka import Publisher
from shared.settings import Settings


@dataclass(frozen=True)
class PointFilter:
    """Which points to list: a theme, a label, the least number of senders, a sender kind."""

    theme: str | None
    label: str | None
    min_senders: int
    sender_kind: str | None


def point_filter(
    request: Request,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[str | None, Query(max_length=16)] = None,
    min_senders: Annotated[int, Query(ge=1, le=10_000)] = 2,
    sender_kind: Annotated[str | None, Query(max_length=32)] = None,
) -> PointFilter:
    """The filters of ``GET /points`` and its exports, checked like the segment filters."""
    try:
        check_choices(label, theme, sender_kind, request.app.state.settings.taxonomy)
    except FilterError as exc:
        raise ApiError(422, "invalid_filter", str(exc)) from exc
    return PointFilter(theme, label, min_senders, sender_kind)


PointFilters = Annotated[PointFilter, Depends(point_filter)]


class ExclusionIn(BaseModel):
    """A quote to take out of a point, and why."""

    segment_id: str = Field(min_length=1, max_length=80)
    note: str = Field(default="", max_length=2000)


class MergeIn(BaseModel):
    """A point to merge into this one, and why."""

    point_id: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)


class NameIn(BaseModel):
    """An analyst's name for a point (null or blank: back to the model's summary), and why."""

    summary: str | None = Field(default=None, max_length=300)
    note: str = Field(default="", max_length=2000)


def make_themes_router(settings: Settings, repo: Repository) -> APIRouter:
    router = APIRouter(tags=["themes"])
    counts = ThemeCounts(repo.engine)

    @router.get("/themes")
    async def themes() -> dict[str, Any]:
        """Per theme of the taxonomy: segments and distinct senders, in total, per label and per sender kind
        (final labels and themes, so corrections count)."""
        taxonomy = load_taxonomy(settings.taxonomy)
        body = await asyncio.to_thread(counts.themes, taxonomy)
        body["taxonomy_version"] = taxonomy.version
        return body

    return router


def make_points_router(
    settings: Settings, repo: Repository, store: PointStore, publisher: Publisher
) -> APIRouter:
    router = APIRouter(tags=["themes"])

    async def _points(f: PointFilter, limit: int | None) -> list[dict[str, Any]]:
        await asyncio.to_thread(store.refresh)
        return await asyncio.to_thread(
            lambda: store.points(
                theme=f.theme,
                label=f.label,
                min_senders=f.min_senders,
                sender_kind=f.sender_kind,
                limit=limit,
            )
        )

    @router.get("/points")
    async def points(
        f: PointFilters, limit: Annotated[int | None, Query(ge=1, le=10_000)] = None
    ) -> dict[str, Any]:
        """Groups of segments from different letters that make the same point, most senders first. New
        letters join the stored points incrementally once the collection is large (a small one is regrouped
        whole); ``POST /points/recompute`` regroups everything."""
        return {"points": await _points(f, limit)}

    @router.post("/points/recompute")
    async def recompute() -> dict[str, Any]:
        """Regroup every segment from scratch (point ids carry over to the most similar new point)."""
        result = await asyncio.to_thread(lambda: store.refresh(full=True))
        return {"mode": result.mode, "points": result.points}

    def made_by(request: Request, note: str) -> dict[str, Any]:
        """Who made a correction of the points, when, and why."""
        return {"note": note or None, "user": user_of(request, settings), "at": datetime.now(UTC)}

    async def take(payload: PointExcluded | PointsMerged | PointNamed, *, regroup: bool) -> dict[str, Any]:
        """Publish an analyst's correction of the points (503 when the broker does not take it: nothing is
        written), store it, and regroup when it changes members; the payload as JSON with its event id."""
        event = make_event(payload, "innspill/store")
        await publish_correction(settings, publisher, payload.document_id, event)
        await asyncio.to_thread(repo.apply, [event])
        if regroup:
            await asyncio.to_thread(store.refresh)
        return {**payload.model_dump(mode="json"), "event_id": event.id}

    @router.post("/points/{point_id}/exclusions")
    async def exclude(point_id: str, body: ExclusionIn, request: Request) -> dict[str, Any]:
        """Take a quote out of a point (an analyst's correction of the grouping). The segment stands alone
        from now on and never again shares a point with the quotes it was taken away from, whatever a
        later regrouping finds. Published to ``segments.corrected`` (a ``PointExcluded`` event) before it
        is stored, so a store rebuilt from the topics keeps it; 503 when the broker does not take it
        (nothing is written then). 404 for an unknown point, 422 when the segment is not one of its quotes
        or is its only one. Who and when: ``GET /points/exclusions``."""
        try:
            document_id, others = await asyncio.to_thread(store.exclusion_of, point_id, body.segment_id)
        except PointNotFound as exc:
            raise ApiError(404, "not_found", f"no point with id {exc.args[0]!r}") from exc
        except NotAMember as exc:
            raise ApiError(422, "not_a_member", str(exc)) from exc
        payload = PointExcluded(
            segment_id=body.segment_id,
            document_id=document_id,
            point_id=point_id,
            apart_from=others,
            **made_by(request, body.note),
        )
        return {"exclusion": await take(payload, regroup=True)}

    @router.post("/points/{point_id}/merges")
    async def merge(point_id: str, body: MergeIn, request: Request) -> dict[str, Any]:
        """Merge another point into this one (an analyst's correction of the grouping: the two make the same
        point). Their quotes share one point from then on, named ``point_id``, whatever a later regrouping
        finds, until an analyst takes a quote out again. Published to ``segments.corrected`` (a
        ``PointsMerged`` event) before it is stored, like an exclusion; 503 when the broker does not take
        it. 404 for an unknown point, 422 for a point merged with itself. Who and when:
        ``GET /points/merges``."""
        try:
            document_id, quotes = await asyncio.to_thread(store.merge_of, point_id, body.point_id)
        except PointNotFound as exc:
            raise ApiError(404, "not_found", f"no point with id {exc.args[0]!r}") from exc
        except SamePoint as exc:
            raise ApiError(422, "same_point", str(exc)) from exc
        payload = PointsMerged(
            point_id=point_id,
            merged_point_id=body.point_id,
            segment_ids=quotes,
            document_id=document_id,
            **made_by(request, body.note),
        )
        return {"merge": await take(payload, regroup=True)}

    @router.patch("/points/{point_id}")
    async def name(point_id: str, body: NameIn, request: Request) -> dict[str, Any]:
        """Name a point in the analyst's own words: ``/points``, the theme page and the exports show the
        name in place of the model's summary (which stays as ``model_summary``) for as long as the point
        lives, through regroupings; ``summary`` null or blank gives it back the model's. Published to
        ``segments.corrected`` (a ``PointNamed`` event) before it is stored; 503 when the broker does not
        take it, 404 for an unknown point. Who and when: ``GET /points/names``."""
        try:
            document_id = await asyncio.to_thread(store.first_document, point_id)
        except PointNotFound as exc:
            raise ApiError(404, "not_found", f"no point with id {exc.args[0]!r}") from exc
        payload = PointNamed(
            point_id=point_id,
            summary=" ".join((body.summary or "").split()) or None,
            document_id=document_id,
            **made_by(request, body.note),
        )
        return {"name": await take(payload, regroup=False)}

    @router.get("/points/names")
    async def names() -> dict[str, Any]:
        """Every name analysts gave a point, newest first: point, name (null: back to the model's), who,
        when, note."""
        return {"names": await asyncio.to_thread(store.names)}

    @router.get("/points/merges")
    async def merges() -> dict[str, Any]:
        """Every merge of two points, newest first: the points, their quotes, who, when, note."""
        return {"merges": await asyncio.to_thread(store.merges)}

    @router.get("/points/exclusions")
    async def exclusions() -> dict[str, Any]:
        """Every quote an analyst took out of a point, newest first: segment, point, who, when, note."""
        return {"exclusions": await asyncio.to_thread(store.exclusions)}

    @router.get("/export/points.csv", tags=["exports"], response_class=Response)
    async def export_points_csv(f: PointFilters) -> Response:
        """Points as CSV: one row per point with its sender count and senders."""
        pts = await _points(f, None)
        return Response(
            points_csv(pts).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="points.csv"'},
        )

    @router.get("/export/points.xlsx", tags=["exports"], response_class=Response)
    async def export_points_xlsx(f: PointFilters) -> Response:
        """Points as an Excel workbook, one sheet per theme."""
        pts = await _points(f, None)
        names = {t.id: t.name for t in load_taxonomy(settings.taxonomy).themes}
        return Response(
            await asyncio.to_thread(points_xlsx, pts, names),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": 'attachment; filename="points.xlsx"'},
        )

    return router
