"""shared.http: token auth, JSON errors, health and metrics, for every service alike."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from shared.http import ApiError, install_common
from shared.settings import Settings


def make_app(token: str | None) -> FastAPI:
    app = FastAPI()
    install_common(app, Settings(api_token=token))

    @app.get("/thing/{n}")
    async def thing(n: int) -> dict[str, int]:
        if n == 0:
            raise ApiError(409, "conflict", "zero is taken")
        if n == 13:
            raise RuntimeError("boom")
        return {"n": n}

    return app


async def call(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_without_token_setting_everything_is_open() -> None:
    resp = await call(make_app(None), "/thing/2")
    assert resp.status_code == 200 and resp.json() == {"n": 2}


@pytest.mark.parametrize("path", ["/thing/2", "/metrics", "/docs", "/openapi.json"])
async def test_token_required_401_without_and_403_wrong(path: str) -> None:
    app = make_app("s3cret")
    missing = await call(app, path)
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await call(app, path, {"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"
    right = await call(app, path, {"Authorization": "Bearer s3cret"})
    assert right.status_code == 200


async def test_healthz_stays_open_for_probes() -> None:
    resp = await call(make_app("s3cret"), "/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


async def test_errors_are_json_with_error_and_detail() -> None:
    app = make_app(None)
    conflict = await call(app, "/thing/0")
    assert conflict.status_code == 409 and conflict.json() == {"error": "conflict", "detail": "zero is taken"}
    invalid = await call(app, "/thing/abc")
    assert invalid.status_code == 422 and invalid.json()["error"] == "invalid_request"
    missing = await call(app, "/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    crash = await call(app, "/thing/13")
    assert crash.status_code == 500 and crash.json() == {"error": "internal_error", "detail": "RuntimeError"}


async def test_metrics_are_prometheus_text() -> None:
    resp = await call(make_app(None), "/metrics")
    assert resp.status_code == 200 and "text/plain" in resp.headers["content-type"]
    assert "python_info" in resp.text or "process_" in resp.text
