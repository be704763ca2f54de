"""Browser tests: the whole stack (as in tests/e2e) driven by headless Chromium through Playwright.

Chromium is the system's (Debian package ``chromium`` at /usr/bin/chromium, or ``INNSPILL_CHROMIUM``);
Playwright's own browser download is never used. Without Playwright or Chromium these tests are skipped.
axe-core comes from npm (``npm install --prefix tests/browser axe-core``); without it only the
accessibility checks are skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import stack  # noqa: F401  (the running system, module-scoped)
from tools.cli.stack import Stack

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("INNSPILL_UI_SHOTS", "/tmp/ui-shots"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]


@pytest.fixture(scope="module")
def e2e_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser tests read the UI, not the database; one SQLite store is enough (the
    pipeline, replay, kill -9 and chaos tests run on PostgreSQL as well)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}"


def chromium_path() -> str | None:
    env = os.environ.get("INNSPILL_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:  # noqa: F811
    # The stack starts first: it runs asyncio.run(), which Playwright's own event loop would forbid.
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set INNSPILL_CHROMIUM)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def axe_source() -> str | None:
    return AXE.read_text(encoding="utf-8") if AXE.is_file() else None


@pytest.fixture(scope="module")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
