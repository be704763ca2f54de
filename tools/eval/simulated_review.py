"""Simulated review: how much the model learns from analysts' corrections (issue 10, "Learning").

    python -m tools.eval.simulated_review [--review-letters 12] [--eval-letters N] [--corrections 100]
        [--letters data/heldout/heldout_k.jsonl] [--model var/models/default] [--labelled data/labelled]
        [--before-model DIR] [--bootstrap HOST:PORT] [--work DIR] [--json FILE]

1. **Split.** The letters of ``--letters`` (default the 24 held-out letters ``heldout_k``, never trained on),
   sorted by name, are ordered odd positions first, then even (``-01, -03, ..., -23, -02, -04, ..., -24``).
   The first ``--review-letters`` of that order are the review half A, the rest the evaluation half B
   (``--eval-letters`` keeps only the first N of B). With the defaults A is the odd and B the even letters:
   the same mix of short web-form answers and long letters on both sides, and no letter on both.
2. **Store.** Each letter of A is rendered to PDF (its house style, as ``tools.eval.end_to_end`` renders
   it), its blob put in a blob store, extracted by the extract engine, classified in letter order by
   ``--model`` (the current default), and the events (``DocumentReceived``, ``DocumentExtracted``,
   ``SegmentClassified`` built by the classify service's own ``classified_event``) are written into a fresh
   SQLite store by the store's ``Projection.apply``.
3. **Review.** The store's review queue (``review_queue``) is taken in its order; each segment that
   matches a gold segment (``end_to_end.align``: similarity >= 0.9) is corrected to the gold label and
   gold themes through the store's ``CorrectionService.correct_segment`` - the code behind ``PATCH
   /segments/{id}``: it validates, publishes ``innspill.segments.corrected`` to a real broker (a Tansu
   started here, or ``--bootstrap``) and applies the event - until ``--corrections`` are made. Queue
   segments without gold (extraction fragments of no gold segment) are skipped and counted. A
   correction that keeps the model's label is a confirmation: it is reviewed data too.
4. **Learn.** The corrections are exported with ``tools.corrections.export`` and the default recipe is
   trained twice with the same data, split and seed - ``python -m tools.training.train default BEFORE``
   and ``... default AFTER --extra-labelled EXPORT`` - so the only difference is the export
   (``--before-model DIR`` uses an existing model as "before" instead).
5. **Measure.** Both models end to end on B (macro-F1, per-label F1, theme micro/macro-F1, with lost
   segments counted wrong), the gain, and a 95 % paired percentile-bootstrap interval of the gain over B's
   letters (letters resampled with replacement). Also the review's agreement figure: per-label F1 of the
   model's label against the final label over the reviewed segments, with the store's own bootstrap
   interval (``services/store/corrections/review.agreement``).

Everything is written under ``--work`` (default ``var/eval/simulated_review/run-<UTC time>``): the store,
the export and its ``.meta.json``, both models with their cards, and ``figures.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.classify.loader import load_classifier
from services.classify.schema import Classifier, Prediction
from services.extract.consumer import extracted_summary, segment_payload
from services.extract.engine import extract_document
from services.extract.model import Limits
from services.store.corrections.repository import CorrectionReads
from services.store.corrections.review import agreement, review_queue, reviewed_pairs
from services.store.corrections.schemas import SegmentPatch
from services.store.corrections.service import CorrectionService
from services.store.db import make_engine, migrate
from services.store.projection import Projection
from shared.blobstore import LocalBlobStore
from shared.events import (
    LABELS,
    DocumentReceived,
    Envelope,
    make_event,
)
from shared.ids import document_id_for, segment_id_for, sha256_hex
from shared.kafka import Publisher, ensure_topics
from shared.settings import Settings, get_settings
from tools.eval.end_to_end import (
    LOST,
    REPO,
    Letter,
    Scored,
    align,
    classify_letter,
    label_scores,
    run_set,
    team_letters,
    theme_ids_of,
    theme_scores,
)

HELDOUT = Path("data/heldout/heldout_k.jsonl")
USER = "simulert-analytiker"
NOTE = "simulert gjennomgang (gull fra heldout_k)"
ROUNDS = 1000
TRAIN_TIMEOUT_S = 1800


# --- 1. split ---------------------------------------------------------------------------------------


def split_letters(
    names: Sequence[str], review_letters: int, eval_letters: int | None = None
) -> tuple[list[str], list[str]]:
    """(A, B): names sorted, odd positions first then even; A the first ``review_letters``, B the rest
    (its first ``eval_letters`` when given). Deterministic, and A and B never share a letter."""
    ordered = sorted(names)
    order = ordered[0::2] + ordered[1::2]
    if not 0 < review_letters < len(order):
        raise ValueError(f"--review-letters must be between 1 and {len(order) - 1}, not {review_letters}")
    a, b = order[:review_letters], order[review_letters:]
    if eval_letters is not None:
        b = b[:eval_letters]
    return sorted(a), sorted(b)


# --- 2. the review letters into a store ---------------------------------------------------------------


@dataclass
class ReviewStore:
    """The review half as the store holds it, with the gold row of each segment that has one."""

    engine: Any
    documents: dict[str, str] = field(default_factory=dict)  # letter name -> document id
    segments: int = 0
    gold: dict[str, dict[str, Any]] = field(default_factory=dict)  # segment id -> gold row
    model_version: str = ""


def letter_events(
    letter: Letter, clf: Classifier, settings: Settings
) -> tuple[list[Envelope[Any]], dict[str, dict[str, Any]]]:
    """The events the pipeline would publish for one letter, and the gold row of each matched segment."""
    from services.classify.consumer import classified_event

    data = letter.pdf.read_bytes()
    sha = sha256_hex(data)
    doc_id = document_id_for(sha)
    blobs = LocalBlobStore(settings.blob_dir)
    spool = blobs.new_temp_path()
    shutil.copyfile(letter.pdf, spool)
    uri = blobs.put_file(spool, sha)  # the blob ingest would have stored (moves the spooled copy in)
    received = make_event(
        DocumentReceived(
            id=doc_id,
            filename=f"{letter.name}.pdf",
            sha256=sha,
            bytes=len(data),
            content_type="application/pdf",
            blob_uri=uri,
            source="folder",
            received_at=datetime.now(UTC),
        ),
        "innspill/ingest",
        doc_id,
    )
    result = extract_document(letter.pdf, Limits())
    total = len(result.segments)
    summary = make_event(
        extracted_summary(doc_id, result),
        "innspill/extract",
        doc_id,
        "extracted",
    )
    segs = [
        {"text": s.text, "heading_path": list(s.heading_path), "kind": s.kind, "page": s.page}
        for s in result.segments
    ]
    preds = classify_letter(clf, segs)
    events: list[Envelope[Any]] = [received, summary]
    for seq, (seg, pred) in enumerate(zip(result.segments, preds, strict=True)):
        extracted = make_event(
            segment_payload(doc_id, seq, seg, total),
            "innspill/extract",
            doc_id,
            seq,
        )
        events.append(
            classified_event(
                extracted, pred.label, pred.scores, clf.model_version, pred.themes, pred.needs_review
            )
        )
    gold = {
        segment_id_for(doc_id, i): g for g, i in zip(letter.gold, align(letter.gold, segs)) if i is not None
    }
    return events, gold


def load_review_store(
    letters: list[Letter], clf: Classifier, settings: Settings, database_url: str
) -> ReviewStore:
    engine = make_engine(database_url)
    migrate(engine)
    store = ReviewStore(engine, model_version=clf.model_version)
    projection = Projection(engine)
    for letter in letters:
        events, gold = letter_events(letter, clf, settings)
        projection.apply(events)
        store.documents[letter.name] = events[0].data.id
        store.segments += len(events) - 2
        store.gold.update(gold)
    return store


# --- 3. the review ------------------------------------------------------------------------------------


@dataclass
class Review:
    corrected: list[dict[str, Any]] = field(default_factory=list)  # what was done, in queue order
    skipped_without_gold: int = 0
    queue_length: int = 0


async def review(store: ReviewStore, settings: Settings, n: int, theme_ids: set[str]) -> Review:
    """Work down the review queue, correcting ``n`` segments to gold through the correction service."""
    queue = await asyncio.to_thread(review_queue, store.engine, max(store.segments, 1))
    out = Review(queue_length=len(queue))
    await ensure_topics(settings)
    publisher = Publisher(settings, "simulated-review")
    await publisher.start(timeout_s=30)
    try:
        service = CorrectionService(
            settings, Projection(store.engine), CorrectionReads(store.engine), publisher
        )
        for item in queue:
            if len(out.corrected) >= n:
                break
            seg = item.segment
            gold = store.gold.get(seg.segment_id)
            if gold is None:
                out.skipped_without_gold += 1
                continue
            themes = [t for t in gold.get("themes") or [] if t in theme_ids]
            patch = SegmentPatch(label=gold["label"], themes=themes, note=NOTE)
            after = await service.correct_segment(seg.segment_id, patch, USER)
            out.corrected.append(
                {
                    "segment_id": seg.segment_id,
                    "reason": item.reason,
                    "confidence": seg.confidence,
                    "model_label": seg.label,
                    "gold_label": gold["label"],
                    "final_label": after.label,
                    "gold_themes": themes,
                    "final_themes": [t["id"] for t in after.themes or []],
                    "text": seg.text,
                }
            )
    finally:
        await publisher.stop()
    return out


# --- 4. learn -----------------------------------------------------------------------------------------


def train(out: Path, labelled: Path, extra: Path | None, log: Path) -> dict[str, Any]:
    """``python -m tools.training.train default OUT [--extra-labelled EXTRA]``; returns the card."""
    cmd = [sys.executable, "-m", "tools.training.train", "default", str(out), "--labelled", str(labelled)]
    if extra is not None:
        cmd += ["--extra-labelled", str(extra)]
    print("$ " + " ".join(cmd[1:]), flush=True)
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, timeout=TRAIN_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"training failed ({proc.returncode}); see {log}:\n{log.read_text()[-2000:]}")
    card: dict[str, Any] = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    return card


# --- 5. measure ---------------------------------------------------------------------------------------


def macro_f1(pairs: Sequence[tuple[dict[str, Any], Prediction | None]]) -> float:
    """Macro-F1 over the four labels (a lost segment is wrong), as ``tools.training.evaluation.score``."""
    total = 0.0
    for lb in LABELS:
        tp = fp = fn = 0
        for g, p in pairs:
            pred = p.label if p else LOST
            if g["label"] == lb and pred == lb:
                tp += 1
            elif pred == lb:
                fp += 1
            elif g["label"] == lb:
                fn += 1
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(LABELS)


def theme_micro_f1(pairs: Sequence[tuple[dict[str, Any], Prediction | None]]) -> float:
    tp = fp = fn = 0
    for g, p in pairs:
        gold = set(g.get("themes") or [])
        pred = {t for t, _ in p.themes} if p else set()
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def paired_gain_interval(
    before: Scored, after: Scored, rounds: int = ROUNDS, seed: int = 13
) -> dict[str, Any]:
    """95 % percentile-bootstrap intervals of the gain (after - before) in label macro-F1 and theme
    micro-F1, resampling B's letters with replacement (the same letters for both models)."""
    names = sorted(before.letters)
    rng = random.Random(seed)
    gains: dict[str, list[float]] = {"macro_f1": [], "theme_micro_f1": []}
    for _ in range(rounds):
        pick = [names[rng.randrange(len(names))] for _ in names]
        b = [p for n in pick for p in before.letters[n]]
        a = [p for n in pick for p in after.letters[n]]
        gains["macro_f1"].append(macro_f1(a) - macro_f1(b))
        gains["theme_micro_f1"].append(theme_micro_f1(a) - theme_micro_f1(b))
    out: dict[str, Any] = {"rounds": rounds, "letters": len(names)}
    for k, values in gains.items():
        values.sort()
        lo, hi = values[int(0.025 * (rounds - 1))], values[int(round(0.975 * (rounds - 1)))]
        out[k] = {
            "ci95": [round(lo, 4), round(hi, 4)],
            "share_positive": round(sum(v > 0 for v in values) / rounds, 3),
        }
    return out


