"""Same data and seed give the same model: a tiny compact BERT is pretrained and fine-tuned twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from services.classify.bert import BertClassifier
from tools.training.compact import CompactSize, pretrain_mlm
from tools.training.data import Example
from tools.training.finetune import fine_tune

TEXTS = {
    "challenge": ["Det er krevende å rekruttere sykepleiere.", "Ventetiden er for lang for unge pasienter."],
    "measure": ["Kommunen bør få øremerkede midler.", "Staten må finansiere flere lærlingplasser."],
    "example": ["Vi har etablert et felles team.", "Prosjektet har gitt færre reinnleggelser."],
    "other": ["Med vennlig hilsen", "Oslo, 3. mars 2023"],
}
DATA = [
    Example(f"d{i}", j, t, ("Innspill",), label)
    for j, (label, ts) in enumerate(TEXTS.items())
    for i, t in enumerate(ts)
]
SIZE = CompactSize(layers=1, hidden=32, heads=2, intermediate=64, vocab=200)


def _train(root: Path, seed: int) -> np.ndarray:
    base = pretrain_mlm(DATA, root / "base", size=SIZE, epochs=2, batch_size=4, seed=seed, threads=1)
    out = fine_tune(base, DATA, root / "model", epochs=3, batch_size=4, lr=1e-3, seed=seed, threads=1)
    return BertClassifier(out, "test", threads=1).predict_proba([e.item for e in DATA])


def test_same_seed_same_model(tmp_path: Path) -> None:
    first = _train(tmp_path / "a", seed=7)
    again = _train(tmp_path / "b", seed=7)
    other = _train(tmp_path / "c", seed=8)
    assert first.shape == (len(DATA), 4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
