"""Extraction quality does not slide back: the fidelity script's figures against their targets.

Needs LibreOffice (``make test`` installs it where apt-get is allowed) and skips cleanly without it.
The seed mode also needs ``../shared``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.extract import fidelity
from tools.extract.render import soffice

pytestmark = [pytest.mark.integration, pytest.mark.slow]

needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


def _figures(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "figures.json"
    assert fidelity.main([*args, "--out", str(tmp_path / "render"), "--json", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


@needs_soffice
def test_team_letters_with_real_structure(tmp_path: Path) -> None:
    """Bold headings, lists, ruled tables, footnotes and running headers, as an office suite draws them."""
    figures = _figures(tmp_path, "--letters", "16")
    assert len(figures["documents"]) == 16
    assert figures["recovered"] >= 0.95
    assert figures["heading_path_accuracy"] >= 0.90
    assert figures["furniture"] < 0.01


@needs_soffice
def test_seed_letters(tmp_path: Path, shared_dir: Path) -> None:
    figures = _figures(tmp_path, "--shared", str(shared_dir), "--renderer", "libreoffice")
    assert len(figures["documents"]) == 5
    assert figures["recovered"] >= 0.90
    assert figures["furniture"] < 0.01


@needs_soffice
def test_team_letters_in_varied_office_layouts(tmp_path: Path) -> None:
    """Blank-line and indented paragraphs, bold-only headings, logo lines, tables ruled only across or
    not at all, headers repeating the date: each letter in its own layout."""
    figures = _figures(tmp_path, "--letters", "16", "--layout", "varied")
    assert figures["recovered"] >= 0.93
    assert figures["heading_path_accuracy"] >= 0.90
    assert figures["furniture"] < 0.01
