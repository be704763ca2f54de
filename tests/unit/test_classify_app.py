"""POST /classify, its input errors, /healthz, and the start-up error for a missing model."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.classify.app import create_app
from services.classify.inference import InferenceService
from services.classify.schema import write_manifest
from shared.events import LABELS
from shared.settings import Settings


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    path = tmp_path / "model"
    write_manifest(path, {"kind": "keywords", "model_version": "keywords-test"})
    return path


@pytest.fixture
def client(tmp_path: Path, model_dir: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "var", model_dir=model_dir, classify_max_items=100)
    with TestClient(create_app(settings, stream=False)) as c:
        yield c


def test_classifies_a_batch_of_64(client: TestClient) -> None:
    items = [
        {"text": f"Det er krevende å rekruttere leger til {n} bygder.", "heading_path": ["Utfordringer"]}
        for n in range(63)
    ] + [{"text": "Med vennlig hilsen"}]
    resp = client.post("/classify", json={"items": items})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == "keywords-test" and len(body["results"]) == 64
    assert body["results"][0]["label"] == "challenge" and body["results"][-1]["label"] == "other"
    for r in body["results"]:
        assert set(r["scores"]) == set(LABELS) and abs(sum(r["scores"].values()) - 1) < 1e-4


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"items": []}, 422, "no_items"),
        ({"items": [{"text": "ok"}, {"text": "  "}]}, 422, "empty_text"),
        ({"items": [{"text": "x"}] * 101}, 413, "too_many_items"),
        ({"items": [{"heading_path": ["a"]}]}, 422, "invalid_request"),
        ({"items": [{"text": "x", "heading_path": "not a list"}]}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
def test_bad_requests_get_json_errors(client: TestClient, body: dict, status: int, error: str) -> None:
    resp = client.post("/classify", json=body)
    assert resp.status_code == status
    assert resp.json()["error"] == error and resp.json()["detail"]


def test_health_names_the_model(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["model_version"] == "keywords-test"
    assert "innspill_classify_inference_seconds" in client.get("/metrics").text
    assert client.get("/docs").status_code == 200


def test_token_is_required_when_configured(tmp_path: Path, model_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_dir=model_dir, api_token="s3cret")
    with TestClient(create_app(settings, stream=False)) as c:
        assert c.post("/classify", json={"items": [{"text": "x"}]}).status_code == 401
        ok = c.post("/classify", json={"items": [{"text": "x"}]}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_missing_model_stops_start_with_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_dir=tmp_path / "nowhere")
    with (
        pytest.raises(RuntimeError, match="does not exist.*ensure-model"),
        TestClient(create_app(settings, stream=False)),
    ):
        pass


def test_a_loaded_model_can_be_handed_in(tmp_path: Path, model_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_dir=tmp_path / "unused")
    with TestClient(
        create_app(settings, inference=InferenceService.from_dir(model_dir, 1), stream=False)
    ) as c:
        assert (
            c.post("/classify", json={"items": [{"text": "Vi bør styrke tilbudet."}]}).json()["results"][0][
                "label"
            ]
            == "measure"
        )
