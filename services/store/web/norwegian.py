"""Norwegian (bokmål) words and formats for what an analyst sees: labels, statuses, dates, citations."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LABEL_NAMES = {"challenge": "utfordring", "measure": "tiltak", "example": "eksempel", "other": "annet"}
LABEL_PLURALS = {"challenge": "utfordringer", "measure": "tiltak", "example": "eksempler", "other": "annet"}
STATUS_NAMES = {
    "received": "mottatt",
    "extracted": "trukket ut",
    "classified": "klassifisert",
    "failed": "feilet",
}
SENDER_KIND_NAMES = {
    "kommune": "kommune",
    "fylkeskommune": "fylkeskommune",
    "helseforetak": "helseforetak",
    "helsefellesskap": "helsefellesskap",
    "organisasjon": "organisasjon",
    "statlig": "statlig virksomhet",
    "privat": "privat virksomhet",
    "person": "privatperson",
    "ukjent": "ukjent",
}
SEGMENT_KIND_NAMES = {
    "paragraph": "avsnitt",
    "list_item": "listepunkt",
    "lead_in": "innledning",
    "heading": "overskrift",
    "question": "spørsmål",
    "title": "tittel",
    "letter": "brevlinje",
    "table_header": "tabelloverskrift",
    "table_cell": "tabellcelle",
    "footnote": "fotnote",
    "url": "lenke",
}
MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
#: Segment kinds that are the frame of a letter, shown compactly (one line, no score bars).
COMPACT_KINDS = frozenset({"letter", "url", "footnote"})
#: «annet» lines shorter than this are shown compactly too (address lines, short sign-offs).
COMPACT_OTHER_CHARS = 90


def is_compact(kind: str | None, label: str | None, text: str) -> bool:
    """Letter furniture (letterhead, addressee, greeting, signature) gets one line in the letter view."""
    return kind in COMPACT_KINDS or (
        label == "other" and kind != "heading" and len(text) < COMPACT_OTHER_CHARS
    )


_OSLO = ZoneInfo("Europe/Oslo")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def parse_date(value: str | date | None) -> date | None:
    """An ISO date (``2026-12-05``, also the date part of a timestamp), else None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _ISO_DATE.match(value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def long_date(value: str | date | None) -> str:
    """«5. desember 2026»; text that is not an ISO date is shown as it is; nothing as «—»."""
    d = parse_date(value)
    if d is None:
        return value.strip() if isinstance(value, str) and value.strip() else "—"
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}"


def short_date(value: str | date | None) -> str:
    """«05.12.2026»; text that is not an ISO date is shown as it is; nothing as «—»."""
    d = parse_date(value)
    if d is None:
        return value.strip() if isinstance(value, str) and value.strip() else "—"
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def date_time(value: datetime | None) -> str:
    """A timestamp in Norwegian time: «05.12.2026 kl. 13.04»."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_OSLO)
    return f"{local.day:02d}.{local.month:02d}.{local.year} kl. {local.hour:02d}.{local.minute:02d}"


def file_size(n: int | None) -> str:
    """Bytes as «812 B», «1,4 kB», «3,2 MB» (decimal comma)."""
    if n is None:
        return "—"
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB".replace(".", ",")
    return f"{n / 1_000_000:.1f} MB".replace(".", ",")


def citation(sender: str | None, title: str | None, when: str | None, page: int | None) -> str:
    """A ready citation: «Avsender, tittel, 5. desember 2026, s. 3» (missing parts left out)."""
    parts = [p.strip() for p in (sender, title) if p and p.strip()]
    if when and when.strip():
        parts.append(long_date(when))
    if page:
        parts.append(f"s. {page}")
    return ", ".join(parts) or "Ukjent kilde"


#: Pipeline stages (where a document failed), as the analyst reads them.
STAGE_NAMES = {"ingest": "mottak", "extract": "uttrekk", "classify": "klassifisering", "store": "lagring"}
#: How a document came in (DocumentReceived.source).
SOURCE_NAMES = {"http": "opplasting", "folder": "innboksmappe", "replay": "ny kjøring"}

_RECEIVED = re.compile(r"^(?P<name>.*) \((?P<bytes>\d+) bytes, via (?P<source>\w+)\)$")
_EXTRACTED = re.compile(r"^(?P<pages>\d+) pages?, (?P<segments>\d+) segments?$")
_CLASSIFIED = re.compile(r"^(?P<n>\d+) of (?P<total>\d+|None) segments classified$")
_FAILED = re.compile(r"^(?P<stage>\w+): (?P<rest>.*)$", re.DOTALL)


def _count(n: int | str, one: str, many: str) -> str:
    return f"{n} {one if int(n) == 1 else many}"


def history_detail(status: str | None, detail: str | None) -> str:
    """A status history entry's detail in Norwegian («2 sider, 16 segmenter»). The store records them in
    English (they are facts for logs and the API too); text of another shape is shown as it is."""
    if not detail:
        return ""
    if status == "received" and (m := _RECEIVED.match(detail)):
        source = SOURCE_NAMES.get(m["source"], m["source"])
        return f"{m['name']} ({file_size(int(m['bytes']))}, via {source})"
    if status == "extracted" and (m := _EXTRACTED.match(detail)):
        return f"{_count(m['pages'], 'side', 'sider')}, {_count(m['segments'], 'segment', 'segmenter')}"
    if status == "classified" and (m := _CLASSIFIED.match(detail)):
        total = m["total"] if m["total"] != "None" else "?"
        return f"{m['n']} av {total} segmenter klassifisert"
    if status == "failed" and (m := _FAILED.match(detail)) and m["stage"] in STAGE_NAMES:
        return f"{STAGE_NAMES[m['stage']]}: {m['rest']}"
    return detail
