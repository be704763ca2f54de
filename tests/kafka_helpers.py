"""Test helpers that read topics with an independent aiokafka consumer (no consumer group)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


async def read_topic(
    bootstrap: str, topic: str, *, min_count: int = 1, timeout_s: float = 30.0, idle_s: float = 1.0
) -> list[dict[str, Any]]:
    """Read ``topic`` from the beginning until ``min_count`` records arrived and the topic went quiet
    for ``idle_s``, or the deadline passed. Returns decoded JSON values with key/partition/offset."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not parts:
            if asyncio.get_running_loop().time() > deadline:
                return []
            await asyncio.sleep(0.2)
            await consumer.topics()
            parts = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[dict[str, Any]] = []
        quiet_since = asyncio.get_running_loop().time()
        while True:
            now = asyncio.get_running_loop().time()
            if now > deadline or (len(out) >= min_count and now - quiet_since >= idle_s):
                return out
            batch = await consumer.getmany(timeout_ms=200)
            if batch:
                quiet_since = asyncio.get_running_loop().time()
            for tp, records in batch.items():
                for r in records:
                    try:
                        value: Any = json.loads(r.value) if r.value else None
                    except ValueError:
                        value = r.value
                    out.append(
                        {
                            "key": r.key.decode() if r.key else None,
                            "partition": tp.partition,
                            "offset": r.offset,
                            "value": value,
                        }
                    )
    finally:
        await consumer.stop()


async def group_offsets(bootstrap: str, group: str, topic: str) -> dict[int, tuple[int | None, int]]:
    """Per partition of ``topic``: (the offset ``group`` committed, or None; the end offset). Read with a
    consumer that names the group but never joins it, so the group is not rebalanced by asking."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = await consumer.end_offsets(tps) if tps else {}
        return {tp.partition: (await consumer.committed(tp), ends[tp]) for tp in tps}
    finally:
        await consumer.stop()
