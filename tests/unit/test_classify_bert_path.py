"""The BERT path is real: a tiny BERT checkpoint built here with ``save_pretrained`` is fine-tuned by the
recipe (``--base PATH``) and served by the loader, exactly as a downloaded checkpoint would be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.classify.loader import load_classifier
from services.classify.schema import Item, read_manifest
from shared.events import LABELS
from tools.training import recipe as R

TEXTS = {
    "challenge": "Det er krevende å rekruttere leger",
    "measure": "Staten bør finansiere flere stillinger",
    "example": "Prosjektet er etablert og fungerer godt",
    "other": "Med vennlig hilsen",
}


def tiny_checkpoint(path: Path) -> Path:
    transformers = pytest.importorskip("transformers")
    words = sorted({w.lower() for t in TEXTS.values() for w in t.split()} | {"utfordringer", "tiltak", ">"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True).save_pretrained(
        path
    )
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    transformers.BertForMaskedLM(config).save_pretrained(path)
    return path


def test_tiny_local_checkpoint_is_fine_tuned_and_served(tmp_path: Path) -> None:
    base = tiny_checkpoint(tmp_path / "tiny-bert")
    rows = [
        {"doc": f"d-{d}", "seq": s, "text": f"{text} {d}", "heading_path": [], "label": label}
        for d in range(6)
        for s, (label, text) in enumerate(TEXTS.items())
    ]
    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / "x.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    splits = R.prepare(folder, 0.2, 13, tmp_path / "no-gold.jsonl")
    out = tmp_path / "model"
    card = R.train_bert(
        out, splits, base=base, epochs=2, lr=5e-3, batch_size=8, onnx=False, measure_speed=False
    )
    assert read_manifest(out)["kind"] == "bert" and card["recipe"]["base"] == str(base)
    clf = load_classifier(out, threads=1)
    preds = clf.predict([Item.of(t, ["Tiltak"]) for t in TEXTS.values()])
    assert len(preds) == 4 and all(p.label in LABELS for p in preds)
    assert all(abs(sum(p.scores.values()) - 1) < 1e-4 for p in preds)
    assert card["evaluation"]["held_out"]["n"] == 4
