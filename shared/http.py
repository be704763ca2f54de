"""What every HTTP service has in common: JSON errors, bearer-token auth, /healthz, /metrics, serving."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Collection
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.settings import Settings

log = logging.getLogger(__name__)

#: Paths reachable without a token: liveness for orchestrators.
OPEN_PATHS = frozenset({"/healthz"})


class ApiError(Exception):
    """An error the client caused or must know about; rendered as ``{error, detail}``."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def error_response(
    status: int, error: str, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _token_from(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get("innspill_token")


def token_matches(request: Request, token: str | None) -> bool:
    """True when no token is configured or the request carries it (bearer header or cookie)."""
    if not token:
        return True
    given = _token_from(request)
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


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

    @app.middleware("http")
    async def _auth(request: Request, call_next: Callable[[Request], Any]) -> Response:
        if token and request.url.path not in public:
            given = _token_from(request)
            if not given:
                return error_response(
                    401, "unauthorized", "missing bearer token", {"WWW-Authenticate": "Bearer"}
                )
            if not hmac.compare_digest(given.encode(), token.encode()):
                return error_response(403, "forbidden", "wrong token")
        return await call_next(request)

    _offline_docs(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", **(health() if health else {})}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from the Swagger UI files shipped in a Python package: no CDN, works offline."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    # FastAPI's own /docs and /redoc load their scripts from a CDN: drop both (/redoc has no offline bundle).
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in ("/docs", "/redoc")]
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
