"""The learned pair scorer: how likely two segments make the same point.

Round 6 (issue 13). The hand-set scorer (grouping.py: weighted cosine, then gates that zero a pair unless it
shares a concept and names no different object) was tuned on the sets the concept lexicon was written from;
on letters whose topics the lexicon lacks, most paraphrase pairs score 0 and near misses that share words
get through. This scorer is a logistic regression over a few features of a candidate pair, trained by
``python -m tools.points.train_pairs`` on the team's paraphrase sets with the labels and themes the default
classifier predicts (what the store sees), and stored as ``pair_model.json`` next to this module.

Candidates are the pairs whose weighted feature vectors have cosine >= ``Config.edge_min`` or whose texts lie
close in the semantic space (semantic.py); every other pair scores 0. Since round 7 a pair may hold two
labels (challenge, measure, example): ``label_differs`` lets the model weigh that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

MODEL_FILE = Path(__file__).resolve().parent / "pair_model.json"

#: The features of a pair, in the order the weights use.
FEATURES: tuple[str, ...] = (
    "cosine",  # weighted lemma/part/concept vectors (grouping.py)
    "semantic",  # cosine in the semantic space
    "object_shared",  # 1 when both name a common object concept
    "object_clash",  # 1 when both name object concepts and none in common
    "actor_clash",  # 1 when both name professions/actors and none in common
    "facets_shared",  # actor, population and setting concepts in common
    "words_shared",  # content words and compound parts in common
    "theme_jaccard",  # themes in common / themes of either
    "theme_clash",  # 1 when both have themes and none in common
    "theme_unknown",  # 1 when either has no theme (the two above then say nothing)
    "size",  # square root of the smaller segment's feature count
    "label_differs",  # 1 when the two carry different labels (challenge, measure, example)
    "aspect_only",  # 1 when all they share of the lexicon is aspects (funding, pilots): a near miss
    "encoder",  # cosine of the sentence encoder's centred vectors (encoder.py)
)


@dataclass(frozen=True)
class PairModel:
    """Logistic weights over FEATURES, and the linkage threshold chosen with them."""

    weights: np.ndarray
    bias: float
    threshold: float
    about: dict[str, Any] = field(default_factory=dict)
    #: Added to the log-odds of two segments that are each other's best match in their letters
    #: (grouping.py ``letter_best``); chosen with the threshold by leaving one training set out.
    mutual_boost: float = 0.0

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(same point) for each row of x (pairs × FEATURES)."""
        z = x @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float32)

    def save(self, path: Path = MODEL_FILE) -> None:
        raw = {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(float(self.bias), 6),
            "threshold": self.threshold,
            "mutual_boost": self.mutual_boost,
            "about": self.about,
        }
        path.write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=2)
def load_pair_model(path: Path = MODEL_FILE) -> PairModel | None:
    """The stored model, or None when missing; a file for other features is an error, not a silent mix."""
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    if tuple(raw["features"]) != FEATURES:
        raise ValueError(f"{path}: features {raw['features']} differ from {list(FEATURES)}; retrain it")
    return PairModel(
        weights=np.asarray(raw["weights"], dtype=np.float64),
        bias=float(raw["bias"]),
        threshold=float(raw["threshold"]),
        about=dict(raw.get("about") or {}),
        mutual_boost=float(raw.get("mutual_boost", 0.0)),
    )


def _row_dots(a: sp.csr_matrix, b: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Dot products of row i of a with row j of b, pair by pair (no rows x columns product needed)."""
    if not len(i):
        return np.zeros(0)
    return np.asarray(a[i].multiply(b[j]).sum(axis=1), dtype=np.float64).ravel()


def _has(m: sp.csr_matrix) -> np.ndarray:
    return np.diff(m.indptr) > 0


def pair_features(
    mr: dict[str, sp.csr_matrix],
    mc: dict[str, sp.csr_matrix],
    zr: np.ndarray | None,
    zc: np.ndarray | None,
    i: np.ndarray,
    j: np.ndarray,
    er: np.ndarray | None = None,
    ec: np.ndarray | None = None,
) -> np.ndarray:
    """Feature rows (len(i) × FEATURES) of the pairs (row i, column j).

    ``mr``/``mc`` hold, for the rows and the columns, what grouping.py builds: the weighted unit vectors
    ``x`` and the 0/1 indicators ``object``, ``actor``, ``facets``, ``topics``, ``aspect``, ``words``,
    ``themes``, ``all`` and ``label``. ``zr``/``zc`` are unit vectors in the semantic space (None: the
    feature is 0); ``er``/``ec`` those of the sentence encoder (None: 0). Every feature is a dot product of one row with one column, pair by pair: sampling a
    rows × columns product took most of a recompute's time.
    """

    def shared(key: str) -> np.ndarray:
        return _row_dots(mr[key], mc[key], i, j)

    x = np.zeros((len(i), len(FEATURES)), dtype=np.float64)
    x[:, 0] = _row_dots(mr["x"], mc["x"], i, j)
    if zr is not None and zc is not None and len(i):
        x[:, 1] = np.einsum("ij,ij->i", zr[i], zc[j])
    obj = shared("object")
    x[:, 2] = obj > 0
    x[:, 3] = _has(mr["object"])[i] & _has(mc["object"])[j] & (obj == 0)
    act = shared("actor")
    x[:, 4] = _has(mr["actor"])[i] & _has(mc["actor"])[j] & (act == 0)
    x[:, 5] = shared("facets")
    x[:, 6] = shared("words")
    th = shared("themes")
    nr = np.diff(mr["themes"].indptr)[i]
    nc = np.diff(mc["themes"].indptr)[j]
    x[:, 7] = th / np.maximum(nr + nc - th, 1)
    x[:, 8] = (nr > 0) & (nc > 0) & (th == 0)
    x[:, 9] = (nr == 0) | (nc == 0)
    x[:, 10] = np.sqrt(np.minimum(np.diff(mr["all"].indptr)[i], np.diff(mc["all"].indptr)[j]))
    if "label" in mr and "label" in mc:
        x[:, 11] = 1.0 - shared("label")
    x[:, 12] = (shared("aspect") > 0) & (shared("topics") == 0)
    if er is not None and ec is not None and len(i):
        x[:, 13] = np.einsum("ij,ij->i", er[i], ec[j])
    return x


__all__ = ["FEATURES", "MODEL_FILE", "PairModel", "load_pair_model", "pair_features"]
