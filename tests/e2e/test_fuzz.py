"""Property-based API fuzzing with schemathesis against the running services' OpenAPI: no 5xx, ever."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.cli.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def e2e_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Fuzzing exercises the HTTP surface, not the database: one SQLite store is enough (the pipeline,
    replay, kill -9 and chaos tests run on PostgreSQL as well)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}"


@pytest.mark.parametrize("service", ["ingest", "classify", "store"])
def test_no_server_errors_under_fuzzing(stack: Stack, service: str, tmp_path: Path) -> None:
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{stack.url(service)}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "25",
        "--seed",
        "7",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "30",
        # 503 is /readyz's documented answer while a consumer is still connecting: not a server error.
        "--exclude-path",
        "/readyz",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=480)
    cases, failures = _count(proc.stdout)
    print(f"\nfuzz {service}: cases={cases} server_errors={failures}")
    assert cases > 0, proc.stdout[-3000:]
    assert proc.returncode == 0 and failures == 0, proc.stdout[-5000:]


def _count(output: str) -> tuple[int, int]:
    """Test cases generated and failed, from schemathesis' summary ("57 generated, 57 passed")."""
    summary = output.rsplit("Test cases:", 1)[-1]
    generated = re.search(r"(\d+) generated", summary)
    failed = re.search(r"(\d+) failed", summary)
    return (int(generated.group(1)) if generated else 0), (int(failed.group(1)) if failed else 0)
