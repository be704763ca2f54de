from pathlib import Path

import pytest

from services.ingest.validation import RejectedUpload, sanitize_filename, sniff_content_type
from shared.filetypes import DOCX, PDF


def test_pdf_is_recognised_by_magic_number(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"%PDF-1.7\n...")
    assert sniff_content_type(p.read_bytes(), p) == PDF


def test_docx_is_recognised_by_its_zip_directory(tmp_path: Path) -> None:
    import docx

    p = tmp_path / "brev.docx"
    d = docx.Document()
    d.add_paragraph("Kommunen mangler sykepleiere.")
    d.save(str(p))
    assert sniff_content_type(p.read_bytes()[:1024], p) == DOCX


@pytest.mark.parametrize("head", [b"hello world", b"\x89PNG\r\n", b"<html><script>"])
def test_other_bytes_are_415(tmp_path: Path, head: bytes) -> None:
    p = tmp_path / "x"
    p.write_bytes(head)
    with pytest.raises(RejectedUpload) as err:
        sniff_content_type(head, p)
    assert err.value.status == 415 and err.value.error == "unsupported_type"


def test_plain_zip_is_not_a_word_file(tmp_path: Path) -> None:
    import zipfile

    p = tmp_path / "a.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.txt", "x")
    with pytest.raises(RejectedUpload):
        sniff_content_type(p.read_bytes()[:1024], p)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ola\\brev.pdf", "brev.pdf"),
        ("innspill fra Ås kommune.pdf", "innspill fra Ås kommune.pdf"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("", "document"),
        ("...", "document"),
        ("<script>.pdf", "_script_.pdf"),
    ],
)
def test_filenames_are_sanitised(raw: str, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_long_filenames_are_capped() -> None:
    assert len(sanitize_filename("x" * 1000 + ".pdf")) == 200
