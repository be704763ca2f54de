"""Chaos: 50 letters through the whole stack while extract, classify and store are killed with -9 at random
moments (the stack's :class:`~tools.cli.stack.Supervisor` restarts them) and the memory-only broker is
restarted once, losing every topic, offset and record in flight.

Every letter must end final and classified, with 0 segments lost and 0 duplicated in the store; what the
broker lost is re-driven by the store's sweeper from the stored blobs. Prints the figures.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from services.store.db import make_engine
from shared.ids import segment_id_for
from tests.e2e.conftest import stack_settings
from tests.letters import letter_pdf_bytes
from tools.cli.broker import free_port, start_tansu
from tools.cli.stack import Stack, Supervisor, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

N_LETTERS = 50
FINAL = ("classified", "failed")


class Broker:
    """A Tansu broker of its own (the session broker is shared, so it cannot be restarted)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.proc = start_tansu(self.port, log_path=log)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def restart(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        time.sleep(1.0)  # a real outage, not a blip
        self.proc = start_tansu(self.port, log_path=self.log)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def chaos_stack(
    tmp_path: Path, e2e_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Stack, Broker]]:
    # Short deadlines so that what the broker loses is re-driven within the test's time.
    for key, value in {
        "INNSPILL_REDRIVE_AFTER_S": "20",
        "INNSPILL_REDRIVE_MAX_TRIES": "6",
        "INNSPILL_SWEEP_INTERVAL_S": "3",
        "INNSPILL_BROKER_PROBE_S": "1",
    }.items():
        monkeypatch.setenv(key, value)
    broker = Broker(tmp_path / "tansu.log")
    try:
        settings = stack_settings(broker.bootstrap, tmp_path, "chaos", e2e_database)
        with running_stack(settings, tmp_path / "logs", explicit_bootstrap=True) as stack:
            yield stack, broker
    finally:
        broker.stop()


def upload(client: httpx.Client, stack: Stack, name: str, pdf: bytes) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            resp = client.post(f"{stack.url('ingest')}/documents", files={"file": (name, pdf)}, timeout=30)
            if resp.status_code in (200, 202):
                return str(resp.json()["document_id"])
        except httpx.HTTPError:
            pass  # ingest restarting or the broker away: a client tries again
        assert time.monotonic() < deadline, f"{name} not accepted"
        time.sleep(0.5)


def statuses(client: httpx.Client, stack: Stack) -> dict[str, str]:
    try:
        resp = client.get(f"{stack.url('store')}/documents", params={"limit": 1000}, timeout=10)
        resp.raise_for_status()
    except httpx.HTTPError:
        return {}
    return {d["id"]: d["status"] for d in resp.json()["items"]}


def test_chaos_every_letter_final_nothing_lost_nothing_doubled(
    chaos_stack: tuple[Stack, Broker], tmp_path: Path
) -> None:
    stack, broker = chaos_stack
    rng = random.Random(20260105)
    pdfs = [
        (f"brev-{n}.pdf", letter_pdf_bytes(tmp_path, f"brev-{n}.pdf", variant=300 + n))
        for n in range(N_LETTERS)
    ]
    supervisor = Supervisor(stack, max_restarts=20)
    events: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def supervise() -> None:
        while not stop.is_set():
            with lock:
                failing = supervisor.tick(time.monotonic(), events.append)
            assert failing is None, f"{failing} kept crashing"
            time.sleep(0.3)

    watcher = threading.Thread(target=supervise, daemon=True)
    watcher.start()
    started = time.monotonic()
    # Kill moments: each of extract, classify and store twice, the broker once, spread over ~45 s.
    plan = sorted(
        [(rng.uniform(2, 45), svc) for svc in ("extract", "classify", "store") for _ in range(2)]
        + [(rng.uniform(10, 30), "broker")]
    )
    kills: list[str] = []

    def chaos() -> None:
        for at, what in plan:
            while time.monotonic() - started < at:
                if stop.wait(0.1):
                    return
            with lock:
                if what == "broker":
                    broker.restart()
                elif stack.procs[what].poll() is None:
                    stack.kill(what)
            kills.append(f"{what}@{time.monotonic() - started:.0f}s")

    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    try:
        with httpx.Client() as client:
            ids = []
            for name, pdf in pdfs:  # spread over the chaos window, so that every blow hits work in flight
                ids.append(upload(client, stack, name, pdf))
                time.sleep(0.8)
            assert len(set(ids)) == N_LETTERS
            deadline = time.monotonic() + 170
            seen: dict[str, str] = {}
            while time.monotonic() < deadline:
                seen = statuses(client, stack)
                if chaos_thread.is_alive() is False and all(seen.get(i) in FINAL for i in ids):
                    break
                time.sleep(1)
            elapsed = time.monotonic() - started
    finally:
        stop.set()
        chaos_thread.join(30)
        watcher.join(10)

    engine = make_engine(stack.settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            docs = {
                r[0]: (r[1], r[2])
                for r in conn.execute(sa.text("SELECT id, status, segment_count FROM documents"))
            }
            rows = [
                (r[0], r[1], r[2])
                for r in conn.execute(sa.text("SELECT segment_id, document_id, label FROM segments"))
            ]
            redriven = conn.execute(
                sa.text(
                    "SELECT count(*) FROM status_events WHERE status = 'received' AND detail LIKE '%via replay%'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    expected = {segment_id_for(d, i) for d in ids for i in range(docs.get(d, ("", 0))[1] or 0)}
    stored = [r[0] for r in rows if r[1] in set(ids)]
    lost = expected - set(stored)
    extra = set(stored) - expected
    duplicated = len(stored) - len(set(stored))
    unlabelled = [r for r in rows if not r[2]]
    final = [i for i in ids if seen.get(i) in FINAL]
    classified = [i for i in ids if seen.get(i) == "classified"]
    print(
        f"\nchaos: letters={N_LETTERS} final={len(final)} classified={len(classified)} "
        f"failed={len(final) - len(classified)} segments={len(expected)} stored={len(stored)} lost={len(lost)} "
        f"duplicated={duplicated} unexpected={len(extra)} unlabelled={len(unlabelled)} "
        f"redriven={redriven} time={elapsed:.0f}s kills={kills} restarts={[e for e in events if 'restarted' in e]}"
    )
    assert len(kills) == len(plan), kills
    not_final = {i: seen.get(i) for i in ids if seen.get(i) not in FINAL}
    assert not not_final, f"{len(not_final)} letters not final: {not_final}"
    assert len(classified) == N_LETTERS, {i: seen.get(i) for i in ids if seen.get(i) != "classified"}
    assert expected and not lost and duplicated == 0 and not extra and not unlabelled
