"""``ensure-model``: make sure the default classifier is in place at ``settings.resolved_model_dir``.

The default is trained at setup by the recipe rather than shipped as a binary: the structured recipe
(TF-IDF over lemmas + logistic regression, trained on the team's letters as extraction makes them from
PDFs (``data/derived/extracted.jsonl``), a document pass over the neighbours' scores, calibrated on the
held-out letters as extracted, with the review threshold and the theme tagger) is the best scorer end to
end on the team's held-out letters and on ``data/heldout/heldout_k.jsonl`` (``python -m
tools.eval.end_to_end``; figures in services/classify/README.md). It trains in well under two minutes on
two cores from the data in the repository (no PDF rendering at setup), and the result is the same for
the same data and seed. Nothing is downloaded.

A default model remembers what it was built from (``inputs`` in its manifest: a hash of the training files,
the taxonomy and the recipe's code, ``inputs_fingerprint``). When a checkout's data or recipe has moved on
since (after a pull), ``ensure-model`` rebuilds it instead of serving the old one; a model directory that
``ensure-model`` did not build (a BERT someone trained and pointed ``INNSPILL_MODEL_DIR`` at) is left alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.classify.keywords import KeywordClassifier
from services.classify.loader import load_classifier
from services.classify.schema import ModelError, read_manifest, write_manifest
from services.classify.tfidf import file_sha256
from shared.settings import Settings
from tools.training import data as D
from tools.training import recipe as R
from tools.training.baselines import baseline_scores, comparison_notes
from tools.training.card import read_card, write_card
from tools.training.data import GOLD_PATH, LABELLED_DIR

log = logging.getLogger(__name__)

DEFAULT_SEED = 13
#: The code that decides what the default model learns, relative to the repository (data.REPO): the recipe,
#: the features and the Norwegian word data. Other code (the service, the stream) does not change the model.
RECIPE_CODE: tuple[str, ...] = (
    "tools/training/recipe.py",
    "tools/training/augment.py",
    "tools/training/structured.py",
    "tools/training/data.py",
    "tools/training/vocab.py",
    "tools/training/extracted.py",
    "services/classify/structured.py",
    "services/classify/fast_tfidf.py",
    "services/classify/schema.py",
    "shared/norwegian.py",
    "shared/lexicon.py",
    "shared/events.py",
)
#: Data the recipe reads besides the labelled letters: the letters as extraction makes them, and the
#: lemma and concept lists (relative to data.REPO).
RECIPE_DATA: tuple[str, ...] = ("data/derived", "shared/data")
#: The manifest key that holds the fingerprint.
INPUTS_KEY = "inputs"


def build_default(
    out: Path, splits: R.Splits, *, seed: int = DEFAULT_SEED, baselines: bool = False
) -> dict[str, Any]:
    """Train the product default into ``out``; ``baselines`` also fits the keyword and plain TF-IDF
    baselines for the card (another minute or so)."""
    card = R.train_structured(out, splits, seed=seed)
    base = (
        baseline_scores(splits, seed=seed)
        if baselines
        else {"keywords": R.evaluations(KeywordClassifier(), splits)}  # no fit: costs nothing
    )
    card["baselines"] = base
    card["notes"] = [
        "- The product default: of the recipes measured end to end (tools.eval.ablation: training on the "
        "labelled rows, on the letters as extracted from PDF, or both; kind and structure features; the "
        "document pass) it scores best on the team's held-out letters and on data/heldout/heldout_k.jsonl; "
        "the comparison is in services/classify/README.md.",
        *comparison_notes(card, base),
    ]
    extra = splits.info.get("extra_labelled") or []
    if extra:
        card["notes"].append(
            "- Extra labelled files trained on: "
            + ", ".join(f"{e['file']} ({e['segments']} segments)" for e in extra)
        )
    planted = splits.info.get("labels_only") or []
    if planted:
        card["notes"].append(
            "- The label model also trained on the team's letters with planted points (themes not used): "
            + ", ".join(f"{Path(e['file']).name} ({e['segments']} segments)" for e in planted)
        )
    card["command"] = "python -m tools.cli.main ensure-model  (= python -m tools.training.train default OUT)"
    write_card(out, card)
    return card


def inputs_fingerprint(labelled: Path, planted: Sequence[Path], extra: Sequence[Path], taxonomy: Path) -> str:
    """A hash of everything the default recipe builds its model from: the labelled letters, the planted
    letters, extra labelled files, the taxonomy, the derived rows and word data, and the recipe's code.
    Missing files count as absent, so a checkout without one of them still gets a stable fingerprint."""
    files: list[Path] = sorted(labelled.glob("*.jsonl")) if labelled.is_dir() else [labelled]
    files += [*planted, *extra, taxonomy]
    for folder in RECIPE_DATA:
        files += sorted(p for p in (D.REPO / folder).rglob("*") if p.is_file())
    files += [D.REPO / name for name in RECIPE_CODE]
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0")
        h.update(file_sha256(path).encode() if path.is_file() else b"absent")
    return h.hexdigest()[:16]


def _built_from(model_dir: Path) -> str | None:
    """The fingerprint a model directory was built from; "" for a default built before fingerprints were
    kept (its card names ensure-model), None for a model ensure-model did not build."""
    try:
        manifest = read_manifest(model_dir)
    except (ModelError, OSError, json.JSONDecodeError):
        return None
    if isinstance(manifest.get(INPUTS_KEY), str):
        return str(manifest[INPUTS_KEY])
    card = read_card(model_dir) or {}
    return "" if "ensure-model" in str(card.get("command", "")) else None


def model_ok(model_dir: Path) -> str | None:
    """The model_version when ``model_dir`` holds a loadable model, else None."""
    try:
        return load_classifier(model_dir, threads=1).model_version
    except ModelError as exc:
        log.info("no usable model", extra={"model_dir": str(model_dir), "reason": str(exc)})
        return None


def ensure_model(
    settings: Settings,
    *,
    force: bool = False,
    labelled: Path = LABELLED_DIR,
    gold: Path = GOLD_PATH,
    extra: list[Path] | None = None,
    planted: Sequence[Path] = D.PLANTED_LETTERS,
) -> tuple[Path, str, bool]:
    """Returns (model dir, model_version, whether it was built now). A directory that does not load
    (missing, half-written, tampered) is rebuilt. ``extra`` labelled files train too; ``planted``
    letters train the label model only (data.PLANTED_LETTERS). A default built from other inputs than
    today's (``inputs_fingerprint``) is rebuilt too."""
    target = settings.resolved_model_dir.resolve()
    inputs = inputs_fingerprint(labelled, planted, extra or [], settings.taxonomy)
    if not force and (version := model_ok(target)):
        built_from = _built_from(target)
        if built_from is None or built_from == inputs:
            return target, version, False
        log.warning(
            "the default model was built from other data or recipe code; rebuilding it",
            extra={
                "model_dir": str(target),
                "model_version": version,
                "built_from": built_from or "unknown",
                "inputs": inputs,
            },
        )
    splits = R.prepare(labelled, seed=DEFAULT_SEED, gold_path=gold, extra=extra, labels_only=planted)
    staging = target.with_name(target.name + ".build")
    shutil.rmtree(staging, ignore_errors=True)
    card = build_default(staging, splits)
    write_manifest(staging, {**read_manifest(staging), INPUTS_KEY: inputs})
    R.copy_model(staging, target)
    shutil.rmtree(staging, ignore_errors=True)
    return target, card["model_version"], True
