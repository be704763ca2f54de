"""shared/streams.py: the stream services' consumers use the configured fetch wait, not faust's 1500 ms."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shared.settings import Settings
from shared.streams import make_faust_app


def test_consumer_fetch_wait_comes_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:9", kafka_fetch_max_wait_ms=80)

    async def build() -> int:
        app = make_faust_app("fetchwait", settings)
        thread = app.consumer._new_consumer_thread()  # type: ignore[attr-defined]  # faust internals
        consumer = thread._create_worker_consumer(app.transport)
        try:
            # The private name aiokafka reads when it builds its fetcher; if an upgrade renames it, this fails.
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()

    assert asyncio.run(build()) == 80
