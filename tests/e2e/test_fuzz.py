"""Property-based API fuzzing with schemathesis against the running services' OpenAPI: no 5xx, ever."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.runner import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("service", ["ingest", "classify", "store"])
def test_no_server_errors_under_fuzzing(stack: Stack, service: str, tmp_path: Path) -> None:
    report = tmp_path / f"{service}.ndjson"
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{stack.url(service)}/openapi.json",
        "--checks", "not_a_server_error", "--max-examples", "25", "--seed", "7",
        "--phases", "examples,coverage,fuzzing", "--request-timeout", "30",
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=480)
    cases, failures = _count(report)
    print(f"\nfuzz {service}: cases={cases} server_errors={failures}")
    assert cases > 0, proc.stdout[-3000:]
    assert proc.returncode == 0 and failures == 0, proc.stdout[-5000:]


def _count(report: Path) -> tuple[int, int]:
    """Test cases run and failed checks, from schemathesis' ndjson event log."""
    cases = failures = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for name, body in event.items():
            if name == "ScenarioFinished":
                recorder = body.get("recorder", {})
                cases += len(recorder.get("cases", {}))
                for checks in recorder.get("checks", {}).values():
                    failures += sum(1 for c in checks if c.get("status") == "FAILURE")
    return cases, failures
