"""Every service's API pages work offline: /docs from packaged files, no CDN-only /redoc."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.http import install_common
from shared.settings import Settings


def test_docs_are_served_from_local_assets_and_redoc_is_gone(tmp_path: Path) -> None:
    app = FastAPI(title="t")
    install_common(app, Settings(data_dir=tmp_path))
    client = TestClient(app)
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404
