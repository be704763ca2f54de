"""Headings, questions, the title and letter furniture, and the heading path of every block.

Headings come from typography (larger or bold lines) and from form: numbered questions, theme lines
("Topic – a question?" or a topic that recurs across such lines), short unpunctuated lines that stand
alone before content, short lines that name a section of the answer («Gode døme», «Tiltak») even over a run
of short lines (plain text), and bare lead-in labels ("Premisser:") that head the list after them.

Levels: each distinct heading style (size, weight) gets a rank, biggest first; within one style a
numbered question or theme line ranks above a plain heading or an unnumbered sub-question. A heading
stays in the path of what follows until a heading of the same or a higher level.
"""

from __future__ import annotations

import re
from collections import Counter

from services.extract import textrules as tr
from services.extract.furniture import BAND
from services.extract.layout import Layout
from services.extract.model import (
    FOOTNOTE,
    HEADING,
    LEAD_IN,
    LETTER,
    LIST_ITEM,
    PARAGRAPH,
    QUESTION,
    TABLE_CELL,
    TABLE_HEADER,
    TITLE,
    URL,
    Block,
)

_THEME = re.compile(r"^(?P<topic>[^\s].{1,70}?)\s*[-–—]\s+(?P<rest>\S.*)$")
_ADDRESSEE = re.compile(r"^(til|att\.?|attn\.?|mottaker)\b[:\s]", re.IGNORECASE)
_REFERENCE = re.compile(
    r"^(vår|deres|var)\s+(ref|dato)|^(saksnr|arkivkode|dato|saksbehandler)\b", re.IGNORECASE
)
_OPEN_QUESTION = re.compile(
    r"^(hva|kva|hvilke|hvilken|hvilket|kva for|kven|hvem|korleis|hvordan|kvifor|hvorfor|når|kor|hvor)\b",
    re.IGNORECASE,
)
_INTERROGATIVE = re.compile(
    r"^(hva|kva|hvilke|hvilken|hvilket|kva for|korleis|hvordan|kvifor|hvorfor|er|har|kan|bør|vil)\b",
    re.IGNORECASE,
)
#: A line that names a section of the answer the ministry asked for (its challenges, measures, examples),
#: a heading even where short lines follow it: «Gode døme frå Nord-Gudbrandsdal» over a run of project names.
_SECTION_CUE = (
    r"(gode (eksempler|eksempel|døme)|erfaringer|erfaringar|tiltak|utfordringer|utfordringar"
    r"|krevende faktorer|krevjande faktorar|forslag til tiltak|framlegg til tiltak|våre forslag|vårt forslag"
    r"|dette fungerer|det som fungerer)\b"
)
_SECTION = re.compile(r"^(\d+\.\s*)?" + _SECTION_CUE, re.IGNORECASE)
_ANY_CUE = re.compile(r"\b" + _SECTION_CUE, re.IGNORECASE)


def _section_line(text: str) -> bool:
    """A line that opens with a section cue, and only one: «Krevende faktorer Tiltak» is a table's column
    headers on one line, not a section."""
    return bool(_SECTION.match(text)) and len(_ANY_CUE.findall(text)) == 1


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _theme_parts(text: str) -> tuple[str, str] | None:
    m = _THEME.match(text)
    if not m:
        return None
    topic, rest = m.group("topic").strip(), m.group("rest").strip()
    if tr.word_count(topic) > 6 or tr.is_terminated(topic) or not tr.starts_upper_or_digit(topic):
        return None
    return topic, rest


