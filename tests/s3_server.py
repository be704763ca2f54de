"""A local S3-compatible server for tests: moto's standalone server on a free loopback port.

No mock is patched into boto3: the blob store talks HTTP to a real server process (thread) exactly as it
would to MinIO or AWS. Tests that need it skip cleanly when moto is not installed or the server does not
answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tools.cli.broker import free_port


@contextmanager
def moto_s3() -> Iterator[str]:
    """Yield the endpoint URL of a running S3 server; skip the test when it cannot start."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("moto[server] is not installed (pip install 'moto[server]')")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"the moto S3 server did not start: {exc!r}")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(url, timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    pytest.skip("the moto S3 server did not answer")
                time.sleep(0.1)
        yield url
    finally:
        server.stop()
