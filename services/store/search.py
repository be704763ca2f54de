"""Norwegian full-text search over segments, the same on SQLite (FTS5) and PostgreSQL (``tsvector``).

Both databases index the *same* terms, computed here in Python with :mod:`shared.norwegian`:

- ``body``  — the lemma of every word of the segment's text, in order (stopwords kept, for phrases);
- ``parts`` — the lemmatised parts of its compound words («fastlegeordningen» -> fastlege, ordning);
- ``head``  — lemmas and compound parts of the heading path.

A lemma is the common bokmål base form, so inflected forms find each other (legevakta / legevakten /
legevakt), and nynorsk forms known to the word list map to bokmål (sjukehus -> sykehus, tenesta ->
tjeneste). Words are whole tokens, never substrings: «IKT» does not match «viktigste».

A query is parsed into clauses that must all match (AND); a "quoted phrase" must match as consecutive
lemmas; stopwords outside phrases are dropped. Ranking: segments whose own text (body or parts) matches
every clause come first, then heading-only hits; inside each group by bm25 (SQLite, weights body 10,
parts 4, head 1) or ts_rank (PostgreSQL, weights A/B/C). Heading-only hits can be excluded.

SQLite: ``segment_search(id INTEGER PRIMARY KEY, segment_id UNIQUE)`` maps segments to the rowids of the
FTS5 table ``segment_fts(body, parts, head)``; a trigger removes both when a segment row is deleted.
PostgreSQL: ``segment_search(segment_id PRIMARY KEY REFERENCES segments ON DELETE CASCADE, tsv)`` with a
GIN index; the weighted tsvector is written as a literal whose positions equal FTS5's column positions
(columns separated by a gap, so a phrase never spans two columns on either database).

Writes: :func:`index_segments` (called by the projection in the same transaction as the segment upsert)
re-reads the given segments and (re)writes their index rows; :func:`rebuild` indexes every segment (the
migration uses it for existing data).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Select,
    String,
    bindparam,
    column,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from services.store.models import Segment, table_of
from shared.norwegian import STOPWORDS, lemma, split_compound, tokens

__all__ = [
    "SEARCH_TABLES",
    "ParsedQuery",
    "create_schema",
    "drop_schema",
    "highlight",
    "index_segments",
    "index_terms",
    "is_search_table",
    "match_subquery",
    "parse_query",
    "rebuild",
]

#: Tables this module owns (plus the FTS5 shadow tables ``segment_fts_*`` on SQLite).
SEARCH_TABLES = ("segment_search", "segment_fts")
SEGS = table_of(Segment)
MAX_CLAUSES = 16
_PG_MAX_POS = 16383
_PG_MAX_POSITIONS = 255
_PIECE = re.compile(r"[^\W_]+")
# Words in displayed text, with their original case and offsets (for highlighting).
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_BATCH = 500
#: Compounds with these heads name a document («samhandlingsplanen», «stortingsmeldingen»); consultation
#: letters cite them everywhere, so their first parts are not indexed as if the letter spoke of them.
TITLE_HEADS = frozenset({"plan", "melding", "strategi", "høring", "utredning", "rapport", "forskrift", "lov"})


def is_search_table(name: str | None) -> bool:
    """True for the search index tables (for schema comparisons that only know the ORM models)."""
    return bool(name) and (name in SEARCH_TABLES or str(name).startswith("segment_fts_"))


# ---------------------------------------------------------------------------- terms


def _pieces(word: str) -> list[str]:
    """Alphanumeric pieces of a lemma («e-helse» -> e, helse): one database token each."""
    return _PIECE.findall(word)


def _word_terms(tok: str) -> list[str]:
    return _pieces(lemma(tok))


def _word_parts(tok: str, lem_pieces: Sequence[str]) -> list[str]:
    """Compound parts of a word that are not already its lemma, each as database tokens."""
    if len(tok) < 6:
        return []
    parts = split_compound(tok)
    if len(parts) < 2 or parts[-1] in TITLE_HEADS:
        return []
    out: list[str] = []
    for part in parts:
        for piece in _pieces(part):
            if piece not in STOPWORDS and len(piece) >= 3 and piece not in lem_pieces:
                out.append(piece)
    return out


@dataclass(frozen=True)
class IndexTerms:
    body: list[str]
    parts: list[str]
    head: list[str]


def index_terms(text_: str, heading_path: Sequence[str] = ()) -> IndexTerms:
    """The terms a segment is indexed under (see the module docstring)."""
    body: list[str] = []
    parts: list[str] = []
    for tok in tokens(text_):
        lem = _word_terms(tok)
        body.extend(lem)
        parts.extend(_word_parts(tok, lem))
    # Headings by their words' lemmas only: a compound's parts in a heading («…samhandlingsplan 2024–2027»)
    # would make every segment under it a hit for each part.
    head = [t for heading in heading_path for tok in tokens(heading) for t in _word_terms(tok)]
    return IndexTerms(body, parts, head)


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class ParsedQuery:
    """Clauses that must all match; a clause of several terms is a phrase."""

    clauses: tuple[tuple[str, ...], ...]

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(t for c in self.clauses for t in c)

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def fts5(self, columns: str | None = None) -> str:
        """An FTS5 MATCH expression (every term quoted, so no word is read as an operator)."""
        parts = ['"' + " ".join(c) + '"' for c in self.clauses]
        expr = " AND ".join(parts)
        return f"{{{columns}}} : ({expr})" if columns else expr

    def tsquery(self, weights: str = "") -> str:
        """A PostgreSQL tsquery literal; ``weights`` ("AB") restricts every lexeme to those columns."""
        suffix = f":{weights}" if weights else ""
        parts = []
        for c in self.clauses:
            lexemes = [f"'{t}'{suffix}" for t in c]
            parts.append("(" + " <-> ".join(lexemes) + ")" if len(lexemes) > 1 else lexemes[0])
        return " & ".join(parts)


def parse_query(q: str | None) -> ParsedQuery:
    """Words (all must match) and "quoted phrases" (also «guillemets»); stopwords dropped outside
    phrases unless the query has nothing else."""
    if not q:
        return ParsedQuery(())
    q = q.replace("«", '"').replace("»", '"').replace("“", '"').replace("”", '"')
    clauses: list[tuple[str, ...]] = []
    loose: list[tuple[str, ...]] = []
    stop: list[tuple[str, ...]] = []
    for i, chunk in enumerate(q.split('"')):
        if i % 2 == 1:  # inside quotes
            phrase = tuple(t for tok in tokens(chunk) for t in _word_terms(tok))
            if phrase:
                clauses.append(phrase)
            continue
        for tok in tokens(chunk):
            terms = tuple(_word_terms(tok))
            if not terms:
                continue
            (stop if tok in STOPWORDS or terms[0] in STOPWORDS and len(terms) == 1 else loose).append(terms)
    clauses.extend(loose if loose or clauses else stop)
    seen: list[tuple[str, ...]] = []
    for c in clauses:
        if c not in seen:
            seen.append(c)
    return ParsedQuery(tuple(seen[:MAX_CLAUSES]))


def match_subquery(dialect: str, query: ParsedQuery) -> Subquery:
    """A subquery ``(segment_id, rank, in_text)`` of the segments matching ``query``: ``rank`` is higher
    for better hits, ``in_text`` is 1 when the segment's own text matches every clause."""
    if dialect == "postgresql":
        stmt = text(
            "SELECT s.segment_id AS segment_id,"
            " ts_rank(s.tsv, CAST(:q_all AS tsquery), 1) AS rank,"
            " CASE WHEN s.tsv @@ CAST(:q_text AS tsquery) THEN 1 ELSE 0 END AS in_text"
            " FROM segment_search s WHERE s.tsv @@ CAST(:q_all AS tsquery)"
        ).bindparams(q_all=query.tsquery(), q_text=query.tsquery("AB"))
    else:
        stmt = text(
            "SELECT m.segment_id AS segment_id, -bm25(segment_fts, 10.0, 4.0, 1.0) AS rank,"
            " CASE WHEN segment_fts.rowid IN"
            " (SELECT rowid FROM segment_fts WHERE segment_fts MATCH :q_text) THEN 1 ELSE 0 END AS in_text"
            " FROM segment_fts JOIN segment_search m ON m.id = segment_fts.rowid"
            " WHERE segment_fts MATCH :q_all"
            # OFFSET keeps SQLite from flattening this into the outer query: flattened, a selective outer
            # filter (a label) may drive the join and run the MATCH once per segment (~20x slower).
            " LIMIT -1 OFFSET 0"
        ).bindparams(q_all=query.fts5(), q_text=query.fts5("body parts"))
    return stmt.columns(
        column("segment_id", String), column("rank", Float), column("in_text", Integer)
    ).subquery("fts")


