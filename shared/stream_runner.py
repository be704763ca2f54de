"""Run a stream service's faust app inside the web server's event loop, connecting in the background.

The HTTP side (health, metrics) answers at once; the runner creates the topics, starts the publisher
and the faust app, and retries with backoff while the broker is not there yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import faust

from shared.kafka import Publisher, ensure_topics
from shared.retry import Backoff, retry
from shared.settings import Settings

log = logging.getLogger(__name__)


class StreamRunner:
    """Owns one ``Publisher`` and one faust app built by ``build(publisher)``."""

    def __init__(self, settings: Settings, client_id: str, build: Callable[[Publisher], faust.App]) -> None:
        self.settings = settings
        self.publisher = Publisher(settings, client_id)
        self._build = build
        self.app: faust.App | None = None
        self.state = "stopped"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.state = "connecting"
        self._task = asyncio.create_task(self._connect(), name=f"{self.publisher.client_id}-connect")

    async def wait_running(self, timeout_s: float) -> bool:
        """Wait until the agents run (True) or the timeout passes (False)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout_s)
        return self.state == "running"

    async def _connect(self) -> None:
        await retry(
            self._connect_once,
            what="connecting to the broker",
            backoff=Backoff(1.0, 30.0),
            on_failure=self._reset,
            logger=log,
        )

    async def _connect_once(self) -> None:
        await ensure_topics(self.settings, timeout_s=10)
        await self.publisher.start(timeout_s=10)
        self.app = self._build(self.publisher)
        await self.app.start()
        self.state = "running"
        log.info("agents running", extra={"app": self.app.conf.id})

    async def _reset(self) -> None:
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.app.stop()
            self.app = None
        await self.publisher.stop()

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.app.stop()
            self.app = None
        await self.publisher.stop()
        self.state = "stopped"

    def health(self) -> dict[str, Any]:
        return {"consumer": self.state, "broker": self.publisher.started}
