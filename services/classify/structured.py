"""The structured model: TF-IDF + logistic regression over lemmatised text and headings, plus what
extraction knows about the segment (its kind, its place in the letter, its neighbours' kinds and text
form cues), a calibrated temperature, a review threshold, and a multi-label theme tagger; optionally a
document pass (a second logistic regression over the segment's and its neighbours' first-stage
probabilities, its kind and list cues) for items that carry their letter context.

Everything is fitted by ``tools/training/structured.py`` and stored in one joblib file; the loader opens it
only when its SHA-256 matches the manifest (unpickling runs code).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.special import expit

from services.classify.fast_tfidf import speed_up
from services.classify.schema import Item, ModelError, Prediction, heading_text
from services.classify.tfidf import file_sha256
from shared.events import CONTENT_LABELS, LABELS
from shared.lexicon import load_lexicon, segment_positions

MODEL_FILE = "structured.joblib"
#: Kinds that are letter furniture: the model's own label decides, but they never get themes.
FURNITURE_KINDS = frozenset({"letter", "url"})
_WORD = re.compile(r"[a-zæøåäöéèüA-ZÆØÅÄÖÉÈÜ]+(?:-[a-zæøåA-ZÆØÅ]+)*|\d+")
_MODAL = re.compile(r"\b(må|bør|skal|ønsker|foreslår|anbefaler|trenger|behov for|vil|kan)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _lemmatiser() -> Any:
    """shared.norwegian's lemma (bokmål and nynorsk forms to one bokmål lemma) when it imports cleanly,
    else PyStemmer's Norwegian Snowball stemmer."""
    try:
        from shared.norwegian import lemma

        lemma("utfordringene")
        return lemma
    except Exception:  # the teammate's module is missing or broken: stems still share evidence
        import Stemmer

        return Stemmer.Stemmer("norwegian").stemWord


@lru_cache(maxsize=200_000)
def _lemma(word: str) -> str:
    try:
        return str(_lemmatiser()(word))
    except Exception:
        return word


@lru_cache(maxsize=8192)
def lemma_text(text: str) -> str:
    return " ".join(_lemma(w) for w in _WORD.findall(text.lower()))


def lemma_texts(items: list[Item]) -> list[str]:
    return [lemma_text(it.text) for it in items]


def raw_texts(items: list[Item]) -> list[str]:
    return [it.text for it in items]


def lemma_headings(items: list[Item]) -> list[str]:
    return [lemma_text(heading_text(it.heading_path)) or "__none__" for it in items]


def last_headings(items: list[Item]) -> list[str]:
    return [it.heading_path[-1] if it.heading_path else "__none__" for it in items]


def _shape(text: str | None) -> list[str]:
    if text is None:
        return ["none"]
    t = text.strip()
    words = len(t.split())
    out = [f"w{min(words, 8) if words < 8 else 8 + min(words // 20, 4)}"]
    if t.endswith(":"):
        out.append("colon")
    elif t.endswith("?"):
        out.append("q")
    elif t.endswith((".", "!")):
        out.append("stop")
    else:
        out.append("nostop")
    if t[:1].isdigit():
        out.append("num")
    if _MODAL.search(t):
        out.append("modal")
    return out


#: Lemmas that say what a sentence does, by function (general Norwegian, bokmål lemmas as ``lemma_text``
#: gives them; nynorsk forms arrive as their bokmål lemma).
FUNCTION_CUES: dict[str, frozenset[str]] = {
    "must": frozenset({"måtte", "burde", "skulle"}),
    "can": frozenset({"kunne", "ville"}),
    "propose": frozenset(
        {
            "foreslå",
            "forslag",
            "anbefale",
            "anbefaling",
            "oppfordre",
            "tilrå",
            "ønske",
            "innføre",
            "prioritere",
        }
    ),
    "need": frozenset({"behov", "trenge", "mangle", "mangel", "savne", "nødvendig"}),
    "problem": frozenset(
        {"utfordring", "utfordrende", "kreve", "krevende", "problem", "vanskelig", "svikt", "risiko", "press"}
    ),
    "example": frozenset({"eksempel", "eksempelvis", "erfaring", "prosjekt", "pilot", "gjennomføre"}),
}
_CUE_OF = {lemma: cue for cue, lemmas in FUNCTION_CUES.items() for lemma in lemmas}


