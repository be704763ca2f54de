"""End-to-end quality as an analyst meets it: render letters to PDF, extract them with the service's own
engine, classify the extracted segments in letter order with a model directory, and score every gold
segment against the extracted segment it became (a segment extraction lost counts as wrong).

    python -m tools.eval.end_to_end [--seeds] [--team-held-out] [--letters FILE] [--plain] [--model DIR] [--json FILE] [--card]

``--seeds``: the five seed letters (``<seeds_dir>/*.txt``), rendered as ``tools.extract.fidelity`` renders
them, gold from ``gold_themes.jsonl`` (labels and hand-made themes). ``--letters FILE``: every letter of a labelled
JSONL file, e.g. ``data/heldout/heldout_k.jsonl``. ``--team-held-out``: the team's
letters that the training split holds out (by document, the recipe's fraction and seed), each rendered in
its own house style by ``letter_render``; gold is every labelled row as printed. With neither flag, both.
``--shuffle-headings [SEED]``: each section's heading path is swapped for one of another letter of the
same set after extraction (seeded): how much the labels lean on the heading rather than the sentence.
``--plain``: the team's and ``--letters`` letters are rendered as plain text lines instead
(``tools.eval.plain``: no bold headings, no list or table structure), the way the seeds are: a fair
test for letters that arrive as text (scans after OCR, e-mails printed to PDF) that is not the seeds.

Printed: per letter and overall macro-F1, the share of gold segments recovered, per-label F1, the
confusion matrix (rows gold, columns predicted, last column "lost"), expected calibration error of the
top score (recovered segments), the review flag's share and catch, and theme micro/macro-F1 with
per-theme F1. Extraction results are cached under ``var/eval`` by PDF and extractor source hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from services.classify.loader import load_classifier
from services.classify.schema import Classifier, Prediction, document_items, review_flags
from shared.events import LABELS
from shared.settings import get_settings

REPO = Path.cwd()
THRESHOLD = 0.9
LOST = "lost"


@dataclass
class Letter:
    name: str
    gold: list[dict[str, Any]]
    pdf: Path


@dataclass
class Scored:
    """Gold rows of one evaluation set with what the pipeline made of them."""

    letters: dict[str, list[tuple[dict[str, Any], Prediction | None]]] = field(default_factory=dict)

    def pairs(self) -> list[tuple[dict[str, Any], Prediction | None]]:
        return [p for rows in self.letters.values() for p in rows]


def _extractor_hash() -> str:
    h = hashlib.sha256()
    for path in sorted((REPO / "services" / "extract").glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def extract_cached(pdf: Path, cache: Path) -> list[dict[str, Any]]:
    """Segments of one PDF as dicts (text, heading_path, kind, page), from the extraction engine."""
    from services.extract.engine import extract_document
    from services.extract.model import Limits

    key = hashlib.sha256(pdf.read_bytes()).hexdigest()[:16] + "-" + _extractor_hash()
    path = cache / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    result = extract_document(pdf, Limits())
    segs = [
        {"text": s.text, "heading_path": list(s.heading_path), "kind": s.kind, "page": s.page}
        for s in result.segments
    ]
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(segs, ensure_ascii=False), encoding="utf-8")
    return segs


def align(gold: list[dict[str, Any]], segs: list[dict[str, Any]]) -> list[int | None]:
    """Index of the extracted segment each gold segment became (similarity >= 0.9), else None."""
    from tools.extract.fidelity import _norm, match_gold

    texts = [_norm(s["text"]) for s in segs]
    return [i if ratio >= THRESHOLD else None for i, ratio in match_gold([g["text"] for g in gold], texts)]


def classify_letter(clf: Classifier, segs: list[dict[str, Any]]) -> list[Prediction]:
    items = document_items([(s["text"], s["heading_path"], s["kind"]) for s in segs])
    preds: list[Prediction] = []
    for i in range(0, len(items), 32):  # the stream's micro-batches
        preds.extend(clf.predict(items[i : i + 32]))
    return preds


def with_review_budget(preds: list[Prediction]) -> list[Prediction]:
    """A letter's predictions with the review flag the store shows: the model's, within the letter's
    review budget (shared/review.py)."""
    flags = review_flags(preds, get_settings().review_budget)
    return [replace(p, needs_review=f) for p, f in zip(preds, flags, strict=True)]


def shuffle_headings(
    extracted: dict[str, list[dict[str, Any]]], seed: int
) -> dict[str, list[dict[str, Any]]]:
    """The letters' segments with each section's heading path (every distinct non-empty path in a
    letter) replaced by a section's heading path from another letter of the set, drawn with ``seed``:
    the sentences stay, the headings above them no longer say what they are. A model that finds its
    evidence in the sentence should lose little here."""
    import random

    from tools.training.structured import swaps_from_other_letters

    pools = {
        name: sorted({tuple(s["heading_path"]) for s in segs if s["heading_path"]})
        for name, segs in extracted.items()
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for name, segs in extracted.items():
        rng = random.Random(f"{seed}:{name}")
        swap = {p: list(q) for p, q in swaps_from_other_letters(pools, name, rng).items()}
        out[name] = [
            {**s, "heading_path": swap.get(tuple(s["heading_path"]), list(s["heading_path"]))} for s in segs
        ]
    return out


def run_set(clf: Classifier, letters: list[Letter], cache: Path, shuffle_seed: int | None = None) -> Scored:
    """Extract, classify and align every letter; ``shuffle_seed`` (not None) swaps the heading paths
    between letters first (``shuffle_headings``)."""
    scored = Scored()
    extracted = {letter.name: extract_cached(letter.pdf, cache) for letter in letters}
    if shuffle_seed is not None:
        extracted = shuffle_headings(extracted, shuffle_seed)
    for letter in letters:
        segs = extracted[letter.name]
        preds = with_review_budget(classify_letter(clf, segs))
        idx = align(letter.gold, segs)
        scored.letters[letter.name] = [
            (g, preds[i] if i is not None else None) for g, i in zip(letter.gold, idx)
        ]
    return scored


# --- scores -----------------------------------------------------------------------------------------


def label_scores(pairs: list[tuple[dict[str, Any], Prediction | None]]) -> dict[str, Any]:
    from tools.training.evaluation import score

    gold = [g["label"] for g, _ in pairs]
    pred = [p.label if p else LOST for _, p in pairs]
    out = score(gold, pred)
    labels = [*LABELS, LOST]
    matrix = [[sum(1 for g, q in zip(gold, pred) if g == a and q == b) for b in labels] for a in LABELS]
    out["confusion"] = {"labels": list(labels), "matrix": matrix}
    out["recovered"] = round(sum(p is not None for _, p in pairs) / max(len(pairs), 1), 4)
    return out


def calibration(pairs: list[tuple[dict[str, Any], Prediction | None]], bins: int = 10) -> dict[str, Any]:
    """ECE of the top score over recovered segments, and the review flag: share flagged, share of the
    wrong labels it catches."""
    rec = [(g, p) for g, p in pairs if p is not None]
    if not rec:
        return {"ece": None}
    top = np.array([max(p.scores.values()) for _, p in rec])
    right = np.array([g["label"] == p.label for g, p in rec], dtype=float)
    which = np.minimum((top * bins).astype(int), bins - 1)
    ece = sum(
        (which == b).mean() * abs(top[which == b].mean() - right[which == b].mean())
        for b in range(bins)
        if (which == b).any()
    )
    flagged = np.array([p.needs_review for _, p in rec])
    wrong = right == 0
    return {
        "ece": round(float(ece), 4),
        "mean_top_score": round(float(top.mean()), 4),
        "accuracy": round(float(right.mean()), 4),
        "flagged_share": round(float(flagged.mean()), 4),
        "wrong_caught": round(float((flagged & wrong).sum() / max(wrong.sum(), 1)), 4),
        "wrong_with_top_ge_0.8": int((wrong & (top >= 0.8)).sum()),
    }


def theme_scores(
    pairs: list[tuple[dict[str, Any], Prediction | None]], theme_ids: list[str]
) -> dict[str, Any]:
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for g, p in pairs:
        gold = set(g.get("themes") or [])
        pred = {t for t, _ in p.themes} if p else set()
        for t in gold & pred:
            tp[t] += 1
        for t in pred - gold:
            fp[t] += 1
        for t in gold - pred:
            fn[t] += 1

    def f1(a: int, b: int, c: int) -> float:
        return 2 * a / (2 * a + b + c) if a + b + c else 0.0

    present = [t for t in theme_ids if tp[t] + fn[t] > 0]
    per = {t: {"f1": round(f1(tp[t], fp[t], fn[t]), 4), "support": tp[t] + fn[t]} for t in theme_ids}
    micro = f1(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    macro = float(np.mean([per[t]["f1"] for t in present])) if present else 0.0
    return {"micro_f1": round(micro, 4), "macro_f1": round(macro, 4), "per_theme": per}


def report(name: str, scored: Scored, theme_ids: list[str]) -> dict[str, Any]:
    print(f"\n== {name} ==")
    per_letter = {}
    for letter, pairs in scored.letters.items():
        s = label_scores(pairs)
        per_letter[letter] = {"macro_f1": s["macro_f1"], "recovered": s["recovered"], "n": len(pairs)}
        print(f"{letter:32s} n {len(pairs):4d}  recovered {s['recovered']:.3f}  macro-F1 {s['macro_f1']:.3f}")
    pairs = scored.pairs()
    overall = label_scores(pairs)
    cal = calibration(pairs)
    themed = any("themes" in g for g, _ in pairs)  # a set labelled without themes is not scored on them
    themes = theme_scores(pairs, theme_ids) if themed else None
    print(
        f"OVERALL n {len(pairs)}  recovered {overall['recovered']:.3f}  macro-F1 {overall['macro_f1']:.3f}  "
        f"accuracy {overall['accuracy']:.3f}"
    )
    print("per label F1: " + ", ".join(f"{k} {v['f1']:.3f}" for k, v in overall["per_class"].items()))
    print(f"confusion (rows gold {list(LABELS)}, columns + lost): {overall['confusion']['matrix']}")
    print(
        f"calibration: ECE {cal.get('ece')}, mean top {cal.get('mean_top_score')}, accuracy "
        f"{cal.get('accuracy')}; needs_review flags {cal.get('flagged_share')} of segments and catches "
        f"{cal.get('wrong_caught')} of the wrong ones; wrong with top >= 0.8: {cal.get('wrong_with_top_ge_0.8')}"
    )
    if themes is None:
        print("themes: this set has no gold themes")
    else:
        print(
            f"themes: micro-F1 {themes['micro_f1']:.3f}  macro-F1 {themes['macro_f1']:.3f}  per theme: "
            + ", ".join(f"{t} {v['f1']:.2f}/{v['support']}" for t, v in themes["per_theme"].items())
        )
    return {"letters": per_letter, "overall": overall, "calibration": cal, "themes": themes}


# --- letters ----------------------------------------------------------------------------------------


def seed_letters(seeds: Path, out: Path) -> list[Letter]:
    from tools.extract.fidelity import letterhead_for
    from tools.extract.render import render_texts

    gold_file = seeds / "gold_themes.jsonl"
    if not gold_file.is_file():
        gold_file = seeds / "gold.jsonl"
    gold: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in gold_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[Path(row["doc"]).stem].append(row)
    docs = {
        txt.stem: (txt.read_text(encoding="utf-8").split("\n"), letterhead_for(txt.stem))
        for txt in sorted(seeds.glob("*.txt"))
    }
    _, pdfs = render_texts(docs, out / "seeds")
    return [Letter(stem, gold[stem], pdf) for stem, pdf in sorted(pdfs.items())]


def held_out_docs(labelled: Path, fraction: float, seed: int) -> list[str]:
    from tools.training.data import load_labelled, split_by_document

    _, held = split_by_document(load_labelled(labelled), fraction, seed)
    return sorted({e.doc for e in held})


def team_letters(
    labelled: Path | list[Path], docs: list[str] | None, out: Path, plain: bool = False
) -> list[Letter]:
    """Letters of labelled JSONL (a folder's files or the files given); ``docs`` picks some (None: all).
    ``plain``: rendered as plain text lines the way the seed letters are (``tools.eval.plain``) instead
    of with real structure in the letter's house style."""
    from tools.extract import letter_render

    files = sorted(labelled.glob("*.jsonl")) if isinstance(labelled, Path) else labelled
    letters = letter_render.read_letters(files)
    docs = sorted(letters) if docs is None else docs
    chosen = {d: letters[d] for d in docs if d in letters}
    if plain:
        return plain_letters(chosen, out)
    variants = {d: letter_render.variant_for(d) for d in chosen}
    target = out / "team"
    have = {d: target / f"{d}.pdf" for d in chosen}
    stamp = {
        d: hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:12]
        for d, rows in chosen.items()
    }
    stamps_file = target / "stamps.json"
    old = json.loads(stamps_file.read_text()) if stamps_file.is_file() else {}
    todo = {d: rows for d, rows in chosen.items() if not have[d].is_file() or old.get(d) != stamp[d]}
    if todo:
        letter_render.render_letters(todo, target, variants=variants)
        stamps_file.write_text(json.dumps({**old, **{d: stamp[d] for d in todo}}))
    return [
        Letter(
            d,
            [r for r in letter_render.as_printed(rows, variants[d]) if r["kind"] != "table_header"],
            have[d],
        )
        for d, rows in chosen.items()
    ]


