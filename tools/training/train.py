"""Training command: ``python -m tools.training.train COMMAND [options]``.

  keywords      the rule baseline as a model directory
  tfidf         TF-IDF + logistic regression
  compact-base  the project's compact Norwegian BERT: WordPiece vocabulary + masked-LM pretraining
  bert          fine-tune a BERT-family base (local directory, hub id, or "compact" to build one first)
  ensemble      average of existing model directories (copied inside)
  default       the product default (what `python -m tools.cli.main ensure-model` builds)

Every model directory gets innspill_model.json, MODEL_CARD.md and metrics.json, with scores on the team's
held-out split (by document) and on ../shared/seeds/gold.jsonl when present.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tools.training import data as D
from tools.training import recipe as R
from tools.training.augment import MODES as MERGE_MODES
from tools.training.baselines import baseline_scores, comparison_notes
from tools.training.card import write_card
from tools.training.data import GOLD_PATH, LABELLED_DIR

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Train classify models. Every model directory gets innspill_model.json, MODEL_CARD.md and metrics.json "
        "with scores on the held-out split and on ../shared/seeds/gold.jsonl when present."
    ),
)
console = Console(stderr=True)

Labelled = Annotated[Path, typer.Option(help="folder of labelled *.jsonl files")]
Seed = Annotated[int, typer.Option(help="seed for the split and the training")]
HeldOut = Annotated[float, typer.Option(help="fraction of documents held out")]
Threads = Annotated[int, typer.Option(help="torch threads (keep it fixed for repeatable runs)")]
Extra = Annotated[
    list[Path] | None,
    typer.Option(
        "--extra-labelled",
        help="more labelled JSONL (same format as data/labelled, e.g. the store's correction export); "
        "training only, repeatable",
    ),
]


@contextmanager
def progress_bar(what: str) -> Iterator[R.Progress]:
    """A rich progress bar on a terminal; a line every 5% of the steps in a log file."""
    if not console.is_terminal:
        started = time.perf_counter()

        def log_line(step: int, total: int, loss: float) -> None:
            if step == total or step % max(1, total // 20) == 0:
                console.print(
                    f"{what}: step {step}/{total} loss {loss:.3f} ({time.perf_counter() - started:.0f} s)"
                )

        yield log_line
        return
    with Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(what, total=None, loss=float("nan"))

        def update(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=loss)

        yield update


def _splits(
    labelled: Path,
    held_out: float,
    seed: int,
    extra: list[Path] | None = None,
    labels_only: tuple[Path, ...] = (),
) -> R.Splits:
    splits = R.prepare(labelled, held_out, seed, GOLD_PATH, extra=extra, labels_only=labels_only)
    info = splits.info
    console.print(
        f"data {info['hash']}: train {info['n_train']} segments / {info['docs_train']} docs, "
        f"held out {info['n_held']} / {info['docs_held']}, gold {info['n_gold'] or 'absent'}"
    )
    return splits


def _with_baselines(out: Path, card: dict[str, Any], splits: R.Splits, seed: int) -> dict[str, Any]:
    base = baseline_scores(splits, seed=seed)
    card["baselines"] = base
    card["notes"] = list(card.get("notes") or []) + comparison_notes(card, base)
    write_card(out, card)
    return card


def _report(card: dict[str, Any], out: Path) -> None:
    ev = card["evaluation"]
    parts = [f"{k} macro-F1 {v['macro_f1']:.3f}" for k, v in ev.items() if v]
    speed = card.get("speed") or {}
    if speed:
        parts.append(f"{speed['batch_32']:.0f} seg/s at batch 32")
    console.print(f"[green]{card['model_version']}[/] -> {out}: " + ", ".join(parts))


@app.command()
def keywords(out: Path, labelled: Labelled = LABELLED_DIR, held_out: HeldOut = 0.15, seed: Seed = 13) -> None:
    """Write the keyword rule baseline as a model directory."""
    splits = _splits(labelled, held_out, seed)
    _report(R.train_keywords(out, splits), out)


@app.command()
def tfidf(
    out: Path,
    labelled: Labelled = LABELLED_DIR,
    held_out: HeldOut = 0.15,
    seed: Seed = 13,
    c: Annotated[float, typer.Option(help="inverse regularisation of the logistic regression")] = 8.0,
) -> None:
    """TF-IDF (word + char n-grams, heading path apart) + logistic regression."""
    splits = _splits(labelled, held_out, seed)
    card = R.train_tfidf(out, splits, c=c, seed=seed)
    _report(_with_baselines(out, card, splits, seed), out)


@app.command()
def structured(
    out: Path,
    labelled: Labelled = LABELLED_DIR,
    held_out: HeldOut = 0.15,
    seed: Seed = 13,
    extra_labelled: Extra = None,
    c: Annotated[float, typer.Option(help="inverse regularisation of the logistic regression")] = 8.0,
    source: Annotated[
        str,
        typer.Option(
            help="train on the labelled rows, the letters as extracted from PDF "
            "(data/derived/extracted.jsonl), or both: " + " | ".join(R.SOURCES)
        ),
    ] = R.DEFAULT_SOURCE,
    groups: Annotated[
        str | None, typer.Option(help="feature groups joined with '+' (tools/training/structured.py)")
    ] = None,
    planted: Annotated[
        bool,
        typer.Option(help="the label model also learns from the planted-point letters, as the default does"),
    ] = False,
    merge_copies: Annotated[
        float,
        typer.Option(
            help="add copies of this share of the training letters with neighbouring paragraphs merged"
        ),
    ] = 0.0,
    merge_mode: Annotated[
        str, typer.Option(help="which neighbours merge: " + " | ".join(MERGE_MODES))
    ] = "mixed",
    merge_seed: Annotated[
        int | None, typer.Option(help="seed of the draw of letters to copy (default: --seed)")
    ] = None,
) -> None:
    """TF-IDF over lemmas + logistic regression, calibrated, with needs_review and the theme tagger. With
    ``--planted`` and no other option it trains what ``default`` trains."""
    if merge_mode not in MERGE_MODES:
        raise typer.BadParameter(f"{merge_mode!r} is not one of {MERGE_MODES}", param_hint="--merge-mode")
    if not 0.0 <= merge_copies <= 1.0:
        raise typer.BadParameter("a share between 0 and 1", param_hint="--merge-copies")
    splits = _splits(
        labelled, held_out, seed, extra_labelled, labels_only=D.PLANTED_LETTERS if planted else ()
    )
    chosen = tuple(groups.split("+")) if groups else None
    card = R.train_structured(
        out,
        splits,
        c=c,
        seed=seed,
        source=source,
        groups=chosen,
        merge_copies=merge_copies,
        merge_mode=merge_mode,
        merge_seed=merge_seed,
    )
    _report(card, out)


@app.command("compact-base")
def compact_base(
    out: Path,
    labelled: Labelled = LABELLED_DIR,
    held_out: HeldOut = 0.15,
    seed: Seed = 13,
    epochs: int = 10,
    threads: Threads = 2,
) -> None:
    """Build the compact Norwegian BERT base (tokenizer + masked-LM pretraining) from the team's text."""
    splits = _splits(labelled, held_out, seed)
    with progress_bar("masked-LM pretraining") as bar:
        R.build_compact_base(out, splits, epochs=epochs, seed=seed, threads=threads, progress=bar)
    console.print(f"[green]compact base[/] -> {out}")


