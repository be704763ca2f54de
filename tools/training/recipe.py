"""The training recipe: data split, the three model kinds, their evaluation and model cards.

Every ``train_*`` function writes a complete model directory (weights, ``innspill_model.json``,
``MODEL_CARD.md``, ``metrics.json``) and returns its card dict.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.classify.keywords import KeywordClassifier
from services.classify.loader import load_classifier
from services.classify.schema import Classifier, Item, write_manifest
from services.classify.tfidf import file_sha256
from shared.lexicon import CONCEPTS_FILE
from tools.training import data as D
from tools.training.augment import merged_copies
from tools.training.card import write_card
from tools.training.evaluation import evaluate, throughput

Progress = Callable[[int, int, float], None]
log = logging.getLogger(__name__)


@dataclass
class Splits:
    train: list[D.Example]
    held: list[D.Example]
    gold: list[D.Example] | None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def all_team(self) -> list[D.Example]:
        return self.train + self.held


def prepare(
    labelled_dir: Path = D.LABELLED_DIR,
    test_fraction: float = 0.15,
    seed: int = 13,
    gold_path: Path = D.GOLD_PATH,
    extra: list[Path] | None = None,
    labels_only: Sequence[Path] = (),
) -> Splits:
    """Split the team's letters by document; ``extra`` labelled files (e.g. the store's correction
    export) go into training only, so the held-out split stays the team's own letters. ``labels_only``
    files train the label model only (their themes are dropped, so the theme tagger does not see them)."""
    examples = D.load_labelled(labelled_dir)
    train, held = D.split_by_document(examples, test_fraction, seed)
    added = [e for path in extra or [] for e in D.read_jsonl(Path(path))]
    added += [replace(e, themes=None) for path in labels_only for e in D.read_jsonl(Path(path))]
    train = train + sorted(added, key=lambda e: (e.doc, e.seq))
    gold = D.load_gold(gold_path)
    info = {
        "extra_labelled": _files(extra or []),
        "labels_only": _files(labels_only),
        "source": str(labelled_dir.relative_to(D.REPO)) + "/*.jsonl"
        if labelled_dir.is_relative_to(D.REPO)
        else str(labelled_dir),
        # rows that train the labels only make another model than the same rows with their themes
        "hash": D.data_hash(examples + added)
        if not labels_only
        else hashlib.sha256(
            f"{D.data_hash(examples + added)} labels only: {sorted(Path(p).name for p in labels_only)}".encode()
        ).hexdigest()[:16],
        "labelled_hash": D.data_hash(examples),
        "test_fraction": test_fraction,
        "split_seed": seed,
        "n_train": len(train),
        "docs_train": len({e.doc for e in train}),
        "train_labels": D.label_counts(train),
        "n_held": len(held),
        "docs_held": len({e.doc for e in held}),
        "held_labels": D.label_counts(held),
        "n_gold": len(gold) if gold else None,
    }
    return Splits(train, held, gold, info)


def _files(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """What the card says of each extra labelled file: path, segments, content hash."""
    out = []
    for p in paths:
        rows = D.read_jsonl(Path(p))
        out.append({"file": str(p), "segments": len(rows), "hash": D.data_hash(rows)})
    return out


def version_for(kind: str, splits: Splits, seed: int, tag: str = "") -> str:
    return "-".join(p for p in (kind, tag, splits.info["hash"][:8], f"s{seed}") if p)


def evaluations(clf: Classifier, splits: Splits) -> dict[str, Any]:
    return {
        "held_out": evaluate(clf, splits.held) if splits.held else None,
        "gold": evaluate(clf, splits.gold) if splits.gold else None,
    }


def speed(
    clf: Classifier, splits: Splits, threads: int | None, runtime: str, seconds: float = 2.0
) -> dict[str, Any]:
    items: list[Item] = [e.item for e in (splits.gold or splits.held or splits.train)]
    return {
        "machine": f"{platform.machine()} {platform.system()}, {_cpus()} CPU(s)",
        "threads": threads,
        "runtime": runtime,
        "batch_1": round(throughput(clf, items, 1, seconds), 1),
        "batch_32": round(throughput(clf, items, 32, seconds), 1),
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _finish(
    model_dir: Path,
    manifest: dict[str, Any],
    card: dict[str, Any],
    splits: Splits,
    threads: int | None,
    measure_speed: bool,
) -> dict[str, Any]:
    write_manifest(model_dir, manifest)
    clf = load_classifier(model_dir, threads=threads)
    card.update(
        model_version=manifest["model_version"],
        kind=manifest["kind"],
        data=splits.info,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        evaluation=evaluations(clf, splits),
    )
    if measure_speed:
        card["speed"] = speed(clf, splits, threads, manifest.get("runtime", "python"))
    write_card(model_dir, card)
    return card


def train_keywords(out: Path, splits: Splits, *, measure_speed: bool = True) -> dict[str, Any]:
    manifest = {"kind": "keywords", "model_version": KeywordClassifier().model_version}
    return _finish(
        out,
        manifest,
        {"base": None, "recipe": {"rules": "services/classify/keywords.py"}},
        splits,
        None,
        measure_speed,
    )


def train_tfidf(
    out: Path, splits: Splits, *, c: float = 8.0, seed: int = 13, measure_speed: bool = True
) -> dict[str, Any]:
    from tools.training import tfidf

    pipe = tfidf.fit([e.item for e in splits.train], [e.label for e in splits.train], c=c, seed=seed)
    files = tfidf.save(pipe, out)
    manifest = {"kind": "tfidf", "model_version": version_for("tfidf", splits, seed), **files}
    recipe = {
        "features": "word 1-2-grams + char_wb 2-5-grams of text; word 1-2-grams of the heading path; "
        "char 3-5-grams of the innermost heading",
        "classifier": "LogisticRegression",
        "C": c,
        "class_weight": "balanced",
        "seed": seed,
    }
    return _finish(out, manifest, {"base": None, "recipe": recipe}, splits, None, measure_speed)


#: What the structured recipe trains on: ``labelled`` (the writers' own segments and kinds),
#: ``extracted`` (the same letters rendered to PDF and extracted, ``tools/training/extracted.py``) or
#: ``both``, or ``mixed``: the extracted rows of both renderings, structured and plain text
#: (``data/derived/extracted_plain.jsonl``), so the model sees what extraction makes of letters that
#: arrive as text; ``alternate``: each training letter in one of the two renderings (half of them plain,
#: picked by a hash of the letter's name), so no letter counts twice. Calibration (temperature, review and theme thresholds) uses the held-out letters as
#: extracted whenever the source includes them.
#: Default ``mixed`` since round 9 (issue 9): once a plain rendering prints a table's column headers on one
#: line as text exports do (tools/eval/plain.py), training on both renderings wins on every letter set the
#: model never saw, most on plain text (end to end, macro-F1, extracted -> mixed: heldout_m plain 0.823 ->
#: 0.870, team held-out plain 0.874 -> 0.905, heldout_k plain 0.923 -> 0.931; structured 0.917 -> 0.917,
#: 0.927 -> 0.928, 0.945 -> 0.947). The seeds, looked at only: 0.726 -> 0.718.
SOURCES = ("labelled", "extracted", "both", "mixed", "alternate")
DEFAULT_SOURCE = "mixed"
#: Whether the structured recipe fits the document pass (neighbours' first-stage probabilities).
DEFAULT_DOCUMENT_PASS = True
#: Whether the theme tagger also learns from the labelled rows when the label model trains on the
#: extracted ones.
DEFAULT_THEMES_ALSO_LABELLED = True


def _half(doc: str) -> bool:
    """Every other letter, by a hash of its name (stable across runs and Python processes)."""
    return hashlib.sha256(f"plain:{doc}".encode()).digest()[0] % 2 == 1


def structured_examples(
    splits: Splits, source: str, extracted_path: Path | None = None
) -> tuple[list[D.Example], list[D.Example]]:
    """(training examples, calibration examples) for ``source``. Extracted rows follow the split of
    ``splits`` by document; extra labelled files (already extracted segments from the store) stay in
    training as they are."""
    if source not in SOURCES:
        raise ValueError(f"source {source!r} is not one of {SOURCES}")
    if source == "labelled":
        return splits.train, splits.held
    from tools.training import extracted as X

    path = extracted_path or X.DEFAULT_OUT
    header = X.read_header(path) if path.is_file() else {}
    if not header or header.get("labelled_hash") != splits.info.get("labelled_hash"):
        # other labelled data than the derived file was made from (a test's folder, a new batch not yet
        # rendered): the card's recipe says which source was used
        log.warning(
            "extracted training data missing or out of date; training on the labelled rows",
            extra={"path": str(path)},
        )
        splits.info["source_used"] = "labelled"
        return splits.train, splits.held
    splits.info["source_used"] = source
    # the extractor that made the rows is part of the model: the same letters extracted otherwise train another
    splits.info["extractor"] = str(header.get("extractor_hash") or "")
    rows = X.load(path)
    held_docs = {e.doc for e in splits.held}
    team_docs = {e.doc for e in splits.all_team}
    ex_train = [e for e in rows if e.doc in team_docs and e.doc not in held_docs]
    ex_held = [e for e in rows if e.doc in held_docs]
    row_docs = {e.doc for e in rows}
    extra = [e for e in splits.train if e.doc not in row_docs]  # --extra-labelled files
    if source == "extracted":
        return ex_train + extra, ex_held
    if source in ("mixed", "alternate"):
        plain_path = X.PLAIN_OUT if extracted_path is None else extracted_path.with_name(X.PLAIN_OUT.name)
        if not X.in_sync_hash(plain_path, splits.info.get("labelled_hash")):
            log.warning(
                "plain-text extracted training data missing or out of date; structured rendering only",
                extra={"path": str(plain_path)},
            )
            splits.info["source_used"] = "extracted"
            return ex_train + extra, ex_held
        plain = X.load(plain_path)
        # under their own document names, so a letter's neighbours stay within one rendering
        p_train = [
            replace(e, doc=f"{e.doc}#plain") for e in plain if e.doc in team_docs and e.doc not in held_docs
        ]
        p_held = [replace(e, doc=f"{e.doc}#plain") for e in plain if e.doc in held_docs]
        if source == "alternate":
            as_plain = {d for d in team_docs if _half(d)}
            ex_train = [e for e in ex_train if e.doc not in as_plain]
            p_train = [e for e in p_train if e.doc.removesuffix("#plain") in as_plain]
        return ex_train + p_train + extra, ex_held + p_held
    # both: the labelled rows too, under their own document names so their neighbours stay their own
    own = [replace(e, doc=f"{e.doc}#labelled") for e in splits.train]
    return ex_train + own, ex_held


def train_structured(
    out: Path,
    splits: Splits,
    *,
    groups: tuple[str, ...] | None = None,
    c: float = 8.0,
    seed: int = 13,
    taxonomy: Path | None = None,
    measure_speed: bool = True,
    source: str = DEFAULT_SOURCE,
    extracted_path: Path | None = None,
    document_pass: bool = DEFAULT_DOCUMENT_PASS,
    themes_also_labelled: bool = DEFAULT_THEMES_ALSO_LABELLED,
    heading_weight: float | None = None,
    heading_noise: float = 0.0,
    merge_copies: float = 0.0,
    merge_mode: str = "mixed",
    merge_seed: int | None = None,
) -> dict[str, Any]:
    """TF-IDF over lemmas + logistic regression, calibrated, with the review threshold and the theme
    tagger (``services/classify/structured.py``). ``source`` picks what it trains and calibrates on
    (see ``structured_examples``). ``heading_weight`` (default ``DEFAULT_HEADING_WEIGHT``) scales the
    heading feature blocks; ``heading_noise`` adds copies of that share of the training letters with
    their headings removed or swapped (off by default: it cost team held-out letters 0.002-0.009);
    ``merge_copies`` adds copies of that share (drawn with ``merge_seed``, default ``seed``) with
    neighbouring paragraphs merged (``augment.py``; off by default: it cost the team's held-out letters
    up to 0.012; services/classify/README.md, round 18)."""
    from shared.settings import get_settings
    from tools.training import structured as S

    groups = groups or S.DEFAULT_GROUPS
    heading_weight = S.DEFAULT_HEADING_WEIGHT if heading_weight is None else heading_weight
    theme_ids = S.taxonomy_ids(taxonomy or get_settings().taxonomy)
    started = time.perf_counter()
    train, held = structured_examples(splits, source, extracted_path)
    train = train + merged_copies(train, merge_copies, merge_mode, seed if merge_seed is None else merge_seed)
    fields = S.fit_and_save(
        out,
        D.context_items(train, drop_kind=0.15, seed=seed),
        [e.label for e in train],
        [e.themes for e in train],
        D.context_items(held),
        [e.label for e in held],
        [e.themes for e in held],
        theme_ids,
        groups=groups,
        c=c,
        seed=seed,
        train_docs=[e.doc for e in train] if document_pass else None,
        held_docs=[e.doc for e in held] if document_pass else None,
        stack_folds=2,
        heading_weight=heading_weight,
        heading_noise=heading_noise,
        theme_extra=(D.context_items(splits.train), [e.themes for e in splits.train])
        if themes_also_labelled
        and splits.info.get("source_used", source) in ("extracted", "mixed", "alternate")
        else None,
    )
    used = splits.info.get("source_used", source)
    # the theme tagger reads the concept lexicon: its content is part of the model
    lex = f"lex{file_sha256(CONCEPTS_FILE)[:4]}" if fields.get("theme_concepts_weight") else ""
    ext = f"x{splits.info['extractor'][:4]}" if used != "labelled" and splits.info.get("extractor") else ""
    merge = (
        f"merge{round(merge_copies * 100)}{merge_mode}" + ("" if merge_seed is None else f"s{merge_seed}")
        if merge_copies > 0
        else ""
    )
    tag = "-".join(
        t
        for t in ("" if used == "labelled" else used[:3], "doc" if document_pass else "", lex, ext, merge)
        if t
    )
    manifest = {"kind": "structured", "model_version": version_for("structured", splits, seed, tag), **fields}
    recipe = {
        "features": f"feature groups {', '.join(groups)} (see tools/training/structured.py); heading "
        f"blocks weighted {heading_weight}"
        + (f"; heading-noise copies of {heading_noise:.0%} of the training letters" if heading_noise else "")
        + (
            f"; copies of {merge_copies:.0%} of the training letters with neighbouring paragraphs merged "
            f"({merge_mode})"
            if merge_copies
            else ""
        ),
        "classifier": "LogisticRegression, balanced classes",
        "C": c,
        "seed": seed,
        "source": splits.info.get("source_used", source),
        "document_pass": "stacked logistic regression over the segment's and its neighbours' first-stage "
        "probabilities, kind and list cues (first-stage outputs 2-fold by letter)"
        if document_pass
        else None,
        "calibration": f"temperature {fields['temperature']} fitted on the held-out split"
        + (" as extracted from PDFs" if splits.info.get("source_used", source) != "labelled" else ""),
        "needs_review": f"top score below {fields['review_threshold']}: the highest threshold that flags at most "
        "18 % of the held-out split's segments; each letter's flags kept within the review budget (shared/review.py)",
        "themes": "one-vs-rest logistic regression over the label model's features"
        + (
            f" and the neighbouring segments' lemmas (weight {fields['theme_context_weight']})"
            if fields.get("theme_context_weight")
            else ""
        )
        + (
            f" and the concepts of shared/data/concepts.json the segment names, with their themes (weight "
            f"{fields['theme_concepts_weight']})"
            if fields.get("theme_concepts_weight")
            else ""
        )
        + (", trained on the extracted and the labelled rows" if themes_also_labelled else "")
        + f"; per-theme thresholds chosen on the held-out split (each theme's best F1, moved "
        f"{1 - fields.get('theme_shrink', 1.0):.0%} of the way toward the best common threshold): "
        + ", ".join(f"{k} {v}" for k, v in fields["theme_thresholds"].items())
        + (
            f"; a content segment with no theme over its threshold takes its likeliest theme from "
            f"{fields['theme_floor']:.0%} of that threshold"
            if fields.get("theme_floor") is not None
            else ""
        ),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    card = _finish(out, manifest, {"base": None, "recipe": recipe}, splits, None, measure_speed)
    card["evaluation"]["gold_themes"] = theme_evaluation(load_classifier(out), splits.gold, theme_ids)
    card["evaluation"]["held_out_themes"] = theme_evaluation(load_classifier(out), splits.held, theme_ids)
    write_card(out, card)
    return card


def theme_evaluation(
    clf: Classifier, examples: list[D.Example] | None, theme_ids: list[str]
) -> dict[str, Any] | None:
    """Theme micro/macro-F1 and per-theme F1 on examples that carry gold themes (text level)."""
    from tools.eval.end_to_end import theme_scores

    rows = [e for e in examples or [] if e.themes is not None]
    if not rows:
        return None
    items = D.context_items(rows)
    preds = []
    for i in range(0, len(items), 64):
        preds.extend(clf.predict(items[i : i + 64]))
    return theme_scores(
        [({"themes": list(e.themes or ())}, p) for e, p in zip(rows, preds, strict=True)], theme_ids
    )


def build_compact_base(
    out: Path,
    splits: Splits,
    *,
    epochs: int,
    seed: int,
    threads: int | None,
    progress: Progress | None = None,
) -> Path:
    """Tokenizer + MLM-pretrained compact BERT from the team's texts (train split only: held-out and
    gold texts stay unseen)."""
    from tools.training.compact import pretrain_mlm

    return pretrain_mlm(splits.train, out, epochs=epochs, seed=seed, threads=threads, progress=progress)


def train_bert(
    out: Path,
    splits: Splits,
    *,
    base: str | Path,
    epochs: int = 6,
    lr: float = 1e-4,
    batch_size: int = 16,
    seed: int = 13,
    threads: int | None = 1,
    onnx: bool = True,
    measure_speed: bool = True,
    progress: Progress | None = None,
    tag: str = "",
    extra_recipe: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from tools.training.finetune import fine_tune

    started = time.perf_counter()
    fine_tune(
        base,
        splits.train,
        out,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        threads=threads,
        progress=progress,
    )
    manifest: dict[str, Any] = {
        "kind": "bert",
        "model_version": version_for("bert", splits, seed, tag),
        "runtime": "torch",
    }
    notes = []
    if onnx:
        from tools.training.onnx_export import export_onnx

        try:
            manifest["onnx"] = export_onnx(out)
            manifest["runtime"] = "onnx"
        except Exception as exc:  # the torch path still works; the card says why ONNX is absent
            notes.append(f"- ONNX export failed ({type(exc).__name__}: {exc}); serving with PyTorch.")
    recipe = {
        "base": str(base),
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "threads": threads,
        "loss": "cross-entropy with balanced class weights",
        "input": "text pair: heading path joined with ' > ', then the segment text",
        "train_seconds": round(time.perf_counter() - started, 1),
        **(extra_recipe or {}),
    }
    return _finish(
        out, manifest, {"base": str(base), "recipe": recipe, "notes": notes}, splits, threads, measure_speed
    )


def copy_model(src: Path, dst: Path) -> None:
    """Put a model directory in place atomically enough: copy beside, then swap."""
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    if dst.exists():
        shutil.rmtree(dst)
    tmp.rename(dst)


def train_ensemble(
    out: Path, splits: Splits, members: list[tuple[Path, float]], *, measure_speed: bool = True
) -> dict[str, Any]:
    """Copy member model directories inside ``out`` and average their probabilities with the weights."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (src, weight) in enumerate(members):
        name = f"member{i}"
        copy_model(src, out / name)
        entries.append({"dir": name, "weight": weight})
    versions = [load_classifier(out / str(e["dir"])).model_version for e in entries]
    manifest = {
        "kind": "ensemble",
        "model_version": "ens-" + "+".join(v.split("-")[0] for v in versions) + f"-{splits.info['hash'][:8]}",
        "members": entries,
    }
    recipe = {
        "members": [
            {"model_version": v, "weight": e["weight"]} for v, e in zip(versions, entries, strict=True)
        ],
        "combination": "weighted mean of probabilities",
    }
    return _finish(out, manifest, {"base": None, "recipe": recipe}, splits, 1, measure_speed)
