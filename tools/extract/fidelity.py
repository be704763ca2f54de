"""Extraction fidelity against the seed gold segments.

    python -m tools.extract.fidelity [--shared ../shared] [--out var/fidelity] [--renderer auto]

Renders each seed letter (``<shared>/seeds/*.txt``) to PDF with a running letterhead and "Side X av Y"
footers, extracts it with the engine, and compares with ``gold.jsonl``:

* recovered: share of gold segments whose best-matching extracted segment has a character similarity
  (difflib ratio) of at least 0.9;
* furniture: share of extracted characters that are page furniture the renderer added (letterhead,
  "Side X av Y");
* heading paths: share of recovered gold segments whose matched segment has the same heading path
  (each heading compared with the same 0.9 similarity).

    python -m tools.extract.fidelity --letters [N] [--labelled data/labelled]

scores N of the team's labelled letters instead (default 30, spread over every file there), rendered
with real structure by ``letter_render`` (bold headings, lists, ruled tables, footnotes, a running
header and page footers), all in the original house style (``--layout classic``, the default) or each
in its own (``--layout varied``: paragraph spacing, font, heading style, header and footer, table
rules, signature; see ``letter_render.Variant``; the JSON names each letter's ``layout``). Their gold
is every labelled row as printed (numbered headings carry their numbers) except ``table_header`` rows
(column headers belong in the cells' heading paths); letterhead, date, closing and signature rows
count, since they are real text of the letter. Furniture is the classic running header, "Side X av Y"
and segments that are only a page number ("2", "2/3").
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from services.extract.engine import extract_document
from services.extract.model import ExtractionResult, Limits
from shared.settings import get_settings
from tools.extract import letter_render
from tools.extract.render import render_texts, soffice

REPO = Path.cwd()
THRESHOLD = 0.9
_PAGE_FOOTER = re.compile(r"Side \d+ av \d+")
_PAGE_NUMBER = re.compile(r"\d{1,3}(?:\s*/\s*\d{1,3})?")


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


def match_gold(gold_texts: list[str], texts: list[str]) -> list[tuple[int, float]]:
    """For each gold text, the index of the most similar extracted text (-1 if none) and its ratio.
    ``texts`` must already be normalised with :func:`_norm`. Repeated texts ("Samhandling" under two
    questions) go to the first copy not yet matched."""
    used: set[int] = set()
    out: list[tuple[int, float]] = []
    for text in gold_texts:
        i, ratio = best_match(_norm(text), texts)
        if i >= 0:
            twins = [j for j, t in enumerate(texts) if t == texts[i] and j not in used]
            i = twins[0] if twins else i
            used.add(i)
        out.append((i, ratio))
    return out


def furniture_chars(text: str, letterhead: str) -> int:
    n = sum(len(m.group(0)) for m in _PAGE_FOOTER.finditer(text))
    if _PAGE_NUMBER.fullmatch(text):
        n += len(text)
    return n + (text.count(letterhead) * len(letterhead) if letterhead else 0)


def score_document(result: ExtractionResult, gold: list[dict], letterhead: str) -> dict:
    texts = [_norm(s.text) for s in result.segments]
    recovered = path_ok = 0
    misses: list[str] = []
    wrong_paths: list[dict] = []
    for g, (i, ratio) in zip(gold, match_gold([g["text"] for g in gold], texts), strict=True):
        if ratio >= THRESHOLD:
            recovered += 1
            if paths_equal(result.segments[i].heading_path, g["heading_path"]):
                path_ok += 1
            else:
                wrong_paths.append(
                    {
                        "text": g["text"][:60],
                        "gold": g["heading_path"],
                        "got": result.segments[i].heading_path,
                    }
                )
        else:
            misses.append(f"{ratio:.2f} {g['text'][:90]!r} ~ {texts[i][:60]!r}" if i >= 0 else g["text"][:90])
    total_chars = sum(len(t) for t in texts)
    furn = sum(furniture_chars(t, letterhead) for t in texts)
    return {
        "gold": len(gold),
        "extracted": len(texts),
        "recovered": recovered,
        "path_ok": path_ok,
        "chars": total_chars,
        "furniture_chars": furn,
        "pages": result.page_count,
        "misses": misses,
        "wrong_paths": wrong_paths,
    }


def score_all(
    pdfs: dict[str, Path], gold: dict[str, list[dict]], furniture: dict[str, str], verbose: bool
) -> tuple[dict[str, float], dict[str, dict]]:
    """Extract and score every PDF, printing one line per document (and its misses when verbose)."""
    totals: dict[str, float] = defaultdict(float)
    report: dict[str, dict] = {}
    for stem, pdf in pdfs.items():
        result = extract_document(pdf, Limits())
        scores = score_document(result, gold.get(stem, []), furniture[stem])
        report[stem] = scores
        for key in ("gold", "extracted", "recovered", "path_ok", "chars", "furniture_chars", "pages"):
            totals[key] += scores[key]
        print(
            f"{stem}: pages {scores['pages']}, gold {scores['gold']}, extracted {scores['extracted']}, "
            f"recovered {scores['recovered'] / max(scores['gold'], 1):.3f}, "
            f"heading paths {scores['path_ok'] / max(scores['recovered'], 1):.3f}, "
            f"furniture {scores['furniture_chars'] / max(scores['chars'], 1):.4f}"
        )
        if verbose:
            for miss in scores["misses"]:
                print(f"    miss {miss}")
            for wrong in scores["wrong_paths"]:
                print(f"    path {wrong}")
    return totals, report


def print_total(totals: dict[str, float]) -> tuple[float, float, float]:
    recovered = totals["recovered"] / max(totals["gold"], 1)
    paths = totals["path_ok"] / max(totals["recovered"], 1)
    furniture = totals["furniture_chars"] / max(totals["chars"], 1)
    print(
        f"TOTAL: gold {int(totals['gold'])}, extracted {int(totals['extracted'])}, "
        f"recovered {recovered:.3f} (target >= 0.90), furniture {furniture:.4f} (target < 0.01), "
        f"heading-path accuracy {paths:.3f}"
    )
    return recovered, furniture, paths


def write_figures(
    path: Path, renderer: str, recovered: float, furniture: float, paths: float, report: dict[str, dict]
) -> None:
    path.write_text(
        json.dumps(
            {
                "renderer": renderer,
                "recovered": recovered,
                "furniture": furniture,
                "heading_path_accuracy": paths,
                "documents": report,
            },
            indent=1,
            ensure_ascii=False,
        )
    )


def _features(rows: list[dict]) -> set[str]:
    kinds = {r["kind"] for r in rows}
    return {rows[0].get("lang", "?")} | {
        f for f, k in (("table", "table_cell"), ("footnote", "footnote")) if k in kinds
    }


def pick_letters(letters: dict[str, list[dict]], n: int) -> list[str]:
    """N letters spread evenly over the files (a file is the name before the last "-"), then, where
    bokmål, nynorsk, tables or footnotes went unrepresented, one carrier of each swapped in."""
    files: dict[str, list[str]] = defaultdict(list)
    for doc in sorted(letters):
        files[doc.rsplit("-", 1)[0]].append(doc)
    names = sorted(files)
    picks: list[str] = []
    for i, name in enumerate(names):
        docs = files[name]
        quota = min(len(docs), n // len(names) + (i < n % len(names)))
        picks += [docs[(2 * k + 1) * len(docs) // (2 * quota)] for k in range(quota)]
    feats = {doc: _features(rows) for doc, rows in letters.items()}
    for need in ("nb", "nn", "table", "footnote"):
        if len(picks) < 4 or any(need in feats[d] for d in picks):
            continue
        extra = next((d for d in sorted(letters) if need in feats[d]), None)
        if extra is None:
            continue
        # Drop a pick whose features the others still cover, from the newcomer's file if possible.
        spare = [d for d in picks if all(any(f in feats[o] for o in picks if o != d) for f in feats[d])]
        same = [d for d in spare if d.rsplit("-", 1)[0] == extra.rsplit("-", 1)[0]]
        victim = (same or spare or picks)[-1]
        picks[picks.index(victim)] = extra
    return sorted(picks)


def run_letters(args: argparse.Namespace) -> int:
    """The --letters mode: structured renderings of the team's labelled letters."""
    files = sorted(args.labelled.glob("*.jsonl"))
    if not files:
        print(f"no labelled letters in {args.labelled}", file=sys.stderr)
        return 2
    if soffice() is None:
        print("the --letters mode needs LibreOffice (soffice)", file=sys.stderr)
        return 2
    letters = letter_render.read_letters(files)
    chosen = {doc: letters[doc] for doc in pick_letters(letters, max(args.letters, 1))}
    feats = [_features(rows) for rows in chosen.values()]
    print(
        f"letters: {len(chosen)} of {len(letters)} from {len(files)} files "
        f"(nb {sum('nb' in f for f in feats)}, nn {sum('nn' in f for f in feats)}, "
        f"with tables {sum('table' in f for f in feats)}, with footnotes {sum('footnote' in f for f in feats)})"
    )
    out = args.out / "letters"
    variants = {
        doc: letter_render.Variant() if args.layout == "classic" else letter_render.variant_for(doc)
        for doc in chosen
    }
    t0 = time.perf_counter()
    pdfs = letter_render.render_letters(chosen, out, variants=variants)
    print(f"rendered {len(pdfs)} letters with libreoffice in {time.perf_counter() - t0:.1f}s -> {out}")
    gold = {
        doc: [r for r in letter_render.as_printed(rows, variants[doc]) if r["kind"] != "table_header"]
        for doc, rows in chosen.items()
    }
    heads = {
        doc: letter_render.running_header(rows) if variants[doc].header == "sender" else ""
        for doc, rows in chosen.items()
    }
    totals, report = score_all(pdfs, gold, heads, args.verbose)
    for doc, scores in report.items():
        scores["layout"] = asdict(variants[doc])
    recovered, furniture, paths = print_total(totals)
    if args.json:
        write_figures(args.json, "libreoffice-structured", recovered, furniture, paths, report)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=get_settings().seeds_dir.parent)
    ap.add_argument("--out", type=Path, default=REPO / "var" / "fidelity")
    ap.add_argument("--renderer", choices=["auto", "libreoffice", "reportlab"], default="auto")
    ap.add_argument(
        "--letters",
        type=int,
        nargs="?",
        const=30,
        metavar="N",
        help="score N structured renderings of the labelled letters instead of the seeds (30)",
    )
    ap.add_argument("--labelled", type=Path, default=get_settings().labelled_dir)
    ap.add_argument(
        "--layout",
        choices=["classic", "varied"],
        default="classic",
        help="--letters: all in the original house style, or each letter in its own",
    )
    ap.add_argument("--verbose", "-v", action="store_true", help="list missed segments and wrong paths")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    if args.letters is not None:
        return run_letters(args)

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

    totals, report = score_all(pdfs, gold, {stem: head for stem, (_, head) in docs.items()}, args.verbose)
    recovered, furniture, paths = print_total(totals)
    if args.json:
        write_figures(args.json, renderer, recovered, furniture, paths, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
