"""Sender and sender-kind accuracy of extraction, on the team's letters and the seed letters.

    python -m tools.extract.senders [--layout varied|classic] [--labelled data/labelled] [--shared ../shared] [-v]

Renders every labelled letter (``data/labelled/*.jsonl``: each row carries the letter's ``sender``; the
newer batches also its ``sender_kind``) to PDF with ``letter_render`` and the seed letters with the
plain renderer, extracts each with the engine, and compares ``metadata.sender`` / ``sender_kind``:

* sender, exact: the same name, ignoring case, spacing and punctuation;
* sender, organisation: the same organisation, where one side names a sub-unit after a comma
  ("Vestland fylkeskommune, tannhelsetenesta" ~ "Vestland fylkeskommune");
* kind: on the letters whose gold has a kind (the labelled batches with ``sender_kind`` and the seeds).

A gold sender "ikke oppgitt" (not given) expects no sender and kind ``ukjent``. The seeds' senders
(``SEED_SENDERS``) were read off the letters by hand for this evaluation only.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from services.extract.engine import extract_document
from services.extract.model import ExtractionError, Limits
from shared.settings import get_settings
from tools.extract import letter_render
from tools.extract.fidelity import letterhead_for
from tools.extract.render import render_texts, soffice

#: Hand-read senders of the seed letters (evaluation only): stem prefix -> (sender, kind).
SEED_SENDERS: dict[str, tuple[str, str]] = {
    "000": ("Stange kommune", "kommune"),
    "001": ("Helsefellesskapet Østfold", "helsefellesskap"),
    "002": ("Helsefellesskapet Troms og Ofoten", "helsefellesskap"),
    "003": ("Skaun kommune", "kommune"),
    "004": ("Sykehuset Innlandet HF", "helseforetak"),
}
_NOT_GIVEN = {"ikke oppgitt", "ikkje oppgitt", "anonym", ""}


def norm(name: str | None) -> str:
    return re.sub(r"[^\wæøå]+", " ", (name or "").lower()).strip()


def same_exact(got: str | None, gold: str | None) -> bool:
    return norm(got) == norm(gold)


#: Legal-form suffixes that name no other organisation («Sykehuset Innlandet» is «Sykehuset Innlandet HF»).
_LEGAL_FORMS = re.compile(r"\s+(hf|as|asa|iks|sa|sf|da)$")


def _org(name: str) -> str:
    return _LEGAL_FORMS.sub("", norm(name))


def same_org(got: str | None, gold: str | None) -> bool:
    """The same organisation, allowing a sub-unit after a comma on either side and a legal-form suffix."""
    if same_exact(got, gold):
        return True
    if not got or not gold:
        return False
    got_head, gold_head = _org(got.split(",")[0]), _org(gold.split(",")[0])
    return got_head == gold_head or got_head == _org(gold) or gold_head == _org(got)


def _gold_sender(raw: str | None) -> str | None:
    return None if norm(raw) in _NOT_GIVEN else raw


#: (doc, gold sender, gold kind or None, extracted sender, extracted kind)
Row = tuple[str, str | None, str | None, str | None, str]


def score(rows: list[Row], verbose: bool) -> dict[str, float]:
    """rows: (doc, gold sender, gold kind or None, got sender, got kind)."""
    exact = org = kinds = kinds_right = 0
    for doc, gold, gold_kind, got, got_kind in rows:
        e, o = same_exact(got, gold), same_org(got, gold)
        exact += e
        org += o
        if gold_kind:
            kinds += 1
            kinds_right += got_kind == gold_kind
        if verbose and (not o or (gold_kind and got_kind != gold_kind)):
            print(f"  {doc}: gold {gold!r} ({gold_kind}) got {got!r} ({got_kind})")
    n = max(len(rows), 1)
    return {
        "letters": len(rows),
        "sender_exact": exact / n,
        "sender_org": org / n,
        "kind_letters": kinds,
        "kind": kinds_right / max(kinds, 1),
    }


def _extract(pdf: Path) -> tuple[str | None, str]:
    try:
        meta = extract_document(pdf, Limits(ocr_enabled=False)).metadata
        return meta.sender, meta.sender_kind
    except ExtractionError as exc:
        print(f"  {pdf.name}: {exc.code}", file=sys.stderr)
        return None, "ukjent"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labelled", type=Path, default=get_settings().labelled_dir)
    ap.add_argument("--shared", type=Path, default=get_settings().seeds_dir.parent)
    ap.add_argument("--layout", choices=["classic", "varied"], default="varied")
    ap.add_argument("--out", type=Path, help="keep the rendered PDFs here")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = ap.parse_args(argv)
    if soffice() is None:
        print("rendering the letters needs LibreOffice (soffice)", file=sys.stderr)
        return 2
    letters = letter_render.read_letters(sorted(args.labelled.glob("*.jsonl")))
    with tempfile.TemporaryDirectory(prefix="innspill-senders-") as tmp:
        out = args.out or Path(tmp)
        variants = {
            doc: letter_render.variant_for(doc) if args.layout == "varied" else letter_render.Variant()
            for doc in letters
        }
        t0 = time.perf_counter()
        pdfs = letter_render.render_letters(letters, out / "letters", variants=variants)
        print(f"rendered {len(pdfs)} labelled letters in {time.perf_counter() - t0:.0f} s ({args.layout})")
        team: list[Row] = []
        for doc, pdf in sorted(pdfs.items()):
            first = letters[doc][0]
            got, got_kind = _extract(pdf)
            gold = _gold_sender(first.get("sender"))
            gold_kind = first.get("sender_kind")
            team.append((doc, gold, gold_kind, got, got_kind))
        seeds_dir = args.shared / "seeds"
        seeds = {
            p.stem: (p.read_text(encoding="utf-8").split("\n"), letterhead_for(p.stem))
            for p in sorted(seeds_dir.glob("*.txt"))
            if p.stem[:3] in SEED_SENDERS
        }
        seed_rows: list[Row] = []
        if seeds:
            _, seed_pdfs = render_texts(seeds, out / "seeds")
            for stem, pdf in sorted(seed_pdfs.items()):
                gold, gold_kind = SEED_SENDERS[stem[:3]]
                seed_rows.append((stem, gold, gold_kind, *_extract(pdf)))

    results: list[tuple[str, list[Row]]] = [
        ("team letters", team),
        ("seed letters", seed_rows),
        ("all", team + seed_rows),
    ]
    for name, rows in results:
        if not rows:
            continue
        if args.verbose and name != "all":
            print(f"{name}, misses:")
        s = score(rows, args.verbose and name != "all")
        print(
            f"{name}: {s['letters']} letters, sender {s['sender_org']:.3f} (exact name {s['sender_exact']:.3f}), "
            f"kind {s['kind']:.3f} on {s['kind_letters']} letters with a gold kind"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
