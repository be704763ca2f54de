"""The theme taxonomy the store validates corrections and filters against (``INNSPILL_TAXONOMY``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    covers: str = ""


@dataclass(frozen=True)
class Taxonomy:
    version: str
    themes: tuple[Theme, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def name(self, theme_id: str) -> str:
        return next((t.name for t in self.themes if t.id == theme_id), theme_id)


def resolve(path: Path) -> Path:
    """A relative path is read from the working directory, else from the repository root."""
    if path.is_absolute() or path.exists():
        return path
    return REPO_ROOT / path


@lru_cache(maxsize=8)
def load_taxonomy(path: Path) -> Taxonomy:
    raw = json.loads(resolve(path).read_text(encoding="utf-8"))
    themes = tuple(
        Theme(str(t["id"]), str(t.get("name", t["id"])), str(t.get("covers", ""))) for t in raw["themes"]
    )
    return Taxonomy(str(raw.get("version", "")), themes)