@app.command()
def bert(
    out: Path,
    base: Annotated[str, typer.Option(help='local checkpoint dir, hub id, or "compact"')] = "compact",
    labelled: Labelled = LABELLED_DIR,
    held_out: HeldOut = 0.15,
    seed: Seed = 13,
    epochs: int = 6,
    lr: float = 1e-4,
    batch_size: int = 16,
    threads: Threads = 2,
    pretrain_epochs: Annotated[int, typer.Option(help='masked-LM epochs when base is "compact"')] = 10,
    onnx: Annotated[bool, typer.Option(help="also export an int8 ONNX file for CPU serving")] = True,
) -> None:
    """Fine-tune a BERT-family base on heading-path + text pairs."""
    splits = _splits(labelled, held_out, seed)
    extra: dict[str, Any] = {}
    base_ref: str | Path = base
    if base == "compact":
        base_ref = out.with_name(out.name + ".base")
        with progress_bar("masked-LM pretraining") as bar:
            R.build_compact_base(
                Path(base_ref), splits, epochs=pretrain_epochs, seed=seed, threads=threads, progress=bar
            )
        extra = {
            "base_recipe": f"compact BERT (4 layers, hidden 256, WordPiece 8000) pretrained "
            f"{pretrain_epochs} epochs on the train split's text"
        }
    with progress_bar("fine-tuning") as bar:
        card = R.train_bert(
            out,
            splits,
            base=base_ref,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            threads=threads,
            onnx=onnx,
            progress=bar,
            tag="compact" if base == "compact" else "",
            extra_recipe=extra,
        )
    _report(_with_baselines(out, card, splits, seed), out)


@app.command()
def ensemble(
    out: Path,
    member: Annotated[list[str], typer.Option(help="DIR:WEIGHT, repeatable")],
    labelled: Labelled = LABELLED_DIR,
    held_out: HeldOut = 0.15,
    seed: Seed = 13,
) -> None:
    """Average the probabilities of existing model directories (trained on the same split)."""
    splits = _splits(labelled, held_out, seed)
    card = R.train_ensemble(
        out, splits, [(Path(m.rsplit(":", 1)[0]), float(m.rsplit(":", 1)[1])) for m in member]
    )
    _report(_with_baselines(out, card, splits, seed), out)


@app.command()
def default(
    out: Path,
    labelled: Labelled = LABELLED_DIR,
    held_out: HeldOut = 0.15,
    seed: Seed = 13,
    extra_labelled: Extra = None,
) -> None:
    """The product default recipe (see tools/training/ensure.py for why it is this one); its label model
    trains on the team's letters with planted points too (data.PLANTED_LETTERS)."""
    from tools.training.ensure import build_default

    splits = _splits(labelled, held_out, seed, extra_labelled, labels_only=D.PLANTED_LETTERS)
    card = build_default(out, splits, seed=seed)
    _report(card, out)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
