"""Analyst pages for corrections and knowledge (Norwegian): the review queue, the theme x label matrix and the
theme pages with their points. Registered by :func:`services.store.web.pages.install_ui` with one line.

Corrections from the pages go through the JSON API (``PATCH /segments/{id}``) from ``/static/review.js``; with
auth on, the login cookie is required like for every other path, so only a token holder can correct.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.store.corrections.review import agreement, review_queue, reviewed_pairs
from services.store.queries import Queries
from services.store.themes.points import PointStore
from services.store.themes.repository import ThemeCounts
from services.store.themes.taxonomy import load_taxonomy
from services.store.web.norwegian import SENDER_KIND_NAMES
from shared.events import LABELS, SENDER_KINDS
from shared.settings import Settings

#: Extra static files of these pages (reachable without a token like the others: they hold no data).
KNOWLEDGE_STATIC = ("/static/review.js", "/static/knowledge.css")

REVIEW_PAGE_SIZE = 50
#: How long a theme page waits for the points to be brought up to date before it shows the stored ones
#: with a notice. With nothing new the check returns at once; with new letters in a store of a thousand
#: the page will often show the notice, and a whole regrouping there takes about 20 s.
POINTS_WAIT_S = 0.2

log = logging.getLogger(__name__)


def _ci(entry: dict[str, Any], key: str = "ci95") -> str:
    ci = entry.get(key)
    return f"{ci[0]:.2f}–{ci[1]:.2f}" if ci else ""


def install_knowledge(
    app: FastAPI,
    repo: Queries,
    settings: Settings,
    templates: Jinja2Templates,
    headers: dict[str, str],
    auth_enabled: bool,
) -> None:
    """Add the knowledge pages and the template globals they and the overview use."""
    counts = ThemeCounts(repo.engine)
    points: PointStore = getattr(app.state, "points", None) or PointStore(repo.engine)
    env = templates.env
    env.globals.update(
        SENDER_KINDS=SENDER_KINDS,
        SENDER_KIND_NAMES=SENDER_KIND_NAMES,
        model_agreement=lambda: agreement(reviewed_pairs(repo.engine)),
        ci_text=_ci,
    )

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("auth_enabled", auth_enabled)
        context.setdefault("nav", "")
        return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)

    router = APIRouter(include_in_schema=False)

    @router.get("/ui/review", response_class=HTMLResponse)
    async def review_page(
        request: Request, document_id: Annotated[str | None, Query(max_length=64)] = None
    ) -> HTMLResponse:
        items = await asyncio.to_thread(review_queue, repo.engine, REVIEW_PAGE_SIZE, document_id or None)
        agree = await asyncio.to_thread(lambda: agreement(reviewed_pairs(repo.engine)))
        return render(request, "review.html", nav="review", items=items, agreement=agree)

    @router.get("/ui/themes", response_class=HTMLResponse)
    async def themes_page(
        request: Request, sender_kind: Annotated[str | None, Query(max_length=32)] = None
    ) -> HTMLResponse:
        taxonomy = load_taxonomy(settings.taxonomy)
        error = None
        if sender_kind and sender_kind not in SENDER_KINDS:
            error, sender_kind = f"Ukjent avsendertype «{sender_kind}»; viser alle.", None
        body = await asyncio.to_thread(counts.themes, taxonomy)
        rows = []
        for t in body["themes"]:
            src = t["sender_kinds"].get(sender_kind) if sender_kind else t
            cells = src["labels"] if src else {lb: {"segments": 0, "senders": 0} for lb in LABELS}
            total = (
                {"segments": src["segments"], "senders": src["senders"]}
                if src
                else {"segments": 0, "senders": 0}
            )
            link = {"theme": t["id"], **({"sender_kind": sender_kind} if sender_kind else {})}
            rows.append(
                {"id": t["id"], "name": t["name"], "total": total, "cells": cells, "query": urlencode(link)}
            )
        rows.sort(key=lambda r: (-r["total"]["senders"], -r["total"]["segments"], r["name"]))
        return render(
            request,
            "themes.html",
            400 if error else 200,
            nav="themes",
            rows=rows,
            sender_kind=sender_kind,
            error=error,
        )

    @router.get("/ui/themes/{theme_id}", response_class=HTMLResponse)
    async def theme_page(
        request: Request,
        theme_id: str,
        label: Annotated[str | None, Query(max_length=16)] = None,
        sender_kind: Annotated[str | None, Query(max_length=32)] = None,
        min_senders: Annotated[int, Query(ge=1, le=10_000)] = 2,
    ) -> HTMLResponse:
        taxonomy = load_taxonomy(settings.taxonomy)
        if theme_id not in taxonomy.ids:
            return render(
                request, "not_found.html", 404, message=f"Det finnes ikke noe tema med id {theme_id}."
            )
        label = label if label in LABELS else None
        sender_kind = sender_kind if sender_kind in SENDER_KINDS else None
        refresh = points.refresh_started()
        await asyncio.wait([asyncio.wrap_future(refresh)], timeout=POINTS_WAIT_S)
        updating = not refresh.done()
        if not updating and refresh.exception() is not None:
            log.error("points refresh failed", exc_info=refresh.exception())
        found = await asyncio.to_thread(
            lambda: points.points(
                theme=theme_id, label=label, min_senders=min_senders, sender_kind=sender_kind
            )
        )
        theme = next(t for t in taxonomy.themes if t.id == theme_id)
        query = urlencode(
            {
                k: v
                for k, v in {
                    "theme": theme_id,
                    "label": label,
                    "sender_kind": sender_kind,
                    "min_senders": min_senders,
                }.items()
                if v
            }
        )
        return render(
            request,
            "points.html",
            nav="themes",
            theme=theme,
            points=found,
            label=label,
            sender_kind=sender_kind,
            min_senders=min_senders,
            export_query=query,
            updating=updating,
        )

    app.include_router(router)
