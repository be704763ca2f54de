"""Training data as production sees it: the team's labelled letters rendered to PDF in their house styles,
extracted with the service's engine, and each extracted segment given the label and themes of the
labelled row it came from.

    python -m tools.training.extracted build [--rendering structured|plain|all] [--labelled data/labelled] [--out FILE]
    python -m tools.training.extracted check      # exit 1 when a file is out of date with data/labelled
                                                  # (a note when services/extract changed since)

Two renderings, one file each: ``structured`` (``data/derived/extracted.jsonl``: every letter in its own
house style with bold headings, lists and tables) and ``plain`` (``data/derived/extracted_plain.jsonl``:
the same letters as plain text lines, the way the seed letters and many real letters reach us: text
exports, e-mails printed to PDF, scans after OCR; see ``tools.eval.plain``).

The classifier serves on what ``services.extract`` makes of a PDF (its segment text, kind and heading
path), while the labelled rows carry the writers' own segments and kinds. Training on the extracted
version closes that gap. Rendering needs LibreOffice and takes minutes, so the result is shipped as one
compact JSONL file (``data/derived/extracted.jsonl``): its first line is a header naming the hash of the
labelled data it was made from (``check`` and a unit test compare it with ``data/labelled``), then one
row per extracted segment in reading order:

``{"doc", "seq", "text", "heading_path", "kind", "label", "themes", "gold_seq"}``

``gold_seq`` is the labelled row's ``seq`` (None for page furniture the renderer added, e.g. the running
header and page numbers, labelled ``other`` without themes). Extracted segments that match no labelled
row and are not furniture (two rows merged into one, a row split in two) are left out. Every letter of
``data/labelled`` is in the file, held-out letters too: the recipe splits by document as always, and
uses the held-out letters' extracted rows only for calibration and evaluation.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from tools.training import data as D

DEFAULT_OUT = D.REPO / "data" / "derived" / "extracted.jsonl"
PLAIN_OUT = D.REPO / "data" / "derived" / "extracted_plain.jsonl"
RENDERINGS = ("structured", "plain")
FORMAT = "innspill-extracted-v1"
_PAGE = re.compile(r"^(?:Side \d+ av \d+|\d{1,3}(?:\s*/\s*\d{1,3})?)$")


def labelled_hash(labelled: Path) -> str:
    return D.data_hash(D.load_labelled(labelled))


def _furniture(text: str, header: str) -> bool:
    t = re.sub(r"\s+", " ", text).strip()
    return bool(_PAGE.match(t)) or (bool(header) and t.startswith(header))


def letter_rows(
    doc: str, gold: list[dict[str, Any]], segs: list[dict[str, Any]], header: str
) -> list[dict[str, Any]]:
    """Extracted segments of one letter with the gold label of the labelled row each came from."""
    from tools.eval.end_to_end import align

    idx = align(gold, segs)
    by_seg = {i: g for g, i in zip(gold, idx, strict=True) if i is not None}
    out: list[dict[str, Any]] = []
    for j, s in enumerate(segs):
        g = by_seg.get(j)
        if g is None and not _furniture(s["text"], header):
            continue
        out.append(
            {
                "doc": doc,
                "seq": j,
                "text": s["text"],
                "heading_path": list(s["heading_path"]),
                "kind": s["kind"],
                "label": g["label"] if g else "other",
                "themes": list(g.get("themes") or []) if g else [],
                "gold_seq": g["seq"] if g else None,
            }
        )
    return out


def build(labelled: Path, out: Path, work: Path, rendering: str = "structured") -> dict[str, Any]:
    """Render, extract and align every labelled letter; write ``out``; return the header.
    ``rendering``: ``structured`` (each letter in its house style) or ``plain`` (plain text lines, as
    the seed letters are rendered: ``tools.eval.plain``)."""
    from tools.eval.end_to_end import _extractor_hash, extract_cached, team_letters
    from tools.extract import letter_render

    if rendering not in RENDERINGS:
        raise ValueError(f"rendering {rendering!r} is not one of {RENDERINGS}")
    started = time.perf_counter()
    files = sorted(labelled.glob("*.jsonl"))
    letters = team_letters(files, None, work, plain=rendering == "plain")
    raw = letter_render.read_letters(files)
    rows: list[dict[str, Any]] = []
    recovered = total = 0
    for letter in letters:
        segs = extract_cached(letter.pdf, work / "extracted")
        got = letter_rows(letter.name, letter.gold, segs, letter_render.running_header(raw[letter.name]))
        rows.extend(got)
        recovered += sum(r["gold_seq"] is not None for r in got)
        total += len(letter.gold)
    header = {
        "format": FORMAT,
        "rendering": rendering,
        "labelled_hash": labelled_hash(labelled),
        "letters": len(letters),
        "rows": len(rows),
        "gold_recovered": round(recovered / max(total, 1), 4),
        "extractor_hash": _extractor_hash(),
        "command": "python -m tools.training.extracted build"
        + (" --rendering plain" if rendering == "plain" else ""),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(header, ensure_ascii=False) + "\n")
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(
        f"{len(letters)} letters, {len(rows)} extracted rows, {header['gold_recovered']:.3f} of labelled "
        f"rows recovered, {time.perf_counter() - started:.0f} s -> {out}"
    )
    return header


def read_header(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        header = json.loads(fh.readline())
    if header.get("format") != FORMAT:
        raise D.DataError(f"{path}: not an {FORMAT} file")
    return dict(header)


def load(path: Path = DEFAULT_OUT) -> list[D.Example]:
    """The extracted rows as examples (in reading order per letter)."""
    read_header(path)
    out = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        r = json.loads(line)
        out.append(
            D.Example(
                doc=r["doc"],
                seq=int(r["seq"]),
                text=r["text"],
                heading_path=tuple(r["heading_path"]),
                label=r["label"],
                kind=r["kind"],
                themes=tuple(r["themes"]),
            )
        )
    return sorted(out, key=lambda e: (e.doc, e.seq))


def in_sync(path: Path = DEFAULT_OUT, labelled: Path = D.LABELLED_DIR) -> bool:
    return in_sync_hash(path, labelled_hash(labelled))


def in_sync_hash(path: Path, expected: str | None) -> bool:
    """Whether ``path`` exists and was made from labelled data with this hash."""
    return path.is_file() and expected is not None and read_header(path).get("labelled_hash") == expected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=("build", "check"))
    ap.add_argument("--labelled", type=Path, default=D.LABELLED_DIR)
    ap.add_argument(
        "--rendering",
        choices=(*RENDERINGS, "all"),
        default="all",
        help="which derived file: structured (extracted.jsonl), plain (extracted_plain.jsonl) or all",
    )
    ap.add_argument("--out", type=Path, help="output file (one rendering only); default data/derived/...")
    ap.add_argument("--work", type=Path, default=D.REPO / "var" / "eval", help="PDFs and extraction cache")
    args = ap.parse_args(argv)
    renderings = RENDERINGS if args.rendering == "all" else (args.rendering,)
    if args.out is not None and len(renderings) > 1:
        ap.error("--out needs one --rendering")
    status = 0
    for rendering in renderings:
        out = args.out or (PLAIN_OUT if rendering == "plain" else DEFAULT_OUT)
        if args.action == "check":
            from tools.eval.end_to_end import _extractor_hash

            ok = in_sync(out, args.labelled)
            print(f"{out}: {'in sync with' if ok else 'OUT OF DATE with'} {args.labelled}")
            if ok and read_header(out).get("extractor_hash") != _extractor_hash():
                # not an error: the labels still hold, but the rows are what an older extractor made
                print(
                    "note: services/extract changed since it was built; rebuild to train on today's extraction"
                )
            status = status or (0 if ok else 1)
        else:
            build(args.labelled, out, args.work, rendering)
    return status


if __name__ == "__main__":
    sys.exit(main())
