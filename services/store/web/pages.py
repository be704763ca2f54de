"""The analyst web UI: server-rendered pages (Jinja2, autoescaped) over the same repository as the API.

Every value from a letter is rendered through autoescaping, so a PDF containing markup shows as text.
When an API token is configured, browsers log in once through a form that sets a signed, timed session
cookie (``innspill_session``, HttpOnly; never the token itself), which shared.http accepts like a bearer
header. Failed logins count towards the per-client limit of shared.http (429 with Retry-After).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from services.store import search
from services.store.filters import FilterError, parse_segment_filter, segment_filter_params
from services.store.queries import MAX_OFFSET, Queries, SegmentFilter
from services.store.status import IN_PROGRESS, STATUSES
from services.store.themes.taxonomy import load_taxonomy
from services.store.web import norwegian as nb
from services.store.web.knowledge import KNOWLEDGE_STATIC, install_knowledge
from shared.events import LABELS, SENDER_KINDS
from shared.http import (
    SESSION_COOKIE,
    ApiError,
    auth_blocked,
    record_auth_failure,
    session_cookie,
    session_key,
    token_equal,
    token_matches,
)
from shared.settings import Settings

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_FILES = ("/static/store.css", "/static/store.js")
LOGIN_PATH = "/login"
COOKIE = SESSION_COOKIE
COOKIE_MAX_AGE_S = 12 * 3600
PAGE_SIZE = 50
#: Rows of the overview's per-document table (the newest; the documents page lists them all).
STATS_ROWS = 100

LABEL_NAMES = nb.LABEL_NAMES
#: Upload page: the files go to ingest through the store (``POST /ui/upload``), streamed.
UPLOAD_PATH = "/ui/upload"
#: Norwegian messages for ingest's error codes (the upload page shows them per file).
UPLOAD_ERRORS = {
    "empty_file": "Filen er tom.",
    "unsupported_type": "Filtypen støttes ikke. Last opp PDF eller Word (.docx).",
    "too_large": "Filen er for stor.",
    "missing_file": "Ingen fil kom med i opplastingen.",
    "multiple_files": "Send én fil per opplasting.",
    "malformed_multipart": "Opplastingen var ikke riktig formatert.",
    "truncated_body": "Opplastingen ble avbrutt før hele filen kom fram.",
    "invalid_request": "Opplastingen ble avvist som ugyldig.",
    "client_disconnected": "Forbindelsen ble brutt under opplastingen.",
    "broker_unavailable": "Køen er midlertidig utilgjengelig. Prøv igjen om litt.",
    "blob_store_unavailable": "Fillageret er midlertidig utilgjengelig. Prøv igjen om litt.",
    "ingest_unavailable": "Mottakstjenesten svarer ikke. Prøv igjen om litt.",
    "unauthorized": "Du er ikke logget inn.",
    "forbidden": "Tilgang nektet.",
    "too_many_attempts": "For mange forsøk. Vent litt og prøv igjen.",
}

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
    return nb.date_time(value)


def _format_size(n: int | None) -> str:
    return nb.file_size(n)


def highlight(text: str, q: str | None) -> Markup:
    """``text`` escaped, with the words that the search ``q`` matched (any inflection) in ``<mark>``."""
    return search.highlight(text, q)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        LABELS=LABELS,
        LABEL_NAMES=LABEL_NAMES,
        LABEL_PLURALS=nb.LABEL_PLURALS,
        STATUSES=STATUSES,
        IN_PROGRESS=IN_PROGRESS,
        STATUS_NAMES=nb.STATUS_NAMES,
        SENDER_KINDS=SENDER_KINDS,
        SENDER_KIND_NAMES=nb.SENDER_KIND_NAMES,
        SEGMENT_KIND_NAMES=nb.SEGMENT_KIND_NAMES,
        UPLOAD_ERRORS=UPLOAD_ERRORS,
        STAGE_NAMES=nb.STAGE_NAMES,
        citation=nb.citation,
        history_detail=nb.history_detail,
        is_compact=nb.is_compact,
        THEME_NAMES=dict(taxonomy_themes()),
        STATS_ROWS=STATS_ROWS,
    )
    env.filters["dt"] = _format_dt
    env.filters["filesize"] = _format_size
    env.filters["highlight"] = highlight
    env.filters["long_date"] = nb.long_date
    env.filters["short_date"] = nb.short_date
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

    async def _login_redirect(request: Request, call_next: Any) -> Response:
        # Browsers without the token are sent to the login form instead of getting a JSON 401.
        if (
            request.method == "GET"
            and is_ui_page(request.url.path)
            and not token_matches(request, token, session_key(settings))
        ):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
        return await call_next(request)

    if token:  # without a token there is no login: no middleware on every request's path
        app.middleware("http")(_login_redirect)

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
            error, status = f"Ukjent status «{status}»; viser alle dokumenter.", None
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
            pending=any(d.status in IN_PROGRESS for d in docs),
        )

    @router.get("/ui/documents/{document_id}", response_class=HTMLResponse)
    def document_page(
        request: Request, document_id: str, annet: Annotated[str | None, Query(max_length=3)] = None
    ) -> HTMLResponse:
        view = repo.get_document(document_id)
        if view is None:
            return render(
                request, "not_found.html", 404, message=f"Det finnes ikke noe dokument med id {document_id}."
            )
        return render(
            request,
            "document.html",
            nav="documents",
            doc=view.document,
            segments=view.segments,
            counts=view.label_counts,
            history=view.history,
            show_other=annet == "vis",
            toggle_url=f"/ui/documents/{quote(document_id, safe='')}"
            + ("" if annet == "vis" else "?annet=vis"),
        )

    @router.get("/ui/segments", response_class=HTMLResponse)
    def segments_page(
        request: Request,
        params: Annotated[dict[str, str | None], Depends(segment_filter_params)],
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        annet: Annotated[str | None, Query(max_length=3)] = None,
    ) -> HTMLResponse:
        error = notice = None
        # «annet» (letterhead, greetings, signatures) is hidden unless asked for (annet=vis) or chosen.
        show_other = annet == "vis" or params.get("label") == "other"
        params = {**params, "hide_other": None if show_other else "true"}
        try:
            f = parse_segment_filter(**params)
        except FilterError as exc:
            error = f"Ugyldig filter ({exc}); viser alle kategorier."
            clean = {k: v for k, v in params.items() if k in ("q", "sender", "document_id", "hide_other")}
            f = parse_segment_filter(**clean)
        typed = (params.get("q") or "").strip()
        if typed and not f.q:
            notice = f"Søket «{typed}» inneholder ingen ord å søke etter; viser alle segmenter."
        total, hits = repo.search_segments(f, limit=PAGE_SIZE, offset=offset)
        active = f.as_params()
        view_params = {k: v for k, v in active.items() if k != "hide_other"} | (
            {"annet": "vis"} if show_other else {}
        )
        prev_url, next_url = _page_urls("/ui/segments", view_params, offset, PAGE_SIZE, total)
        toggle_params = {k: v for k, v in view_params.items() if k != "annet"} | (
            {} if show_other else {"annet": "vis"}
        )
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
            notice=notice,
            export_query=("?" + urlencode(active)) if active else "",
            senders=repo.senders(),
            documents=repo.document_choices(),
            themes=taxonomy_themes(),
            show_other=show_other,
            toggle_url="/ui/segments" + ("?" + urlencode(toggle_params) if toggle_params else ""),
            filter_fields=SegmentFilterFields,
        )

    @router.get(UPLOAD_PATH, response_class=HTMLResponse)
    def upload_page(request: Request) -> HTMLResponse:
        return render(
            request, "upload.html", nav="upload", max_bytes=settings.max_upload_bytes, upload_path=UPLOAD_PATH
        )

    @router.post(UPLOAD_PATH)
    async def upload_forward(request: Request) -> Response:
        """Stream one multipart upload (field ``file``) on to ingest's ``POST /documents`` and answer with
        ingest's own status and JSON; the size limit holds here too, and the token travels along."""
        limit = settings.max_upload_bytes + 64 * 1024
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            raise ApiError(413, "too_large", f"file exceeds the limit of {settings.max_upload_bytes} bytes")
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            raise ApiError(
                415, "unsupported_type", "send the file as multipart/form-data in the field 'file'"
            )
        headers = {"content-type": ctype}
        if length:
            headers["content-length"] = length
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0)) as client:
                resp = await client.post(
                    f"{ingest_url(settings)}/documents", content=request.stream(), headers=headers
                )
        except httpx.HTTPError as exc:
            raise ApiError(503, "ingest_unavailable", f"ingest did not answer: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = {"error": "ingest_error", "detail": resp.text[:500]}
        return JSONResponse(body, status_code=resp.status_code)

    @router.get("/ui/stats", response_class=HTMLResponse)
    def stats_page(request: Request) -> HTMLResponse:
        return render(request, "stats.html", nav="stats", stats=repo.stats(documents_limit=STATS_ROWS))

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
        if (blocked := auth_blocked(request)) is not None:
            return blocked
        if not token_equal(token_given, token):
            record_auth_failure(request)
            return render(
                request, "login.html", 401, next=target, error="Tilgangsnøkkelen er feil.", auth_enabled=False
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            session_cookie(settings),
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
    install_knowledge(app, repo, settings, templates, SECURITY_HEADERS, auth_enabled)


def ingest_url(settings: Settings) -> str:
    """Where uploads go: ``INNSPILL_INGEST_URL``, else ingest on this host at its port."""
    if settings.ingest_url:
        return settings.ingest_url.rstrip("/")
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{settings.ingest_port}"


def taxonomy_themes() -> list[tuple[str, str]]:
    """(id, name) of every theme of the configured taxonomy, for the theme filter."""
    try:
        return [(t.id, t.name) for t in load_taxonomy(Settings().taxonomy).themes]
    except (OSError, ValueError, KeyError):
        return []


#: The filter fields this store's SegmentFilter knows (the page renders a control for each one present).
SegmentFilterFields = frozenset(f.name for f in dataclasses.fields(SegmentFilter))


def public_paths() -> tuple[str, ...]:
    """Paths the login form needs before the browser has a token."""
    return (LOGIN_PATH, *STATIC_FILES, *KNOWLEDGE_STATIC)