@lru_cache(maxsize=8192)
def function_tokens(text: str) -> str:
    """What the sentence does, from its own words only (no heading): its first lemmas by position, the
    function cues it holds (modal verbs, proposals, needs, problems, examples), whether a cue comes early
    (the main clause) or late, and pairs of cues. Lets the label model weigh the sentence's own evidence
    against the heading it stands under."""
    words = lemma_text(text).split()
    toks = [f"f{i}_{w}" for i, w in enumerate(words[:3])]
    if len(words) >= 2:
        toks.append(f"fb_{words[0]}_{words[1]}")
    cues: list[str] = []
    for i, w in enumerate(words):
        cue = _CUE_OF.get(w)
        if cue is None:
            continue
        where = "early" if i < 6 else "late"
        toks.append(f"c_{cue}_{where}")
        if cue not in cues:
            cues.append(cue)
    toks += [f"cc_{a}_{b}" for j, a in enumerate(cues) for b in cues[j + 1 :]]
    toks.append(f"ncue_{min(len(cues), 3)}")
    return " ".join(toks)


def functions(items: list[Item]) -> list[str]:
    return [function_tokens(it.text) for it in items]


def context_tokens(item: Item) -> str:
    """Structure as tokens: kind, neighbours' kinds, place in the letter, heading depth, text form."""
    toks = [f"k_{item.kind or 'unknown'}", f"pk_{item.prev_kind or 'none'}", f"nk_{item.next_kind or 'none'}"]
    toks.append(f"depth_{min(len(item.heading_path), 3)}")
    if item.seq is not None and item.count:
        rel = item.seq / max(item.count - 1, 1)
        toks.append(f"pos_{min(int(rel * 5), 4)}")
        if item.seq < 3:
            toks.append(f"first_{item.seq}")
        if item.count - 1 - item.seq < 3:
            toks.append(f"last_{item.count - 1 - item.seq}")
    toks += [f"s_{s}" for s in _shape(item.text)]
    toks += [f"ks_{item.kind or 'unknown'}_{s}" for s in _shape(item.text)[:2]]
    toks += [f"ps_{s}" for s in _shape(item.prev_text)[:2]]
    toks += [f"ns_{s}" for s in _shape(item.next_text)[:2]]
    return " ".join(toks)


def neighbour_texts(items: list[Item]) -> list[str]:
    """The lemmas of the segments before and after: the theme tagger's view of the passage around a
    segment (a short bullet or a sentence that continues the previous one takes its themes from there)."""
    return [lemma_text(" ".join(t for t in (it.prev_text, it.next_text) if t)) for it in items]


def concept_tokens(items: list[Item]) -> list[str]:
    """The concepts of the team's lexicon a segment names, and their themes, as tokens: words the labelled
    letters seldom use still point to a theme through the concept they express."""
    return [_concept_tokens(it.text) for it in items]


@lru_cache(maxsize=8192)
def _concept_tokens(text: str) -> str:
    lx = load_lexicon()
    found = sorted(lx.match(segment_positions(text)))
    return " ".join([f"c_{c}" for c in found] + [f"t_{t}" for c in found for t in lx.concepts[c].themes])


def contexts(items: list[Item]) -> list[str]:
    return [context_tokens(it) for it in items]


def kind_tokens(item: Item) -> str:
    """The segment's kind and its neighbours' kinds only."""
    return f"k_{item.kind or 'unknown'} pk_{item.prev_kind or 'none'} nk_{item.next_kind or 'none'}"


def kinds(items: list[Item]) -> list[str]:
    return [kind_tokens(it) for it in items]


