"""Small text tests shared by the segmenter and heading detection: bullets, numbers, sentence ends,
URLs, dates, line-end hyphens."""

from __future__ import annotations

import re

#: Glyphs used as list bullets: Symbol-font private-use bullets, typographic bullets and dashes.
BULLET_GLYPHS = "\uf0b7\uf0a7\uf0d8\uf076\uf0fc\uf0a8\u2022\u25cf\u25aa\u25a0\u25e6\u2023\u2043\u2219\u00b7\u27a2\u2013\u2014*-"
_BULLET = re.compile(rf"^\s*(?:[{re.escape(BULLET_GLYPHS)}]|o(?=\s+\S))\s*(?=\S)")
_NUMBERED = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[a-zA-Z][.)])\s+(?=\S)")
_TERMINATED = re.compile(r"[.!?…][\s»\"”’)\]]*$")
_URL = re.compile(r"^(?:<)?(?:https?://|www\.)\S+$|^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$", re.IGNORECASE)
_URLISH_END = re.compile(r"(?:https?://|www\.)\S*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CLOSING = re.compile(
    r"^(?:med\s+)?(?:vennlig|venleg|beste|varm)\s+helsing|^(?:med\s+)?(?:vennlig|venleg|beste)\s+hilsen|"
    r"^med\s+(?:hilsen|helsing)\b|^hilsen\b|^helsing\b|^mvh\b",
    re.IGNORECASE,
)
_MONTHS = (
    "januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|des"
)
DATE_PATTERNS = [
    re.compile(r"\b(\d{1,2})\.\s*(" + _MONTHS + r")\.?\s+(\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})\b"),
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
    re.compile(r"\b(" + _MONTHS + r")\s+(\d{4})\b", re.IGNORECASE),
]


def bullet_prefix(text: str) -> str | None:
    """The bullet glyph (with its spacing) that opens a list item, or None."""
    m = _BULLET.match(text)
    return m.group(0) if m else None


def strip_bullet(text: str) -> str:
    prefix = bullet_prefix(text)
    return text[len(prefix) :].strip() if prefix else text.strip()


def is_numbered(text: str) -> bool:
    return bool(_NUMBERED.match(text))


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a word list written as text."""
    return frozenset(text.split())


#: Abbreviations whose full stop ends no sentence («... i kommunene vs.» / «spesialisthelsetjenesten»).
ABBREVIATIONS = word_set(
    "vs. f.eks. bl.a. jf. jfr. inkl. ca. evt. ev. ift. mht. dvs. pga. iht. ifm. nr. kap. pkt. ref."
)


def ends_on_abbreviation(text: str) -> bool:
    words = text.split()
    return bool(words) and words[-1].lower() in ABBREVIATIONS


def is_terminated(text: str) -> bool:
    """Ends a sentence: a full stop, question or exclamation mark (quotes and brackets may follow).

    A web address ending in a dot-free path does not count, and neither does an abbreviation's full stop."""
    return bool(_TERMINATED.search(text.rstrip())) and not ends_on_abbreviation(text)


def is_url(text: str) -> bool:
    return bool(_URL.match(text.strip()))


def ends_in_url(text: str) -> bool:
    return bool(_URLISH_END.search(text.rstrip()))


def starts_lower(text: str) -> bool:
    for ch in text.lstrip("«\"'(“‘"):
        if ch.isalpha():
            return ch.islower()
        if ch.isdigit():
            return False
        return False
    return False


def starts_upper_or_digit(text: str) -> bool:
    ch = text.lstrip("«\"'(“‘")[:1]
    return bool(ch) and (ch.isupper() or ch.isdigit())


def word_count(text: str) -> int:
    return len(text.split())


def letters(text: str) -> int:
    return sum(len(w) for w in _WORD.findall(text))


def is_closing(text: str) -> bool:
    return bool(_CLOSING.match(text.strip()))


def date_only(text: str) -> bool:
    """A line that is just a date, or a place and a date ("Skaun 30.09.22", "Oslo, 3. mars 2023")."""
    for pat in DATE_PATTERNS:
        m = pat.search(text)
        if m:
            rest = (text[: m.start()] + text[m.end() :]).strip(" ,.-–")
            return word_count(rest) <= 2
    return False


# Words a Norwegian sentence or title does not end on: conjunctions («at», «som» too), the infinitive mark
# and articles. Not prepositions, which Norwegian strands at a clause's end («som begge parter har tilgang
# til», «den kommunen hun bur i»), nor possessives, which follow their noun («kompetansen sin»): list items
# ending so were lost.
_OPEN_ENDS = frozenset(["og", "eller", "samt", "men", "både", "å", "en", "et", "ei", "at", "som"])


def ends_open(text: str) -> bool:
    """The line's last word leaves the sentence open («... Stange og», «... i kommunene vs.»)."""
    words = text.split()
    return bool(words) and words[-1] in _OPEN_ENDS or ends_on_abbreviation(text)


def first_word(text: str) -> str:
    parts = text.split()
    return parts[0] if parts else ""


def chars_with_next_word(line: str, next_line: str) -> int:
    """Characters the line would have had if the next line's first word had stayed on it."""
    return len(line.rstrip()) + 1 + len(first_word(next_line))


def join_lines(a: str, b: str, hyphen_keep: bool) -> str:
    """Join two lines of one paragraph: one space, or none after a line-end hyphen.

    ``hyphen_keep`` says whether a line-end hyphen is a real compound hyphen (kept) or splits a word
    (dropped)."""
    a = a.rstrip()
    b = b.lstrip()
    if a.endswith("\u00ad"):
        return a[:-1] + b
    if a.endswith("-") and len(a) > 1 and a[-2].isalnum() and b[:1].isalnum():
        return (a if hyphen_keep else a[:-1]) + b
    if ends_in_url(a) and not a.endswith((".", ",")) and b and " " not in b.split(" ")[0] and is_url_tail(b):
        return a + b
    return f"{a} {b}" if a else b


def is_url_tail(text: str) -> bool:
    """A line that continues a web address broken across lines (no spaces in its first token, path-like)."""
    token = text.split()[0] if text.split() else ""
    return bool(token) and bool(re.match(r"^[\w\-./%?=&#~+]+$", token)) and ("/" in token or "-" in token)
