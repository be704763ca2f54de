"""Sample letters for tests and benchmarks, drawn with reportlab (PDF) and python-docx (Word).

The letter is fiction written for this project: a municipality answers the ministry. The PDF has
what real letters have: a letterhead repeated on every page, "Side X av Y" footers, numbered
questions, bullets drawn with the Symbol-font private-use glyph (U+F0B7) and with "•", a ruled
two-column table, a footnote, a web and an e-mail address, a paragraph cut by a page break, and
optionally a scanned page (an image of text, no text layer) for OCR.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

SENDER = "Nordvik kommune"
LETTERHEAD = "Nordvik kommune – Helse og omsorg – Rådhusgata 1, 9999 Nordvik"
TITLE = "Høringsinnspill til helse- og samhandlingsplanen"
DATE_LINE = "Nordvik, 12. mars 2025"
ADDRESSEE = "Til Helse- og omsorgsdepartementet"
Q1 = "1. Hva er de viktigste utfordringene å adressere?"
Q2 = "2. Hvilke tiltak er aktuelle?"
Q3 = "3. Har dere gode eksempler?"
THEME = "Digitalisering – kva er dei viktigaste utfordringane?"
INTRO = (
    "Nordvik kommune viser til departementets brev og takker for invitasjonen til å gi innspill. "
    "Kommunen har drøftet spørsmålene med fastlegene, hjemmetjenesten og brukerrådet."
)
P_STAFF = (
    "Kommunen mangler sykepleiere i hjemmetjenesten, og om sommeren står mange vakter ubesatt. "
    "Det er krevende å rekruttere fagfolk til små stillinger langt fra sentrale strøk, og de som "
    "jobber hos oss, får for mye overtid."
)
P_SPLIT = (
    "Samarbeidet med helseforetaket om utskrivning fungerer ujevnt. Pasienter kommer ofte hjem på "
    "fredag ettermiddag uten oppdatert legemiddelliste, og sykepleierne må bruke tid på å ringe "
    "sykehuset for å få vite hva som er endret. Dette gir risiko for feil og skaper utrygghet for "
    "pasienten og de pårørende, særlig når kommunen ikke har lege tilgjengelig i helgen."
)
P_FOOTNOTE = "Kommunen deltar i prosjektet Trygg hjemkomst"
FOOTNOTE = "1 Prosjektet er et samarbeid mellom fire kommuner og sykehuset, startet i 2023."
LEAD_IN = "Kommunen foreslår følgende tiltak:"
BULLETS_PUA = [
    "Staten bør finansiere en felles løsning for deling av pasientopplysninger.",
    "Utdanning av sykepleiere bør tilbys desentralisert og på deltid.",
]
BULLETS_DOT = [
    "Det må etableres faste møtepunkter mellom kommune og sykehus.",
    "Fastlegeordningen må styrkes med flere utdanningsstillinger.",
]
TABLE_HEADER = ("Krevende faktorer", "Tiltak")
TABLE_ROWS = [
    ("Journalsystemene snakker ikke sammen.", "Innføre felles kjernejournal for alle tjenester i regionen."),
    ("Lange reiser for pasientene.", "Flere polikliniske tilbud og videokonsultasjoner i kommunen."),
]
P_THEME = (
    "Mange eldre er ikke vant med digitale tjenester, og kommunen må ha tilbud til dem som ikke "
    "kan bruke dem. Les mer på https://www.nordvik.kommune.no/helse eller skriv til "
    "postmottak@nordvik.kommune.no for spørsmål."
)
P_EXAMPLE = (
    "Kommunen har siden 2022 drevet et ambulant team sammen med nabokommunen. Teamet har gitt færre "
    "innleggelser og tryggere overganger."
)
CLOSING = "Med vennlig hilsen"
SIGNATURE = "Kari Nordmann, kommunalsjef"
SCANNED_TEXT = [
    "Vedlegg: uttalelse fra eldrerådet",
    "Eldrerådet støtter kommunens innspill og",
    "ber om at transporttilbudet til sykehuset",
    "blir bedre for eldre som bor alene.",
]


@dataclass
class _Pen:
    """A tiny flowing layout: lines top to bottom, new pages as needed, furniture on every page."""

    canvas: Canvas
    font: str
    bold: str
    width: float
    height: float
    left: float = 72.0
    right: float = 523.0
    top: float = 770.0
    bottom: float = 90.0
    y: float = 770.0
    page: int = 1
    footnotes: list[str] = field(default_factory=list)

    def text_width(self, text: str, size: float, font: str | None = None) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return stringWidth(text, font or self.font, size)

    def wrap(self, text: str, size: float, width: float, font: str | None = None) -> list[str]:
        lines, cur = [], ""
        for word in text.split():
            trial = f"{cur} {word}" if cur else word
            if cur and self.text_width(trial, size, font) > width:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        return lines + ([cur] if cur else [])

    def new_page(self) -> None:
        self._draw_footnotes()
        self.canvas.showPage()
        self.page += 1
        self.y = self.top

    def _draw_footnotes(self) -> None:
        if not self.footnotes:
            return
        c = self.canvas
        c.setLineWidth(0.5)
        c.line(self.left, self.bottom - 4, self.left + 120, self.bottom - 4)
        y = self.bottom - 16
        for note in self.footnotes:
            c.setFont(self.font, 8)
            c.drawString(self.left, y, note)
            y -= 10
        self.footnotes = []

    def line(self, text: str, size: float = 11, bold: bool = False, indent: float = 0.0) -> None:
        if self.y - size * 1.3 < self.bottom:
            self.new_page()
        self.y -= size * 1.3
        self.canvas.setFont(self.bold if bold else self.font, size)
        self.canvas.drawString(self.left + indent, self.y, text)

    def paragraph(
        self,
        text: str,
        size: float = 11,
        bold: bool = False,
        break_after: int | None = None,
        space: float = 8.0,
    ) -> None:
        for n, ln in enumerate(self.wrap(text, size, self.right - self.left, self.bold if bold else None)):
            self.line(ln, size, bold)
            if break_after is not None and n + 1 == break_after:
                self.new_page()
        self.y -= space

    def bullet(self, glyph_font: str, text: str, glyph: str = "•") -> None:
        lines = self.wrap(text, 11, self.right - self.left - 18)
        for n, ln in enumerate(lines):
            self.line(ln, 11, indent=18)
            if n == 0:
                self.canvas.setFont(glyph_font, 11)
                self.canvas.drawString(self.left + 4, self.y, glyph)
        self.y -= 4

    def table(self, header: tuple[str, str], rows: list[tuple[str, str]]) -> None:
        c = self.canvas
        col = (self.right - self.left) / 2
        all_rows = [header, *rows]
        wrapped = [[self.wrap(cell, 10, col - 10) for cell in row] for row in all_rows]
        heights = [max(len(w) for w in row) * 13 + 8 for row in wrapped]
        if self.y - sum(heights) < self.bottom:
            self.new_page()
        y = self.y
        c.setLineWidth(0.8)
        for row, h in zip(wrapped, heights):
            for i, cell in enumerate(row):
                x = self.left + i * col
                c.rect(x, y - h, col, h)
                ty = y - 13
                for ln in cell:
                    c.setFont(self.bold if row is wrapped[0] else self.font, 10)
                    c.drawString(x + 5, ty, ln)
                    ty -= 13
            y -= h
        self.y = y - 12


def _font_dir() -> Path:
    """reportlab ships the Bitstream Vera fonts, so samples need no system fonts."""
    import reportlab

    return Path(reportlab.__file__).parent / "fonts"


def _register_fonts() -> tuple[str, str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = pdfmetrics.getRegisteredFontNames()
    for name, file in (
        ("SampleSans", "Vera.ttf"),
        ("SampleSansBold", "VeraBd.ttf"),
        ("SampleSymbol", "VeraIt.ttf"),
    ):
        if name not in names:
            pdfmetrics.registerFont(TTFont(name, str(_font_dir() / file)))
    return "SampleSans", "SampleSansBold", "SampleSymbol"


def _scanned_page_image() -> bytes:
    """A page-sized PNG of typed text: what a scanner gives for a page without a text layer."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(_font_dir() / "Vera.ttf"), 44)
    y = 250
    for line in SCANNED_TEXT:
        draw.text((200, y), line, fill=0, font=font)
        y += 80
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _private_use_bullets(pdf_bytes: bytes, symbol_font: str) -> bytes:
    """Make the symbol font's bullet extract as U+F0B7, as Word's Symbol-font bullets do."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject
    from reportlab.pdfbase import pdfmetrics

    postscript = pdfmetrics.getFont(symbol_font).face.name
    postscript = postscript.decode() if isinstance(postscript, bytes) else str(postscript)
    reader = PdfReader(io.BytesIO(pdf_bytes))
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        resources: Any = page["/Resources"].get_object()
        fonts = resources.get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            tu = font.get(NameObject("/ToUnicode"))
            if tu is None or postscript not in str(font.get("/BaseFont", "")):
                continue
            stream = tu.get_object()
            stream.set_data(stream.get_data().replace(b"<2022>", b"<F0B7>"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def letter_pdf(path: Path, scanned_page: bool = False) -> Path:
    """Write the sample letter to ``path`` and return it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as rl_canvas

    font, bold, symbol = _register_fonts()
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    c.setTitle(TITLE)
    pen = _Pen(canvas=c, font=font, bold=bold, width=A4[0], height=A4[1])

    pen.line(DATE_LINE)
    pen.line(ADDRESSEE)
    pen.y -= 14
    pen.paragraph(TITLE, size=15, bold=True)
    pen.paragraph(INTRO)
    pen.paragraph(Q1, size=12, bold=True)
    pen.paragraph(P_STAFF)
    pen.paragraph(P_SPLIT, break_after=2)
    pen.paragraph(Q2, size=12, bold=True)
    pen.paragraph(LEAD_IN, space=2)
    for item in BULLETS_PUA:
        pen.bullet(symbol, item)
    for item in BULLETS_DOT:
        pen.bullet(font, item)
    pen.y -= 6
    pen.table(TABLE_HEADER, TABLE_ROWS)
    pen.paragraph(THEME, size=12, bold=True)
    pen.paragraph(P_THEME)
    pen.paragraph(Q3, size=12, bold=True)
    # A footnote marker raised after the last word, and its note at the foot of the page.
    pen.paragraph(P_FOOTNOTE, space=0)
    c.setFont(font, 7)
    marker_x = pen.left + pen.text_width(P_FOOTNOTE, 11)
    c.drawString(marker_x + 0.3, pen.y + 4, "1")
    pen.y -= 8
    pen.footnotes.append(FOOTNOTE)
    pen.paragraph(P_EXAMPLE)
    pen.paragraph(CLOSING, space=20)
    pen.paragraph(SIGNATURE)
    pen._draw_footnotes()
    if scanned_page:
        c.showPage()
        c.drawImage(ImageReader(io.BytesIO(_scanned_page_image())), 0, 0, width=A4[0], height=A4[1])
    c.save()

    # Furniture goes on afterwards, when the page count is known ("Side X av Y").
    data = _stamp_furniture(buf.getvalue(), font)
    data = _private_use_bullets(data, symbol)
    Path(path).write_bytes(data)
    return Path(path)


