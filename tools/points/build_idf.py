"""Background document frequencies for point grouping, from the team's labelled letters (text only).

    python -m tools.points.build_idf        # writes services/store/points/idf.json

Every segment of data/labelled/*.jsonl counts as one document (labels are not used). Terms are the
grouping's own features (lemmas and compound parts, shared/lexicon.py). Terms seen once are
left out (they get the highest idf anyway), which keeps the file small.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from shared.lexicon import segment_positions

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "data/labelled").glob("*.jsonl"))
OUT = ROOT / "services/store/points/idf.json"


def document_frequencies(paths: list[Path]) -> tuple[int, Counter[str]]:
    df: Counter[str] = Counter()
    n = 0
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            text = str(json.loads(line).get("text") or "")
            terms = {t for p in segment_positions(text) for t in p}
            if terms:
                n += 1
                df.update(terms)
    return n, df


def main() -> int:
    n, df = document_frequencies(SOURCES)
    keep = {t: k for t, k in sorted(df.items()) if k >= 2}
    OUT.write_text(
        json.dumps(
            {"about": "segment document frequencies over data/labelled/*.jsonl", "n": n, "df": keep},
            ensure_ascii=False,
            indent=0,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{n} segments, {len(keep)} terms -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
