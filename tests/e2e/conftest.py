"""The running system for end-to-end tests: broker from the session fixture, four service processes, and
the store on SQLite and on PostgreSQL (when reachable): every test using a stack runs on both."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from tests.conftest import _pg_admin_url, _pg_execute
from tools.cli.broker import free_port
from tools.cli.stack import Stack, running_stack

REPO = Path(__file__).resolve().parents[2]


def default_model_dir() -> Path:
    env = os.environ.get("INNSPILL_MODEL_DIR")
    path = Path(env) if env else REPO / "var" / "models" / "default"
    if not path.is_dir():
        pytest.fail(f"no classifier at {path}: run `make model` (make test does it) first")
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def e2e_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The store's database for a module's stack: a SQLite file, and a fresh PostgreSQL database (the
    production store) when a server is reachable (``INNSPILL_TEST_POSTGRES``); dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}"
        return
    name = f"innspill_e2e_{uuid.uuid4().hex[:10]}"
    try:
        _pg_execute(f'CREATE DATABASE "{name}"')
    except Exception:
        pytest.skip("PostgreSQL not reachable")
    yield _pg_admin_url().rsplit("/", 1)[0] + "/" + name
    try:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        pass


def stack_settings(
    kafka_bootstrap: str, tmp: Path, prefix: str, database_url: str | None = None, **extra: object
) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"{prefix}{uuid.uuid4().hex[:6]}",
        data_dir=tmp / "var",
        database_url=database_url or f"sqlite:///{tmp / 'store.db'}",
        model_dir=default_model_dir(),
        ingest_port=free_port(),
        extract_port=free_port(),
        classify_port=free_port(),
        store_port=free_port(),
        **extra,
    )


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, e2e_database: str
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    with running_stack(
        stack_settings(kafka_bootstrap, tmp, "e2e", e2e_database), tmp / "logs", explicit_bootstrap=True
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
