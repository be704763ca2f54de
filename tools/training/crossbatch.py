"""Leave-one-batch-out check of training data: does a batch of letters help on other writers' letters?

    python -m tools.training.crossbatch --candidate prosa_g --candidate blanda_h

Each labelled file (one writer's batch) not named as a candidate is held out in turn; the TF-IDF recipe
is trained on the other such batches, once without and once with the candidate batches, and both are
scored (macro-F1) on the held-out batch. Gold (``../shared/seeds``) is too small to judge a data change on
its own; this shows whether new letters help on letters by writers the model has not seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.events import LABELS
from tools.training import tfidf
from tools.training.data import LABELLED_DIR, Example, read_jsonl
from tools.training.evaluation import score


def macro_f1(train: list[Example], test: list[Example], c: float) -> float:
    pipe = tfidf.fit([e.item for e in train], [e.label for e in train], c=c)
    probs = tfidf.ordered_proba(pipe, [e.item for e in test])
    return float(score([e.label for e in test], [LABELS[i] for i in probs.argmax(axis=1)])["macro_f1"])


def main(
    candidate: Annotated[list[str], typer.Option(help="batch (file stem) whose effect is measured")],
    labelled: Annotated[Path, typer.Option(help="folder of labelled *.jsonl files")] = LABELLED_DIR,
    c: Annotated[float, typer.Option(help="inverse regularisation of the logistic regression")] = 8.0,
) -> None:
    batches = {p.stem: read_jsonl(p) for p in sorted(labelled.glob("*.jsonl"))}
    missing = [name for name in candidate if name not in batches]
    if missing:
        raise typer.BadParameter(f"no labelled file for {missing} in {labelled}")
    extra = [e for name in candidate for e in batches[name]]
    others = [name for name in batches if name not in candidate]
    wins = 0
    for held in others:
        base = [e for name in others if name != held for e in batches[name]]
        without = macro_f1(base, batches[held], c)
        with_ = macro_f1(base + extra, batches[held], c)
        wins += with_ > without
        typer.echo(f"{held}: without {without:.3f}  with {with_:.3f}  ({with_ - without:+.3f})")
    typer.echo(f"candidates helped on {wins} of {len(others)} held-out batches")


if __name__ == "__main__":
    typer.run(main)
