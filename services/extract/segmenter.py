"""Lines to blocks: paragraphs, list items, URLs and footnotes (``model.Block``).

A block is what becomes one segment. Lines are joined into a block unless something says a new one
starts: a bullet or item number, a line-end colon, a change of typography, a page or column change, or
a sentence end on a line that leaves room for the next line's first word (or is followed by a wider
gap than the document's usual line pitch), an empty line's gap (unless the letter is double-spaced
throughout). Text that arrives as plain lines (an e-mail or a text export printed to PDF) has nothing
else: where the layout finds it wrapped by character count (``Layout.wrap_chars``), room for the next
word is counted in characters, which tells a line broken by hand from a wrapped one exactly.
"""

from __future__ import annotations

import re

from services.extract import textrules as tr
from services.extract.layout import Layout
from services.extract.model import FOOTNOTE, LIST_ITEM, PARAGRAPH, URL, Block, Line, Vocabulary

_DASH_BULLETS = "-–—*"


class BlockBuilder:
    """Lines in reading order to blocks: ``feed`` one line at a time, ``close`` at the end."""

    def __init__(self, layout: Layout, vocab: Vocabulary, cell: bool = False) -> None:
        self.layout = layout
        self.vocab = vocab
        #: Lines of one table cell: they wrap at the cell's width, not the page's.
        self.cell = cell
        self.blocks: list[Block] = []
        self.current: Block | None = None
        self.closing = False

    # -- decisions -------------------------------------------------------------------------------
    def _pitches(self, a: Line, b: Line) -> float:
        if a.page != b.page:
            return 1.0
        return (b.top - a.top) / max(self.layout.pitch_for(a.page), 1.0)

    def _short(self, a: Line, b: Line) -> bool:
        """The next line's first word would have fitted at the end of this one (counted in characters
        where the text was wrapped by count, measured on the page otherwise)."""
        wrap = self.layout.wrap_chars
        if wrap is not None and not (a.ocr or b.ocr or self.cell):
            return tr.chars_with_next_word(a.text, b.text) <= wrap
        return self.layout.room_left(a) > self._room_needed(a, b)

    def _room_needed(self, a: Line, b: Line) -> float:
        """Width the next line's first word (and a space) would take at the end of line a, with a margin."""
        return (len(tr.first_word(b.text)) + 1) * self.layout.char_width(a) + 0.02 * self.layout.width(a.page)

    def _broken_by_hand(self, block: Block, a: Line, b: Line) -> bool:
        """The block's own lines or the next line are wider than this line plus the next line's first
        word: the text around is wide enough, so the line was broken by hand (a list item without a
        bullet glyph under "... ber vi om:"). Measured against the lines at hand rather than the page,
        so a narrow column (a table flattened into lines) that wraps early does not count."""
        if self.cell or a.ocr or b.ocr or a.page != b.page:
            return False
        near = [ln for ln in block.lines if ln.page == a.page] + [b]
        if self._in_list():
            near += [ln for ln in self.blocks[-1].lines if ln.page == a.page]  # the lead-in or item above
        if self.layout.wrap_chars is not None:
            return max(len(ln.text.rstrip()) for ln in near) >= tr.chars_with_next_word(a.text, b.text)
        # Right ends, not widths: a first-line indent makes a full line narrower.
        return max(ln.x1 for ln in near) > a.x1 + self._room_needed(a, b)

    @staticmethod
    def _date_line(text: str) -> bool:
        """A place and a date, or a bare date, as a line of its own."""
        text = text.strip()
        if tr.word_count(text) > 5 or tr.is_terminated(text) or not tr.date_only(text):
            return False
        # The date closes the line, after a place or a label without figures of its own.
        return any(
            m.end() == len(text) and not any(ch.isdigit() for ch in text[: m.start()])
            for pat in tr.DATE_PATTERNS
            for m in pat.finditer(text)
        )

    def _in_list(self) -> bool:
        """The block before ended a lead-in ("... ber vi om:") or was an item that starts in lower case."""
        before = self.blocks[-1] if self.blocks else None
        return before is not None and (before.text.endswith(":") or tr.starts_lower(before.text))

    def _room_on_page(self, a: Line, b: Line) -> bool:
        """The next line's first word would have fitted before the page's right margin (not in a cell)."""
        return not (self.cell or a.ocr or b.ocr) and a.page == b.page and self._short(a, b)

    def _ends_at_blank(self, block: Block, a: Line, b: Line) -> bool:
        """Whether a blank line ends the block. Text exports also leave blank lines inside a sentence
        (where the source had a page break), so a lower-case word after one continues the sentence,
        unless it is the next item of a list without bullets (after a lead-in or a lower-case item)."""
        if not tr.starts_lower(b.text):
            return True
        # A bulleted item's next item has its own glyph: a lower-case line after it continues it.
        lower_item = tr.starts_lower(block.text) and not block.bullet
        return a.text.rstrip().endswith(":") or lower_item or tr.is_terminated(a.text)

    def _blank_between(self, a: Line, b: Line) -> bool:
        """Two line pitches or more between lines of body text that is not double-spaced: an empty
        line, which separates paragraphs in text that has no other way to show them."""
        return a.page == b.page and self._pitches(a, b) >= 1.8 and not self.layout.double_spaced

    def _very_short(self, a: Line) -> bool:
        return self.layout.room_left(a) > 0.35 * self.layout.width(a.page)

    def _bullet_start(self, a: Line | None, b: Line) -> bool:
        prefix = tr.bullet_prefix(b.text)
        if not prefix:
            return False
        glyph = prefix.strip()[:1]
        if glyph not in _DASH_BULLETS:
            return True
        # A dash at a line start is a bullet only where a new item can start.
        return (
            a is None
            or tr.is_terminated(a.text)
            or a.text.rstrip().endswith((":", ";"))
            or (self.current is not None and self.current.bullet)
            or self._short(a, b)
        )

    def _steps_out(self, block: Block, a: Line, b: Line) -> bool:
        """The next line starts well left of where the block's lines start: a right-aligned or centred
        line (a date, a signature) has ended, or a list item with a hanging indent is over."""
        if a.page != b.page or a.ocr or b.ocr:
            return False
        if a.x0 - b.x0 > 0.25 * self.layout.width(a.page):
            return True
        if not block.bullet:
            return False
        glyph_x = block.first.x0
        hanging = len(block.lines) >= 2 and block.lines[1].x0 > glyph_x + 0.5 * a.size
        return b.x0 < glyph_x - 0.3 * a.size or (hanging and b.x0 < block.lines[1].x0 - 0.5 * a.size)

    def new_block(self, block: Block, a: Line, b: Line) -> bool:
        # A paragraph gap of a quarter line or more: Word and LibreOffice put 6-8 pt after a paragraph.
        big = self._pitches(a, b) > 1.25 and a.page == b.page
        if a.page == b.page and abs(b.top - a.top) < 0.4 * max(a.size, 1.0):
            return True  # same row, another column chunk
        if a.page == b.page and b.top < a.top - 0.5 * a.size:
            return True  # text jumped up: a new column or a floating box
        if self._bullet_start(a, b):
            return True
        if self._steps_out(block, a, b) or tr.is_closing(b.text):
            return True
        if tr.is_url(b.text) or tr.is_url(a.text) and not tr.is_url_tail(b.text):
            return True
        if not self.layout.same_style(a, b) and not (a.ocr or b.ocr):
            return True
        if tr.ends_open(a.text) and a.page == b.page and not self._very_short(a):
            return False  # «... Stange og» / «Løten.»: the sentence runs on
        if self._blank_between(a, b) and not self.cell and self._ends_at_blank(block, a, b):
            return True
        at = a.text.rstrip()
        # Text wrapped by character count: a line that had room for the next word was broken by hand.
        hard = self.layout.wrap_chars is not None and not (a.ocr or b.ocr or self.cell) and self._short(a, b)
        if at.endswith(":"):
            # "...tjenestene: kompetansetilskudd" runs on; so does a colon the text wrapped after at the
            # right margin ("Deres ref.:" / "22/3107").
            if tr.starts_lower(b.text):
                # A lead-in that left room for the word after it was broken by hand.
                return (
                    self._broken_by_hand(block, a, b)
                    or not (self.cell or a.ocr or b.ocr)
                    and self._short(a, b)
                )
            return self._short(a, b) or a.page != b.page or big
        if b.text.lstrip().startswith("(") and not tr.is_terminated(at):
            return False  # a parenthesis continues the line above
        if at.endswith(";") and tr.word_count(block.text) <= 3:
            return True
        if tr.is_closing(at):
            return True
        if self.closing:
            # A signature block: each signer and the organisation on a line of their own; a title in
            # lower case under a name may belong to it ("Kari Nordmann" / "kommunalsjef").
            if big or hard:
                return True
            if tr.starts_lower(b.text):
                return False
            return a.page != b.page or (self._short(a, b) and self._very_short(a))
        if hard and not tr.starts_lower(b.text):
            return True
        terminated = tr.is_terminated(at)
        indented = not (a.ocr or b.ocr) and b.x0 - a.x0 > 0.2 * a.size and not block.bullet
        if indented and (terminated or big) and not tr.starts_lower(b.text):
            return True  # a first-line indent opens a paragraph
        if tr.is_numbered(b.text):
            return terminated or big or self._short(a, b) or a.page != b.page
        if not self.cell and self._date_line(b.text) and (len(block.lines) > 1 or not self._date_line(at)):
            return True  # "Oslo, 3. mars 2023" on a line of its own under an address or reference
        if not self.cell and self._date_line(at) and len(block.lines) == 1:
            return True
        if tr.starts_lower(b.text):
            # Typeset text: a line that left clear room for the next word was broken by hand (a list
            # item without a bullet glyph, "... ber vi om:" / "en nasjonal vurdering av ...").
            # In typeset text a short last line of a longer block is more often a text export's own
            # line break re-wrapped at the page's margin ("... Legevaktlegene" / "kan bruke ...").
            # Only after an item that itself starts in lower case: a name over a title in lower case
            # ("Kari Nordmann" / "kommunalsjef") is one signature.
            if not tr.starts_lower(block.text):
                return False
            if self.layout.wrap_chars is None and len(block.lines) > 1:
                return False
            return self._broken_by_hand(block, a, b) or (self._in_list() and self._room_on_page(a, b))
        if block.bullet and a.page == b.page and self._short(a, b):
            return True  # a list item's line that left room for the next word ended the item
        if block.numbered and at.endswith("?") and not big and b.text.rstrip().endswith("?"):
            return False  # a numbered question that asks two things in a row
        if a.page != b.page:
            # A list item rarely runs on to a new page with a capital letter.
            return terminated or self._very_short(a) or (block.bullet and self._very_short(b))
        if terminated:
            return big or self._short(a, b) or self.layout.double_spaced
        if self._very_short(a):
            return True
        # A line without a full stop that left room for the next, capitalised word: a title or heading
        # over its text, or an item without a bullet.
        return (big or self.layout.double_spaced) and self._short(a, b)

    # -- building ----------------------------------------------------------------------------------
    def _start(self, line: Line, prev: Line | None) -> None:
        text = line.text
        bullet = self._bullet_start(prev, line)
        if bullet:
            text = tr.strip_bullet(text)
        gap = 0.0 if prev is None or prev.page != line.page else self._pitches(prev, line)
        self.current = Block(
            lines=[line],
            text=text.strip(),
            kind=LIST_ITEM if bullet else PARAGRAPH,
            bullet=bullet,
            numbered=tr.is_numbered(text) and not bullet,
            gap_before=gap,
        )
        if tr.is_closing(text):
            self.closing = True

    def _finish(self) -> None:
        if self.current is None:
            return
        block = self.current
        block.text = re.sub(r"\s+", " ", block.text).strip()
        if tr.is_url(block.text):
            block.kind = URL
        if block.text:
            self.blocks.append(block)
        self.current = None

    def feed(self, line: Line, prev: Line | None) -> None:
        if self.current is None or prev is None or self.new_block(self.current, prev, line):
            if self.current is not None and prev is not None and prev.page == line.page:
                self.current.gap_after = self._pitches(prev, line)
            self._finish()
            self._start(line, prev)
            return
        cur = self.current
        cur.lines.append(line)
        keep = self.vocab.keep_hyphen(cur.text, line.text)
        cur.text = tr.join_lines(cur.text, line.text, hyphen_keep=keep)

    def close(self) -> None:
        self._finish()


