"""Ablation of the structured recipe, scored end to end: each variant is a training source (labelled,
extracted, both; see ``tools.training.recipe.structured_examples``) and a set of feature groups
(``tools.training.structured``), optionally with the document pass (a third part ``:doc``; ``:doc-nokind`` without the segment kinds;
a trailing digit sets the folds, e.g. ``:doc2``; a fourth part sets C, e.g. ``:doc2:4``); the label
model only (no theme tagger, so each fit is quicker), then the
team's held-out letters, ``--letters`` files and the seeds end to end.

    python -m tools.eval.ablation [--variant SOURCE:GROUP+GROUP[:doc[:C]] ...] [--letters data/heldout/heldout_k.jsonl]
        [--plain] [--json var/eval/ablation.json]

``--plain`` also scores the team's held-out and ``--letters`` letters rendered as plain text lines
(``tools.eval.plain``; sets named ``..._plain``). Sources: see ``tools.training.recipe.SOURCES``
(``mixed``: the extracted rows of both renderings).

Without ``--variant`` it runs the standard list (``VARIANTS``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from services.classify.loader import load_classifier
from services.classify.schema import write_manifest
from shared.settings import get_settings
from tools.eval import end_to_end as E
from tools.training import data as D
from tools.training import recipe as R
from tools.training import structured as S

BASE = "+".join(S.DEFAULT_GROUPS)
VARIANTS = (
    f"labelled:{BASE}",
    f"extracted:{BASE}",
    f"both:{BASE}",
    f"extracted:{BASE}+kind",
    f"both:{BASE}+kind",
    f"extracted:{BASE}+context",
    f"both:{BASE}+context",
    f"extracted:{BASE}:doc",
    f"both:{BASE}:doc",
)


def fit_variant(
    out: Path,
    splits: R.Splits,
    source: str,
    groups: tuple[str, ...],
    seed: int,
    document_pass: bool,
    stack_kind: bool = True,
    folds: int = 3,
    c: float = 8.0,
) -> float:
    started = time.perf_counter()
    train, held = R.structured_examples(splits, source)
    fields = S.fit_and_save(
        out,
        D.context_items(train, drop_kind=0.15, seed=seed),
        [e.label for e in train],
        [e.themes for e in train],
        D.context_items(held),
        [e.label for e in held],
        [e.themes for e in held],
        [],
        groups=groups,
        c=c,
        seed=seed,
        train_docs=[e.doc for e in train] if document_pass else None,
        held_docs=[e.doc for e in held] if document_pass else None,
        stack_kind=stack_kind,
        stack_folds=folds,
    )
    write_manifest(out, {"kind": "structured", "model_version": f"ablation-{source}-{len(groups)}", **fields})
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--letters", type=Path, action="append", default=[])
    ap.add_argument("--no-seeds", action="store_true")
    ap.add_argument("--plain", action="store_true", help="also the letters rendered as plain text lines")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=E.REPO / "var" / "eval")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    splits = R.prepare(settings.labelled_dir, seed=args.seed)
    cache = args.out / "extracted"
    sets: dict[str, list[E.Letter]] = {
        "team_held_out": E.team_letters(settings.labelled_dir, sorted({e.doc for e in splits.held}), args.out)
    }
    for path in args.letters:
        sets[path.stem] = E.team_letters([path], None, args.out)
    if args.plain:
        held_docs = sorted({e.doc for e in splits.held})
        sets["team_held_out_plain"] = E.team_letters(settings.labelled_dir, held_docs, args.out, plain=True)
        for path in args.letters:
            sets[f"{path.stem}_plain"] = E.team_letters([path], None, args.out, plain=True)
    if not args.no_seeds and (settings.seeds_dir / "gold.jsonl").is_file():
        sets["seeds"] = E.seed_letters(settings.seeds_dir, args.out)
    results: dict[str, Any] = {}
    for spec in args.variant or VARIANTS:
        source, _, rest = spec.partition(":")
        groups_s, _, doc_c = rest.partition(":")
        doc, _, c_s = doc_c.partition(":")
        groups = tuple(groups_s.split("+")) if groups_s else S.DEFAULT_GROUPS
        with tempfile.TemporaryDirectory() as tmp:
            seconds = fit_variant(
                Path(tmp),
                splits,
                source,
                groups,
                args.seed,
                doc.startswith("doc"),
                stack_kind="nokind" not in doc,
                folds=int(doc[-1]) if doc[-1:].isdigit() else 3,
                c=float(c_s) if c_s else 8.0,
            )
            clf = load_classifier(Path(tmp), threads=2)
            row: dict[str, Any] = {"train_seconds": round(seconds, 1)}
            for name, letters in sets.items():
                pairs = E.run_set(clf, letters, cache).pairs()
                s = E.label_scores(pairs)
                cal = E.calibration(pairs)
                row[name] = {
                    "macro_f1": s["macro_f1"],
                    "per_label": {k: v["f1"] for k, v in s["per_class"].items()},
                    "ece": cal.get("ece"),
                    "flagged": cal.get("flagged_share"),
                    "wrong_caught": cal.get("wrong_caught"),
                }
        results[spec] = row
        print(
            f"{spec:55s} "
            + "  ".join(
                f"{k} {v['macro_f1']:.3f} (ece {v['ece']}, flag {v['flagged']}, caught {v['wrong_caught']})"
                for k, v in row.items()
                if isinstance(v, dict)
            )
            + f"  [{row['train_seconds']} s]",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
