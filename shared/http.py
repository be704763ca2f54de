"""What every HTTP service has in common: JSON errors, bearer-token auth, /healthz, /readyz, /metrics,
serving.

Health: ``/healthz`` is liveness (200 while the process runs, with the details); ``/readyz`` is readiness
(503 while the broker does not answer or the agents do not run). Auth: wrong tokens are counted per client
and, past ``auth_max_failures`` within ``auth_window_s``, every token check from that client answers 429
with ``Retry-After`` until the window has passed. Browsers carry a signed session cookie (itsdangerous,
keyed by ``session_secret`` or a key derived from the token), never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.settings import Settings

log = logging.getLogger(__name__)

#: Paths reachable without a token: liveness and readiness for orchestrators.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})

#: The UI's session cookie: a signed, timed value (see :func:`session_cookie`), never the token.
SESSION_COOKIE = "innspill_session"
SESSION_MAX_AGE_S = 12 * 3600


class ApiError(Exception):
    """An error the client caused or must know about; rendered as ``{error, detail}``."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def error_response(
    status: int, error: str, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def session_key(settings: Settings) -> bytes:
    """The key that signs session cookies: the ``session_secret`` setting, else one derived from the token
    (so changing the token ends every session)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    return hmac.new((settings.token or "").encode(), b"innspill-ui-session-v1", hashlib.sha256).digest()


def _serializer(key: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt="innspill-session")


def session_cookie(settings: Settings, user: str = "analyst") -> str:
    """A signed session value for a browser that logged in with the right token."""
    return _serializer(session_key(settings)).dumps({"u": user})


def session_valid(value: str | None, key: bytes, max_age_s: int = SESSION_MAX_AGE_S) -> bool:
    if not value:
        return False
    try:
        _serializer(key).loads(value, max_age=max_age_s)
    except BadSignature:  # also SignatureExpired
        return False
    return True


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def token_equal(given: str | None, token: str) -> bool:
    """``given`` is the API token: compared in constant time; nothing given never matches. The one check of
    a presented token (bearer header, the UI's login form)."""
    return bool(given) and hmac.compare_digest((given or "").encode(), token.encode())


def token_matches(request: Request, token: str | None, key: bytes | None = None) -> bool:
    """True when no token is configured, or the request carries it as a bearer header, or it carries a
    valid session cookie signed with ``key`` (default: the key derived from the token)."""
    if not token:
        return True
    given = _bearer(request)
    if given:
        return token_equal(given, token)
    if key is None:
        key = session_key(Settings(api_token=token))
    return session_valid(request.cookies.get(SESSION_COOKIE), key)


class FailureLimiter:
    """Failed auth attempts per client in a sliding window; ``retry_after`` > 0 while a client is blocked.
    Remembers at most ``max_clients`` clients (the least recently failing are forgotten first)."""

    def __init__(self, max_failures: int, window_s: float, max_clients: int = 10_000) -> None:
        self.max_failures, self.window_s, self.max_clients = max_failures, window_s, max_clients
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self._fails.get(client, deque())
        while q and now - q[0] >= self.window_s:
            q.popleft()
        return q

    def retry_after(self, client: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        q = self._recent(client, now)
        if len(q) < self.max_failures:
            return 0
        return max(1, int(q[-self.max_failures] + self.window_s - now + 0.999))

    def fail(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        q = self._recent(client, now)
        q.append(now)
        self._fails[client] = q
        self._fails.move_to_end(client)
        while len(self._fails) > self.max_clients:
            self._fails.popitem(last=False)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def too_many_attempts(retry_after: int) -> JSONResponse:
    return error_response(
        429,
        "too_many_attempts",
        f"too many failed attempts; try again in {retry_after} s",
        {"Retry-After": str(retry_after)},
    )


def auth_blocked(request: Request) -> JSONResponse | None:
    """A 429 answer when this client made too many failed attempts lately (for login forms)."""
    limiter: FailureLimiter | None = getattr(request.app.state, "auth_limiter", None)
    wait = limiter.retry_after(client_of(request)) if limiter else 0
    return too_many_attempts(wait) if wait else None


def record_auth_failure(request: Request) -> None:
    limiter: FailureLimiter | None = getattr(request.app.state, "auth_limiter", None)
    if limiter is not None:
        limiter.fail(client_of(request))
        log.warning("failed authentication", extra={"client": client_of(request), "path": request.url.path})


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RejectControlCharacters:
    """ASGI middleware: a query parameter holding a control character (``q=%00``) is answered 422
    ``invalid_request`` before any endpoint sees it; no search, filter or name needs one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            try:
                pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            except ValueError:
                pairs = []
            bad = sorted({k for k, v in pairs if _CONTROL.search(v) or _CONTROL.search(k)})
            if bad:
                detail = [{"loc": ["query", k], "msg": "control characters are not allowed"} for k in bad]
                await error_response(422, "invalid_request", detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def default_ready(health: dict[str, Any]) -> bool:
    """Ready unless the broker is reported unreachable or the agents are reported not running."""
    return health.get("broker") is not False and health.get("consumer", "running") == "running"


def install_common(
    app: FastAPI,
    settings: Settings,
    health: Callable[[], dict[str, Any]] | None = None,
    open_paths: Collection[str] = (),
) -> None:
    """Add JSON error handlers, token auth (when configured), ``/healthz`` and ``/metrics``.

    ``open_paths`` are extra exact paths reachable without a token (e.g. a login form).
    """

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return error_response(exc.status_code, name, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
        return error_response(422, "invalid_request", errors)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", type(exc).__name__)

    token = settings.token
    public = OPEN_PATHS | frozenset(open_paths)
    key = session_key(settings)
    limiter = FailureLimiter(settings.auth_max_failures, settings.auth_window_s)
    app.state.auth_limiter = limiter

    async def _auth(request: Request, call_next: Callable[[Request], Any]) -> Response:
        if token and request.url.path not in public:
            given = _bearer(request)
            if not given and session_valid(request.cookies.get(SESSION_COOKIE), key):
                return await call_next(request)
            if not given:
                return error_response(
                    401, "unauthorized", "missing bearer token", {"WWW-Authenticate": "Bearer"}
                )
            client = client_of(request)
            wait = limiter.retry_after(client)
            if wait:
                return too_many_attempts(wait)
            if not token_equal(given, token):
                record_auth_failure(request)
                return error_response(403, "forbidden", "wrong token")
        return await call_next(request)

    if token:  # without a token there is nothing to check: no middleware on the hot path
        app.middleware("http")(_auth)
    app.add_middleware(RejectControlCharacters)

    _offline_docs(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """Liveness: 200 while the process runs; the details say what it is waiting for."""
        details = health() if health else {}
        return {"status": "ok", "ready": default_ready(details), **details}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Readiness: 503 while the broker does not answer (``"broker": false``) or the agents are down."""
        details = health() if health else {}
        ok = default_ready(details)
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", **details}, status_code=200 if ok else 503
        )

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from the Swagger UI files shipped in a Python package: no CDN, works offline."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    # FastAPI's own /docs and /redoc load their scripts from a CDN: drop both (/redoc has no offline bundle).
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in ("/docs", "/redoc")
    ]
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def serve(app: FastAPI, settings: Settings, port: int) -> None:
    """Run one service until SIGINT/SIGTERM; uvicorn then runs the app's lifespan shutdown."""
    uvicorn.run(app, host=settings.host, port=port, log_config=None, access_log=False, loop="asyncio")
