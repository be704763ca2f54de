"""A small semantic space for point grouping: latent semantic analysis over the team's own letters.

Two senders who propose the same measure often share almost no words («felles journal» / «at fastlegen
ser hva sykehuset har skrevet»). The concept lexicon links such pairs only where it has the concept. This
space links words that occur in the same kind of segment across the team's labelled letters: a term's
vector comes from a truncated SVD of the segment × term TF-IDF matrix (latent semantic analysis), so two
texts about the same thing land near each other even with no word in common.

The space is built offline by ``python -m tools.points.build_semantic`` (data/labelled only, never the seeds
or the held-out sets) and stored next to this module as ``semantic.npz``: the vocabulary, its idf and the
SVD components. Embedding a text here needs only numpy: terms (lemmas and compound parts, as the grouping
uses) -> sublinear tf × idf -> L2 norm -> projection -> L2 norm.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shared.lexicon import segment_positions

SPACE_FILE = Path(__file__).resolve().parent / "semantic.npz"


def space_terms(text: str) -> list[str]:
    """The terms a text contributes to the space: lemmas and compound parts of its content words."""
    return [t for p in segment_positions(text) for t in sorted(p) if len(t) > 2 and not t.isdigit()]


@dataclass(frozen=True)
class SemanticSpace:
    """Vocabulary, idf per term and the (k × terms) SVD components."""

    terms: tuple[str, ...]
    idf: np.ndarray
    components: np.ndarray

    @property
    def dims(self) -> int:
        return int(self.components.shape[0])

    @property
    def index(self) -> dict[str, int]:
        return _index(self.terms)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (len(texts) × dims); a text with no known term gets the zero vector."""
        return self.embed_terms([space_terms(t) for t in texts])

    def embed_terms(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """As ``embed``, for texts already split into terms (unknown terms are skipped)."""
        index = self.index
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for row, terms in enumerate(docs):
            counts = Counter(index[t] for t in terms if t in index)
            for col, k in counts.items():
                rows.append(row)
                cols.append(col)
                vals.append((1.0 + math.log(k)) * float(self.idf[col]))
        x = sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.terms)), dtype=np.float64)
        x = sp.diags(1.0 / np.maximum(_row_norms(x), 1e-12)) @ x
        z = np.asarray(x @ self.components.T, dtype=np.float32)
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)

    def save(self, path: Path = SPACE_FILE) -> None:
        np.savez_compressed(
            path,
            terms=np.asarray(self.terms),
            idf=self.idf.astype(np.float32),
            components=self.components.astype(np.float16),
        )


def _row_norms(x: sp.csr_matrix) -> np.ndarray:
    return np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())


@lru_cache(maxsize=4)
def _index(terms: tuple[str, ...]) -> dict[str, int]:
    return {t: i for i, t in enumerate(terms)}


@lru_cache(maxsize=2)
def load_space(path: Path = SPACE_FILE) -> SemanticSpace | None:
    """The stored space, or None when the file is missing (the grouping then works without it)."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as raw:
        return SemanticSpace(
            terms=tuple(str(t) for t in raw["terms"]),
            idf=raw["idf"].astype(np.float64),
            components=raw["components"].astype(np.float32),
        )


__all__ = ["SPACE_FILE", "SemanticSpace", "load_space", "space_terms"]