class StructuredClassifier:
    """Labels with calibrated scores, the review flag and themes, from one fitted bundle."""

    def __init__(self, bundle: dict[str, Any], manifest: dict[str, Any]) -> None:
        #: One feature union shared by the label model and the theme tagger (computed once per batch).
        self.features = bundle["features"]
        self.labels = bundle["labels"]
        self.themes = bundle.get("themes")
        self.theme_ids: list[str] = list(bundle.get("theme_ids") or [])
        #: The theme tagger's own extra features (the neighbours' text) and their weight; None in bundles
        #: made before it had them.
        self.theme_context = bundle.get("theme_context")
        self.theme_context_weight = float(bundle.get("theme_context_weight", 1.0))
        #: The concept features of the theme tagger (None in bundles made before it had them).
        self.theme_concepts = bundle.get("theme_concepts")
        if self.theme_concepts is not None:
            load_lexicon()  # compiled once at start-up (about 3 s), not inside the first request
        self.theme_concepts_weight = float(bundle.get("theme_concepts_weight", 1.0))
        self._theme_weights = _one_vs_rest_weights(self.themes)
        for part in (self.features, self.theme_context, self.theme_concepts):
            speed_up(part)
        self.temperature = float(manifest.get("temperature", 1.0))
        #: The document pass (None: labels come from the first stage alone) and its own temperature.
        self.stack = bundle.get("stack")
        self.stack_kind = bool(bundle.get("stack_kind", True))
        self.stack_temperature = float(manifest.get("stack_temperature", 1.0))
        self.review_threshold = float(manifest.get("review_threshold", 0.0))
        self.theme_thresholds = np.array(
            [float(manifest.get("theme_thresholds", {}).get(t, 0.5)) for t in self.theme_ids]
        )
        #: A content segment with no theme over its threshold still takes its likeliest theme when that
        #: theme's score reaches this share of its threshold (None: no such fallback; bundles before it).
        floor = manifest.get("theme_floor")
        self.theme_floor: float | None = None if floor is None else float(floor)
        self.model_version = manifest["model_version"]

    def raw_proba(self, items: list[Item], x: Any = None) -> np.ndarray:
        """Uncalibrated probabilities in ``LABELS`` order."""
        x = self.features.transform(items) if x is None else x
        raw = self.labels.predict_proba(x)
        classes = list(self.labels.classes_)
        out = np.zeros((len(items), len(LABELS)))
        for j, label in enumerate(LABELS):
            if label in classes:
                out[:, j] = raw[:, classes.index(label)]
        return out

    def predict_proba(self, items: list[Item], x: Any = None) -> np.ndarray:
        raw = self.raw_proba(items, x)
        if self.stack is not None and all(it.seq is not None for it in items):
            return temper(self.stacked_proba(items, raw), self.stack_temperature)
        return temper(raw, self.temperature)

    def stacked_proba(self, items: list[Item], raw: np.ndarray) -> np.ndarray:
        """The document pass over first-stage probabilities ``raw``: a neighbour that is in the batch
        (the item before or after, with the matching text) reuses its row; the others are classified
        from their text, kind and this item's heading path."""
        stack = self.stack
        if stack is None:
            return raw
        n = len(items)
        prev, nxt = np.zeros((n, len(LABELS))), np.zeros((n, len(LABELS)))
        has_prev = np.array([it.prev_text is not None for it in items], dtype=float)
        has_next = np.array([it.next_text is not None for it in items], dtype=float)
        missing: list[tuple[np.ndarray, int, Item]] = []
        for i, it in enumerate(items):
            if it.prev_text is not None:
                if i > 0 and items[i - 1].text == it.prev_text:
                    prev[i] = raw[i - 1]
                else:
                    missing.append((prev, i, Item(it.prev_text, it.heading_path, it.prev_kind)))
            if it.next_text is not None:
                if i + 1 < n and items[i + 1].text == it.next_text:
                    nxt[i] = raw[i + 1]
                else:
                    missing.append((nxt, i, Item(it.next_text, it.heading_path, it.next_kind)))
        if missing:
            extra = self.raw_proba([m[2] for m in missing])
            for (target, i, _), row in zip(missing, extra, strict=True):
                target[i] = row
        x = stack_matrix(raw, prev, nxt, has_prev, has_next, items, self.stack_kind)
        out = np.zeros((n, len(LABELS)))
        p = stack.predict_proba(x)
        classes = list(stack.classes_)
        for j, label in enumerate(LABELS):
            if label in classes:
                out[:, j] = p[:, classes.index(label)]
        return out

    def theme_proba(self, items: list[Item], x: Any = None) -> np.ndarray:
        if self.themes is None or not self.theme_ids:
            return np.zeros((len(items), 0))
        x = self.features.transform(items) if x is None else x
        if self.theme_context is not None:
            x = theme_matrix_with_context(x, self.theme_context.transform(items), self.theme_context_weight)
        if self.theme_concepts is not None:
            x = theme_matrix_with_context(x, self.theme_concepts.transform(items), self.theme_concepts_weight)
        if self._theme_weights is not None:
            w, b = self._theme_weights
            return np.asarray(expit(x @ w + b))
        return np.asarray(self.themes.predict_proba(x))

    def _fallback_theme(self, row: np.ndarray) -> list[tuple[str, float]]:
        """The likeliest theme of a content segment that none reached, if it comes near its threshold:
        nearly every content segment of the team's letters has a theme (98 %)."""
        j = int(np.argmax(row))
        if self.theme_floor is None or row[j] < self.theme_floor * self.theme_thresholds[j]:
            return []
        return [(self.theme_ids[j], round(float(row[j]), 4))]

    def predict(self, items: list[Item]) -> list[Prediction]:
        if not items:
            return []
        # the matrices are the model's own TF-IDF output: sklearn's finiteness and parameter checks on
        # every step cost about a tenth of the time and can find nothing (tools/bench/classify.py)
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            x = self.features.transform(items)
            probs = self.predict_proba(items, x)
            tprobs = self.theme_proba(items, x)
        out = []
        for i, (item, row) in enumerate(zip(items, probs, strict=True)):
            pred = Prediction.from_probs(row)
            themes: tuple[tuple[str, float], ...] = ()
            if tprobs.shape[1] and item.kind not in FURNITURE_KINDS:
                picked = [
                    (self.theme_ids[j], round(float(tprobs[i, j]), 4))
                    for j in np.argsort(-tprobs[i])
                    if tprobs[i, j] >= self.theme_thresholds[j]
                ]
                if not picked and pred.label in CONTENT_LABELS:
                    picked = self._fallback_theme(tprobs[i])
                themes = tuple(picked[:3])
            out.append(
                Prediction(
                    label=pred.label,
                    scores=pred.scores,
                    themes=themes,
                    needs_review=max(pred.scores.values()) < self.review_threshold,
                )
            )
        return out


