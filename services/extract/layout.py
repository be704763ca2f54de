"""Document-wide layout statistics the segmenter and heading detection measure lines against."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from services.extract.model import Line
from services.extract.textrules import chars_with_next_word, starts_lower


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    idx = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[idx]


@dataclass
class Layout:
    body_size: float = 10.0
    body_bold: bool = False
    pitch: float = 12.0
    #: Per page: (left edge, right edge) of full body lines.
    edges: dict[int, tuple[float, float]] = field(default_factory=dict)
    #: Pages whose line pitch differs from the document's (OCR pages, other layouts).
    page_pitch: dict[int, float] = field(default_factory=dict)
    #: Characters per line where the text was wrapped by character count (a plain-text export, an
    #: e-mail printed to PDF) rather than by width; None for typeset text.
    wrap_chars: int | None = None

    @classmethod
    def measure(cls, lines: list[Line]) -> Layout:
        if not lines:
            return cls()
        page_pitch = _ocr_page_pitches([ln for ln in lines if ln.ocr])
        if any(not ln.ocr for ln in lines):
            lines = [ln for ln in lines if not ln.ocr]  # OCR geometry would blur the typography
        weight: Counter[float] = Counter()
        bold_weight: Counter[bool] = Counter()
        for ln in lines:
            weight[round(ln.size * 2) / 2] += len(ln.text)
        body_size = weight.most_common(1)[0][0]
        body = [ln for ln in lines if abs(ln.size - body_size) <= 0.6]
        for ln in body:
            bold_weight[ln.bold] += len(ln.text)
        pitches: Counter[float] = Counter()
        #: Pitches between a line and one that runs on into a lower-case word: inside a paragraph for
        #: sure, so short paragraphs with blank lines between them do not read as double spacing.
        within: Counter[float] = Counter()
        for a, b in pairwise(body):
            d = b.top - a.top
            if a.page == b.page and 0.6 * body_size < d < 4 * body_size and abs(a.x0 - b.x0) < 3 * body_size:
                pitches[round(d * 2) / 2] += 1
                if starts_lower(b.text) and not a.text.rstrip().endswith((".", ":")):
                    within[round(d * 2) / 2] += 1
        if within.total() >= 3:
            pitches = within
        pitch = pitches.most_common(1)[0][0] if pitches else 1.2 * body_size
        edges: dict[int, tuple[float, float]] = {}
        all_left = [ln.x0 for ln in body]
        all_right = [ln.x1 for ln in body if len(ln.text) >= 25] or [ln.x1 for ln in body]
        doc_edges = (_quantile(all_left, 0.1), _quantile(all_right, 0.9))
        for page in {ln.page for ln in lines}:
            on_page = [ln for ln in body if ln.page == page]
            rights = [ln.x1 for ln in on_page if len(ln.text) >= 25]
            if len(rights) >= 5:
                edges[page] = (_quantile([ln.x0 for ln in on_page], 0.1), _quantile(rights, 0.9))
            else:
                edges[page] = doc_edges
        return cls(
            body_size=body_size,
            body_bold=bold_weight.most_common(1)[0][0] if bold_weight else False,
            pitch=pitch,
            edges=edges,
            page_pitch=page_pitch,
            wrap_chars=_wrap_chars(body),
        )

    def pitch_for(self, page: int) -> float:
        return self.page_pitch.get(page, self.pitch)

    def edge(self, page: int) -> tuple[float, float]:
        return self.edges.get(page) or (
            min((e[0] for e in self.edges.values()), default=0.0),
            max((e[1] for e in self.edges.values()), default=500.0),
        )

    @property
    def double_spaced(self) -> bool:
        """Lines sit a blank line apart throughout, so gaps say nothing about paragraphs."""
        return self.pitch >= 1.7 * self.body_size

    def is_heading_style(self, line: Line) -> bool:
        """Set apart by typography: clearly larger than body text, or bold where body text is not.
        OCR gives no reliable typography."""
        if line.ocr:
            return False
        return line.size >= 1.12 * self.body_size or (line.bold and not self.body_bold)

    def same_style(self, a: Line, b: Line) -> bool:
        # Text sizes in a PDF are exact: a 12 pt heading over an 11 pt sub-heading are two styles.
        return abs(a.size - b.size) <= min(0.6, 0.12 * self.body_size) and a.bold == b.bold

    def room_left(self, line: Line) -> float:
        """Horizontal space between the end of the line and the body's right edge."""
        return self.edge(line.page)[1] - line.x1

    def char_width(self, line: Line) -> float:
        n = max(len(line.text), 1)
        return max((line.x1 - line.x0) / n, 0.3 * line.size)

    def width(self, page: int) -> float:
        left, right = self.edge(page)
        return max(right - left, 1.0)


def _wrap_chars(lines: list[Line]) -> int | None:
    """The fixed line width in characters, where the text reads as wrapped by character count: no line
    is longer than the longest, and a line that runs on into a lower-case word (surely one paragraph)
    is nearly always too long to take that word. In typeset text the character count of full lines
    varies with the letters, so many run-on lines would have had room for the next word by count."""
    if len(lines) < 8:
        return None
    widest = max(len(ln.text.rstrip()) for ln in lines)
    if widest < 30:
        return None
    runs = [
        chars_with_next_word(a.text, b.text)
        for a, b in pairwise(lines)
        if a.page == b.page
        and starts_lower(b.text)
        and not a.text.rstrip().endswith("-")
        and len(a.text.rstrip()) >= 0.5 * widest  # narrower columns (table cells) wrap on their own
    ]
    if len(runs) < 6:
        return None
    too_long = sum(1 for r in runs if r > widest)
    return widest if too_long >= 0.9 * len(runs) else None


def _ocr_page_pitches(lines: list[Line]) -> dict[int, float]:
    out: dict[int, float] = {}
    by_page: dict[int, list[Line]] = {}
    for ln in lines:
        by_page.setdefault(ln.page, []).append(ln)
    for page, on_page in by_page.items():
        diffs = sorted(b.top - a.top for a, b in pairwise(on_page) if b.top > a.top)
        heights = sorted(ln.height for ln in on_page)
        if diffs:
            out[page] = diffs[len(diffs) // 2]
        elif heights:
            out[page] = 1.3 * heights[len(heights) // 2]
    return out
