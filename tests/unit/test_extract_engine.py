"""The extraction engine on letters the tests draw themselves (reportlab PDF, python-docx Word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.extract import ocr
from services.extract.engine import extract_document
from services.extract.model import (
    FOOTNOTE,
    LEAD_IN,
    LETTER,
    LIST_ITEM,
    QUESTION,
    TABLE_CELL,
    TABLE_HEADER,
    TITLE,
    ExtractionResult,
    Limits,
)
from tools.extract import samples


@pytest.fixture(scope="module")
def letter(tmp_path_factory: pytest.TempPathFactory) -> ExtractionResult:
    pdf = samples.letter_pdf(tmp_path_factory.mktemp("letter") / "nordvik.pdf")
    return extract_document(pdf, Limits(ocr_enabled=False))


def _by_text(result: ExtractionResult, start: str):
    found = [s for s in result.segments if s.text.startswith(start)]
    assert found, f"no segment starts with {start!r}; got {[s.text[:40] for s in result.segments]}"
    return found[0]


def test_page_furniture_is_removed(letter: ExtractionResult) -> None:
    texts = [s.text for s in letter.segments]
    assert letter.page_count == 2
    assert not any(samples.LETTERHEAD in t for t in texts)
    assert not any("Side 1 av 2" in t or "Side 2 av 2" in t for t in texts)
    assert samples.LETTERHEAD in letter.furniture and "Side 2 av 2" in letter.furniture


def test_metadata_from_the_letter(letter: ExtractionResult) -> None:
    assert letter.metadata.sender == samples.SENDER
    assert letter.metadata.date == "2025-03-12"
    assert letter.metadata.title == samples.TITLE
    title = _by_text(letter, samples.TITLE)
    assert title.kind == TITLE and title.heading_path == []
    for furniture in (samples.DATE_LINE, samples.ADDRESSEE):
        seg = _by_text(letter, furniture)
        assert seg.kind == LETTER and seg.heading_path == []


def test_questions_head_what_follows(letter: ExtractionResult) -> None:
    q1 = _by_text(letter, samples.Q1)
    assert q1.kind == QUESTION and q1.heading_path == [] and q1.text == samples.Q1
    staff = _by_text(letter, "Kommunen mangler sykepleiere")
    assert staff.heading_path == [samples.Q1]
    assert staff.text == samples.P_STAFF, "lines re-joined with one space, nothing else changed"
    example = _by_text(letter, "Kommunen har siden 2022")
    assert example.heading_path == [samples.Q3]


def test_theme_line_is_a_heading(letter: ExtractionResult) -> None:
    theme = _by_text(letter, "Digitalisering –")
    assert theme.kind == QUESTION and theme.heading_path == []
    after = _by_text(letter, "Mange eldre er ikke vant")
    assert after.heading_path == [samples.THEME]


def test_paragraph_across_a_page_break_is_one_segment(letter: ExtractionResult) -> None:
    seg = _by_text(letter, "Samarbeidet med helseforetaket")
    assert seg.text == samples.P_SPLIT
    assert seg.page == 1


def test_bullets_lose_their_glyphs_and_lead_in_stands_alone(letter: ExtractionResult) -> None:
    lead = _by_text(letter, samples.LEAD_IN)
    assert lead.kind == LEAD_IN and lead.text == samples.LEAD_IN
    for item in samples.BULLETS_PUA + samples.BULLETS_DOT:
        seg = _by_text(letter, item)
        assert seg.kind == LIST_ITEM and seg.text == item
        assert seg.heading_path == [samples.Q2]
    joined = " ".join(s.text for s in letter.segments)
    assert "\uf0b7" not in joined and "•" not in joined


def test_private_use_bullet_glyph_is_really_in_the_pdf(tmp_path: Path) -> None:
    import pdfplumber

    pdf = samples.letter_pdf(tmp_path / "l.pdf")
    with pdfplumber.open(pdf) as doc:
        raw = "".join(page.extract_text() or "" for page in doc.pages)
    assert "\uf0b7" in raw and "•" in raw


def test_table_cells_carry_their_column_header(letter: ExtractionResult) -> None:
    headers = [s for s in letter.segments if s.kind == TABLE_HEADER]
    assert [h.text for h in headers] == list(samples.TABLE_HEADER)
    for left, right in samples.TABLE_ROWS:
        lseg, rseg = _by_text(letter, left), _by_text(letter, right)
        assert lseg.kind == rseg.kind == TABLE_CELL
        assert lseg.heading_path == [samples.Q2, samples.TABLE_HEADER[0]]
        assert rseg.heading_path == [samples.Q2, samples.TABLE_HEADER[1]]
        assert rseg.text == right


def test_footnote_is_its_own_segment_and_marker_stays(letter: ExtractionResult) -> None:
    note = _by_text(letter, samples.FOOTNOTE)
    assert note.kind == FOOTNOTE and note.heading_path == []
    body = _by_text(letter, samples.P_FOOTNOTE)
    assert body.text == samples.P_FOOTNOTE + "1"


def test_web_and_mail_addresses_stay_inside_their_paragraph(letter: ExtractionResult) -> None:
    seg = _by_text(letter, "Mange eldre er ikke vant")
    assert seg.text == samples.P_THEME


def test_closing_and_signature_are_letter_furniture(letter: ExtractionResult) -> None:
    for text in (samples.CLOSING, samples.SIGNATURE):
        seg = _by_text(letter, text)
        assert seg.kind == LETTER and seg.heading_path == [] and seg.text == text


def test_sections_summarise_heading_paths(letter: ExtractionResult) -> None:
    paths = [s.heading_path for s in letter.sections]
    assert [samples.Q1] in paths and [samples.Q2, samples.TABLE_HEADER[1]] in paths
    assert sum(s.segment_count for s in letter.sections) == sum(
        1 for s in letter.segments if s.kind not in (QUESTION, "heading")
    )


@pytest.mark.skipif(not ocr.available("nor"), reason="tesseract with the Norwegian model is not installed")
def test_scanned_page_is_read_by_ocr(tmp_path: Path) -> None:
    pdf = samples.letter_pdf(tmp_path / "scan.pdf", scanned_page=True)
    result = extract_document(pdf, Limits(ocr_enabled=True, ocr_languages="nor"))
    assert result.ocr_pages == [3]
    scanned = [s for s in result.segments if s.page == 3]
    assert scanned and all(s.ocr for s in scanned)
    text = " ".join(s.text for s in scanned)
    assert "eldrerådet" in text.lower() and "transporttilbudet" in text
    assert not any(s.ocr for s in result.segments if s.page < 3)


def test_word_documents_use_the_same_segment_model(tmp_path: Path) -> None:
    result = extract_document(samples.letter_docx(tmp_path / "nordvik.docx"))
    assert result.metadata.title == samples.TITLE and result.metadata.sender == samples.SENDER
    assert result.metadata.date == "2025-03-12"
    assert samples.LETTERHEAD not in " ".join(s.text for s in result.segments)
    q2 = _by_text(result, samples.Q2)
    assert q2.kind == QUESTION
    for item in samples.BULLETS_PUA:
        seg = _by_text(result, item)
        assert seg.kind == LIST_ITEM and seg.heading_path == [samples.Q2]
    right = _by_text(result, samples.TABLE_ROWS[0][1])
    assert right.kind == TABLE_CELL and right.heading_path == [samples.Q2, samples.TABLE_HEADER[1]]
    assert _by_text(result, samples.SIGNATURE).kind == LETTER


def test_fake_bold_is_read_once_and_small_double_letters_stay(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "small.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("Helvetica", 8)  # an 8 pt letterhead: the two l's of "fellesskap" stand 1.8 pt apart
    for k in range(4):  # at a few offsets, so that rounding puts some pairs 1 pt apart
        c.drawString(72 + 0.3 * k, 800 - 10 * k, f"Helsefellesskapet Vestkyst {k}")
    c.setFont("Helvetica-Bold", 14)
    for dx in (0.0, 0.4):  # "fake bold": the same title drawn twice, a fraction of a point apart
        c.drawString(72 + dx, 740, "Innspill til planen")
    c.setFont("Helvetica", 11)
    c.drawString(72, 700, "Vi foreslår at alle kommuner får tilbud om veiledning.")
    c.save()
    texts = [s.text for s in extract_document(path).segments]
    joined = " ".join(texts)
    assert joined.count("Helsefellesskapet Vestkyst") == 4
    assert "Innspill til planen" in joined and "IInn" not in joined
