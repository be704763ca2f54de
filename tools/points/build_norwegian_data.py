"""Build shared/data/nb_lemmas.tsv.gz from Norsk Ordbank (via the PyPI package spacy-lookups-data).

Run once when the source tables change:  python -m tools.points.build_norwegian_data

Output, one line per lemma:  ``lemma<TAB>pos<TAB>zipf*10<TAB>forms``  where each form is written as
``<n><suffix>`` meaning "drop the last n characters of the lemma, then add suffix" (n is one digit; a
form that needs more is written as ``=<form>``). zipf is the wordfreq frequency of the lemma (0 = unseen),
used by the compound splitter. Lines with pos "=" (``form<TAB>=<TAB>0<TAB>lemma``) settle forms that belong to
several lemmas. Lemmas that only shared/data/nn_nb.tsv knows are added with pos "x" (rerun
after editing that map). The file lets shared/norwegian.py lemmatise without the 99 MB package.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb_lemmas.tsv.gz"
POS_ORDER = ("noun", "verb", "adj", "adv")


def _encode(lemma: str, form: str) -> str:
    common = 0
    for a, b in zip(lemma, form):
        if a != b:
            break
        common += 1
    drop = len(lemma) - common
    if drop > 9:
        return "=" + form
    return f"{drop}{form[common:]}"


def _resolve_ambiguous(table: dict[tuple[str, str], set[str]], wordfreq: Any) -> dict[str, str]:
    """Pick one lemma for forms that belong to several lemmas, by how common each lemma's *other* forms are.

    «skriver» is a noun lemma (printer) and a form of the verb «skrive»; the verb's other forms (skrive,
    skrev, skrevet) are far more common than the noun's (skriveren, skrivere), so the verb wins.
    """
    paradigms: dict[str, set[str]] = defaultdict(set)
    for (lemma, _pos), forms in table.items():
        paradigms[lemma].update(forms)
        paradigms[lemma].add(lemma)
    owners: dict[str, set[str]] = defaultdict(set)
    for lemma, forms in paradigms.items():
        for f in forms:
            owners[f].add(lemma)
    out: dict[str, str] = {}
    for form, lemmas in owners.items():
        if len(lemmas) < 2:
            continue
        scored = []
        for lemma in lemmas:
            others = [f for f in paradigms[lemma] if f != form]
            score = max((wordfreq.zipf_frequency(f, "nb") for f in others), default=0.0)
            scored.append((score, lemma == form, lemma))
        out[form] = max(scored)[2]
    return out


def build(out: Path = OUT) -> tuple[int, int]:
    """Write the compact table; return (lemmas, forms)."""
    import spacy_lookups_data
    import wordfreq

    data_dir = Path(spacy_lookups_data.__file__).parent / "data"
    with gzip.open(data_dir / "nb_lemma_exc.json.gz", "rt", encoding="utf-8") as fh:
        exc: dict[str, dict[str, list[str]]] = json.load(fh)
    table: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pos in POS_ORDER:
        for form, lemmas in exc.get(pos, {}).items():
            f = form.lower()
            if " " in f:
                continue
            for lemma in lemmas:
                lem = lemma.lower()
                if " " in lem:
                    continue
                forms = table[(lem, pos)]
                if f != lem:
                    forms.add(f)
    # The tables lack some present tenses («dele» -> «deler»); add lemma+r for every verb ending in -e.
    for (lemma, pos), forms in list(table.items()):
        if pos == "verb" and lemma.endswith("e") and len(lemma) > 2:
            forms.add(lemma + "r")
    # Bokmål lemmas that only the hand-made nynorsk map knows (e.g. "fastlege") get a frequency too.
    nn_file = out.parent / "nn_nb.tsv"
    known = {lem for lem, _ in table}
    if nn_file.exists():
        for line in nn_file.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                nb = line.split("\t")[1].strip()
                if nb not in known and " " not in nb:
                    table[(nb, "x")] = set()
                    known.add(nb)
    overrides = _resolve_ambiguous(table, wordfreq)
    n_forms = 0
    lines = []
    for (lemma, pos), forms in sorted(table.items()):
        zipf = round(wordfreq.zipf_frequency(lemma, "nb") * 10)
        enc = ",".join(_encode(lemma, f) for f in sorted(forms))
        n_forms += len(forms)
        lines.append(f"{lemma}\t{pos}\t{zipf}\t{enc}")
    for form, lemma in sorted(overrides.items()):
        lines.append(f"{form}\t=\t0\t{lemma}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("\n".join(lines) + "\n")
    return len(lines), n_forms


if __name__ == "__main__":
    n_lemmas, n_forms = build()
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): {n_lemmas} lemma entries, {n_forms} forms")
