"""Run a stream service's faust app inside the web server's event loop, connecting in the background.

The HTTP side (health, metrics) answers at once; the runner creates the topics, starts the publisher
and the faust app, and retries with backoff while the broker is not there yet.

While it runs, a :class:`~shared.kafka.BrokerProbe` asks the broker for metadata every few seconds. When
the broker stops answering, the agents and the publisher are stopped (``state`` = ``"waiting"``, readiness
fails) instead of spinning on errors, and nothing asks the broker to auto-create topics. When it answers
again, the topics are ensured with the contract's partitions and a fresh faust app joins the group, so
consumption resumes within seconds, also after a memory-only broker lost its topics and groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import faust
from aiokafka import AIOKafkaProducer

from shared.kafka import BrokerProbe, Publisher, ensure_topics, install_log_rate_limit
from shared.retry import Backoff, retry
from shared.settings import Settings

log = logging.getLogger(__name__)

#: How long stopping a faust app may take before it is abandoned (a dead broker can make it hang).
STOP_TIMEOUT_S = 15.0


class StreamRunner:
    """Owns one ``Publisher`` and one faust app built by ``build(publisher)``."""

    def __init__(self, settings: Settings, client_id: str, build: Callable[[Publisher], faust.App]) -> None:
        self.settings = settings
        self.publisher = Publisher(settings, client_id)
        self._build = build
        self.app: faust.App | None = None
        self.state = "stopped"
        self._task: asyncio.Task[None] | None = None
        self.probe = BrokerProbe(settings, on_down=self._broker_down, on_up=self._broker_up)
        #: monotonic time the broker was found down (None while it is up).
        self._down_at: float | None = None
        self._stopping: asyncio.Task[None] | None = None

    async def start(self) -> None:
        install_log_rate_limit()
        self.state = "connecting"
        self._task = asyncio.create_task(self._connect(), name=f"{self.publisher.client_id}-connect")
        self.probe.start()

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
        if self._down_at is not None:
            down_s = round(time.monotonic() - self._down_at, 1)
            self._down_at = None
            log.info(
                "agents running again after a broker outage",
                extra={"app": self.app.conf.id, "down_s": down_s},
            )
        else:
            log.info("agents running", extra={"app": self.app.conf.id})

    async def _reset(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(app.stop(), timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await self.publisher.stop()

    async def _stop_quietly(self, app: faust.App | None, producer: AIOKafkaProducer | None) -> None:
        """Stop an app (and a producer) whose broker is gone. Their last commit and flush wait for the
        broker, so this runs in the background and the new app does not wait for it."""
        if app is not None:
            # Close the consumer's connections and group membership at once, without the last commit
            # (which would wait for the broker): a consumer left alive would rejoin the group when the broker
            # returns and make the new app rebalance. Its records are not lost: what was not committed is
            # delivered again, and a memory-only broker's losses are re-driven by the store's sweeper.
            with contextlib.suppress(Exception):
                app.consumer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await app.stop()
        if producer is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await producer.stop()

    async def _broker_down(self) -> None:
        """Stop the agents and the publisher; they are rebuilt when the broker answers again."""
        if self.state not in ("running", "connecting"):
            return
        self._down_at = time.monotonic()
        await self._cancel_connect()
        self.state = "waiting"
        log.warning("broker unreachable: agents stopped until it answers again")
        app, self.app = self.app, None
        producer = self.publisher.detach()
        self._stopping = asyncio.create_task(self._stop_quietly(app, producer), name="stop-after-outage")

    async def _broker_up(self) -> None:
        if self.state != "waiting":
            return
        self.state = "connecting"
        if self._stopping is not None and not self._stopping.done():
            # The old app's consumer has left by now; only its producer flush may still wait. Give it a
            # moment, then go on without it (stop() cancels it at shutdown).
            await asyncio.wait({self._stopping}, timeout=0.5)
        self._task = asyncio.create_task(self._connect(), name=f"{self.publisher.client_id}-reconnect")
        log.info("broker answers again: ensuring topics and restarting the agents")

    async def _cancel_connect(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task = None

    async def stop(self) -> None:
        await self.probe.stop()
        if self._stopping is not None and not self._stopping.done():
            self._stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stopping
        await self._cancel_connect()
        await self._reset()
        self.state = "stopped"

    @property
    def ready(self) -> bool:
        """Ready for traffic: the broker answers and the agents run."""
        return self.probe.ok and self.state == "running"

    def health(self) -> dict[str, Any]:
        return {
            "consumer": self.state,
            "broker": self.probe.ok and self.publisher.started,
            "partitions": self.assigned_partitions(),
        }

    def assigned_partitions(self) -> int:
        """Partitions the consumer group gave this process (0 before it joined or after it left): a
        replica that reports 0 takes no work yet."""
        if self.app is None or self.state != "running":
            return 0
        try:
            return len(self.app.consumer.assignment())
        except Exception:  # faust not (or no longer) started: nothing assigned
            return 0
