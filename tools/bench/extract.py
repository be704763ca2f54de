"""Extraction speed: pages per second on the seed letters rendered to PDF.

    python -m tools.bench.extract [--shared ../shared] [--rounds 3]

Renders the seed letters (as the fidelity script does; the sample letter when ../shared is absent),
then times the engine in-process and through the sandbox (a child process per document, as the
worker runs it). Prints pages per second and seconds per document for both.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from services.extract.engine import extract_document
from services.extract.model import Limits
from services.extract.sandbox import extract_in_sandbox
from tools.extract.fidelity import REPO, letterhead_for
from tools.extract.render import render_texts


def _pdfs(shared: Path, out: Path, renderer: str) -> tuple[str, list[Path]]:
    seeds = sorted((shared / "seeds").glob("*.txt"))
    if not seeds:
        from tools.extract.samples import letter_pdf

        out.mkdir(parents=True, exist_ok=True)
        return "sample letter (no seeds found)", [letter_pdf(out / "sample.pdf")]
    docs = {p.stem: (p.read_text(encoding="utf-8").split("\n"), letterhead_for(p.stem)) for p in seeds}
    used, paths = render_texts(docs, out, renderer)
    return f"{len(paths)} seed letters rendered with {used}", list(paths.values())


def _time(fn, pdfs: list[Path], rounds: int) -> tuple[float, int, list[float]]:
    per_doc: list[float] = []
    pages = 0
    t0 = time.perf_counter()
    for _ in range(rounds):
        for pdf in pdfs:
            t = time.perf_counter()
            result = fn(pdf)
            per_doc.append(time.perf_counter() - t)
            pages += result.page_count
    return time.perf_counter() - t0, pages, per_doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--renderer", choices=["auto", "libreoffice", "reportlab"], default="auto")
    args = ap.parse_args(argv)

    limits = Limits(ocr_enabled=False)
    with tempfile.TemporaryDirectory(prefix="innspill-bench-") as tmp:
        what, pdfs = _pdfs(args.shared, Path(tmp), args.renderer)
        print(f"corpus: {what}, {args.rounds} rounds")
        extract_document(pdfs[0], limits)  # warm imports and caches
        for name, fn in (
            ("engine in-process", lambda p: extract_document(p, limits)),
            ("sandboxed (child process per document)", lambda p: extract_in_sandbox(p, limits)),
        ):
            elapsed, pages, per_doc = _time(fn, pdfs, args.rounds)
            print(
                f"{name}: {pages / elapsed:.1f} pages/s, {len(per_doc) / elapsed:.2f} documents/s, "
                f"median {statistics.median(per_doc):.2f} s/document ({pages} pages in {elapsed:.1f} s)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
