"""The project's own compact Norwegian BERT, built offline: a WordPiece vocabulary learnt from the
project's Norwegian text, a small BERT from a config, and masked-language-model pretraining on that text.

Only text the team wrote is used (``data/labelled`` and any ``data/unlabelled/*.txt``); the seed gold
documents are never read here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from transformers import BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling
from transformers import BertTokenizer as BertTokenizerFast  # one fast tokenizer class in transformers 5

from services.classify.bert import MAX_LENGTH
from services.classify.schema import heading_text
from tools.training.data import REPO, Example
from tools.training.determinism import make_deterministic, seeded_generator
from tools.training.vocab import learn_vocab

UNLABELLED_DIR = REPO / "data" / "unlabelled"


def as_dataset(rows: list[Any]) -> torch.utils.data.Dataset[Any]:
    """A list is a map-style dataset (``len`` and indexing), which DataLoader's type does not say."""
    return cast("torch.utils.data.Dataset[Any]", rows)


@dataclass(frozen=True)
class CompactSize:
    layers: int = 4
    hidden: int = 256
    heads: int = 4
    intermediate: int = 1024
    vocab: int = 8000


def corpus_texts(examples: list[Example], extra_dir: Path = UNLABELLED_DIR) -> list[str]:
    """Every distinct text and heading the team wrote, plus paragraphs of ``data/unlabelled/*.txt``."""
    seen: dict[str, None] = {}
    for e in examples:
        seen.setdefault(e.text, None)
        if e.heading_path:
            seen.setdefault(heading_text(e.heading_path), None)
    for path in sorted(extra_dir.glob("*.txt")) if extra_dir.is_dir() else []:
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            para = " ".join(para.split())
            if para:
                seen.setdefault(para, None)
    return list(seen)


def train_tokenizer(texts: list[str], out_dir: Path, vocab_size: int) -> BertTokenizerFast:
    """Learn a lower-casing WordPiece vocabulary that keeps æ, ø and å (no accent stripping), and save
    it as a BERT tokenizer (the fast one from the ``tokenizers`` library)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.txt").write_text("\n".join(learn_vocab(texts, vocab_size)) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(
        vocab=str(out_dir / "vocab.txt"),
        do_lower_case=True,
        strip_accents=False,
        model_max_length=MAX_LENGTH,
    )
    tok.save_pretrained(out_dir)
    return tok


def compact_config(tok: BertTokenizerFast, size: CompactSize) -> BertConfig:
    return BertConfig(
        vocab_size=len(tok),
        hidden_size=size.hidden,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        intermediate_size=size.intermediate,
        max_position_embeddings=MAX_LENGTH * 2,
        pad_token_id=tok.pad_token_id,
    )


def encode_pairs(tok: BertTokenizerFast, headings: list[str], texts: list[str], max_length: int = MAX_LENGTH):
    """The model input: heading path (joined with " > ") as the first sequence, the text as the second."""
    return tok(
        headings, texts, truncation="longest_first", max_length=max_length, padding=True, return_tensors="pt"
    )


def pretrain_mlm(
    examples: list[Example],
    out_dir: Path,
    *,
    size: CompactSize = CompactSize(),
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 5e-4,
    seed: int = 13,
    threads: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Tokenizer + masked-LM pretraining; writes a BertForMaskedLM checkpoint to ``out_dir``."""
    make_deterministic(seed, threads)
    texts = corpus_texts(examples)
    tok = train_tokenizer(texts, out_dir, size.vocab)
    # Pretrain on the same pair shape fine-tuning uses, so position and segment embeddings get trained.
    pairs = {(heading_text(e.heading_path), e.text) for e in examples}
    items = sorted(pairs) + [("", t) for t in texts if t not in {p[1] for p in pairs}]
    enc = [tok(h, t, truncation="longest_first", max_length=MAX_LENGTH) for h, t in items]
    model = BertForMaskedLM(compact_config(tok, size))
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
    loader: torch.utils.data.DataLoader[Any] = torch.utils.data.DataLoader(
        as_dataset([dict(e) for e in enc]),
        batch_size=batch_size,
        shuffle=True,
        collate_fn=collator,
        generator=seeded_generator(seed),
    )
    train_loop(model, loader, epochs, lr, lambda batch: model(**batch).loss, progress)
    model.save_pretrained(out_dir)
    return out_dir


def warmup_linear(total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def train_loop(
    model: torch.nn.Module,
    loader: torch.utils.data.DataLoader,
    epochs: int,
    lr: float,
    loss_of: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    progress: Callable[[int, int, float], None] | None,
) -> None:
    """AdamW with linear warm-up/decay and gradient clipping: the loop pretraining and fine-tuning share."""
    total = epochs * len(loader)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear(total, warmup=max(1, total // 10)))
    model.train()
    step = 0
    for _ in range(epochs):
        for batch in loader:
            loss = loss_of(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if progress:
                progress(step, total, float(loss.detach()))