def count_matches(dialect: str, query: ParsedQuery, *, text_only: bool = False) -> Select[Any]:
    """``SELECT count(*)`` of the segments matching ``query`` (``text_only``: in their own text), on the
    index alone: no ranking, no joins (every indexed segment has its segment and document rows)."""
    if dialect == "postgresql":
        stmt = text("SELECT count(*) AS n FROM segment_search WHERE tsv @@ CAST(:q AS tsquery)").bindparams(
            q=query.tsquery("AB" if text_only else "")
        )
    else:
        stmt = text("SELECT count(*) AS n FROM segment_fts WHERE segment_fts MATCH :q").bindparams(
            q=query.fts5("body parts" if text_only else None)
        )
    counted: Select[Any] = select(column("n", Integer)).select_from(
        stmt.columns(column("n", Integer)).subquery()
    )
    return counted


# ---------------------------------------------------------------------------- highlighting


def highlight(text_: str, q: str | ParsedQuery | None) -> Markup:
    """``text_`` escaped, with every word whose lemma (or a compound part) is a query term in ``<mark>``."""
    query = q if isinstance(q, ParsedQuery) else parse_query(q)
    if not query:
        return escape(text_)
    wanted = query.terms
    out: list[Markup | str] = []
    last = 0
    for m in _WORD.finditer(text_):
        word = m.group(0)
        toks = tokens(word)
        hit = False
        for tok in toks:
            lem = _word_terms(tok)
            if wanted.intersection(lem) or (wanted.intersection(_word_parts(tok, lem))):
                hit = True
                break
        if hit:
            out.append(escape(text_[last : m.start()]))
            out.append(Markup("<mark>%s</mark>") % word)
            last = m.end()
    out.append(escape(text_[last:]))
    return Markup("").join(out)


