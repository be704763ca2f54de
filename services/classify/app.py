"""classify: ``segments.extracted`` -> ``segments.classified``, and ``POST /classify`` for direct use.

The model is loaded once when the service starts; a missing or broken model directory stops the start
with a message saying what is wrong and how to build the default (``python -m tools.cli.main ensure-model``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from services.classify.consumer import APP_ID, build_consumer
from services.classify.inference import InferenceService
from services.classify.schema import Item, ModelError, canonical_kind, document_items, review_flags
from shared import norwegian as nb
from shared.events import LABELS
from shared.http import ApiError, install_common, serve
from shared.logging import configure_logging
from shared.memory import release_free_memory
from shared.settings import Settings, get_settings
from shared.stream_runner import StreamRunner

log = logging.getLogger(__name__)


class ItemIn(BaseModel):
    text: str = Field(description="The segment text.", examples=["Kommunen mangler fastleger."])
    heading_path: list[str] = Field(default_factory=list, description="Headings above it, outermost first.")
    kind: str | None = Field(
        None,
        description="Segment kind as extraction names it (paragraph, list_item, table_cell, heading, "
        "question, letter, footnote, ...).",
    )


class ClassifyRequest(BaseModel):
    items: list[ItemIn]
    document: bool = Field(
        False,
        description="The items are the segments of one letter in reading order: each is classified with "
        "its position and its neighbours.",
    )


class ThemeOut(BaseModel):
    id: str = Field(description="Theme id from the taxonomy.")
    score: float


class Result(BaseModel):
    label: str = Field(description=f"One of {', '.join(LABELS)}.")
    scores: dict[str, float] = Field(description="A probability for each of the four labels; they sum to 1.")
    themes: list[ThemeOut] = Field(default_factory=list, description="Themes of the taxonomy, best first.")
    needs_review: bool = Field(
        False,
        description="The top score is below the model's review threshold (with document: true, only for "
        "the least confident segments of the letter, within the review budget).",
    )


class ClassifyResponse(BaseModel):
    model_version: str
    results: list[Result]


def _validate(req: ClassifyRequest, max_items: int) -> list[Item]:
    if not req.items:
        raise ApiError(422, "no_items", "items must hold at least one segment")
    if len(req.items) > max_items:
        raise ApiError(413, "too_many_items", f"{len(req.items)} items; at most {max_items} per request")
    empty = [i for i, it in enumerate(req.items) if not it.text.strip()]
    if empty:
        raise ApiError(422, "empty_text", f"items {empty[:10]} have empty text")
    if req.document:
        return document_items([(it.text, it.heading_path, it.kind) for it in req.items])
    return [Item.of(it.text, it.heading_path, canonical_kind(it.kind)) for it in req.items]


def create_app(
    settings: Settings | None = None, *, inference: InferenceService | None = None, stream: bool = True
) -> FastAPI:
    """The service. ``inference`` lets a caller hand in a loaded model; ``stream=False`` serves only HTTP."""
    settings = settings or get_settings()
    state: dict[str, Any] = {"inference": inference}

    def model() -> InferenceService:
        if state["inference"] is None:
            raise ApiError(503, "model_not_loaded", "the model is not loaded yet")
        return state["inference"]

    runner = StreamRunner(settings, APP_ID, lambda publisher: build_consumer(settings, publisher, model()))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state["inference"] is None:
            # The word table first, and its build garbage returned, before the model adds its own.
            await asyncio.to_thread(nb.warm)
            release_free_memory()
            try:
                state["inference"] = InferenceService.from_dir(
                    settings.resolved_model_dir, settings.classify_threads
                )
            except ModelError as exc:
                log.error("cannot start classify: %s", exc)
                raise RuntimeError(f"classify cannot start: {exc}") from exc
            release_free_memory()  # what unpickling the model left behind (services must stay <= 300 MB)
        log.info(
            "model loaded",
            extra={"model_version": model().model_version, "model_dir": str(settings.resolved_model_dir)},
        )
        if stream:
            await runner.start()
        try:
            yield
        finally:
            if stream:
                await runner.stop()
            model().close()

    app = FastAPI(
        title="innspill classify",
        version="1",
        description="Labels segments as challenge, measure, example or other, with a score for each.",
        lifespan=lifespan,
    )
    app.state.runner = runner

    def health() -> dict[str, Any]:
        inf = state["inference"]
        return {"model_version": inf.model_version if inf else None, **runner.health()}

    install_common(app, settings, health=health)

    @app.post(
        "/classify",
        response_model=ClassifyResponse,
        tags=["classify"],
        responses={413: {"description": "too many items"}, 422: {"description": "no items or empty text"}},
    )
    async def classify(req: ClassifyRequest) -> ClassifyResponse:
        """Classify 1 to ``classify_max_items`` segments in one call."""
        items = _validate(req, settings.classify_max_items)
        inf = model()
        preds = await inf.predict(items, "api")
        # one letter: the store's review budget applies (shared/review.py)
        flags = (
            review_flags(preds, settings.review_budget) if req.document else [p.needs_review for p in preds]
        )
        return ClassifyResponse(
            model_version=inf.model_version,
            results=[
                Result(
                    label=p.label,
                    scores=p.scores,
                    themes=[ThemeOut(id=t, score=s) for t, s in p.themes],
                    needs_review=flag,
                )
                for p, flag in zip(preds, flags, strict=True)
            ],
        )

    return app


def main() -> None:
    settings = get_settings()
    configure_logging("classify", settings.log_level)
    serve(create_app(settings), settings, settings.classify_port)
