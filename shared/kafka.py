"""Broker helpers shared by all services: topic creation, a publisher, retries and the dead-letter path.

Delivery is at-least-once: a stage publishes its output and waits for the broker's ack *before* the
input record is acknowledged (and so committed). Ids are deterministic, so a replay converges.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.events import DeadLetter, Envelope, EventError, encode, make_event
from shared.retry import Backoff, retry
from shared.settings import Settings
from shared.topics import topics_for

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached (the caller should answer 503 or retry later)."""


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> None:
    """Create every topic of the contract with its partition count; existing topics are left alone."""
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
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=n, replication_factor=settings.kafka_replication_factor)
            for name, n in topics.partitions(settings).items()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
            log.info("topics created", extra={"topics": [t.name for t in wanted]})
    finally:
        await admin.close()


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