#: Segment kinds the document pass knows (extraction's names, ``services/extract/model.py``).
STACK_KINDS = (
    "paragraph",
    "list_item",
    "lead_in",
    "heading",
    "question",
    "title",
    "letter",
    "table_header",
    "table_cell",
    "footnote",
    "url",
)


def _ends_colon(text: str | None) -> float:
    return 1.0 if text and text.rstrip().endswith(":") else 0.0


def stack_matrix(
    own: np.ndarray,
    prev: np.ndarray,
    nxt: np.ndarray,
    has_prev: np.ndarray,
    has_next: np.ndarray,
    items: list[Item],
    with_kind: bool = True,
) -> np.ndarray:
    """Features of the document pass: the segment's first-stage probabilities (as logs), its neighbours'
    (zero where there is none), its kind, and the list cues (a lead-in ending in ':' and the list after
    it; list items and their neighbours)."""
    n = len(items)
    kind = np.zeros((n, len(STACK_KINDS)))
    for i, it in enumerate(items):
        if it.kind in STACK_KINDS:
            kind[i, STACK_KINDS.index(it.kind)] = 1.0
    colon = np.array([[_ends_colon(it.text)] for it in items])
    prev_colon = np.array([[_ends_colon(it.prev_text)] for it in items])
    listy = kind[:, [STACK_KINDS.index("list_item")]]
    hp, hn = has_prev[:, None], has_next[:, None]
    prev, nxt = prev * hp, nxt * hn
    return np.hstack(
        [
            np.log(np.clip(own, 1e-6, 1.0)),
            prev,
            nxt,
            hp,
            hn,
            kind if with_kind else np.zeros((n, 0)),
            colon,
            prev_colon,
            colon * nxt,
            prev_colon * own,
            listy * prev if with_kind else np.zeros((n, 0)),
            listy * nxt if with_kind else np.zeros((n, 0)),
        ]
    )


def _one_vs_rest_weights(model: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(weights features x themes, intercepts) of a one-vs-rest tagger whose every theme is a binary logistic
    regression, so that all themes score in one product: the same probabilities as its ``predict_proba``,
    without fifteen rounds of input checks per batch. None for any other model."""
    estimators = getattr(model, "estimators_", None)
    if not estimators or not all(
        hasattr(e, "coef_") and e.coef_.shape[0] == 1 and list(getattr(e, "classes_", [])) == [0, 1]
        for e in estimators
    ):
        return None
    # row-major: scipy flattens the dense side of a sparse product, which copies a transposed array
    # (14 MB for the default tagger) on every batch
    w = np.ascontiguousarray(np.vstack([e.coef_[0] for e in estimators]).T)
    b = np.array([float(e.intercept_[0]) for e in estimators])
    return w, b


def theme_matrix_with_context(x: Any, context: Any, weight: float) -> Any:
    """The theme tagger's input: the shared features, then the neighbour-text features scaled by
    ``weight`` (so they inform the tagger without outweighing the segment's own text)."""
    import scipy.sparse

    return scipy.sparse.hstack([x, weight * context]).tocsr()


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling of probability rows (T > 1 softens, T < 1 sharpens)."""
    if temperature == 1.0:
        return probs
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def load(model_dir: Path, manifest: dict[str, Any]) -> StructuredClassifier:
    path = model_dir / manifest.get("file", MODEL_FILE)
    if not path.is_file():
        raise ModelError(f"{path} is missing")
    if file_sha256(path) != manifest.get("sha256"):
        raise ModelError(f"{path} does not match the sha256 in its manifest; refusing to unpickle it")
    return StructuredClassifier(joblib.load(path), manifest)
