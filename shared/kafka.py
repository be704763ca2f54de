"""Broker helpers shared by all services: topic creation, a publisher, retries and the dead-letter path.

Delivery is at-least-once: a stage publishes its output and waits for the broker's ack *before* the
input record is acknowledged (and so committed). Ids are deterministic, so a replay converges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.events import DeadLetter, Envelope, EventError, encode, make_event
from shared.retry import Backoff, retry
from shared.settings import Settings
from shared.topics import topics_for

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached (the caller should answer 503 or retry later)."""


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create every topic of the contract with its partition count, and grow a topic that has fewer
    partitions than the contract (a broker that auto-created it). Returns the topics created or grown."""
    topics = topics_for(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await admin.start()
            break
        except KafkaError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise BrokerUnavailable(f"broker {settings.kafka_bootstrap} unreachable: {exc}") from exc
            await asyncio.sleep(0.5)
    changed: list[str] = []
    try:
        wanted_counts = topics.partitions(settings)
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=n, replication_factor=settings.kafka_replication_factor)
            for name, n in wanted_counts.items()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
            changed += [t.name for t in wanted]
            log.info("topics created", extra={"topics": [t.name for t in wanted]})
        present = [name for name in wanted_counts if name in existing]
        if present:
            changed += await _grow_partitions(admin, present, wanted_counts)
    finally:
        await admin.close()
    return changed


async def _grow_partitions(admin: AIOKafkaAdminClient, names: list[str], wanted: dict[str, int]) -> list[str]:
    """Give topics that have fewer partitions than the contract the missing ones."""
    short: dict[str, NewPartitions] = {}
    for desc in await admin.describe_topics(names):
        name, parts = desc.get("topic"), desc.get("partitions") or []
        if name in wanted and 0 < len(parts) < wanted[name]:
            short[name] = NewPartitions(total_count=wanted[name])
    if short:
        try:
            await admin.create_partitions(short)
            log.warning("topics had too few partitions; grown", extra={"topics": sorted(short)})
        except KafkaError as exc:
            log.error("could not grow topic partitions", extra={"topics": sorted(short), "error": repr(exc)})
            return []
    return sorted(short)


class RateLimitFilter(logging.Filter):
    """Lets through at most one warning/error per ``per_s`` seconds for each (logger, message template) of
    the broker libraries, so an outage gives a few lines instead of dozens a second. A line that comes
    through after a quiet spell carries ``suppressed``: how many like it were dropped meanwhile."""

    PREFIXES = ("aiokafka", "kafka", "faust", "mode")

    def __init__(self, per_s: float = 10.0) -> None:
        super().__init__()
        self.per_s = per_s
        self._last: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(self.PREFIXES):
            return True
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = time.monotonic()
        last, dropped = self._last.get(key, (float("-inf"), 0))
        if now - last < self.per_s:
            self._last[key] = (last, dropped + 1)
            return False
        self._last[key] = (now, 0)
        if dropped:
            record.suppressed = dropped
        return True


def install_log_rate_limit(per_s: float = 10.0) -> None:
    """Put one :class:`RateLimitFilter` on every handler of the root logger (idempotent)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RateLimitFilter) for f in handler.filters):
            handler.addFilter(RateLimitFilter(per_s))