def figures_of(scored: Scored, theme_ids: list[str], version: str) -> dict[str, Any]:
    pairs = scored.pairs()
    labels = label_scores(pairs)
    themes = theme_scores(pairs, theme_ids)
    return {
        "model_version": version,
        "n": labels["n"],
        "recovered": labels["recovered"],
        "macro_f1": labels["macro_f1"],
        "accuracy": labels["accuracy"],
        "per_label_f1": {k: v["f1"] for k, v in labels["per_class"].items()},
        "theme_micro_f1": themes["micro_f1"],
        "theme_macro_f1": themes["macro_f1"],
    }


def table(before: dict[str, Any], after: dict[str, Any], gain_ci: dict[str, Any]) -> str:
    rows: list[tuple[str, str | tuple[str, str], list[float] | None]] = [
        ("label macro-F1", "macro_f1", gain_ci["macro_f1"]["ci95"]),
        *((f"F1 {lb}", ("per_label_f1", lb), None) for lb in LABELS),
        ("accuracy", "accuracy", None),
        ("theme micro-F1", "theme_micro_f1", gain_ci["theme_micro_f1"]["ci95"]),
        ("theme macro-F1", "theme_macro_f1", None),
    ]

    def get(fig: dict[str, Any], key: str | tuple[str, str]) -> float:
        return float(fig[key[0]][key[1]] if isinstance(key, tuple) else fig[key])

    lines = [
        f"{'on B (end to end)':18s} {'before':>8s} {'after':>8s} {'gain':>8s}  95 % interval of the gain",
    ]
    for name, key, ci in rows:
        b, a = get(before, key), get(after, key)
        interval = f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        lines.append(f"{name:18s} {b:8.3f} {a:8.3f} {a - b:+8.3f}  {interval}")
    return "\n".join(lines)


