"""The local stack's supervisor: restarts with backoff, gives up on a service that keeps crashing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.cli.stack import Supervisor


@dataclass
class FakeProc:
    returncode: int | None = None


@dataclass
class FakeStack:
    procs: dict[str, FakeProc] = field(default_factory=lambda: {"extract": FakeProc(), "store": FakeProc()})
    restarted: list[str] = field(default_factory=list)

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.returncode is not None]

    def restart(self, name: str) -> None:
        self.restarted.append(name)
        self.procs[name] = FakeProc()


def test_a_crashed_service_is_restarted_after_a_backoff_and_the_others_keep_running() -> None:
    stack = FakeStack()
    sup = Supervisor(stack)  # type: ignore[arg-type]  # a fake with the two methods the supervisor uses
    messages: list[str] = []
    stack.procs["extract"].returncode = -9
    assert sup.tick(100.0, messages.append) is None
    assert stack.restarted == [] and "restarting in 1 s" in messages[0]
    assert sup.tick(101.5, messages.append) is None
    assert stack.restarted == ["extract"] and stack.procs["store"].returncode is None


def test_backoff_grows_and_a_service_crashing_too_often_stops_the_stack() -> None:
    stack = FakeStack()
    sup = Supervisor(stack, max_restarts=3, window_s=60.0)  # type: ignore[arg-type]  # fake, see above
    delays: list[Any] = []
    now = 0.0
    failing = None
    for _ in range(10):
        stack.procs["extract"].returncode = 1
        failing = sup.tick(now, delays.append)
        if failing:
            break
        now = sup.due["extract"]
        sup.tick(now, delays.append)
    assert failing == "extract"
    assert stack.restarted == ["extract"] * 3
    assert [m for m in delays if "restarting in" in m][:3] == [
        "extract exited with code 1; restarting in 1 s (1 crash(es) lately)",
        "extract exited with code 1; restarting in 2 s (2 crash(es) lately)",
        "extract exited with code 1; restarting in 4 s (3 crash(es) lately)",
    ]
