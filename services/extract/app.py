"""extract: ``documents.received`` -> ``segments.extracted`` + ``documents.extracted`` (or ``documents.failed``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.extract.consumer import APP_ID, build_consumer
from shared.http import install_common, serve
from shared.logging import configure_logging
from shared.settings import Settings, get_settings
from shared.stream_runner import StreamRunner


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    from services.extract.engine import check_pdfminer

    check_pdfminer()
    runner = StreamRunner(settings, APP_ID, lambda publisher: build_consumer(settings, publisher))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runner.start()
        try:
            yield
        finally:
            await runner.stop()

    app = FastAPI(
        title="innspill extract",
        version="1",
        description="Turns received PDF and Word letters into segments with heading paths and metadata.",
        lifespan=lifespan,
    )
    app.state.runner = runner
    install_common(app, settings, health=runner.health)
    return app


def main() -> None:
    settings = get_settings()
    configure_logging("extract", settings.log_level)
    serve(create_app(settings), settings, settings.extract_port)
