"""OCR of pages without a text layer: the page is rendered with PDFium and read by Tesseract.

Tesseract is optional. ``available()`` says whether it and the wanted language models are installed;
without them the engine reports ``no_text`` for a document that has no text at all.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from services.extract.model import Line

log = logging.getLogger(__name__)

#: Render resolution; the longest side is capped so a poster-sized page stays affordable.
DPI = 250
MAX_PIXELS_SIDE = 3600
MIN_CONFIDENCE = 30.0


@functools.lru_cache(maxsize=8)
def available(languages: str) -> bool:
    """Tesseract is on PATH and has every language of ``languages`` ("nor+eng")."""
    if not shutil.which("tesseract"):
        return False
    try:
        import pytesseract

        installed = set(pytesseract.get_languages(config=""))
    except Exception:
        return False
    return all(lang in installed for lang in languages.split("+"))


def render_page(pdf_path: Path, index: int) -> tuple[Any, float]:
    """The page as a PIL image and the scale (pixels per PDF point)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        page = doc[index]
        width, height = page.get_size()
        scale = min(DPI / 72.0, MAX_PIXELS_SIDE / max(width, height, 1.0))
        image = page.render(scale=scale, grayscale=True).to_pil()
        page.close()
        return image, scale
    finally:
        doc.close()


def image_lines(
    image: Any, scale: float, page_no: int, page_size: tuple[float, float], languages: str, timeout_s: float
) -> list[Line]:
    """Tesseract's lines with positions converted back to PDF points."""
    import pytesseract

    data = pytesseract.image_to_data(
        image, lang=languages, config="--psm 3", output_type=pytesseract.Output.DICT, timeout=timeout_s
    )
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, word in enumerate(data["text"]):
        if word and word.strip() and float(data["conf"][i]) >= MIN_CONFIDENCE:
            groups[(data["block_num"][i], data["par_num"][i], data["line_num"][i])].append(i)
    width, height = page_size
    lines: list[Line] = []
    for idx in groups.values():
        idx.sort(key=lambda i: data["left"][i])
        x0 = min(data["left"][i] for i in idx) / scale
        x1 = max(data["left"][i] + data["width"][i] for i in idx) / scale
        top = min(data["top"][i] for i in idx) / scale
        bottom = max(data["top"][i] + data["height"][i] for i in idx) / scale
        text = " ".join(data["text"][i].strip() for i in idx)
        lines.append(
            Line(
                text=text,
                page=page_no,
                x0=x0,
                x1=x1,
                top=top,
                bottom=bottom,
                size=round(max(bottom - top, 1.0), 0),
                ocr=True,
                page_width=width,
                page_height=height,
            )
        )
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    return lines


def ocr_page(
    pdf_path: Path, index: int, page_size: tuple[float, float], languages: str, timeout_s: float
) -> list[Line]:
    image, scale = render_page(pdf_path, index)
    return image_lines(image, scale, index + 1, page_size, languages, timeout_s)
