"""Faust plumbing shared by the stream services (extract, classify, store).

Each stream service runs one uvicorn process; its FastAPI lifespan starts the faust app inside the same
event loop, so HTTP endpoints and agents share state and shut down together on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_kafka

from shared.events import Envelope, EventError, Expect, decode
from shared.kafka import with_retries
from shared.settings import Settings

log = logging.getLogger(__name__)


def consumer_group(settings: Settings, service: str) -> str:
    """The consumer group (faust app id) of a stream service. It carries the topic prefix, so two
    deployments with different prefixes on one broker never share a group."""
    return f"{settings.topic_prefix}-{service}"


class _ConsumerThread(faust_kafka.AIOKafkaConsumerThread):
    """faust's consumer thread with a configurable fetch wait (faust passes a fixed 1500 ms)."""

    fetch_max_wait_ms: int  # set by _Consumer from the app

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts (its Fetcher is built in start()); there is no
        # public setter, and faust offers no setting for it. tests/unit/test_stream_fetch_wait.py guards the name.
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


class _Consumer(faust_kafka.Consumer):
    def _new_consumer_thread(self) -> faust_kafka.AIOKafkaConsumerThread:
        thread = _ConsumerThread(self, loop=self.loop, beacon=self.beacon)
        thread.fetch_max_wait_ms = cast("StreamApp", self.app).fetch_max_wait_ms
        return thread


class _Transport(faust_kafka.Transport):
    Consumer = _Consumer


class StreamApp(faust.App):
    """A faust app whose consumers wait at most ``kafka_fetch_max_wait_ms`` per fetch.

    Measured on the Tansu broker (which answers a waiting fetch only when its wait ends): a record took
    260-560 ms from producer to agent with faust's 1500 ms, 8-58 ms with 100 ms. That was paid on every
    hop (ingest -> extract -> classify -> store)."""

    fetch_max_wait_ms = 100  # make_faust_app sets it from the settings

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


def make_faust_app(service: str, settings: Settings) -> faust.App:
    """A faust app tuned for this system: raw bytes in and out (we validate ourselves), no tables,
    no web server of its own, short group timeouts (Tansu needs them), offsets from the earliest."""
    app_id = consumer_group(settings, service)
    guarantee = "exactly_once" if settings.kafka_exactly_once else "at_least_once"
    datadir = settings.data_dir / "faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level itself
    app = StreamApp(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        web_enabled=False,
        datadir=datadir,
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        processing_guarantee=guarantee,
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_rebalance_timeout=settings.kafka_rebalance_timeout_s,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval_s,
        broker_commit_every=100,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        producer_acks=-1,
    )
    app.fetch_max_wait_ms = settings.kafka_fetch_max_wait_ms
    return app


def raw_topic(app: faust.App, name: str) -> Any:
    return app.topic(name, key_type=bytes, value_type=bytes)


async def decode_or_dead_letter(
    *, stage: str, event: Any, expect: Expect, publisher: Any
) -> Envelope[Any] | None:
    """Decode one faust event as ``expect``; a record that does not decode goes to the dead-letter topic
    (the broker acks it) and ``None`` is returned. The one place where stages decode what they consume."""
    msg = event.message
    try:
        return decode(event.value, expect)
    except EventError as exc:
        await publisher.dead_letter(
            stage, msg.topic, event.key, event.value, str(exc), msg.partition, msg.offset
        )
        return None


async def guarded(
    *,
    stage: str,
    event: Any,
    expect: Expect,
    handler: Callable[[Envelope[Any]], Awaitable[None]],
    publisher: Any,
    settings: Settings,
) -> bool:
    """Decode one faust event as ``expect`` and run ``handler(envelope)`` with bounded retries.

    Undecodable or schema-invalid records, and records that still fail after the retries, go to the
    dead-letter topic with the error, so the stream keeps moving. Returns True when the handler succeeded.
    The caller's loop acks the event only after this returns, so the dead letter is written first.
    """
    envelope = await decode_or_dead_letter(stage=stage, event=event, expect=expect, publisher=publisher)
    if envelope is None:
        return False
    msg = event.message
    try:
        await with_retries(
            lambda: handler(envelope),
            attempts=settings.max_retries,
            backoff_s=settings.retry_backoff_s,
            what=f"{stage}:{msg.topic}:{msg.offset}",
        )
        return True
    except Exception as exc:
        log.exception("handler failed after retries", extra={"stage": stage, "offset": msg.offset})
        await publisher.dead_letter(
            stage,
            msg.topic,
            event.key,
            event.value,
            f"{type(exc).__name__}: {exc}",
            msg.partition,
            msg.offset,
        )
        return False


async def decode_batch(
    *, stage: str, events: Any, expect: Expect, publisher: Any
) -> list[tuple[Any, Envelope[Any]]]:
    """Decode a micro-batch of faust events (from ``stream.take_events``) as ``expect``.

    Returns ``(event, envelope)`` for the good ones, in order. Records that do not decode go to the
    dead-letter topic first (the broker acks each), so the caller may ack the whole batch once it has
    published the output of the good ones."""
    good: list[tuple[Any, Envelope[Any]]] = []
    for event in events:
        envelope = await decode_or_dead_letter(stage=stage, event=event, expect=expect, publisher=publisher)
        if envelope is not None:
            good.append((event, envelope))
    return good


async def run_batches(
    stream: Any,
    size: int,
    within_s: float,
    handle: Callable[[Sequence[Any]], Awaitable[None]],
    drain_s: float,
) -> None:
    """Feed ``stream`` to ``handle`` in micro-batches of up to ``size`` events or ``within_s`` seconds.

    faust's ``take_events`` acks a batch when the loop body ends, also when it ends by cancellation
    (shutdown). The batch in flight is therefore shielded and given ``drain_s`` to finish its output
    before the cancellation goes on, so a stop never acks work that was not done.
    """
    async for events in stream.take_events(size, within=within_s):
        task = asyncio.ensure_future(handle(events))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=drain_s)
            raise
