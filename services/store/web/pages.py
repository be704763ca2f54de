"""The analyst web UI: server-rendered pages (Jinja2, autoescaped) over the same repository as the API.

Every value from a letter is rendered through autoescaping, so a PDF containing markup shows as text.
When an API token is configured, browsers log in once through a form that stores the token in an
HttpOnly cookie (``innspill_token``), which shared.http accepts like a bearer header.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from services.store.filters import FilterError, parse_segment_filter, segment_filter_params
from services.store.queries import MAX_OFFSET, Queries
from services.store.status import STATUSES
from shared.events import LABELS
from shared.http import token_matches
from shared.settings import Settings

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_FILES = ("/static/store.css", "/static/store.js")
LOGIN_PATH = "/login"
COOKIE = "innspill_token"
COOKIE_MAX_AGE_S = 12 * 3600
PAGE_SIZE = 50

LABEL_NAMES = {"challenge": "utfordring", "measure": "tiltak", "example": "eksempel", "other": "annet"}

#: Sent with every page: no inline scripts, nothing loaded from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _format_dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") + " UTC" if value else "—"


def _format_size(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} MB"


def highlight(text: str, q: str | None) -> Markup:
    """``text`` escaped, with case-insensitive matches of ``q`` wrapped in ``<mark>``."""
    if not q:
        return escape(text)
    pieces = re.split(f"({re.escape(q)})", text, flags=re.IGNORECASE)
    # re.split with one group alternates: plain, match, plain, match, ...
    return Markup("").join(
        Markup("<mark>%s</mark>") % p if i % 2 else escape(p) for i, p in enumerate(pieces)
    )


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(LABELS=LABELS, LABEL_NAMES=LABEL_NAMES, STATUSES=STATUSES)
    env.filters["dt"] = _format_dt
    env.filters["filesize"] = _format_size
    env.filters["highlight"] = highlight
    return Jinja2Templates(env=env)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _page_urls(
    path: str, params: dict[str, Any], offset: int, limit: int, total: int
) -> tuple[str | None, str | None]:
    def url(off: int) -> str:
        query = {k: v for k, v in params.items() if v} | ({"offset": off} if off else {})
        return path + ("?" + urlencode(query) if query else "")

    prev_url = url(max(offset - limit, 0)) if offset > 0 else None
    next_url = url(offset + limit) if offset + limit < total else None
    return prev_url, next_url


def is_ui_page(path: str) -> bool:
    return path == "/" or path.startswith("/ui/")


def install_ui(app: FastAPI, repo: Queries, settings: Settings) -> None:
    """Mount the static files, the pages, the login form and the browser redirect to it."""
    templates = make_templates()
    token = settings.token
    auth_enabled = bool(token)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("auth_enabled", auth_enabled)
        context.setdefault("nav", "")
        return templates.TemplateResponse(
            request, name, context, status_code=status_code, headers=SECURITY_HEADERS
        )

    @app.middleware("http")
    async def _login_redirect(request: Request, call_next: Any) -> Response:
        # Browsers without the token are sent to the login form instead of getting a JSON 401.
        if (
            token
            and request.method == "GET"
            and is_ui_page(request.url.path)
            and not token_matches(request, token)
        ):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
        return await call_next(request)

    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def documents_page(
        request: Request,
        status: str | None = None,
        sender: str | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> HTMLResponse:
        error = None
        if status and status not in STATUSES:
            error, status = f"Unknown status {status!r}; showing all documents.", None
        total, docs, counts = repo.list_documents(
            status=status or None, sender=sender or None, q=q or None, limit=PAGE_SIZE, offset=offset
        )
        filters = {"status": status, "sender": sender, "q": q}
        prev_url, next_url = _page_urls("/", filters, offset, PAGE_SIZE, total)
        return render(
            request,
            "documents.html",
            400 if error else 200,
            nav="documents",
            docs=docs,
            counts=counts,
            total=total,
            offset=offset,
            limit=PAGE_SIZE,
            prev_url=prev_url,
            next_url=next_url,
            error=error,
            filters=filters,
            senders=repo.senders(),
            status_counts=repo.status_counts(),
            pending=any(d.status in ("received", "extracted") for d in docs),
        )

    @router.get("/ui/documents/{document_id}", response_class=HTMLResponse)
    def document_page(request: Request, document_id: str) -> HTMLResponse:
        view = repo.get_document(document_id)
        if view is None:
            return render(
                request, "not_found.html", 404, message=f"There is no document with id {document_id}."
            )
        return render(
            request,
            "document.html",
            nav="documents",
            doc=view.document,
            segments=view.segments,
            counts=view.label_counts,
            history=view.history,
        )

    @router.get("/ui/segments", response_class=HTMLResponse)
    def segments_page(
        request: Request,
        params: Annotated[dict[str, str | None], Depends(segment_filter_params)],
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> HTMLResponse:
        error = None
        try:
            f = parse_segment_filter(**params)
        except FilterError as exc:
            error = f"{str(exc).capitalize()}; showing all labels."
            f = parse_segment_filter(**{**params, "label": None})
        total, hits = repo.search_segments(f, limit=PAGE_SIZE, offset=offset)
        params = f.as_params()
        prev_url, next_url = _page_urls("/ui/segments", params, offset, PAGE_SIZE, total)
        return render(
            request,
            "segments.html",
            400 if error else 200,
            nav="segments",
            hits=hits,
            total=total,
            offset=offset,
            limit=PAGE_SIZE,
            prev_url=prev_url,
            next_url=next_url,
            filters=f,
            error=error,
            export_query=("?" + urlencode(params)) if params else "",
            senders=repo.senders(),
            documents=repo.document_choices(),
        )

    @router.get("/ui/stats", response_class=HTMLResponse)
    def stats_page(request: Request) -> HTMLResponse:
        return render(request, "stats.html", nav="stats", stats=repo.stats())

    @router.get(LOGIN_PATH, response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        if not auth_enabled:
            return RedirectResponse(safe_next(next), status_code=303)
        return render(request, "login.html", next=safe_next(next), error=None, auth_enabled=False)

    @router.post(LOGIN_PATH, response_class=HTMLResponse)
    def login(
        request: Request,
        token_given: Annotated[str, Form(alias="token", max_length=1000)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        target = safe_next(next)
        if not auth_enabled:
            return RedirectResponse(target, status_code=303)
        assert token is not None
        if not token_given or not hmac.compare_digest(token_given.encode(), token.encode()):
            return render(
                request, "login.html", 401, next=target, error="That token is not right.", auth_enabled=False
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse(LOGIN_PATH if auth_enabled else "/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    app.include_router(router)


def public_paths() -> tuple[str, ...]:
    """Paths the login form needs before the browser has a token."""
    return (LOGIN_PATH, *STATIC_FILES)
