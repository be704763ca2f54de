"""Every way a document can fail gets its own error code, and the sandbox bounds time and memory."""

from __future__ import annotations

import gzip
import io
import pickle
import zlib
from pathlib import Path

import pytest

from services.extract.engine import PDFMINER_MIN, check_pdfminer, extract_document
from services.extract.model import (
    CORRUPT,
    ENCRYPTED,
    NO_TEXT,
    RESOURCE_LIMIT,
    TIMEOUT,
    TOO_MANY_PAGES,
    UNSUPPORTED_TYPE,
    ExtractionError,
    Limits,
)
from services.extract.sandbox import extract_in_sandbox
from tools.extract import samples


def _code(path: Path, limits: Limits | None = None, **kw: str) -> str:
    with pytest.raises(ExtractionError) as info:
        extract_document(path, limits or Limits(ocr_enabled=False), **kw)
    assert info.value.message, "every failure carries a message for people"
    return info.value.code


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct cross-reference table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def stream(data: bytes) -> bytes:
    packed = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


def dense_pdf(n_chars: int) -> bytes:
    """One page with ``n_chars`` separately placed characters: slow and memory-hungry to parse."""
    ops = (
        b"BT /F1 6 Tf "
        + b"".join(
            b"1 0 0 1 %d %d Tm (x) Tj " % (10 + (i % 90) * 6, 10 + (i // 90) % 130 * 6)
            for i in range(n_chars)
        )
        + b"ET"
    )
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            (
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                b"/Contents 5 0 R >>"
            ),
            stream(ops),
        ]
    )


def image_only_pdf(path: Path) -> Path:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("L", (400, 300), 200)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    c = canvas.Canvas(str(path))
    c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 50, 400, width=400, height=300)
    c.save()
    return path


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = samples.letter_pdf(tmp_path / "plain.pdf")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="hemmelig", owner_password="eier", algorithm="AES-256")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as fh:
        writer.write(fh)
    assert _code(locked) == ENCRYPTED


@pytest.mark.parametrize(
    "content", [b"", b"oops", b"%PDF-1.7\n1 0 obj << /Type /Catalog", b"%PDF-1.4\n" + b"\x00" * 500]
)
def test_broken_pdfs_are_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    assert _code(path, filename="broken.pdf") == CORRUPT


def test_unknown_type_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("bare tekst, ikke PDF")
    assert _code(path, filename="notes.txt", content_type="text/plain") == UNSUPPORTED_TYPE


def test_image_only_pdf_without_ocr_is_no_text(tmp_path: Path) -> None:
    assert _code(image_only_pdf(tmp_path / "scan.pdf"), Limits(ocr_enabled=False)) == NO_TEXT


def test_page_limit(tmp_path: Path) -> None:
    pdf = samples.letter_pdf(tmp_path / "l.pdf")
    assert _code(pdf, Limits(max_pages=1, ocr_enabled=False)) == TOO_MANY_PAGES


def test_sandbox_returns_the_same_result_as_the_engine(tmp_path: Path) -> None:
    pdf = samples.letter_pdf(tmp_path / "l.pdf")
    direct = extract_document(pdf, Limits(ocr_enabled=False))
    boxed = extract_in_sandbox(pdf, Limits(ocr_enabled=False, timeout_s=60))
    assert boxed.segments == direct.segments and boxed.metadata == direct.metadata


def test_sandbox_reports_engine_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(b"oops")
    with pytest.raises(ExtractionError) as info:
        extract_in_sandbox(path, Limits(timeout_s=60), filename="x.pdf")
    assert info.value.code == CORRUPT


def test_sandbox_stops_a_slow_document(tmp_path: Path) -> None:
    path = tmp_path / "dense.pdf"
    path.write_bytes(dense_pdf(200_000))
    with pytest.raises(ExtractionError) as info:
        extract_in_sandbox(path, Limits(timeout_s=2, max_memory_mb=4000))
    assert info.value.code == TIMEOUT


def test_sandbox_caps_memory(tmp_path: Path) -> None:
    path = tmp_path / "dense.pdf"
    path.write_bytes(dense_pdf(120_000))
    with pytest.raises(ExtractionError) as info:
        extract_in_sandbox(path, Limits(timeout_s=120, max_memory_mb=200))
    assert info.value.code == RESOURCE_LIMIT
    # The same worker process goes on with the next document.
    ok = extract_in_sandbox(samples.letter_pdf(tmp_path / "l.pdf"), Limits(ocr_enabled=False, timeout_s=60))
    assert ok.segments


class _Payload:
    """Unpickling this writes a marker file: proof that a pickle from the PDF was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]  # a test double
        return (Path.write_text, (self.marker, "pickle from a PDF was executed"))


def test_pickled_cmap_named_by_a_pdf_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CVE-2025-64512: old pdfminer.six loaded ``<name>.pickle.gz`` for a CMap name taken from the PDF."""
    check_pdfminer()
    from importlib.metadata import version

    assert int(version("pdfminer.six").split(".")[0]) >= PDFMINER_MIN
    marker = tmp_path / "pwned.txt"
    evil_dir = tmp_path / "cmaps"
    evil_dir.mkdir()
    with gzip.open(evil_dir / "evil.pickle.gz", "wb") as fh:
        fh.write(pickle.dumps(_Payload(marker)))
    # The CMap name is an absolute path (PDF name escapes: #2F is "/").
    cmap_name = (str(evil_dir / "evil")).replace("/", "#2F").encode()
    content = (
        b"BT /F1 12 Tf 72 760 Td (Dette er et brev fra kommunen.) Tj ET BT /F2 12 Tf 72 700 Td <0041> Tj ET"
    )
    pdf = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 7 0 R >>"
            ),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Font /Subtype /Type0 /BaseFont /Evil /Encoding /"
            + cmap_name
            + b" /DescendantFonts [6 0 R] >>",
            (
                b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Evil "
                b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>"
            ),
            stream(content),
        ]
    )
    path = tmp_path / "cmap.pdf"
    path.write_bytes(pdf)
    # Refusing the CMap costs only that font's glyphs: the rest of the letter is read, no error.
    result = extract_in_sandbox(path, Limits(timeout_s=60, ocr_enabled=False))
    assert [s.text for s in result.segments] == ["Dette er et brev fra kommunen."]
    assert not marker.exists(), "the pickled CMap was loaded"
    # In-process as well, watching pdfminer: it is asked for exactly that CMap and refuses it.
    from pdfminer.cmapdb import CMapDB

    asked: list[tuple[str, str]] = []
    original = CMapDB._load_data.__func__  # type: ignore[attr-defined]  # a private library attribute the test spies on

    def spy(cls, name):  # type: ignore[no-untyped-def]  # a test double
        try:
            return original(cls, name)
        except CMapDB.CMapNotFound:
            asked.append((name, "refused"))
            raise

    monkeypatch.setattr(CMapDB, "_load_data", classmethod(spy))
    monkeypatch.setattr(CMapDB, "_cmap_cache", {})
    direct = extract_document(path, Limits(ocr_enabled=False))
    assert [s.text for s in direct.segments] == ["Dette er et brev fra kommunen."]
    assert (str(evil_dir / "evil"), "refused") in asked
    assert not marker.exists()
