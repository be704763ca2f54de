"""Build the point grouping's semantic space (services/store/points/semantic.py) from the team's letters.

    python -m tools.points.build_semantic [--dims 50] [--min-df 2]

Every segment of data/labelled/*.jsonl with at least ``--min-words`` words is one document (labels are not
used). Terms are the grouping's own (lemmas and compound parts); a term must occur in ``--min-df``
segments. TF-IDF (sublinear tf, smoothed idf, L2 rows) then a truncated SVD (fixed seed), so the same data
gives the same file. Never built from the seeds or the held-out sets: those measure it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from services.store.points.semantic import SPACE_FILE, SemanticSpace, space_terms

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "data/labelled").glob("*.jsonl"))


def corpus(paths: Sequence[Path], min_words: int) -> list[str]:
    """Segment texts of the labelled letters with at least ``min_words`` words."""
    texts: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = str(json.loads(line).get("text") or "")
                if len(text.split()) >= min_words:
                    texts.append(text)
    return texts


def build_space(texts: Sequence[str], dims: int, min_df: int) -> SemanticSpace:
    vec = TfidfVectorizer(analyzer=space_terms, min_df=min_df, sublinear_tf=True, smooth_idf=True)
    x = vec.fit_transform(texts)
    svd = TruncatedSVD(n_components=dims, random_state=0, n_iter=10).fit(x)
    terms = tuple(str(t) for t in vec.get_feature_names_out())
    return SemanticSpace(terms=terms, idf=np.asarray(vec.idf_, dtype=np.float64), components=svd.components_)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", type=int, default=50)
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--min-words", type=int, default=6)
    ap.add_argument("--out", type=Path, default=SPACE_FILE)
    args = ap.parse_args(argv)
    texts = corpus(SOURCES, args.min_words)
    space = build_space(texts, args.dims, args.min_df)
    space.save(args.out)
    size = args.out.stat().st_size
    print(
        f"{len(texts)} segments, {len(space.terms)} terms, {space.dims} dimensions -> {args.out} ({size:,} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