def verdict(gain: float, ci: list[float]) -> str:
    if ci[0] > 0:
        return f"gain {gain:+.3f}: the interval lies above zero, a real improvement on these letters"
    if ci[1] < 0:
        return f"change {gain:+.3f}: the interval lies below zero, the corrections made the model worse"
    return f"change {gain:+.3f}: the interval [{ci[0]:+.3f}, {ci[1]:+.3f}] includes zero, within the noise"


# --- main -----------------------------------------------------------------------------------------


def _start_broker(work: Path) -> tuple[str, subprocess.Popen[bytes]]:
    from tools.cli.broker import free_port, start_tansu

    port = free_port()
    return f"127.0.0.1:{port}", start_tansu(port, log_path=work / "tansu.log")


def main(argv: list[str] | None = None) -> int:
    base = get_settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=Path, default=HELDOUT, help="labelled JSONL of unseen letters")
    ap.add_argument("--review-letters", type=int, default=12, help="letters in the review half A")
    ap.add_argument("--eval-letters", type=int, help="keep only the first N letters of B (default all)")
    ap.add_argument("--corrections", type=int, default=100, help="segments corrected from the queue")
    ap.add_argument("--model", type=Path, default=base.resolved_model_dir, help="model the review sees")
    ap.add_argument("--labelled", type=Path, default=REPO / "data" / "labelled", help="training folder")
    ap.add_argument("--before-model", type=Path, help="use this model as 'before' instead of retraining")
    ap.add_argument("--bootstrap", help="Kafka bootstrap for the corrections (default: start a Tansu)")
    ap.add_argument("--work", type=Path, help="output folder (default var/eval/simulated_review/run-TIME)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--render-dir", type=Path, default=REPO / "var" / "eval", help="PDF cache (as tools.eval.end_to_end)"
    )
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="bootstrap rounds")
    args = ap.parse_args(argv)
    started = time.monotonic()

    work = args.work or REPO / "var" / "eval" / "simulated_review" / f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    work.mkdir(parents=True, exist_ok=True)
    theme_ids = theme_ids_of(base.taxonomy)

    # 1. split
    from tools.extract.letter_render import read_letters

    names_a, names_b = split_letters(
        list(read_letters([args.letters])), args.review_letters, args.eval_letters
    )
    by_name = {lt.name: lt for lt in team_letters([args.letters], names_a + names_b, args.render_dir)}
    letters_a, letters_b = [by_name[n] for n in names_a], [by_name[n] for n in names_b]
    print(f"review half A ({len(letters_a)} letters): {', '.join(names_a)}")
    print(f"evaluation half B ({len(letters_b)} letters): {', '.join(names_b)}")

    # 2. the review letters into a fresh store
    clf = load_classifier(args.model, threads=2)
    broker: subprocess.Popen[bytes] | None = None
    bootstrap = args.bootstrap
    if not bootstrap:
        bootstrap, broker = _start_broker(work)
    settings = base.model_copy(
        update={
            "kafka_bootstrap": bootstrap,
            "topic_prefix": f"simreview{uuid.uuid4().hex[:8]}",
            "data_dir": work / "var",
            "blob_url": None,
        }
    )
    database_url = f"sqlite:///{(work / 'store.db').resolve()}"
    store_db = work / "store.db"
    store_db.unlink(missing_ok=True)
    try:
        store = load_review_store(letters_a, clf, settings, database_url)
        print(
            f"store: {len(store.documents)} letters, {store.segments} segments classified by "
            f"{store.model_version}; {len(store.gold)} matched to gold"
        )
        # 3. review
        done = asyncio.run(review(store, settings, args.corrections, set(theme_ids)))
    finally:
        if broker is not None:
            broker.kill()
            broker.wait(timeout=10)
    changed = sum(1 for c in done.corrected if c["model_label"] != c["final_label"])
    print(
        f"review: {len(done.corrected)} segments corrected from the queue ({changed} label changes, "
        f"{len(done.corrected) - changed} confirmations), {done.skipped_without_gold} queue segments "
        "skipped (no gold segment)"
    )
    agree = agreement(reviewed_pairs(store.engine))

    # 4. export and retrain
    from tools.corrections.export import export_corrections

    export = work / "corrections.jsonl"
    meta = export_corrections(store.engine, export, settings.seeds_dir)
    store.engine.dispose()
    print(f"export: {export} ({meta['rows']} rows, version {meta['version']})")
    if args.before_model:
        before_dir = args.before_model
    else:
        before_dir = work / "model-before"
        train(before_dir, args.labelled, None, work / "train-before.log")
    after_dir = work / "model-after"
    after_card = train(after_dir, args.labelled, export, work / "train-after.log")

    # 5. measure on B
    cache = args.render_dir / "extracted"
    clf_before = load_classifier(before_dir, threads=2)
    clf_after = load_classifier(after_dir, threads=2)
    scored_before = run_set(clf_before, letters_b, cache)
    scored_after = run_set(clf_after, letters_b, cache)
    before = figures_of(scored_before, theme_ids, clf_before.model_version)
    after = figures_of(scored_after, theme_ids, clf_after.model_version)
    gain_ci = paired_gain_interval(scored_before, scored_after, rounds=args.rounds)
    gain = after["macro_f1"] - before["macro_f1"]

    print(
        f"\nbefore: {before['model_version']} ({before_dir})\nafter:  {after['model_version']} ({after_dir})"
    )
    print(table(before, after, gain_ci))
    print(f"label macro-F1 {verdict(gain, gain_ci['macro_f1']['ci95'])}")
    print(
        f"theme micro-F1 "
        f"{verdict(after['theme_micro_f1'] - before['theme_micro_f1'], gain_ci['theme_micro_f1']['ci95'])}"
    )
    ci = agree.get("macro_ci95")
    print(
        f"agreement of the review (model vs final label, {agree['reviewed']} reviewed, {agree['changed']} "
        f"changed): macro-F1 {agree['macro_f1']:.3f}"
        + (f" (95 % interval {ci[0]:.3f}-{ci[1]:.3f})" if ci else " (no interval under 30 reviewed)")
        + "; per label: "
        + ", ".join(
            f"{lb} {v['f1']:.3f}"
            + (f" [{v['ci95'][0]:.3f}-{v['ci95'][1]:.3f}]" if "ci95" in v else "")
            + f" n={v['support']}"
            for lb, v in agree["labels"].items()
        )
    )
    figures = {
        "review_letters": names_a,
        "eval_letters": names_b,
        "review_model": store.model_version,
        "store_segments": store.segments,
        "matched_to_gold": len(store.gold),
        "queue_length": done.queue_length,
        "corrected": len(done.corrected),
        "label_changes": changed,
        "skipped_without_gold": done.skipped_without_gold,
        "corrections": done.corrected,
        "export": {"file": str(export), **meta},
        "after_card_extra_labelled": after_card["data"].get("extra_labelled"),
        "before": before,
        "after": after,
        "gain": {
            "macro_f1": round(gain, 4),
            "theme_micro_f1": round(after["theme_micro_f1"] - before["theme_micro_f1"], 4),
            "theme_macro_f1": round(after["theme_macro_f1"] - before["theme_macro_f1"], 4),
            "bootstrap": gain_ci,
        },
        "agreement": agree,
        "seconds": round(time.monotonic() - started, 1),
    }
    for path in [work / "figures.json", *([args.json] if args.json else [])]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"figures: {work / 'figures.json'} ({figures['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