# ---------------------------------------------------------------------------- schema and writes


def create_schema(conn: Connection) -> None:
    """Create the index tables (and the SQLite delete trigger); used by migration 0003."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS segment_search ("
                " segment_id VARCHAR(80) PRIMARY KEY REFERENCES segments(segment_id) ON DELETE CASCADE,"
                " tsv tsvector NOT NULL)"
            )
        )
        conn.execute(
            text("CREATE INDEX IF NOT EXISTS ix_segment_search_tsv ON segment_search USING gin (tsv)")
        )
        return
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS segment_search ("
            " id INTEGER PRIMARY KEY, segment_id VARCHAR(80) NOT NULL UNIQUE)"
        )
    )
    conn.execute(
        text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS segment_fts USING fts5("
            "body, parts, head, tokenize = 'unicode61 remove_diacritics 0')"
        )
    )
    conn.execute(
        text(
            "CREATE TRIGGER IF NOT EXISTS segments_search_delete AFTER DELETE ON segments BEGIN"
            " DELETE FROM segment_fts WHERE rowid = (SELECT id FROM segment_search WHERE segment_id = old.segment_id);"
            " DELETE FROM segment_search WHERE segment_id = old.segment_id;"
            " END"
        )
    )


def drop_schema(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER IF EXISTS segments_search_delete"))
        conn.execute(text("DROP TABLE IF EXISTS segment_fts"))
    conn.execute(text("DROP TABLE IF EXISTS segment_search"))


def _tsvector(terms: IndexTerms) -> str:
    """A weighted tsvector literal with FTS5's positions per column (+ a gap between columns)."""
    positions: dict[str, list[str]] = {}
    offset = 0
    for column_terms, weight in ((terms.body, "A"), (terms.parts, "B"), (terms.head, "C")):
        for i, term in enumerate(column_terms, start=1):
            pos = min(offset + i, _PG_MAX_POS)
            slots = positions.setdefault(term, [])
            if len(slots) < _PG_MAX_POSITIONS:
                slots.append(f"{pos}{weight}")
        offset += len(column_terms) + 1
    return " ".join(f"'{term}':{','.join(p)}" for term, p in positions.items())


