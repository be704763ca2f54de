"""A broker outage against a real (Tansu, memory-only) broker restarted on the same port.

While the broker is away, readiness reports ``"broker": false`` and the stream services log a few
lines, not dozens a second; when it returns (empty: a memory-only broker forgets its topics and groups),
the topics are ensured again with the contract's partitions and the store consumes again within 10 s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError

from services.store.app import create_app
from shared.events import DocumentReceived, make_event
from shared.ids import document_id_for, sha256_hex
from shared.kafka import Publisher, ensure_topics
from shared.settings import Settings
from shared.topics import topics_for
from tools.cli.broker import free_port, start_tansu

pytestmark = pytest.mark.integration


class Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.times.append(time.monotonic())


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    yield port, tmp_path / "tansu.log"


def received(name: str) -> tuple[str, object]:
    sha = sha256_hex(name.encode())
    doc = document_id_for(sha)
    event = make_event(
        DocumentReceived(
            id=doc,
            filename=f"{name}.pdf",
            sha256=sha,
            bytes=10,
            content_type="application/pdf",
            blob_uri=f"blob://sha256/{sha}",
            source="http",
            received_at=datetime.now(UTC),
        ),
        "test",
    )
    return doc, event


async def partitions(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(names)}
    finally:
        await admin.close()


async def wait_stored(client: httpx.AsyncClient, doc: str, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if (await client.get(f"/documents/{doc}")).status_code == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"{doc} not stored after {timeout_s}s")


async def test_outage_readiness_quiet_logs_and_resume_within_10s(
    own_broker: tuple[int, Path], tmp_path: Path
) -> None:
    port, log_path = own_broker
    bootstrap = f"127.0.0.1:{port}"
    settings = Settings(
        kafka_bootstrap=bootstrap,
        topic_prefix="outage",
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        broker_probe_s=1.0,
        sweep_interval_s=3600,
    )
    broker = start_tansu(port, log_path=log_path)
    counter = Counting()
    root = logging.getLogger()
    root.addHandler(counter)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
                runner = app.state.runner
                assert await runner.wait_running(60)
                pub = Publisher(settings, "test")
                await pub.start(timeout_s=10)
                doc, ev = received("før")
                await pub.publish(topics_for(settings).documents_received, doc, ev)  # type: ignore[arg-type]  # a test double or a deliberately loose value
                await pub.stop()
                await wait_stored(client, doc, 30)
                assert (await client.get("/readyz")).status_code == 200

                # The broker goes away.
                broker.kill()
                broker.wait(10)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and (await client.get("/readyz")).status_code == 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
                ready = await client.get("/readyz")
                assert ready.status_code == 503 and ready.json()["broker"] is False
                live = await client.get("/healthz")
                assert live.status_code == 200
                before = len(counter.times)
                await asyncio.sleep(10)
                outage_lines = len(counter.times) - before
                print(f"\nwarning/error lines in 10 s of outage: {outage_lines}")
                assert outage_lines <= 20, outage_lines

                # It comes back empty (memory-only) on the same port.
                broker = start_tansu(port, log_path=log_path)
                back = time.monotonic()
                while (await client.get("/readyz")).status_code != 200:
                    assert time.monotonic() - back < 30, "not ready again after 30 s"
                    await asyncio.sleep(0.2)
                print(f"ready again {time.monotonic() - back:.1f} s after the broker came back")
                pub = Publisher(settings, "test2")
                await pub.start(timeout_s=10)
                doc2, ev2 = received("etter")
                await pub.publish(topics_for(settings).documents_received, doc2, ev2)  # type: ignore[arg-type]  # a test double or a deliberately loose value
                await pub.stop()
                await wait_stored(client, doc2, 30)
                resumed = time.monotonic() - back
                print(f"consumption resumed {resumed:.1f} s after the broker came back")
                assert resumed <= 10.0, resumed
                want = topics_for(settings).partitions(settings)
                assert await partitions(bootstrap, list(want)) == want
    finally:
        root.removeHandler(counter)
        broker.kill()
        broker.wait(10)


async def test_ensure_topics_grows_an_auto_created_topic(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, topic_prefix=f"grow{int(time.time() * 1000) % 10**8}"
    )
    name = topics_for(settings).segments_extracted
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:  # Tansu (the memory-only test broker) has no CreatePartitions: nothing to grow there
        scratch = f"{settings.topic_prefix}.scratch"
        await admin.start()
        await admin.create_topics([NewTopic(scratch, num_partitions=1, replication_factor=1)])
        await admin.create_partitions({scratch: NewPartitions(total_count=2)})
    except KafkaError:
        pytest.skip("this broker cannot add partitions to a topic")
    finally:
        await admin.close()
    changed = await ensure_topics(settings)
    assert name in changed
    want = topics_for(settings).partitions(settings)
    assert await partitions(kafka_bootstrap, list(want)) == want
