"""Inference speed: ``python -m tools.bench.classify``.

Prints segments/second at batch 1 and batch 32 on length-bucketed batches of real segments for
  - the default model (``settings.resolved_model_dir``) and any ``--model DIR`` given,
  - a BERT-base-sized network with random weights (12 layers, hidden 768), so a user can see what
    switching to NB-BERT-base would cost on this machine (``--base-onnx`` adds its int8 ONNX path).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.classify.loader import load_classifier
from services.classify.schema import Classifier, Item, write_manifest
from shared.settings import get_settings
from tools.training import data as D
from tools.training.evaluation import throughput

console = Console()
app = typer.Typer(add_completion=False, help=__doc__)


def bench_items(limit: int = 512) -> list[Item]:
    """Real segments: the seed gold set when present, else the team's labelled data; each with its
    letter context (kind, position, neighbours), as the stream and ``document: true`` send them."""
    gold = D.load_gold()
    examples = gold if gold else D.load_labelled()
    return D.context_items(examples[:limit])


def random_bert_base(out: Path, runtime: str) -> Classifier:
    """A BERT-base-sized classifier with random weights and a vocabulary learnt from the team's text."""
    from transformers import BertConfig, BertForSequenceClassification

    from tools.training.compact import corpus_texts, train_tokenizer

    tok = train_tokenizer(corpus_texts(D.load_labelled()), out, vocab_size=30000)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
    )
    config.num_labels = 4
    BertForSequenceClassification(config).save_pretrained(out)
    manifest = {"kind": "bert", "model_version": "random-bert-base", "runtime": "torch"}
    if runtime == "onnx":
        from tools.training.onnx_export import export_onnx

        manifest.update(onnx=export_onnx(out), runtime="onnx")
    write_manifest(out, manifest)
    return load_classifier(out, threads=get_settings().classify_threads)


@app.command()
def main(
    model: Annotated[list[Path] | None, typer.Option(help="more model directories to measure")] = None,
    seconds: Annotated[float, typer.Option(help="minimum seconds per measurement")] = 3.0,
    base: Annotated[bool, typer.Option(help="also measure a random BERT-base-sized network")] = True,
    base_onnx: Annotated[bool, typer.Option(help="also its int8 ONNX path (export takes a minute)")] = False,
    torch_too: Annotated[bool, typer.Option(help="for BERT dirs with ONNX, also measure PyTorch")] = True,
) -> None:
    settings = get_settings()
    threads = settings.classify_threads
    from services.classify.inference import limit_threads

    limit_threads(threads)
    items = bench_items()
    table = Table(title=f"classify inference, {len(items)} real segments, {threads} thread(s)")
    for col in ("model", "runtime", "batch 1 seg/s", "batch 32 seg/s"):
        table.add_column(col)

    def measure(name: str, clf: Classifier, runtime: str) -> None:
        limit_threads(threads)  # torch, where the model brought it in
        # reading order, not length buckets: a letter's segments arrive in order, so a batch holds most
        # neighbours the document pass needs (batch 1 classifies both neighbours too: the worst case)
        b1 = throughput(clf, items, 1, seconds, bucket=False)
        b32 = throughput(clf, items, 32, seconds, bucket=False)
        table.add_row(name, runtime, f"{b1:.0f}", f"{b32:.0f}")
        console.print(f"{name} [{runtime}]: batch 1 {b1:.0f} seg/s, batch 32 {b32:.0f} seg/s")

    dirs = [("default", settings.resolved_model_dir)] + [(str(m), m) for m in model or []]
    for name, path in dirs:
        clf = load_classifier(path, threads=threads)
        runtime = getattr(clf, "runtime", "python")
        measure(f"{name} ({clf.model_version})", clf, runtime)
        if runtime == "onnx" and torch_too:
            measure(
                f"{name} ({clf.model_version})",
                load_classifier(path, threads=threads, runtime="torch"),
                "torch",
            )
    if base:
        with tempfile.TemporaryDirectory() as tmp:
            measure("random BERT-base (12 x 768)", random_bert_base(Path(tmp), "torch"), "torch")
        if base_onnx:
            with tempfile.TemporaryDirectory() as tmp:
                measure("random BERT-base (12 x 768)", random_bert_base(Path(tmp), "onnx"), "onnx int8")
    console.print(table)


if __name__ == "__main__":
    app()