def _write(conn: Connection, rows: Sequence[tuple[str, str, Any]]) -> None:
    """(Re)index ``(segment_id, text, heading_path)`` rows."""
    if not rows:
        return
    computed = [(sid, index_terms(txt, list(hp or []))) for sid, txt, hp in rows]
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "INSERT INTO segment_search (segment_id, tsv) VALUES (:sid, CAST(:tsv AS tsvector))"
                " ON CONFLICT (segment_id) DO UPDATE SET tsv = excluded.tsv"
            ),
            [{"sid": sid, "tsv": _tsvector(t)} for sid, t in computed],
        )
        return
    conn.execute(
        text("INSERT INTO segment_search (segment_id) VALUES (:sid) ON CONFLICT (segment_id) DO NOTHING"),
        [{"sid": sid} for sid, _ in computed],
    )
    ids: dict[str, int] = dict(
        conn.execute(
            text("SELECT segment_id, id FROM segment_search WHERE segment_id IN :sids").bindparams(
                bindparam("sids", expanding=True)
            ),
            {"sids": [sid for sid, _ in computed]},
        ).all()
    )
    conn.execute(
        text("DELETE FROM segment_fts WHERE rowid = :rid"), [{"rid": ids[sid]} for sid, _ in computed]
    )
    conn.execute(
        text("INSERT INTO segment_fts (rowid, body, parts, head) VALUES (:rid, :body, :parts, :head)"),
        [
            {"rid": ids[sid], "body": " ".join(t.body), "parts": " ".join(t.parts), "head": " ".join(t.head)}
            for sid, t in computed
        ],
    )


def index_segments(conn: Connection, segment_ids: Iterable[str]) -> None:
    """Bring the index rows of these segments in step with the stored segments (same transaction)."""
    ids = sorted(set(segment_ids))
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = conn.execute(
            text("SELECT segment_id, text, heading_path FROM segments WHERE segment_id IN :sids").bindparams(
                bindparam("sids", expanding=True)
            ),
            {"sids": chunk},
        ).all()
        _write(conn, [(r[0], r[1], _json_list(r[2])) for r in rows])


def rebuild(conn: Connection) -> int:
    """Index every stored segment; returns how many."""
    n = 0
    result = conn.execute(text("SELECT segment_id, text, heading_path FROM segments ORDER BY segment_id"))
    rows: list[tuple[str, str, Any]] = []
    for r in result.all():
        rows.append((r[0], r[1], _json_list(r[2])))
        if len(rows) >= _BATCH:
            _write(conn, rows)
            n += len(rows)
            rows = []
    _write(conn, rows)
    return n + len(rows)


def _json_list(value: Any) -> list[str]:
    """heading_path as read through a plain text() query: a list (PostgreSQL JSON) or a JSON string."""
    if value is None:
        return []
    if isinstance(value, str):
        loaded = json.loads(value)
        return [str(v) for v in loaded] if isinstance(loaded, list) else []
    return [str(v) for v in value]


# ---------------------------------------------------------------------------- the store's segment query

#: ``sort`` values: by relevance (the default with a search), letter order, or the model's confidence.
SORTS = ("relevance", "order", "confidence")
#: ``scope`` values: hits anywhere (default) or only where the segment's own text matches.
SCOPES = ("all", "text")


def confidence() -> ColumnElement[float]:
    """The model's confidence in a segment's label: the stored ``confidence`` column (its top label score,
    written with the classification), so sorting by it reads no JSON; segments without one sort last."""
    column_: ColumnElement[float] = SEGS.c.confidence
    return column_


def filter_segments(stmt: Select[Any], f: Any, dialect: str) -> Select[Any]:
    """Apply the full-text part of a segment filter (``q``, ``scope``) to ``stmt``."""
    query = parse_query(getattr(f, "q", None))
    if not query:
        return stmt
    fts = match_subquery(dialect, query)
    stmt = stmt.join(fts, fts.c.segment_id == SEGS.c.segment_id)
    if getattr(f, "scope", None) == "text":
        stmt = stmt.where(fts.c.in_text == 1)
    return stmt


def order_segments(f: Any, default: Sequence[Any]) -> list[Any]:
    """ORDER BY terms for a segment filter: ``default`` is letter order (newest document first, seq)."""
    sort = getattr(f, "sort", None)
    if sort == "confidence":
        return [confidence().desc().nulls_last(), *default]
    if sort == "order" or not parse_query(getattr(f, "q", None)):
        return list(default)
    return [literal_column("fts.in_text").desc(), literal_column("fts.rank").desc(), *default]
