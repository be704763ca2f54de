"""Extraction speed: pages per second on the seed letters rendered to PDF.

    python -m tools.bench.extract [--shared ../shared] [--rounds 3]

Renders the seed letters (as the fidelity script does; the sample letter when ../shared is absent),
then times the engine in-process, through a fresh sandbox per document, and through the service's pool
of warm sandboxed workers with 1 and 2 (``--workers``) documents at once. Prints pages per second and
seconds per document for each.

    python -m tools.bench.extract --workers 1 2 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.extract.engine import extract_document
from services.extract.model import ExtractionResult, Limits
from services.extract.sandbox import SandboxPool, extract_in_sandbox
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


def _time(
    fn: Callable[[Path], ExtractionResult], pdfs: list[Path], rounds: int, at_once: int = 1
) -> tuple[float, int, list[float]]:
    per_doc: list[float] = []
    pages = 0

    def one(pdf: Path) -> int:
        t = time.perf_counter()
        result = fn(pdf)
        per_doc.append(time.perf_counter() - t)
        return result.page_count

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=at_once) as ex:
        pages = sum(ex.map(one, [pdf for _ in range(rounds) for pdf in pdfs]))
    return time.perf_counter() - t0, pages, per_doc


def _report(name: str, elapsed: float, pages: int, per_doc: list[float]) -> float:
    rate = pages / elapsed
    print(
        f"{name}: {rate:.1f} pages/s, {len(per_doc) / elapsed:.2f} documents/s, "
        f"median {statistics.median(per_doc):.2f} s/document ({pages} pages in {elapsed:.1f} s)"
    )
    return rate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--renderer", choices=["auto", "libreoffice", "reportlab"], default="auto")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="pool sizes to time")
    ap.add_argument("--no-baselines", action="store_true", help="time only the worker pools")
    args = ap.parse_args(argv)

    limits = Limits(ocr_enabled=False)
    with tempfile.TemporaryDirectory(prefix="innspill-bench-") as tmp:
        what, pdfs = _pdfs(args.shared, Path(tmp), args.renderer)
        print(f"corpus: {what}, {args.rounds} rounds")
        extract_document(pdfs[0], limits)  # warm imports and caches
        if not args.no_baselines:
            for name, fn in (
                ("engine in-process, one core", lambda p: extract_document(p, limits)),
                ("sandboxed, a fresh child process per document", lambda p: extract_in_sandbox(p, limits)),
            ):
                _report(name, *_time(fn, pdfs, args.rounds))
        rates: dict[int, float] = {}
        for n in args.workers:
            pool = SandboxPool(n, limits)
            try:
                pool.warm()
                rates[n] = _report(
                    f"warm worker pool, {n} at once", *_time(pool.extract, pdfs, args.rounds, n)
                )
            finally:
                pool.close()
        if len(rates) > 1:
            low = min(rates)
            print(
                "scaling: "
                + ", ".join(f"{n} workers {r / rates[low]:.2f}x of {low}" for n, r in sorted(rates.items()))
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
