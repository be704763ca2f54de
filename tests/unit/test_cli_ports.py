"""Ports for test and local stacks come from outside the kernel's ephemeral range, so that an outgoing
connection cannot take a service's port between the choice and the bind."""

from __future__ import annotations

import random
import socket
from typing import Any

from tools.cli.broker import PORT_RANGE, free_port


def test_free_ports_lie_below_the_ephemeral_range_and_can_be_bound() -> None:
    ports = {free_port() for _ in range(20)}
    assert all(PORT_RANGE[0] <= p < PORT_RANGE[1] for p in ports)
    assert len(ports) > 1  # drawn at random, not one fixed port
    for p in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))


class Draws(random.Random):
    """Draws the given ports in turn."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__()
        self.ports = ports

    def randrange(self, *_: Any, **__: Any) -> int:
        return self.ports.pop(0)


def test_a_taken_port_is_not_handed_out() -> None:
    first, second = free_port(), free_port()
    while second == first:
        second = free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", first))
        held.listen()
        assert free_port(rng=Draws([first, second])) == second
