"""The store keeps serving its API while the broker is unreachable, and stops promptly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from services.store.app import create_app
from shared.settings import Settings
from tools.cli.broker import free_port


async def test_api_serves_while_broker_is_down(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", kafka_bootstrap=f"127.0.0.1:{free_port()}")
    app = create_app(settings)
    loop = asyncio.get_running_loop()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://store"
        ) as client:
            health = (await client.get("/healthz")).json()
            assert (
                health["status"] == "ok" and health["consumer"] == "connecting" and health["broker"] is False
            )
            assert (await client.get("/documents")).json() == {
                "total": 0,
                "limit": 50,
                "offset": 0,
                "items": [],
            }
            assert (await client.get("/")).status_code == 200
        stopping = loop.time()
    assert loop.time() - stopping < 10
    assert app.state.runner.state == "stopped"
