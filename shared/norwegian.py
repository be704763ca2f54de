"""Norwegian text tools: tokens, normalisation, lemmas (bokmål and nynorsk), compound parts, stopwords.

Data: ``shared/data/nb_lemmas.tsv.gz`` (Norsk Ordbank bokmål word forms, CC-BY, built from the PyPI package
spacy-lookups-data by ``python -m tools.points.build_norwegian_data``; about 0.9 MB) and
``shared/data/nn_nb.tsv`` (a hand-made nynorsk -> bokmål map of common function and health words). Both load
lazily on first use and are cached. Without the table every word is its own lemma (Snowball stem when the
PyPI package PyStemmer is installed), so importers never fail on a missing data file.

Public API (all pure functions)::

    normalise(text) -> str              # NFKC, lower case, one kind of quote/dash, no soft hyphens
    tokens(text) -> list[str]           # normalised word tokens, hyphenated words kept whole
    is_stopword(word) -> bool           # bokmål + nynorsk function words
    lemma(word) -> str                  # common bokmål lemma of a bokmål or nynorsk word form
    lemmas(text) -> list[str]           # lemma of every token (stopwords kept)
    split_compound(word) -> list[str]   # lemmatised parts: "fastlegeordningen" -> ["fastlege", "ordning"]
    content_terms(text, parts=True) -> list[str]  # lemmas without stopwords/numbers, + compound parts
    stem(word) -> str                   # Snowball Norwegian stem (identity when PyStemmer is missing)
    is_word_form(word) -> bool          # a known bokmål or nynorsk word form
    zipf(word) -> float                 # frequency of a lemma (wordfreq zipf scale, 0 = unseen)
    parts_of_speech(word) -> frozenset  # word classes of a lemma in the table: noun, verb, adj, adv
"""

from __future__ import annotations

import gzip
import re
import threading
import unicodedata
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

