"""Fine-tune any BERT-family checkpoint (a local directory, or a hub id where a hub is reachable) as a
four-label sequence classifier on heading-path + text pairs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as hf_logging

from services.classify.schema import heading_text
from shared.events import LABELS
from tools.training.compact import MAX_LENGTH, as_dataset, train_loop
from tools.training.data import Example
from tools.training.determinism import make_deterministic, seeded_generator

LABEL2ID = {label: i for i, label in enumerate(LABELS)}


def class_weights(examples: list[Example]) -> torch.Tensor:
    """Inverse-frequency weights (sklearn's "balanced"), so the rarer labels are not drowned by other."""
    counts = np.array([sum(e.label == label for e in examples) for label in LABELS], dtype=np.float64)
    weights = counts.sum() / (len(LABELS) * np.maximum(counts, 1))
    return torch.tensor(weights, dtype=torch.float32)


def fine_tune(
    base: str | Path,
    examples: list[Example],
    out_dir: Path,
    *,
    epochs: int = 8,
    batch_size: int = 16,
    lr: float = 1e-4,
    seed: int = 13,
    threads: int | None = None,
    max_length: int = MAX_LENGTH,
    weighted: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Train and save a BertForSequenceClassification with its tokenizer in ``out_dir``."""
    make_deterministic(seed, threads)
    tok = AutoTokenizer.from_pretrained(str(base))
    hf_logging.set_verbosity_error()  # a fresh classifier head on a masked-LM base is expected, not news
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base),
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id=LABEL2ID,
    )
    rows = [(heading_text(e.heading_path), e.text, LABEL2ID[e.label]) for e in examples]

    def collate(batch: list[tuple[str, str, int]]) -> dict[str, torch.Tensor]:
        enc = tok(
            [b[0] for b in batch],
            [b[1] for b in batch],
            truncation="longest_first",
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        enc["labels"] = torch.tensor([b[2] for b in batch])
        return dict(enc)

    loader: torch.utils.data.DataLoader[Any] = torch.utils.data.DataLoader(
        as_dataset(rows),
        batch_size=batch_size,
        shuffle=True,
        collate_fn=collate,
        generator=seeded_generator(seed),
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(examples) if weighted else None)

    def loss_of(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        labels = batch.pop("labels")
        return loss_fn(model(**batch).logits, labels)

    train_loop(model, loader, epochs, lr, loss_of, progress)
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir
