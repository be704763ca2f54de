"""A Norwegian consultation letter written by the team for tests, and helpers to render it as PDF.

The letter is fiction: a municipality answers the ministry's questions about the health plan.
"""

from __future__ import annotations

from pathlib import Path

LETTER_TITLE = "Innspill til Nasjonal helse- og samhandlingsplan fra Fjellbygd kommune"

# (kind, text): headings and questions are set in bold; everything else is body text.
LETTER: list[tuple[str, str]] = [
    ("letterhead", "Fjellbygd kommune, helse og omsorg"),
    ("date", "Fjellbygd, 14. oktober 2026"),
    ("title", LETTER_TITLE),
    ("paragraph", "Vi viser til departementets brev og takker for muligheten til å komme med innspill."),
    ("question", "1. Hva er de viktigste utfordringene å adressere?"),
    (
        "paragraph",
        "Kommunen har ikke nok sykepleiere til å dekke vaktene i hjemmetjenesten. Om vinteren står flere "
        "stillinger ledige i månedsvis, og de ansatte som er igjen, jobber mye overtid.",
    ),
    (
        "paragraph",
        "Det er krevende å få epikriser fra sykehuset før pasienten kommer hjem. Journalsystemene snakker ikke "
        "sammen, og sykepleierne må ringe for å få vite hvilke medisiner pasienten skal ha.",
    ),
    ("question", "2. Hvilke tiltak foreslår dere?"),
    (
        "paragraph",
        "Staten bør finansiere en felles løsning for deling av pasientopplysninger mellom kommuner og "
        "helseforetak, slik at oppdatert legemiddelliste følger pasienten.",
    ),
    (
        "paragraph",
        "Vi foreslår at utdanningsplasser for sykepleiere legges desentralisert, slik at folk som bor i "
        "distriktet kan ta utdanningen uten å flytte.",
    ),
    ("question", "3. Har dere gode eksempler?"),
    (
        "paragraph",
        "Fjellbygd har siden 2023 drevet et felles akutteam med nabokommunen. Teamet rykker ut til eldre "
        "som blir akutt syke hjemme, og etter to år har vi sett færre innleggelser i sykehus.",
    ),
    (
        "paragraph",
        "Ordningen med digitalt tilsyn om natten er etablert i hele kommunen og fungerer godt for både "
        "brukere og ansatte.",
    ),
    ("closing", "Med vennlig hilsen"),
    ("signature", "Kari Nordmann, kommunalsjef helse og omsorg"),
]


def render_letter_pdf(path: Path, letter: list[tuple[str, str]] | None = None, filler_pages: int = 1) -> Path:
    """Render the letter with reportlab: A4, a page header, "Side N" footers, bold headings.

    ``filler_pages`` adds pages of extra background paragraphs so the document is multi-page.
    """
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    letter = letter or LETTER
    styles = getSampleStyleSheet()
    story: list[object] = []
    for kind, text in letter:
        style = styles["Heading3"] if kind in ("question", "heading", "title") else styles["BodyText"]
        story.append(Paragraph(escape(text), style))
        story.append(Spacer(1, 6))
        if kind == "question" and text.startswith("2.") and filler_pages:
            story.append(PageBreak())
    total = {"pages": 0}

    def decorate(canvas: object, doc: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]  # a private library attribute the test spies on
        canvas.setFont("Helvetica", 8)  # type: ignore[attr-defined]  # a private library attribute the test spies on
        canvas.drawString(72, A4[1] - 40, "Fjellbygd kommune - innspill")  # type: ignore[attr-defined]  # a private library attribute the test spies on
        canvas.drawRightString(A4[0] - 72, 30, f"Side {doc.page}")  # type: ignore[attr-defined]  # a private library attribute the test spies on
        canvas.restoreState()  # type: ignore[attr-defined]  # a private library attribute the test spies on
        total["pages"] = max(total["pages"], doc.page)  # type: ignore[attr-defined]  # a private library attribute the test spies on

    SimpleDocTemplate(str(path), pagesize=A4, title=LETTER_TITLE).build(
        story, onFirstPage=decorate, onLaterPages=decorate
    )
    return path


def letter_variant(n: int) -> list[tuple[str, str]]:
    """The letter with a numbered reference line, so every variant has different bytes and id."""
    letter = list(LETTER)
    letter.insert(2, ("reference", f"Vår referanse: 2026/{1000 + n}"))
    return letter


def letter_pdf_bytes(tmp_dir: Path, name: str = "fjellbygd.pdf", variant: int | None = None) -> bytes:
    letter = letter_variant(variant) if variant is not None else None
    return render_letter_pdf(tmp_dir / name, letter).read_bytes()
