"""Crashes and scaling with real processes: nothing lost, nothing doubled.

Prints the figures the delivery issue asks for (documents, segments, lost, duplicated).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from services.store.db import make_engine
from shared.streams import consumer_group
from shared.topics import topics_for
from tests.e2e.conftest import stack_settings
from tests.kafka_helpers import group_offsets, read_topic
from tests.letters import letter_pdf_bytes
from tools.cli.broker import free_port
from tools.cli.stack import Stack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def stack(kafka_bootstrap: str, tmp_path: Path, e2e_database: str) -> Iterator[Stack]:
    with running_stack(
        stack_settings(kafka_bootstrap, tmp_path, "res", e2e_database),
        tmp_path / "logs",
        explicit_bootstrap=True,
    ) as s:
        s.start_service("classify", name="classify-2", port=free_port())
        s.wait_healthy("classify-2")
        wait_both_assigned(s, ("classify", "classify-2"))
        yield s


def wait_both_assigned(stack: Stack, names: tuple[str, ...], timeout_s: float = 90) -> None:
    """Healthy is not yet in the group: wait until the rebalance gave every replica partitions (letters now
    flow through the stack fast enough to be done before a late replica joins)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        parts = [
            httpx.get(f"{stack.replica_url(n)}/healthz", timeout=5).json().get("partitions", 0) for n in names
        ]
        if all(p > 0 for p in parts):
            return
        time.sleep(0.5)
    raise AssertionError(f"replicas {names} did not all get partitions in {timeout_s:.0f} s")


def upload(stack: Stack, tmp: Path, n: int) -> str:
    pdf = letter_pdf_bytes(tmp, f"brev-{n}.pdf", variant=n)
    resp = httpx.post(f"{stack.url('ingest')}/documents", files={"file": (f"brev-{n}.pdf", pdf)}, timeout=30)
    assert resp.status_code == 202, resp.text
    return str(resp.json()["document_id"])


def statuses(stack: Stack) -> dict[str, str]:
    resp = httpx.get(f"{stack.url('store')}/documents", params={"limit": 1000}, timeout=10)
    resp.raise_for_status()
    return {d["id"]: d["status"] for d in resp.json()["items"]}


def wait_all_classified(stack: Stack, ids: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            seen = statuses(stack)
        except httpx.HTTPError:
            seen = {}
        if all(seen.get(i) == "classified" for i in ids):
            return
        time.sleep(1)
    missing = {i: seen.get(i) for i in ids if seen.get(i) != "classified"}
    raise AssertionError(
        f"{len(missing)} documents not classified: {missing}\n{stuck_report(stack, missing)}"
    )


def stuck_report(stack: Stack, doc_ids: Iterable[str]) -> str:
    """Where the documents that stopped short wait in classify's input: per document and partition, the
    offsets of its extracted segments that have no classified event, with the classify group's committed
    offset and the broker's high watermark there. A committed offset past those records means the group
    skipped them; one at or before them means no replica consumed them again. Written into the failure, so
    a rare failure explains itself."""
    try:
        return asyncio.run(_stuck_report(stack, set(doc_ids)))
    except Exception as exc:  # the report must never hide the failure it explains
        return f"(no report on the stuck documents: {type(exc).__name__}: {exc})"


async def _stuck_report(stack: Stack, doc_ids: set[str]) -> str:
    settings = stack.settings
    topics = topics_for(settings)
    extracted = await read_topic(settings.kafka_bootstrap, topics.segments_extracted, idle_s=2)
    classified = await read_topic(settings.kafka_bootstrap, topics.segments_classified, idle_s=2)
    done = {r["value"]["data"]["segment_id"] for r in classified if isinstance(r["value"], dict)}
    offsets = await group_offsets(
        settings.kafka_bootstrap, consumer_group(settings, "classify"), topics.segments_extracted
    )
    waiting: dict[tuple[str, int], list[int]] = defaultdict(list)
    for r in extracted:
        data = r["value"]["data"] if isinstance(r["value"], dict) else {}
        if data.get("document_id") in doc_ids and data.get("segment_id") not in done:
            waiting[(data["document_id"], r["partition"])].append(r["offset"])
    lines = []
    for (doc, partition), at in sorted(waiting.items()):
        committed, end = offsets.get(partition, (None, None))
        lines.append(
            f"  {doc}: {len(at)} segments not classified, partition {partition} offsets {min(at)}-{max(at)}; "
            f"classify committed {committed}, high watermark {end}"
        )
    return "\n".join(lines) or "  every extracted segment of these documents was classified"


def stored_segments(database_url: str) -> list[tuple[str, str]]:
    """(segment_id, label) of every stored segment, read straight from the store's database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(sa.text("SELECT segment_id, label FROM segments"))]
    finally:
        engine.dispose()


def classified_count(url: str) -> float:
    """Segments a classify replica labelled, from its Prometheus metrics."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("innspill_classify_segments_total"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_kill_9_of_classify_and_store_loses_and_doubles_nothing(stack: Stack, tmp_path: Path) -> None:
    n_docs = 30
    ids = [upload(stack, tmp_path, n) for n in range(12)]
    # Let work start flowing, then crash a classify replica and the store mid-stream.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and classified_count(stack.replica_url("classify")) == 0:
        time.sleep(0.2)
    stack.kill("classify")
    stack.kill("store")
    ids += [upload(stack, tmp_path, n) for n in range(12, n_docs)]
    stack.start_service("store")
    stack.wait_healthy("store")
    stack.start_service("classify")
    stack.wait_healthy("classify")
    wait_all_classified(stack, ids, timeout_s=300)

    extracted = asyncio.run(
        read_topic(
            stack.settings.kafka_bootstrap,
            topics_for(stack.settings).segments_extracted,
            min_count=1,
            idle_s=2,
        )
    )
    expected = {r["value"]["data"]["segment_id"] for r in extracted}
    rows = stored_segments(stack.settings.resolved_database_url)
    stored = [r[0] for r in rows]
    lost = expected - set(stored)
    duplicated = len(stored) - len(set(stored))
    unlabelled = [r for r in rows if not r[1]]
    print(
        f"\ncrash test: documents={len(ids)} segments={len(expected)} stored={len(stored)} "
        f"lost={len(lost)} duplicated={duplicated} unlabelled={len(unlabelled)}"
    )
    assert len(set(ids)) == n_docs
    assert not lost and duplicated == 0 and not unlabelled
    assert set(stored) == expected


def test_two_classify_replicas_share_work_and_hand_over(stack: Stack, tmp_path: Path) -> None:
    first = [upload(stack, tmp_path, n) for n in range(100, 112)]
    wait_all_classified(stack, first, timeout_s=180)
    a, b = classified_count(stack.replica_url("classify")), classified_count(stack.replica_url("classify-2"))
    print(f"\nreplicas: classify={a:.0f} classify-2={b:.0f} segments")
    assert a > 0 and b > 0, "both replicas in the group must get partitions and do work"

    stack.procs["classify-2"].terminate()  # graceful stop: its partitions move to the other replica
    stack.procs["classify-2"].wait(timeout=30)
    second = [upload(stack, tmp_path, n) for n in range(200, 206)]
    wait_all_classified(stack, second, timeout_s=180)
