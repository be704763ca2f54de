"""Replay after a model upgrade: the same documents are classified again, in place, with the new model."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import stack_settings, wait_for_status
from tests.letters import letter_pdf_bytes
from tools.cli.stack import Stack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def stack(kafka_bootstrap: str, tmp_path: Path, e2e_database: str) -> Iterator[Stack]:
    with running_stack(
        stack_settings(kafka_bootstrap, tmp_path, "rpl", e2e_database),
        tmp_path / "logs",
        explicit_bootstrap=True,
    ) as s:
        yield s


def test_replay_reclassifies_with_the_new_model_version(stack: Stack, tmp_path: Path) -> None:
    pdf = letter_pdf_bytes(tmp_path, "brev.pdf", variant=7)
    doc_id = httpx.post(f"{stack.url('ingest')}/documents", files={"file": ("brev.pdf", pdf)}).json()[
        "document_id"
    ]
    before = wait_for_status(stack, doc_id, "classified")
    old_version = {s["model_version"] for s in before["segments"]}
    assert len(old_version) == 1

    # Upgrade: a different model directory (the keyword baseline), classify restarted on it.
    new_model = tmp_path / "keywords-model"
    subprocess.run(
        [sys.executable, "-m", "tools.training.train", "keywords", str(new_model)],
        check=True,
        capture_output=True,
        env=stack.env(),
    )
    stack.procs["classify"].terminate()
    stack.procs["classify"].wait(timeout=30)
    stack.start_service("classify", extra_env={"INNSPILL_MODEL_DIR": str(new_model)})
    stack.wait_healthy("classify")

    subprocess.run(
        [sys.executable, "-m", "tools.cli.main", "replay", doc_id],
        check=True,
        env=stack.env(),
        capture_output=True,
    )
    deadline = time.monotonic() + 120
    after: dict = {}
    while time.monotonic() < deadline:
        after = httpx.get(f"{stack.url('store')}/documents/{doc_id}").json()
        versions = {s["model_version"] for s in after["segments"]}
        if versions and versions.isdisjoint(old_version):
            break
        time.sleep(0.5)
    versions = {s["model_version"] for s in after["segments"]}
    assert versions and versions.isdisjoint(old_version), versions
    assert after["status"] == "classified"
    assert [s["segment_id"] for s in after["segments"]] == [s["segment_id"] for s in before["segments"]]


def test_replay_of_unknown_document_is_a_clear_error(stack: Stack) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.cli.main", "replay", "0" * 32],
        env=stack.env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no stored blob" in proc.stdout