class HeadingFinder:
    def __init__(self, blocks: list[Block], layout: Layout) -> None:
        self.blocks = blocks
        self.layout = layout
        themes = [p for b in blocks if tr.word_count(b.text) <= 25 and (p := _theme_parts(b.text))]
        self.topic_counts = Counter(_norm(t) for t, _ in themes)
        self.rest_counts = Counter(_norm(r) for _, r in themes)
        self.typographic = sum(1 for b in blocks if self._styled(b) and tr.word_count(b.text) <= 20) >= 2

    # -- block tests -------------------------------------------------------------------------------
    def _styled(self, b: Block) -> bool:
        return b.kind in (PARAGRAPH,) and all(self.layout.is_heading_style(ln) for ln in b.lines)

    def _numbered_question(self, b: Block) -> bool:
        return (
            b.numbered
            and "?" in b.text
            and tr.word_count(b.text) <= 80
            and b.text.rstrip().endswith(("?", "?»", "?)"))
        )

    def _theme(self, b: Block) -> bool:
        if tr.word_count(b.text) > 25 or len(b.lines) > 3:
            return False
        parts = _theme_parts(b.text)
        if not parts:
            return False
        topic, rest = parts
        if rest.endswith("?") and _INTERROGATIVE.match(rest):
            return True
        return self.topic_counts[_norm(topic)] >= 2 or self.rest_counts[_norm(rest)] >= 2

    def _sub_question(self, b: Block) -> bool:
        """An open question on its own ("Hvilken støtte savner dere?"); a yes/no question in running
        text ("Kan KS få en sterkere rolle ...?") is part of the answer, not a heading."""
        text = b.text.rstrip()
        return (
            text.endswith("?")
            and tr.word_count(text) <= 25
            and text.count("?") == 1
            and not re.search(r"[.!]\s", text)
            and bool(_OPEN_QUESTION.match(text))
        )

    def _plain_heading_shape(self, b: Block) -> bool:
        text = b.text.strip()
        return (
            b.kind == PARAGRAPH
            and len(b.lines) == 1
            and tr.word_count(text) <= 8
            and len(text) <= 70
            and tr.starts_upper_or_digit(text)
            and not re.search(r"[.,;:!]$", text)
            and "," not in text
            and not tr.date_only(text)
            and tr.letters(text) >= 3
        )

    def _content_after(self, i: int) -> bool:
        """Something that a heading could head follows: a longer paragraph, a list or a table."""
        for nxt in self.blocks[i + 1 : i + 2]:
            if nxt.kind in (LIST_ITEM, TABLE_CELL, TABLE_HEADER, LEAD_IN):
                return True
            if nxt.kind == PARAGRAPH:
                return len(nxt.lines) >= 2 or tr.word_count(nxt.text) >= 10 or nxt.text.endswith(":")
        return False

    # -- passes -----------------------------------------------------------------------------------
    def mark_letter_parts(self) -> None:
        """Title, the letter's head above it, and everything from the closing greeting on."""
        first_page = [b for b in self.blocks if b.page == self.blocks[0].page] if self.blocks else []
        title_at = self._find_title(first_page)
        if title_at is not None:
            for b in first_page[:title_at]:
                b.kind = LETTER
            first_page[title_at].kind = TITLE
        for b in first_page:
            dated = tr.date_only(b.text) or _REFERENCE.match(b.text) or _ADDRESSEE.match(b.text)
            if b.kind == PARAGRAPH and dated and tr.word_count(b.text) <= 8:
                b.kind = LETTER
        # The greeting, the signature and notes under it; an enclosure on a later page is content again.
        closing_page: int | None = None
        for b in self.blocks:
            if b.kind in (PARAGRAPH, LIST_ITEM) and tr.is_closing(b.text):
                closing_page = b.page
            if closing_page is not None and b.page > closing_page:
                closing_page = None
            if closing_page is not None and b.kind in (PARAGRAPH, LIST_ITEM, LEAD_IN):
                b.kind = LETTER

    def _find_title(self, first_page: list[Block]) -> int | None:
        """Index of the title among the first page's blocks. With typography, the most prominent styled
        block above the body (a bold letterhead line loses to a larger title below it); without, the first
        block that looks like one."""
        candidates: list[int] = []
        # A letter without headings still sets its title apart: one styled block is enough here.
        typographic = self.typographic or any(
            self._styled(b) and tr.word_count(b.text) <= 20 for b in first_page[:12]
        )
        for idx, b in enumerate(first_page[:12]):
            if b.kind != PARAGRAPH:
                continue
            text = b.text
            if self._numbered_question(b) or tr.word_count(text) > 20 or text.endswith(":"):
                break
            if tr.date_only(text) or _ADDRESSEE.match(text) or _REFERENCE.match(text):
                continue
            if typographic and not self._styled(b):
                if len(b.lines) > 2 or (tr.is_terminated(text) and tr.word_count(text) > 6):
                    break  # body text has started
                continue
            if b.first.top > 0.6 * b.first.page_height:
                break
            if tr.word_count(text) < 2 and not text.isupper():
                break  # one plain word ("Bakgrunn") opens a section; a title names the letter
            candidates.append(idx)
            if not typographic:
                break
        if not candidates:
            return None

        # A title names the letter in a few words below the letterhead; a big sender line or logo text in
        # the page's top band is letterhead, however large.
        def rank(i: int) -> tuple[bool, bool, float, int]:
            b = first_page[i]
            return (
                b.first.top >= BAND * b.first.page_height,
                tr.word_count(b.text) >= 3,
                round(b.first.size * 2) / 2,
                -i,
            )

        return max(candidates, key=rank)

    def mark_footnotes(self) -> None:
        """A block "2 Et tidsavgrenset ..." is a footnote when "…ord2" appears earlier in the text: the
        reference mark attached to a word. Footnotes set in body type are found this way."""
        seen = ""
        for b in self.blocks:
            m = re.match(r"^(\d{1,2})\s+[^\W\d_]", b.text)
            if m and b.kind == PARAGRAPH and re.search(rf"[^\W\d_][»”\")]?{m.group(1)}(?!\d)", seen):
                b.kind = FOOTNOTE
            seen += " " + b.text

    def mark_headings(self) -> None:
        for i, b in enumerate(self.blocks):
            if b.kind not in (PARAGRAPH, LIST_ITEM):
                continue
            text = b.text.rstrip()
            if b.kind == PARAGRAPH and self._numbered_question(b):
                b.kind, b.level = QUESTION, 0.0
            elif b.kind == PARAGRAPH and self._theme(b):
                b.kind, b.level = (QUESTION if text.endswith("?") else HEADING), 0.0
            elif b.kind == PARAGRAPH and self._sub_question(b) and self._content_after(i):
                b.kind, b.level = QUESTION, 1.0
            elif text.endswith((":", ";")) and self._bare_label(b) and self._list_follows(i):
                b.kind, b.label = HEADING, True
            elif text.endswith(":"):
                b.kind = LEAD_IN
            elif (b.kind == PARAGRAPH and self._styled(b) and tr.word_count(text) <= 20) or (
                not self.typographic
                and self._plain_heading_shape(b)
                and (
                    (self._content_after(i) and not self._sibling_short(i))
                    or (_section_line(text) and self._anything_after(i))
                )
            ):
                # "3. Gode eksempler" is a sibling of "2. Hvilke tiltak ...?", not its child.
                b.kind, b.level = HEADING, (0.0 if b.numbered else 1.0)
        self._rank_styles()

    def _anything_after(self, i: int) -> bool:
        """A paragraph or a list follows (a section heading may head a run of short lines)."""
        return any(n.kind in (PARAGRAPH, LIST_ITEM, LEAD_IN) for n in self.blocks[i + 1 : i + 2])

    def _bare_label(self, b: Block) -> bool:
        """A lead-in that names its list ("Premisser:") rather than stating something."""
        words = tr.word_count(b.text)
        return words <= 2 or (words <= 4 and self._styled(b))

    def _list_follows(self, i: int) -> bool:
        return any(n.kind == LIST_ITEM for n in self.blocks[i + 1 : i + 2])

    def _sibling_short(self, i: int) -> bool:
        """A run of short lines is a list whose bullets went missing, not a row of headings."""

        def short(b: Block | None) -> bool:
            return bool(
                b
                and b.kind == PARAGRAPH
                and len(b.lines) == 1
                and tr.word_count(b.text) <= 10
                and not tr.is_terminated(b.text)
                and not b.text.endswith(":")
            )

        prev = self.blocks[i - 1] if i > 0 else None
        nxt = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        return (prev is not None and short(prev) and prev.gap_after <= 1.45) or (
            short(nxt) and self.blocks[i].gap_after <= 1.45
        )

    def _rank_styles(self) -> None:
        heads = [b for b in self.blocks if b.kind in (HEADING, QUESTION) and not b.label]
        styles = sorted({self._style(b) for b in heads}, key=lambda s: (-s[0], -s[1]))
        rank = {s: i for i, s in enumerate(styles)}
        for b in heads:
            b.level = rank[self._style(b)] * 2 + (b.level or 0.0)
        # Where one style serves two levels (bold at body size throughout), a heading followed at once
        # by a heading of its own level heads a section of those: it ranks half a level higher.
        is_head = {id(b) for b in heads}
        for b, nxt in zip(self.blocks, self.blocks[1:]):
            if id(b) in is_head and id(nxt) in is_head and b.level is not None and b.level == nxt.level:
                b.level -= 0.5

    def _style(self, b: Block) -> tuple[float, int]:
        ln = b.first
        return (round(ln.size * 2) / 2, int(ln.bold))


def assign_paths(blocks: list[Block]) -> list[list[str]]:
    """The heading path of every block (headings get the path they sit under)."""
    stack: list[tuple[float, str]] = []
    label: str | None = None
    paths: list[list[str]] = []
    for b in blocks:
        if b.kind in (LETTER, TITLE, FOOTNOTE, URL):
            paths.append([])
            continue
        if b.kind in (HEADING, QUESTION) and b.label:
            label = b.text
            paths.append([t for _, t in stack])
            continue
        if b.kind in (HEADING, QUESTION):
            label = None
            level = b.level if b.level is not None else 1.0
            while stack and stack[-1][0] >= level:
                stack.pop()
            paths.append([t for _, t in stack])
            stack.append((level, b.text))
            continue
        if label is not None and b.kind != LIST_ITEM:
            label = None
        base = [t for _, t in stack] + list(b.extra_path)
        paths.append(base + ([label] if label else []))
    return paths


def classify_blocks(blocks: list[Block], layout: Layout) -> list[list[str]]:
    finder = HeadingFinder(blocks, layout)
    finder.mark_letter_parts()
    finder.mark_footnotes()
    finder.mark_headings()
    return assign_paths(blocks)
