"""extract: ``documents.received`` -> ``segments.extracted`` + ``documents.extracted`` (or ``documents.failed``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import faust
from fastapi import FastAPI

from services.extract.worker import Extractor
from shared.events import DocumentReceived
from shared.http import install_common, serve
from shared.kafka import Publisher
from shared.logging import configure_logging
from shared.settings import Settings, get_settings
from shared.stream_runner import StreamRunner
from shared.streams import guarded, make_faust_app, raw_topic
from shared.topics import topics_for

APP_ID = "extract"


def build_faust_app(settings: Settings, publisher: Publisher) -> faust.App:
    """The faust app with its one agent: each received document is extracted, then acked."""
    app = make_faust_app(APP_ID, settings)
    extractor = Extractor(settings, publisher)

    @app.agent(raw_topic(app, topics_for(settings).documents_received), name=f"{APP_ID}.documents")
    async def extract_documents(stream: Any) -> None:
        async for event in stream.events():
            await guarded(stage="extract", event=event, expect=DocumentReceived, handler=extractor.handle,
                          publisher=publisher, settings=settings)

    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    from services.extract.engine import check_pdfminer

    check_pdfminer()
    runner = StreamRunner(settings, APP_ID, lambda publisher: build_faust_app(settings, publisher))

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