def _stamp_furniture(pdf_bytes: bytes, font: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as rl_canvas

    reader = PdfReader(io.BytesIO(pdf_bytes))
    total = len(reader.pages)
    overlay_buf = io.BytesIO()
    c = rl_canvas.Canvas(overlay_buf, pagesize=A4, pageCompression=0)
    for n in range(1, total + 1):
        c.setFont(font, 8)
        c.drawString(72, A4[1] - 40, LETTERHEAD)
        c.drawCentredString(A4[0] / 2, 40, f"Side {n} av {total}")
        c.showPage()
    c.save()
    overlay = PdfReader(io.BytesIO(overlay_buf.getvalue()))
    writer = PdfWriter(clone_from=reader)
    for page, stamp in zip(writer.pages, overlay.pages):
        page.merge_page(stamp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def letter_docx(path: Path) -> Path:
    """The same letter as a Word file: heading styles, list paragraphs, a table."""
    import docx

    doc = docx.Document()
    doc.core_properties.title = TITLE
    doc.sections[0].header.paragraphs[0].text = LETTERHEAD
    doc.add_paragraph(DATE_LINE)
    doc.add_paragraph(ADDRESSEE)
    doc.add_heading(TITLE, level=0)
    doc.add_paragraph(INTRO)
    doc.add_heading(Q1, level=2)
    doc.add_paragraph(P_STAFF)
    doc.add_paragraph(P_SPLIT)
    doc.add_heading(Q2, level=2)
    doc.add_paragraph(LEAD_IN)
    for item in BULLETS_PUA + BULLETS_DOT:
        doc.add_paragraph(item, style="List Bullet")
    table = doc.add_table(rows=1 + len(TABLE_ROWS), cols=2)
    for col, text in enumerate(TABLE_HEADER):
        table.rows[0].cells[col].text = text
    for r, row in enumerate(TABLE_ROWS, start=1):
        for col, text in enumerate(row):
            table.rows[r].cells[col].text = text
    doc.add_heading(THEME, level=2)
    doc.add_paragraph(P_THEME)
    doc.add_heading(Q3, level=2)
    doc.add_paragraph(P_EXAMPLE)
    doc.add_paragraph(CLOSING)
    doc.add_paragraph(SIGNATURE)
    doc.save(str(path))
    return Path(path)
