"""shared.http: liveness vs readiness, the failed-auth limit, signed session cookies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from services.store.app import create_app as create_store
from shared.http import (
    SESSION_COOKIE,
    FailureLimiter,
    install_common,
    session_cookie,
    session_key,
    session_valid,
)
from shared.settings import Settings


def make_app(health: dict[str, Any] | None = None, **settings: Any) -> FastAPI:
    app = FastAPI()
    install_common(app, Settings(**settings), health=(lambda: dict(health)) if health is not None else None)

    @app.get("/thing")
    async def thing() -> dict[str, int]:
        return {"n": 1}

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_liveness_stays_200_while_readiness_reports_the_broker_down() -> None:
    state: dict[str, Any] = {"consumer": "waiting", "broker": False}
    async with client(make_app(state, api_token="s3cret")) as c:
        live = await c.get("/healthz")
        assert live.status_code == 200 and live.json()["broker"] is False and live.json()["ready"] is False
        ready = await c.get("/readyz")  # open without a token, like /healthz
        assert ready.status_code == 503 and ready.json()["broker"] is False


async def test_readiness_is_200_when_broker_answers_and_agents_run() -> None:
    async with client(make_app({"consumer": "running", "broker": True})) as c:
        assert (await c.get("/readyz")).status_code == 200
    async with client(make_app({"consumer": "connecting", "broker": True})) as c:
        assert (await c.get("/readyz")).status_code == 503
    async with client(make_app(None)) as c:  # a service without a broker is ready when it runs
        assert (await c.get("/readyz")).status_code == 200


async def test_wrong_tokens_are_limited_per_client_with_retry_after() -> None:
    app = make_app(None, api_token="s3cret", auth_max_failures=5, auth_window_s=60)
    async with client(app) as c:
        codes = [
            (await c.get("/thing", headers={"Authorization": f"Bearer no{i}"})).status_code for i in range(8)
        ]
        assert codes[:5] == [403] * 5 and codes[5:] == [429] * 3
        blocked = await c.get("/thing", headers={"Authorization": "Bearer s3cret"})
        # While blocked even the right token is refused, or the limit would leak which guess was right.
        assert blocked.status_code == 429 and blocked.json()["error"] == "too_many_attempts"
        assert 1 <= int(blocked.headers["retry-after"]) <= 60


def test_failure_limiter_window_slides_and_forgets_old_clients() -> None:
    lim = FailureLimiter(max_failures=3, window_s=10, max_clients=2)
    for t in (0.0, 1.0, 2.0):
        lim.fail("a", now=t)
    assert lim.retry_after("a", now=3.0) == 7
    assert lim.retry_after("a", now=10.5) == 0  # the first failure left the window
    lim.fail("b", now=11)
    lim.fail("c", now=12)
    assert "a" not in lim._fails  # least recently failing client forgotten first


def test_session_cookie_is_signed_and_never_the_token() -> None:
    s = Settings(api_token="hemmelig")
    value = session_cookie(s)
    assert "hemmelig" not in value
    assert session_valid(value, session_key(s))
    assert not session_valid(value, session_key(Settings(api_token="annet")))  # new token, sessions end
    assert not session_valid(value[:-2] + "xx", session_key(s))
    assert not session_valid("hemmelig", session_key(s))
    assert not session_valid(value, session_key(s), max_age_s=-1)  # expired
    keyed = Settings(api_token="hemmelig", session_secret="en-annen-nokkel")
    assert session_key(keyed) != session_key(s)


async def test_session_cookie_opens_the_api_and_a_raw_token_cookie_does_not() -> None:
    s = Settings(api_token="hemmelig")
    async with client(make_app(None, api_token="hemmelig")) as c:
        c.cookies.set(SESSION_COOKIE, session_cookie(s))
        assert (await c.get("/thing")).status_code == 200
        c.cookies.clear()
        c.cookies.set(SESSION_COOKIE, "hemmelig")
        assert (await c.get("/thing")).status_code == 401
        c.cookies.clear()
        c.cookies.set("innspill_token", "hemmelig")  # the old raw-token cookie is no longer accepted
        assert (await c.get("/thing")).status_code == 401


async def test_control_characters_in_query_are_rejected_422() -> None:
    async with client(make_app(None)) as c:
        for q in ("%00", "a%0Ab", "%1F", "x%7F"):
            resp = await c.get(f"/thing?q={q}")
            assert resp.status_code == 422, q
            assert resp.json()["error"] == "invalid_request" and resp.json()["detail"][0]["loc"] == [
                "query",
                "q",
            ]
        assert (await c.get("/thing?q=sykepleiere%20%C3%B8konomi")).status_code == 200  # æøå and spaces pass


async def test_ui_login_is_rate_limited_and_sets_a_signed_session(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var", api_token="hemmelig", auth_max_failures=3, auth_window_s=60
    )
    app = create_store(settings, consume=False)
    async with app.router.lifespan_context(app), client(app) as c:
        ok = await c.post("/login", data={"token": "hemmelig", "next": "/ui/stats"})
        assert ok.status_code == 303
        session = ok.cookies.get(SESSION_COOKIE)
        assert session and "hemmelig" not in session and session_valid(session, session_key(settings))
        assert (await c.get("/documents")).status_code == 200  # the session opens the API too
        c.cookies.clear()
        wrong = [(await c.post("/login", data={"token": f"feil{i}"})).status_code for i in range(5)]
        assert wrong[:3] == [401] * 3 and wrong[3:] == [429, 429]
        blocked = await c.post("/login", data={"token": "hemmelig"})
        assert blocked.status_code == 429 and "retry-after" in blocked.headers
        assert blocked.json()["error"] == "too_many_attempts"
