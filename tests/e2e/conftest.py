"""The running system for end-to-end tests: broker from the session fixture, four service processes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from tools.cli.broker import free_port
from tools.cli.stack import Stack, running_stack

REPO = Path(__file__).resolve().parents[2]


def default_model_dir() -> Path:
    env = os.environ.get("INNSPILL_MODEL_DIR")
    path = Path(env) if env else REPO / "var" / "models" / "default"
    if not path.is_dir():
        pytest.fail(f"no classifier at {path}: run `make model` (make test does it) first")
    return path


def stack_settings(kafka_bootstrap: str, tmp: Path, prefix: str, **extra: object) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"{prefix}{uuid.uuid4().hex[:6]}",
        data_dir=tmp / "var",
        database_url=f"sqlite:///{tmp / 'store.db'}",
        model_dir=default_model_dir(),
        ingest_port=free_port(),
        extract_port=free_port(),
        classify_port=free_port(),
        store_port=free_port(),
        **extra,
    )


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    with running_stack(
        stack_settings(kafka_bootstrap, tmp, "e2e"), tmp / "logs", explicit_bootstrap=True
    ) as s:
        yield s


def wait_for_status(
    stack: Stack, doc_id: str, want: str, timeout_s: float = 120.0, headers: dict[str, str] | None = None
) -> dict:
    deadline = time.monotonic() + timeout_s
    last: dict = {}
    while time.monotonic() < deadline:
        resp = httpx.get(f"{stack.url('store')}/documents/{doc_id}", timeout=5, headers=headers)
        if resp.status_code == 200:
            last = resp.json()
            if last["status"] in (want, "failed"):
                return last
        time.sleep(0.5)
    raise AssertionError(f"document {doc_id} not {want} after {timeout_s}s; last seen: {last.get('status')}")
