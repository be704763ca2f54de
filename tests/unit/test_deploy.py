"""docker-compose.yml cannot run here (no Docker engine); check it against the settings instead."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from shared.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _innspill_vars(compose: dict) -> set[str]:
    names: set[str] = set()
    for svc in compose["services"].values():
        env = svc.get("environment") or {}
        keys = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        names |= {k for k in keys if k.startswith("INNSPILL_")}
    return names


def test_every_innspill_variable_in_compose_is_a_real_setting() -> None:
    fields = {f"INNSPILL_{name.upper()}" for name in Settings.model_fields}
    used = _innspill_vars(_compose())
    assert used, "compose sets no INNSPILL_ variables"
    assert used <= fields, f"unknown settings in docker-compose.yml: {sorted(used - fields)}"


def test_compose_runs_kafka_kraft_postgres_and_the_four_services() -> None:
    services = _compose()["services"]
    assert {"kafka", "postgres", "ingest", "extract", "classify", "store"} <= set(services)
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    # classify must scale: no fixed host port binding
    assert "ports" not in services["classify"]


def test_service_targets_exist_in_dockerfile() -> None:
    targets = set(re.findall(r"^FROM \S+ AS (\w+)", (REPO / "Dockerfile").read_text(), re.M))
    for name, svc in _compose()["services"].items():
        build = svc.get("build")
        if build:
            assert build["target"] in targets, name


def test_every_dockerfile_copy_source_is_in_the_repository() -> None:
    """A COPY of a path the repository lacks fails the image build; nothing here can run docker build."""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY":
            continue
        sources = [w for w in words[1:-1] if not w.startswith("--")]
        for src in sources:
            assert (REPO / src).exists(), f"Dockerfile copies {src!r}, which the repository does not have"


def test_classify_replicas_share_the_model_built_into_the_image() -> None:
    """Replicas must not train at start (they would race on one directory): the model dir in compose is
    the one the classify image's build step filled."""
    dockerfile = (REPO / "Dockerfile").read_text()
    classify_stage = dockerfile.split("AS classify", 1)[1].split("\nFROM ", 1)[0]
    baked = re.search(r"ENV INNSPILL_MODEL_DIR=(\S+)", classify_stage)
    assert baked and "RUN python -m tools.cli.main ensure-model" in classify_stage
    env = _compose()["services"]["classify"]["environment"]
    assert env["INNSPILL_MODEL_DIR"] == baked.group(1)
    assert env["INNSPILL_KAFKA_BOOTSTRAP"] == "kafka:9092"  # the shared settings are merged in