class BrokerProbe:
    """Asks the broker for its cluster metadata every ``interval_s`` and keeps ``ok`` up to date.

    ``ok`` turns False after ``failures`` failed checks in a row (one slow answer is no outage) and True
    at the first answer. ``on_down`` / ``on_up`` run on each change (errors there are logged, not raised).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        interval_s: float | None = None,
        failures: int = 2,
        on_down: Callable[[], Awaitable[None]] | None = None,
        on_up: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.interval_s = interval_s if interval_s is not None else settings.broker_probe_s
        self.failures = failures
        self.on_down, self.on_up = on_down, on_up
        self.ok = False
        self.checked = False
        self._fails = 0
        self._client: AIOKafkaClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> bool:
        """One metadata request (bounded by the probe interval, at least 1 s)."""
        timeout = max(1.0, self.interval_s)
        try:
            if self._client is None:
                self._client = AIOKafkaClient(
                    bootstrap_servers=self.settings.kafka_bootstrap,
                    client_id="innspill-probe",
                    request_timeout_ms=int(timeout * 1000),
                )
                await asyncio.wait_for(self._client.bootstrap(), timeout)
            else:
                await asyncio.wait_for(self._client.fetch_all_metadata(), timeout)
            return True
        except (KafkaError, OSError, TimeoutError):
            await self._close_client()
            return False

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()

    async def step(self) -> None:
        """Check once and fire the callbacks of a change."""
        answered = await self.check()
        self.checked = True
        if answered:
            self._fails = 0
            if not self.ok:
                self.ok = True
                log.info("broker reachable", extra={"bootstrap": self.settings.kafka_bootstrap})
                await self._fire(self.on_up)
            return
        self._fails += 1
        if self.ok and self._fails >= self.failures:
            self.ok = False
            log.error(
                "broker unreachable",
                extra={"bootstrap": self.settings.kafka_bootstrap, "checks": self._fails},
            )
            await self._fire(self.on_down)

    async def _fire(self, callback: Callable[[], Awaitable[None]] | None) -> None:
        if callback is None:
            return
        try:
            await callback()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("broker state change handler failed")

    async def _run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        install_log_rate_limit()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="broker-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # aiokafka's metadata update can swallow a cancel and retry for as long as the broker is away;
            # a bounded wait keeps a shutdown from hanging on it (closing the client below ends the retries)
            done, _ = await asyncio.wait({task}, timeout=max(1.0, self.interval_s) + 1.0)
            if not done:
                log.warning("broker probe still busy at stop; closing its client")
                task.add_done_callback(_consume)
            else:
                _consume(task)
        await self._close_client()


def _consume(task: asyncio.Task[None]) -> None:
    """Retrieve a finished task's outcome so that asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


class Publisher:
    """One aiokafka producer per process. ``publish`` returns only after the broker acknowledged."""

    def __init__(self, settings: Settings, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._started = False

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=self.client_id,
            acks="all",
            # Tansu rejects InitProducerId, so idempotence is opt-in for real Kafka.
            enable_idempotence=self.settings.kafka_exactly_once,
            linger_ms=5,
            request_timeout_ms=15_000,
            max_request_size=4 * 1024 * 1024,
        )

    async def start(self, timeout_s: float | None = None) -> None:
        """Connect; on failure the half-made producer is closed so a later call starts clean."""
        if self._started:
            return
        producer = self._new_producer()
        try:
            await asyncio.wait_for(producer.start(), timeout=timeout_s)
        except (TimeoutError, KafkaError, OSError) as exc:
            await producer.stop()
            raise BrokerUnavailable(f"broker {self.settings.kafka_bootstrap} unreachable: {exc!r}") from exc
        self._producer, self._started = producer, True

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        self._producer, self._started = None, False

    def detach(self) -> AIOKafkaProducer | None:
        """Hand over the current producer (for the caller to stop) and forget it: the next :meth:`start`
        makes a new one. Used when the broker went away and stopping would wait for it."""
        producer, self._producer, self._started = self._producer, None, False
        return producer

    def _live(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise BrokerUnavailable("publisher not started")
        return self._producer

    @property
    def started(self) -> bool:
        return self._started

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        await self.publish_raw(topic, key, encode(event))

    async def publish_many(self, topic: str, items: list[tuple[str, Envelope[Any]]]) -> None:
        """Send a batch and wait for every ack (sends are pipelined, not one round-trip each)."""
        futures = [await self._live().send(topic, key=key.encode(), value=encode(ev)) for key, ev in items]
        await asyncio.gather(*futures)

    async def publish_raw(self, topic: str, key: str | None, value: bytes) -> None:
        try:
            await self._live().send_and_wait(topic, key=key.encode() if key else None, value=value)
        except KafkaError as exc:
            raise BrokerUnavailable(f"publish to {topic} failed: {exc}") from exc

    async def dead_letter(
        self,
        stage: str,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        error: str,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        """Park a record no stage could handle, with its error, on the dead-letter topic."""
        raw = (value or b"").decode("utf-8", errors="replace")
        skey = key.decode("utf-8", errors="replace") if key else None
        letter = DeadLetter(
            topic=topic, partition=partition, offset=offset, key=skey, value=raw, error=error, stage=stage
        )
        event = make_event(letter, f"innspill/{stage}", topic, partition, offset, raw)
        await self.publish_raw(topics_for(self.settings).deadletter, skey, encode(event))
        log.warning("record dead-lettered", extra={"topic": topic, "offset": offset, "error": error})


async def with_retries(
    fn: Callable[[], Awaitable[None]], *, attempts: int, backoff_s: float, what: str
) -> None:
    """Run ``fn`` up to ``attempts`` times with exponential backoff. :class:`EventError` is never retried:
    a malformed record stays malformed."""
    await retry(fn, what=what, backoff=Backoff(backoff_s), attempts=attempts, never=(EventError,), logger=log)