__all__ = [
    "STOPWORDS",
    "content_terms",
    "is_stopword",
    "lemma",
    "lemmas",
    "normalise",
    "parts_of_speech",
    "split_compound",
    "stem",
    "tokens",
    "zipf",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
LEMMA_FILE = DATA_DIR / "nb_lemmas.tsv.gz"
NN_FILE = DATA_DIR / "nn_nb.tsv"

# Which reading wins when one form belongs to several lemmas (after "the form is itself a lemma").
_POS_RANK = {"noun": 0, "verb": 1, "adj": 2, "adv": 3}
_POS_BIT = {pos: 1 << rank for pos, rank in _POS_RANK.items()}

# Bokmål and nynorsk function words; content-poor letter words are the caller's business.
_STOPWORD_TEXT = """
    a alle alt altså andre anna annan annen annet at av bare begge bl.a blant ble blei bli blir blitt
    burde både båe bør ca da de dei deira deires dem den denne dere deres derfor derimot dermed dessutan
    dessuten det dette di difor din dine disse dit ditt du dvs då eg ein eit eitt eller elles en ene
    eneste enn enten er et etc ett etter f.eks for fordi fra frå før ha hadde han hans har hatt heller
    hennar henne hennes her hit hjå ho hoe honom hos hoss hossen hun hva hvem hver hverandre hvert hvilke hvilken
    hvilket hvis hvor hvorav hvordan hvorfor i ifølge iht ikke ikkje ingen ingi inkje inn inni ja jeg jf
    kan kom kun kunne kva kvar kvarhelst kvart kven kvi kvifor likevel m.fl m.m man mange me med medan meg
    meget mellom men mht mi min mine mitt mot mv mykje må måtte ned nemlig no noe noen noka noko nokon
    nokor nokre nå når og også om opp oss osv over pga på same samme samt seg selv si sia sidan siden sin
    sine sitt sjøl sjølv skal skulle slik slike slikt so som somme somt så sånn særleg til um upp ut utan
    uten var vart ved vere verken vert verte vi via vil ville vore vors vort vorte være vært å òg
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())

_TOKEN_RE = re.compile(r"[0-9a-zæøåäöüéèêóòôáàçñ]+(?:[-'][0-9a-zæøåäöüéèêóòôáàçñ]+)*")
_QUOTES = str.maketrans(
    {"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "’": "'", "‘": "'", "–": "-", "—": "-"}
)

# Nynorsk (and a few older bokmål) endings: suffix -> replacements tried in order on the remaining base.
_NN_SUFFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingane", ("ing",)),
    ("ingar", ("ing",)),
    ("inga", ("ing",)),
    ("ande", ("ende", "e", "")),
    ("ane", ("", "e")),
    ("ene", ("", "e")),
    ("ast", ("e", "")),
    ("ar", ("", "e")),
    ("er", ("", "e")),
    ("en", ("", "e")),
    ("et", ("", "e")),
    ("te", ("e", "")),
    ("de", ("e", "")),
    ("a", ("", "e")),
    ("e", ("",)),
    ("t", ("", "e")),
)
# Spelling correspondences nynorsk -> bokmål, tried when a form is unknown: (nn, nb).
_NN_SPELLING: tuple[tuple[str, str], ...] = (
    ("leg", "lig"),
    ("lege", "lige"),
    ("heit", "het"),
    ("kje", "ke"),
    ("gje", "ge"),
    ("kj", "k"),
    ("gj", "g"),
    ("skap", "skap"),
)
_LINKS = ("", "s", "e")
_NO_SPLIT_ZIPF = 3.5  # a known lemma at least this common is kept whole ("sykehus", "fastlege")
_PART_ZIPF = 2.0  # every part of a split must be at least this common
_KNOWN_PART_ZIPF = 3.0  # ... and this common when the whole word is in the dictionary
_MIN_PART = 3


def _utf8(word: str) -> bytes:
    return word.encode("utf-8")


class _Packed:
    """Distinct strings, sorted, in one UTF-8 blob with an offset array: no Python object per string.
    UTF-8 byte order is code point order, so a binary search over the bytes finds a string's index.
    Found indexes are kept for the next ask (up to ``CACHE_SIZE`` strings): splitting compounds looks up
    the same pieces («helse», «tjeneste») over and over, and a search costs about twenty slices."""

    __slots__ = ("blob", "starts", "_found")
    CACHE_SIZE = 100_000

    def __init__(self, words: Iterable[str]) -> None:
        encoded = sorted({_utf8(w) for w in words})
        self.blob = b"".join(encoded)
        self.starts = array("I", accumulate((len(e) for e in encoded), initial=0))
        self._found: dict[str, int | None] = {}

    def __len__(self) -> int:
        return len(self.starts) - 1

    def _at(self, i: int) -> bytes:
        return self.blob[self.starts[i] : self.starts[i + 1]]

    def text(self, i: int) -> str:
        return self._at(i).decode("utf-8")

    def index(self, word: str) -> int | None:
        found = self._found
        if word in found:
            return found[word]
        if len(found) >= self.CACHE_SIZE:
            found.clear()
        found[word] = at = self._search(word)
        return at

    def _search(self, word: str) -> int | None:
        key = _utf8(word)
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._at(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self) and self._at(lo) == key else None


@dataclass
class _Lexicon:
    """Form -> lemma table with lemma frequencies, loaded once, packed.

    As dicts of str the table took about 68 MB in every process that loads it (classify, store); packed
    (sorted UTF-8 blobs, offset and index arrays) about 15 MB, for a binary search per lookup that the
    callers' caches mostly spare."""

    lemmas: _Packed = field(default_factory=lambda: _Packed(()))
    zipf10: array = field(default_factory=lambda: array("B"))  # per lemma: zipf frequency x 10
    pos_bits: array = field(default_factory=lambda: array("B"))  # per lemma: its word classes (_POS_BIT)
    forms: _Packed = field(default_factory=lambda: _Packed(()))
    form_lemma: array = field(default_factory=lambda: array("I"))  # per form: index into lemmas
    nn: dict[str, str] = field(default_factory=dict)

    def zipf(self, lemma_: str) -> float:
        i = self.lemmas.index(lemma_)
        return 0.0 if i is None else self.zipf10[i] / 10

    def is_lemma(self, word: str) -> bool:
        return self.lemmas.index(word) is not None

    def parts_of_speech(self, lemma_: str) -> frozenset[str]:
        i = self.lemmas.index(lemma_)
        bits = 0 if i is None else self.pos_bits[i]
        return frozenset(pos for pos, bit in _POS_BIT.items() if bits & bit)

    def lemma_of_form(self, word: str) -> str | None:
        """The lemma of a listed form; a lemma's own spelling is not listed as a form (it is itself)."""
        i = self.forms.index(word)
        return None if i is None else self.lemmas.text(self.form_lemma[i])

    def __bool__(self) -> bool:
        return len(self.lemmas) > 0


def _decode(lemma: str, code: str) -> str:
    if code.startswith("="):
        return code[1:]
    drop = int(code[0])
    return (lemma[: len(lemma) - drop] if drop else lemma) + code[1:]


_LEXICON_LOCK = threading.Lock()
_loaded: list[_Lexicon] = []


def _lexicon() -> _Lexicon:
    """The word table, loaded once per process. A lock, not only a cache: a server's first burst of
    requests arrives on many threads at once, and each would otherwise load the table itself (seconds of
    CPU and ~100 MB each)."""
    if not _loaded:
        with _LEXICON_LOCK:
            if not _loaded:
                _loaded.append(_load_lexicon())
    return _loaded[0]


def warm() -> None:
    """Load the word table now (at service start) rather than on the first request that needs it."""
    _lexicon()


def _load_lexicon() -> _Lexicon:
    # Built in plain dicts first (forms and their best part-of-speech rank apart, no tuple per form),
    # then packed; the dicts are freed before the table is used.
    lemma_z: dict[str, int] = {}
    lemma_pos: dict[str, int] = {}
    forms: dict[str, str] = {}
    rank: dict[str, int] = {}
    overrides: dict[str, str] = {}
    if LEMMA_FILE.exists():
        with gzip.open(LEMMA_FILE, "rt", encoding="utf-8") as fh:
            for line in fh:
                lemma_, pos, z, enc = line.rstrip("\n").split("\t")
                if pos == "=":  # an ambiguous form settled at build time
                    overrides[lemma_] = enc
                    continue
                pos_rank = _POS_RANK.get(pos, 9)
                if int(z) > lemma_z.get(lemma_, -1):
                    lemma_z[lemma_] = int(z)
                lemma_pos[lemma_] = lemma_pos.get(lemma_, 0) | _POS_BIT.get(pos, 0)
                # A form that is itself a lemma keeps that lemma (rank -1 beats every POS).
                if rank.get(lemma_, 99) > -1:
                    forms[lemma_], rank[lemma_] = lemma_, -1
                if enc:
                    for code in enc.split(","):
                        form = _decode(lemma_, code)
                        if rank.get(form, 99) > pos_rank:
                            forms[form], rank[form] = lemma_, pos_rank
    del rank
    forms.update(overrides)
    lex = _Lexicon()
    # An override may name a lemma that has no row of its own: it joins the lemmas with frequency 0.
    names = sorted({*lemma_z, *forms.values()}, key=_utf8)
    position = {w: i for i, w in enumerate(names)}
    lex.lemmas = _Packed(names)
    lex.zipf10 = array("B", (lemma_z.get(w, 0) for w in names))
    lex.pos_bits = array("B", (lemma_pos.get(w, 0) for w in names))
    # A lemma's own spelling maps to itself and is answered by ``lemmas``; only other forms are listed.
    listed = sorted((f for f, lem in forms.items() if f != lem), key=_utf8)
    lex.forms = _Packed(listed)
    lex.form_lemma = array("I", (position[forms[f]] for f in listed))
    del forms, lemma_z, lemma_pos, names, position, listed
    if NN_FILE.exists():
        for line in NN_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            nn, nb = line.split("\t")[:2]
            lex.nn[nn.strip()] = nb.strip()
    return lex


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    try:
        import Stemmer
    except ImportError:  # PyStemmer is optional
        return lambda w: w
    s = Stemmer.Stemmer("norwegian")
    stem_word: Callable[[str], str] = s.stemWord
    return stem_word


def normalise(text: str) -> str:
    """Unicode NFKC, lower case, plain quotes and dashes, soft hyphens and zero-width marks removed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = text.replace("\u00ad", "").replace("\u200b", "")
    return text.lower()


def tokens(text: str) -> list[str]:
    """Word tokens of normalised text; «e-helse» and «ROP-pasienter» stay one token."""
    return _TOKEN_RE.findall(normalise(text))


def is_stopword(word: str) -> bool:
    return normalise(word) in STOPWORDS


def stem(word: str) -> str:
    """Snowball Norwegian stem of a normalised word (the word itself when PyStemmer is not installed)."""
    return _stemmer()(normalise(word))


def zipf(word: str) -> float:
    """wordfreq zipf frequency of a lemma as recorded in the table (0.0 when unseen or unknown)."""
    return _lexicon().zipf(word)


def parts_of_speech(word: str) -> frozenset[str]:
    """Word classes a lemma has in the table (noun, verb, adj, adv); empty when it is not listed."""
    return _lexicon().parts_of_speech(word)


def _known(word: str) -> str | None:
    """Lemma of a form found in the nn map or the bokmål table, else None."""
    lex = _lexicon()
    nb = lex.nn.get(word)
    if nb is not None:
        return nb
    lem = lex.lemma_of_form(word)
    if lem is None:
        if not lex.is_lemma(word):
            return None
        lem = word
    return lex.nn.get(lem, lem)


def is_word_form(word: str) -> bool:
    """Whether a lower-case word is a known bokmål or nynorsk word form (the word list holds common place
    names too)."""
    return _known(word) is not None


def _nn_lemma(word: str) -> str | None:
    """Lemma for an unknown (often nynorsk) form by spelling and ending rules."""
    spellings = [word]
    for nn, nb in _NN_SPELLING:
        idx = word.rfind(nn)
        if idx > 0:
            spellings.append(word[:idx] + nb + word[idx + len(nn) :])
    for cand in spellings[1:]:
        hit = _known(cand)
        if hit is not None:
            return hit
    best: tuple[float, str] | None = None
    for cand in spellings:
        for suffix, repls in _NN_SUFFIXES:
            if cand.endswith(suffix) and len(cand) - len(suffix) >= _MIN_PART:
                base = cand[: -len(suffix)]
                for repl in repls:
                    hit = _known(base + repl)
                    if hit is not None and (best is None or zipf(hit) > best[0]):
                        best = (zipf(hit), hit)
    return None if best is None else best[1]


@lru_cache(maxsize=200_000)
def _simple_lemma(word: str) -> str | None:
    hit = _known(word)
    if hit is not None:
        return hit
    return _nn_lemma(word)


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Common bokmål lemma of a bokmål or nynorsk word form.

    Order: nynorsk map, bokmål table (a form of several lemmas was settled at build time by how common
    each lemma's other forms are: «skriver» -> skrive), nynorsk ending/spelling rules, compound (last part
    lemmatised), hyphen parts, Snowball stem for the rest.
    """
    w = normalise(word).strip("-'")
    if not w or w.isdigit():
        return w
    hit = _simple_lemma(w)
    if hit is not None:
        return hit
    if "-" in w:  # short pieces are abbreviations («ROP-pasienter»): kept as written
        pieces = [p if len(p) <= _MIN_PART else lemma(p) for p in w.split("-") if p]
        return "-".join(pieces)
    parts = _split_piece(w)
    if len(parts) > 1:
        return _join_parts(w, parts)
    return stem(w) if _lexicon() else w


def _join_parts(word: str, parts: list[str]) -> str:
    """Rebuild a compound lemma: the word up to its last part + the last part's lemma."""
    head = word
    last = parts[-1]
    # The last part's surface form is the word's tail; its lemma replaces it.
    for end in range(len(word) - _MIN_PART, 0, -1):
        if _simple_lemma(word[end:]) == last:
            head = word[:end]
            return head + last
    return "".join(parts)


def lemmas(text: str) -> list[str]:
    """Lemma of every token in text (stopwords included)."""
    return [lemma(t) for t in tokens(text)]


@lru_cache(maxsize=1)
def _nn_lemmas() -> frozenset[str]:
    return frozenset(_lexicon().nn.values())


def _part_ok(lem: str | None) -> bool:
    return lem is not None and lem not in STOPWORDS and (zipf(lem) >= _PART_ZIPF or lem in _nn_lemmas())


@lru_cache(maxsize=100_000)
def _split_piece(word: str) -> list[str]:
    """Fewest-parts split of one hyphen-free word into known lemmas (ties: the commonest rarest part)."""
    n = len(word)
    lex = _lexicon()
    whole = _simple_lemma(word)
    if whole is not None and zipf(whole) >= _NO_SPLIT_ZIPF:
        return [whole]
    # best[i] = (parts, -min zipf, parts list) for word[:i] ending at a part boundary (links consumed).
    best: dict[int, tuple[int, float, list[str]]] = {0: (0, 0.0, [])}
    for i in range(n):
        if i not in best:
            continue
        count, neg_min, parts = best[i]
        for j in range(i + _MIN_PART, n + 1):
            piece = word[i:j]
            if j == n:
                if i == 0:
                    continue
                lem = _simple_lemma(piece)
                if not _part_ok(lem):
                    continue
                assert lem is not None
                cand = (count + 1, min(neg_min, -zipf(lem)) if parts else -zipf(lem), [*parts, lem])
                if n not in best or (cand[0], cand[1]) < (best[n][0], best[n][1]):
                    best[n] = cand
                continue
            # A non-final part must be a base form (lemma or listed nynorsk word), not an inflection.
            lem = _known(piece)
            if lem is None or not _part_ok(lem) or not (lex.is_lemma(piece) or piece in lex.nn):
                continue
            for link in _LINKS:
                k = j + len(link)
                if k >= n or word[j:k] != link:
                    continue
                cand = (count + 1, min(neg_min, -zipf(lem)) if parts else -zipf(lem), [*parts, lem])
                if k not in best or (cand[0], cand[1]) < (best[k][0], best[k][1]):
                    best[k] = cand
    # A known word is split only in two (a three-way split of a dictionary word is usually wrong:
    # «spesialisering» is not spesial+ise+ring); an unknown word may have more parts.
    if n in best and best[n][0] >= 2:
        parts = best[n][2]
        if whole is None:
            return parts
        # a dictionary word is split only into two common parts of four letters or more
        if len(parts) == 2 and all(len(p) >= 4 and zipf(p) >= _KNOWN_PART_ZIPF for p in parts):
            return parts
    return [whole] if whole is not None else [word]


def split_compound(word: str) -> list[str]:
    """Lemmatised parts of a compound («fastlegeordningen» -> ["fastlege", "ordning"]); [lemma] if none."""
    w = normalise(word).strip("-'")
    if not w:
        return []
    out: list[str] = []
    for piece in (p for p in w.split("-") if p):
        if piece.isdigit() or len(piece) <= _MIN_PART:  # abbreviations and numbers as written
            out.append(piece)
            continue
        out.extend(_split_piece(piece))
    return out


def content_terms(text: str, parts: bool = True) -> list[str]:
    """Lemmas of the content words of text, in order; with parts=True each compound's parts follow it."""
    out: list[str] = []
    for tok in tokens(text):
        if tok in STOPWORDS or tok.isdigit() or len(tok) < 2:
            continue
        lem = lemma(tok)
        if lem in STOPWORDS or len(lem) < 2:
            continue
        out.append(lem)
        if parts:
            for p in split_compound(tok):
                if p != lem and p not in STOPWORDS and len(p) >= _MIN_PART and not p.isdigit():
                    out.append(p)
    return out
