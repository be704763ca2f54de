"""store: persists documents and classified segments; query API, exports and the analyst UI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.store.api import make_router
from services.store.consumer import make_runner
from services.store.corrections.endpoints import make_corrections_router, make_review_router
from services.store.db import make_engine, migrate
from services.store.files import make_files_router
from services.store.repository import Repository
from services.store.sweeper import start_sweeper
from services.store.themes.endpoints import make_points_router, make_themes_router
from services.store.themes.points import PointStore
from services.store.web.pages import install_ui, public_paths
from shared import norwegian as nb
from shared.http import install_common, serve
from shared.logging import configure_logging
from shared.memory import release_free_memory
from shared.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, consume: bool = True) -> FastAPI:
    """The store app. Its lifespan migrates the database, then (``consume=True``) starts the agents,
    which connect to the broker in the background; the API serves meanwhile."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    repo = Repository(engine, settings.review_budget)
    points = PointStore(engine)
    # each stored batch starts the embedding of its new segments for the points (in the background)
    runner = make_runner(settings, repo, after_write=points.embed_started)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, engine)
        # Search needs the word table; load it before the first burst of queries, not during it.
        await asyncio.to_thread(nb.warm)
        release_free_memory()
        if consume:
            await runner.start()
        # The sweeper re-drives documents that stopped short of a final status (services/store/sweeper.py).
        stop_sweeper = start_sweeper(settings, engine, runner) if consume else None
        try:
            yield
        finally:
            if stop_sweeper is not None:
                await stop_sweeper()
            await runner.stop()
            engine.dispose()

    app = FastAPI(
        title="innspill store",
        version="1",
        description="Documents, classified segments, search, statistics and exports.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.repo = repo
    app.state.runner = runner
    install_common(
        app,
        settings,
        health=lambda: {**runner.health(), "database": engine.dialect.name},
        open_paths=public_paths(),
    )
    app.include_router(make_corrections_router(settings, repo, runner))
    app.include_router(make_review_router(repo))
    app.include_router(make_themes_router(settings, repo))
    app.state.points = points
    app.include_router(make_points_router(settings, repo, app.state.points, runner.publisher))
    app.include_router(make_router(repo))
    app.include_router(make_files_router(repo, settings))
    install_ui(app, repo, settings)
    return app


def main() -> None:
    settings = get_settings()
    configure_logging("store", settings.log_level)
    serve(create_app(settings), settings, settings.store_port)