def plain_letters(chosen: dict[str, list[dict[str, Any]]], out: Path) -> list[Letter]:
    """Labelled letters rendered as plain text lines, as ``seed_letters`` renders the seeds; gold is
    every row except ``table_header`` (printed, but column headers are no segments of their own)."""
    from tools.eval.plain import plain_lines
    from tools.extract import letter_render
    from tools.extract.render import render_texts

    target = out / "plain"
    docs = {d: (plain_lines(rows, d), letter_render.running_header(rows)) for d, rows in chosen.items()}
    stamp = {
        d: hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]
        for d, doc in docs.items()
    }
    stamps_file = target / "stamps.json"
    old = json.loads(stamps_file.read_text()) if stamps_file.is_file() else {}
    todo = {
        d: doc for d, doc in docs.items() if not (target / f"{d}.pdf").is_file() or old.get(d) != stamp[d]
    }
    if todo:
        render_texts(todo, target)
        stamps_file.write_text(json.dumps({**old, **{d: stamp[d] for d in todo}}))
    return [
        Letter(d, [r for r in rows if r["kind"] != "table_header"], target / f"{d}.pdf")
        for d, rows in chosen.items()
    ]


def theme_ids_of(path: Path) -> list[str]:
    return [t["id"] for t in json.loads(path.read_text(encoding="utf-8"))["themes"]]


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", action="store_true", help="the five seed letters")
    ap.add_argument("--team-held-out", action="store_true", help="the team's held-out letters")
    ap.add_argument(
        "--letters",
        type=Path,
        action="append",
        default=[],
        help="also score every letter of this labelled JSONL (e.g. data/heldout/heldout_k.jsonl); repeatable",
    )
    ap.add_argument(
        "--plain",
        action="store_true",
        help="render the team's and --letters letters as plain text lines, as the seeds are rendered",
    )
    ap.add_argument(
        "--shuffle-headings",
        type=int,
        nargs="?",
        const=13,
        default=None,
        metavar="SEED",
        help="swap each section's heading path for one from another letter of the set (seeded, default "
        "13) after extraction: how much the labels lean on headings rather than sentences",
    )
    ap.add_argument("--model", type=Path, default=settings.resolved_model_dir)
    ap.add_argument("--labelled", type=Path, default=settings.labelled_dir)
    ap.add_argument("--held-out", type=float, default=0.15, help="fraction of team letters held out")
    ap.add_argument("--split-seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=REPO / "var" / "eval")
    ap.add_argument("--json", type=Path, help="also write every figure as JSON here")
    ap.add_argument("--card", action="store_true", help="also add the figures to the model's card")
    args = ap.parse_args(argv)
    both = not (args.seeds or args.team_held_out or args.letters)
    clf = load_classifier(args.model, threads=2)
    theme_ids = theme_ids_of(settings.taxonomy)
    print(f"model {clf.model_version} ({args.model})")
    figures: dict[str, Any] = {"model_version": clf.model_version}
    rendering = "plain text" if args.plain else "structured"
    figures["rendering"] = "plain" if args.plain else "structured"
    if args.shuffle_headings is not None:
        rendering += f", headings shuffled (seed {args.shuffle_headings})"
        figures["shuffle_headings"] = args.shuffle_headings
    cache = args.out / "extracted"
    if args.seeds or both:
        if not (settings.seeds_dir / "gold.jsonl").is_file():
            print(f"no seed gold at {settings.seeds_dir}", file=sys.stderr)
            return 2
        letters = seed_letters(settings.seeds_dir, args.out)
        figures["seeds"] = report(
            "seeds (end to end)", run_set(clf, letters, cache, args.shuffle_headings), theme_ids
        )
    if args.team_held_out or both:
        docs = held_out_docs(args.labelled, args.held_out, args.split_seed)
        letters = team_letters(args.labelled, docs, args.out, plain=args.plain)
        figures["team_held_out"] = report(
            f"team held-out ({len(letters)} letters, {rendering}, end to end)",
            run_set(clf, letters, cache, args.shuffle_headings),
            theme_ids,
        )
    for path in args.letters:
        letters = team_letters([path], None, args.out, plain=args.plain)
        figures[path.stem] = report(
            f"{path.name} ({len(letters)} letters, {rendering}, end to end)",
            run_set(clf, letters, cache, args.shuffle_headings),
            theme_ids,
        )
    if args.card:
        from tools.training.card import read_card, write_card

        card = read_card(args.model)
        if card is None:
            print(f"{args.model} has no metrics.json to add the figures to", file=sys.stderr)
            return 2
        # merged with figures already there, so a --plain run adds its sets ("..._plain") next to the others
        suffix = ("_plain" if args.plain else "") + ("_shuffled" if args.shuffle_headings is not None else "")
        card["end_to_end"] = {
            **(card.get("end_to_end") or {}),
            **{
                (k if k == "seeds" and args.shuffle_headings is None else f"{k}{suffix}"): v
                for k, v in figures.items()
                if k not in ("model_version", "rendering", "shuffle_headings")
            },
        }
        write_card(args.model, card)
        print(f"end-to-end figures written into {args.model}/MODEL_CARD.md and metrics.json")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
