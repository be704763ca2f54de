"""Extraction fidelity against the seed gold segments.

    python -m services.extract.fidelity [--shared ../shared] [--out var/fidelity] [--renderer auto]

Renders each seed letter (``<shared>/seeds/*.txt``) to PDF with a running letterhead and "Side X av Y"
footers, extracts it with the engine, and compares with ``gold.jsonl``:

* recovered: share of gold segments whose best-matching extracted segment has a character similarity
  (difflib ratio) of at least 0.9;
* furniture: share of extracted characters that are page furniture the renderer added (letterhead,
  "Side X av Y");
* heading paths: share of recovered gold segments whose matched segment has the same heading path
  (each heading compared with the same 0.9 similarity).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from services.extract.engine import extract_document
from services.extract.model import ExtractionResult, Limits
from services.extract.render import render_texts

REPO = Path(__file__).resolve().parents[2]
THRESHOLD = 0.9
_PAGE_FOOTER = re.compile(r"Side \d+ av \d+")


def letterhead_for(stem: str) -> str:
    return f"Høringsinnspill nr. {stem.split('_')[0]} – mottatt av departementet"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def best_match(text: str, candidates: list[str]) -> tuple[int, float]:
    """Index and ratio of the most similar candidate (cheap upper bounds prune most comparisons)."""
    best_i, best = -1, 0.0
    order = sorted(range(len(candidates)), key=lambda i: abs(len(candidates[i]) - len(text)))
    for i in order:
        cand = candidates[i]
        if 2 * min(len(cand), len(text)) / max(len(cand) + len(text), 1) <= best:
            continue
        sm = difflib.SequenceMatcher(None, text, cand, autojunk=False)
        if sm.real_quick_ratio() <= best or sm.quick_ratio() <= best:
            continue
        r = sm.ratio()
        if r > best:
            best_i, best = i, r
            if r == 1.0:
                break
    return best_i, best


def paths_equal(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(similarity(_norm(x), _norm(y)) >= THRESHOLD for x, y in zip(a, b))


def furniture_chars(text: str, letterhead: str) -> int:
    n = sum(len(m.group(0)) for m in _PAGE_FOOTER.finditer(text))
    return n + text.count(letterhead) * len(letterhead)


def score_document(result: ExtractionResult, gold: list[dict], letterhead: str) -> dict:
    texts = [_norm(s.text) for s in result.segments]
    recovered = path_ok = 0
    misses: list[str] = []
    wrong_paths: list[dict] = []
    used: set[int] = set()
    for g in gold:
        i, ratio = best_match(_norm(g["text"]), texts)
        if i >= 0:
            # Repeated texts ("Samhandling" under two questions): take the first copy not yet matched.
            twins = [j for j, t in enumerate(texts) if t == texts[i] and j not in used]
            i = twins[0] if twins else i
            used.add(i)
        if ratio >= THRESHOLD:
            recovered += 1
            if paths_equal(result.segments[i].heading_path, g["heading_path"]):
                path_ok += 1
            else:
                wrong_paths.append({"text": g["text"][:60], "gold": g["heading_path"],
                                    "got": result.segments[i].heading_path})
        else:
            misses.append(f"{ratio:.2f} {g['text'][:90]!r} ~ {texts[i][:60]!r}" if i >= 0 else g["text"][:90])
    total_chars = sum(len(t) for t in texts)
    furn = sum(furniture_chars(t, letterhead) for t in texts)
    return {
        "gold": len(gold), "extracted": len(texts), "recovered": recovered, "path_ok": path_ok,
        "chars": total_chars, "furniture_chars": furn, "pages": result.page_count,
        "misses": misses, "wrong_paths": wrong_paths,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "fidelity")
    ap.add_argument("--renderer", choices=["auto", "libreoffice", "reportlab"], default="auto")
    ap.add_argument("--verbose", "-v", action="store_true", help="list missed segments and wrong paths")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)

    seeds = args.shared / "seeds"
    gold_file = seeds / "gold.jsonl"
    if not gold_file.is_file():
        print(f"no gold file at {gold_file}", file=sys.stderr)
        return 2
    gold: dict[str, list[dict]] = defaultdict(list)
    for line in gold_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[Path(row["doc"]).stem].append(row)

    docs = {}
    for txt in sorted(seeds.glob("*.txt")):
        docs[txt.stem] = (txt.read_text(encoding="utf-8").split("\n"), letterhead_for(txt.stem))
    t0 = time.perf_counter()
    renderer, pdfs = render_texts(docs, args.out, args.renderer)
    print(f"rendered {len(pdfs)} letters with {renderer} in {time.perf_counter() - t0:.1f}s -> {args.out}")

    totals: dict[str, float] = defaultdict(float)
    report: dict[str, dict] = {}
    for stem, pdf in pdfs.items():
        result = extract_document(pdf, Limits())
        scores = score_document(result, gold.get(stem, []), docs[stem][1])
        report[stem] = scores
        for key in ("gold", "extracted", "recovered", "path_ok", "chars", "furniture_chars", "pages"):
            totals[key] += scores[key]
        print(
            f"{stem}: pages {scores['pages']}, gold {scores['gold']}, extracted {scores['extracted']}, "
            f"recovered {scores['recovered'] / max(scores['gold'], 1):.3f}, "
            f"heading paths {scores['path_ok'] / max(scores['recovered'], 1):.3f}, "
            f"furniture {scores['furniture_chars'] / max(scores['chars'], 1):.4f}"
        )
        if args.verbose:
            for miss in scores["misses"]:
                print(f"    miss {miss}")
            for wrong in scores["wrong_paths"]:
                print(f"    path {wrong}")
    recovered = totals["recovered"] / max(totals["gold"], 1)
    paths = totals["path_ok"] / max(totals["recovered"], 1)
    furniture = totals["furniture_chars"] / max(totals["chars"], 1)
    print(
        f"TOTAL: gold {int(totals['gold'])}, extracted {int(totals['extracted'])}, "
        f"recovered {recovered:.3f} (target >= 0.90), furniture {furniture:.4f} (target < 0.01), "
        f"heading-path accuracy {paths:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps({"renderer": renderer, "recovered": recovered, "furniture": furniture,
                                         "heading_path_accuracy": paths, "documents": report}, indent=1,
                                        ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
