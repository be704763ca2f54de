"""A two-column table that reaches us flattened into text lines: the row label apart from its cell.

A text export prints a table row whose label fits one line of its column on the same line as the first
line of the cell beside it («Mellom kommunene Kommunene møtes i tre regionale»), and the rest of the cell
below it at the cell's narrow width. Read as one paragraph, the label («Mellom kommunene», a heading for
the row) and the cell's text (an example, a measure) become one segment. ``split_row_label`` finds such a
line and cuts it where the cell begins; ``split_row_labels`` (run by the PDF path's stage
``pdf_pipeline.cut_row_labels``) turns the line into two column chunks, which the segmenter keeps apart, and
``mark_row_blocks`` makes the label a row header over its cell, as a ruled table's first column is
(``tables.table_blocks``).

It asks a lot before it cuts, because a wrong cut splits a sentence:
- the label is a noun phrase: two to ten words and at most 60 characters, the first capitalised, the
  others in lower case, no punctuation, no finite verb, not ending on a function word («Erfaringer fra
  Helsefellesskapet» is one heading); a one-word label or a sentence in the first column stays joined
  (its cut would be a guess). A «Krevende faktorer» column writes its challenges as such phrases («Få
  fagfolk i psykisk helsevern for barn og unge»);
- a place inside it («Lange avstander i Setesdal og indre Vest-Agder») only after two words of noun
  phrase, and then the cell must read as a sentence: its first word one the letter also writes in lower
  case, its second in lower case («Samarbeid med Sykehuset Innlandet har» stays whole);
- the cell starts with a capitalised ordinary word, one the letter also writes in lower case elsewhere or
  one the Norwegian word list knows (a sentence start rather than an organisation's name);
- the line continues below at a narrow width (a column, not the page's full lines), and the cell's part
  of the line fits that column.
"""

from __future__ import annotations

import re
from dataclasses import replace

from services.extract.layout import Layout
from services.extract.model import PARAGRAPH, TABLE_CELL, TABLE_HEADER, Block, Line
from services.extract.textrules import is_terminated, is_url, word_set
from shared import norwegian

#: Words a noun phrase does not end on: prepositions, conjunctions, articles, particles.
FUNCTION_WORDS = word_set(
    """
    og eller samt men i på av for til med fra om ved etter mellom under over mot hos som en et ei
    den det de dei ein eit å at når der hvor kor enn uten utan blant gjennom innen innan via per
    frå hjå åt utan kring inkl vs bl.a. jf. sin sitt sine vår vårt våre deres dykkar hans hennes
    """
)
#: Finite verbs and auxiliaries: a label with one of these is a sentence, not a row label.
VERBS = word_set(
    """
    er var har hadde blir ble vert vart kan kunne skal skulle vil ville må måtte bør burde får fikk fekk
    gir gav ga gjev går gikk gjekk gjør gjer gjorde ser såg bruker brukar mener meiner ønsker ønskjer
    trenger treng mangler manglar opplever erfarer fungerer ligger ligg står tar kommer kjem sier seier
    viser bidrar finnes fins
    """
)
#: A word in lower case; a hyphen or slash only between letters («v/», an abbreviation, is not a word).
_LOWER_WORD = re.compile(r"^[a-zæøåéüäö]+(?:[/-][a-zæøåéüäö]+)*$")
_TITLE_WORD = re.compile(r"^[A-ZÆØÅÉ][a-zæøåéüäö]+$")
#: A place or an organisation inside a label («Setesdal», «Vest-Agder»).
_NAME_WORD = re.compile(r"^[A-ZÆØÅÉ][a-zæøåéüäö]+(?:-[A-ZÆØÅÉ]?[a-zæøåéüäö]+)*$")
MIN_LABEL_WORDS = 2
MAX_LABEL_WORDS = 10
MAX_LABEL_CHARS = 60
#: The cell's part of the line needs this many words to read as the start of a text.
MIN_CELL_WORDS = 3


def lower_words(texts: list[str]) -> frozenset[str]:
    """Every word the document writes in lower case."""
    return frozenset(w for text in texts for w in re.findall(r"[^\W\d_]+", text) if w.islower())


def _common_word(word: str, lowered: frozenset[str]) -> bool:
    """A capitalised word that is an ordinary word: the letter writes it in lower case elsewhere, or the
    word list knows it (which also holds place names; the widths guard against those)."""
    low = word.lower()
    if low in lowered or norwegian.is_word_form(low):
        return True
    parts = norwegian.split_compound(low)  # «Samhandlingsmidlar»: a compound of known words
    return len(parts) >= 2 and all(norwegian.is_word_form(part) for part in parts)