def segment_lines(lines: list[Line], layout: Layout, vocab: Vocabulary, cell: bool = False) -> list[Block]:
    """Blocks of a plain run of lines (one table cell, or a page stream without tables)."""
    builder = BlockBuilder(layout, vocab, cell)
    prev: Line | None = None
    for line in lines:
        builder.feed(line, prev)
        prev = line
    builder.close()
    return builder.blocks


def split_footnotes(lines: list[Line], layout: Layout) -> tuple[list[Line], list[Line]]:
    """Footnotes: smaller lines at the foot of a page, below all body-size text, starting with a number."""
    if not lines:
        return lines, []
    small = 0.92 * layout.body_size
    body_bottom = max((ln.bottom for ln in lines if ln.size >= small), default=0.0)
    tail = [ln for ln in lines if ln.top >= body_bottom and ln.size < small]
    if not tail or not re.match(r"^\s*\d{1,3}\b", tail[0].text):
        return lines, []
    notes = set(map(id, tail))
    return [ln for ln in lines if id(ln) not in notes], tail


def footnote_blocks(lines: list[Line], layout: Layout, vocab: Vocabulary) -> list[Block]:
    blocks: list[Block] = []
    for ln in lines:
        if re.match(r"^\s*\d{1,3}\b", ln.text) or not blocks:
            blocks.append(Block(lines=[ln], text=ln.text.strip(), kind=FOOTNOTE))
        else:
            b = blocks[-1]
            b.lines.append(ln)
            b.text = tr.join_lines(b.text, ln.text, vocab.keep_hyphen(b.text, ln.text))
    return blocks
