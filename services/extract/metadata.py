"""Sender (and its kind), date and title, where the letter states them."""

from __future__ import annotations

import re

from services.extract import senders
from services.extract import textrules as tr
from services.extract.model import LETTER, TITLE, Block, Line, Metadata

_MONTH_NO = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "mai": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "okt": 10,
    "nov": 11,
    "des": 12,
}


def normalise_date(text: str) -> str | None:
    """ISO date (or year-month) of the first date in ``text``."""
    for n, pat in enumerate(tr.DATE_PATTERNS):
        m = pat.search(text)
        if not m:
            continue
        try:
            if n == 0:
                day, month, year = int(m.group(1)), _MONTH_NO[m.group(2).lower()[:3]], int(m.group(3))
            elif n == 1:
                day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
                year += 2000 if year < 100 else 0
            elif n == 2:
                year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
            else:
                return f"{int(m.group(2)):04d}-{_MONTH_NO[m.group(1).lower()[:3]]:02d}"
        except (KeyError, ValueError):
            continue
        if 1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2100:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def find_metadata(blocks: list[Block], furniture: list[Line], pdf_title: str | None = None) -> Metadata:
    """Where letters state these: the letterhead (repeated furniture at the top), the lines above the
    title, the signature block, and the opening sentences ("Lillevik kommune viser til ...")."""
    first_page = blocks[0].page if blocks else 1
    head = [b for b in blocks if b.page == first_page]
    letter_top = [b.text for b in head if b.kind == LETTER]
    signature = [b.text for b in blocks if b.kind == LETTER][-6:]
    letterhead = [ln.text for ln in furniture if ln.top < 0.2 * ln.page_height]
    body_start = [b.text for b in head if b.kind not in (LETTER, TITLE)][:3]

    title = next((b.text for b in blocks if b.kind == TITLE), None) or _usable_title(pdf_title)

    date = None
    for text in letter_top + [b.text for b in head[:8] if tr.word_count(b.text) <= 8] + letterhead:
        if tr.date_only(text) or tr.word_count(text) <= 8:
            date = normalise_date(text)
            if date:
                break

    top = letterhead + [b.text for b in head[:6]]
    tail = [b.text for b in blocks[-8:] if tr.word_count(b.text) <= 14]
    sender = senders.find_sender(top, signature + [t for t in tail if t not in signature], body_start)
    if sender is None:
        sender = senders.most_named_org(b.text for b in blocks)
    return Metadata(sender=sender, sender_kind=senders.kind_of(sender), date=date, title=title)


def _usable_title(title: str | None) -> str | None:
    if not title:
        return None
    title = title.strip()
    if (
        not title
        or re.search(r"\.(docx?|pdf|odt)$", title, re.IGNORECASE)
        or title.lower().startswith(("microsoft word", "untitled"))
    ):
        return None
    return title