def split_row_label(text: str, lowered: frozenset[str]) -> int | None:
    """Character offset where the cell begins on a line that starts with a row label, or None.

    Only the words decide here; the stage checks the widths."""
    words = text.split()
    if len(words) < MIN_LABEL_WORDS + MIN_CELL_WORDS or not _TITLE_WORD.match(words[0]):
        return None
    for k in range(MIN_LABEL_WORDS, min(MAX_LABEL_WORDS, len(words) - MIN_CELL_WORDS) + 1):
        word, last = words[k].lstrip('«"('), words[k - 1]
        if last in VERBS:
            return None  # a sentence, not a noun phrase
        # A name inside a label that opens as a noun phrase («Lange avstander i Setesdal»), not a name
        # of several words at its start.
        name = k >= 3 and bool(_NAME_WORD.match(last)) and _LOWER_WORD.match(words[1]) is not None
        if not (_LOWER_WORD.match(last) or name):
            return None  # punctuation, a figure or a common word capitalised inside: not a noun phrase
        # After a name the cell must read as a sentence: its first word one the letter writes in lower
        # case too (not a place the word list knows: «med Sykehuset Innlandet har»), its second word in
        # lower case («Sykehuset Innlandet Divisjon Psykisk ...» is one name).
        sentence = not name or (word.lower() in lowered and _LOWER_WORD.match(words[k + 1]) is not None)
        if (
            _TITLE_WORD.match(word)
            and _common_word(word, lowered)
            and last not in FUNCTION_WORDS
            and sentence
        ):
            label = " ".join(words[:k])
            if len(label) > MAX_LABEL_CHARS:
                return None
            return _offset_of_word(text, k)
    return None


def _offset_of_word(text: str, k: int) -> int:
    return [m.start() for m in re.finditer(r"\S+", text)][k]


LABEL, CELL = "label", "cell"
#: A column: lines no wider than this share of the page's body width.
COLUMN_SHARE = 0.62
#: The next line of the cell sits at most this many line pitches below.
MAX_PITCHES = 1.6


def split_row_labels(pages: list[list[Line]], layout: Layout) -> list[list[Line]]:
    """The pages' lines with every flattened row label cut from its cell (two chunks of one line)."""
    lowered = lower_words([ln.text for page in pages for ln in page])
    # The page's full text width: on a page that is mostly table the measured body is the table's, so
    # the widest line (a title, an address, a joined row) counts too.
    widest = max((ln.x1 - ln.x0 for page in pages for ln in page if not ln.ocr), default=0.0)
    column = COLUMN_SHARE * max([widest, *(layout.width(page) for page in layout.edges)])
    out: list[list[Line]] = []
    for lines in pages:
        page_out: list[Line] = []
        for i, line in enumerate(lines):
            before = lines[i - 1] if i > 0 else None
            after = lines[i + 1] if i + 1 < len(lines) else None
            page_out.extend(_cut(line, before, after, layout, lowered, column))
        out.append(page_out)
    return out


def _starts_block(line: Line, before: Line | None, layout: Layout, column: float) -> bool:
    """Nothing runs on into the line: it follows a blank line, a finished sentence, a URL or a short line
    (a column header, a heading, the end of the cell above)."""
    if before is None or before.page != line.page:
        return True
    blank = line.top - before.top >= MAX_PITCHES * layout.pitch_for(line.page)
    short = before.x1 - before.x0 < column
    return blank or short or is_terminated(before.text) or is_url(before.text)


def _cut(
    line: Line,
    before: Line | None,
    after: Line | None,
    layout: Layout,
    lowered: frozenset[str],
    column: float,
) -> list[Line]:
    """``line`` as it is, or cut into its row label and the start of its cell."""
    if (
        line.ocr
        or after is None
        or after.page != line.page
        or not _starts_block(line, before, layout, column)
    ):
        return [line]
    pitch = layout.pitch_for(line.page)
    if not 0 < after.top - line.top <= MAX_PITCHES * pitch:
        return [line]
    offset = split_row_label(line.text, lowered)
    if offset is None:
        return [line]
    per_char = (line.x1 - line.x0) / max(len(line.text), 1)
    x_cell = line.x0 + offset * per_char
    if after.x1 - after.x0 > column or line.x1 - x_cell > column:
        return [line]
    label = replace(line, text=line.text[:offset].rstrip(), x1=x_cell - per_char, part=LABEL)
    # The cell's lines below start at the column's left edge: its first line does too.
    return [label, replace(line, text=line.text[offset:], x0=min(x_cell, after.x0), part=CELL)]


def mark_row_blocks(blocks: list[Block]) -> None:
    """A cut row label becomes a row header (as in a ruled table) and heads the cell after it."""
    for block, nxt in zip(blocks, blocks[1:]):
        if block.first.part != LABEL or nxt.first.part != CELL:
            continue
        block.kind = TABLE_HEADER
        if nxt.kind == PARAGRAPH:
            nxt.kind = TABLE_CELL
        nxt.extra_path = [*nxt.extra_path, block.text]
