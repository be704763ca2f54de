"""Hostile input, generated here: every file ends with the right code, in bounded time, in the sandbox.

Reference cycles, compression bombs, deep nesting, a huge paragraph, XXE and billion laughs in Word
files. Each runs through ``extract_in_sandbox`` as the service runs it (a sandboxed worker with an
address-space cap), and each must end well inside the document deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from services.extract.model import (
    CORRUPT,
    NO_TEXT,
    RESOURCE_LIMIT,
    ExtractionError,
    ExtractionResult,
    Limits,
)
from services.extract.sandbox import extract_in_sandbox
from tests.unit.test_extract_errors import raw_pdf, stream

DEADLINE_S = 60.0
LIMITS = Limits(timeout_s=DEADLINE_S, max_memory_mb=1024, ocr_enabled=False)

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "


def _outcome(path: Path, limits: Limits = LIMITS) -> tuple[str, float, ExtractionResult | None]:
    started = time.monotonic()
    try:
        result = extract_in_sandbox(path, limits, path.name)
        return "extracted", time.monotonic() - started, result
    except ExtractionError as exc:
        assert exc.message, "every failure carries a message for people"
        return exc.code, time.monotonic() - started, None


def _pdf(tmp_path: Path, name: str, objects: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(raw_pdf(objects))
    return path


# -- PDF parser loops ---------------------------------------------------------------------------------
def test_contents_reference_cycle_ends_fast_as_corrupt(tmp_path: Path) -> None:
    """A page whose /Contents is 6 -> 7 -> 6: pdfminer's resolver looped until the deadline."""
    path = _pdf(
        tmp_path,
        "cycle.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE + b"/Contents 6 0 R >>",
            _FONT,
            b"<< >>",
            b"7 0 R",
            b"6 0 R",
        ],
    )
    code, seconds, _ = _outcome(path)
    assert code == CORRUPT
    assert seconds <= 10.0, f"a 1-page reference cycle took {seconds:.1f} s"


def test_self_reference_is_a_cycle_too(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path,
        "self.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE + b"/Contents 5 0 R >>",
            _FONT,
            b"5 0 R",
        ],
    )
    code, seconds, _ = _outcome(path)
    assert code == CORRUPT and seconds <= 10.0


def test_a_cycle_next_to_good_text_does_not_hide_it(tmp_path: Path) -> None:
    """The guard cuts only the loop: a resource dictionary with a cycle beside a real content stream."""
    path = _pdf(
        tmp_path,
        "mixed.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE + b"/Contents 5 0 R /Extra 6 0 R >>",
            _FONT,
            stream(b"BT /F1 12 Tf 72 760 Td (Kommunen ber om mer tid til planarbeidet.) Tj ET"),
            b"7 0 R",
            b"6 0 R",
        ],
    )
    code, seconds, result = _outcome(path)
    assert code == "extracted" and seconds <= 10.0
    assert result is not None and "planarbeidet" in " ".join(s.text for s in result.segments)


def test_page_tree_that_contains_itself(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path,
        "tree.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            _PAGE + b"/Contents 5 0 R >>",
            _FONT,
            stream(b"BT /F1 12 Tf 72 760 Td (Fylkeskommunen viser til brevet.) Tj ET"),
        ],
    )
    code, seconds, _ = _outcome(path)
    assert code == "extracted" and seconds <= 10.0


def test_deeply_nested_arrays_do_not_stop_the_text(tmp_path: Path) -> None:
    """200,000 levels of nested arrays beside the page's text: parsed without recursion, the text read."""
    depth = 200_000
    path = _pdf(
        tmp_path,
        "deep.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE + b"/Contents 5 0 R /Annots " + b"[" * depth + b"]" * depth + b" >>",
            _FONT,
            stream(b"BT /F1 12 Tf 72 760 Td (Kommunen ber om tid.) Tj ET"),
        ],
    )
    code, seconds, result = _outcome(path)
    assert code == "extracted" and result is not None, code
    assert "Kommunen ber om tid." in [s.text for s in result.segments]
    assert seconds <= 30.0


def test_deeply_nested_content_references_end_as_corrupt_or_text(tmp_path: Path) -> None:
    """A chain of 10,000 references to references: longer than the guard allows, cut at once."""
    n = 10_000
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        _PAGE + b"/Contents 5 0 R >>",
        _FONT,
    ]
    objects += [b"%d 0 R" % (6 + i) for i in range(n)]  # 5 -> 6 -> ... -> 5 + n
    objects.append(stream(b"BT /F1 12 Tf 72 760 Td (Tekst) Tj ET"))
    path = _pdf(tmp_path, "chain.pdf", objects)
    code, seconds, _ = _outcome(path)
    assert code == CORRUPT and seconds <= 10.0


def test_flate_bomb_content_stream_is_a_resource_limit(tmp_path: Path) -> None:
    """About 1 MB on disk that inflates to 1.5 GB in a 700 MB sandbox."""
    packer = zlib.compressobj(9)
    chunk = b" " * (1 << 24)
    packed = b"".join(packer.compress(chunk) for _ in range(96)) + packer.flush()
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"
    path = _pdf(
        tmp_path,
        "bomb.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE + b"/Contents 5 0 R >>",
            _FONT,
            body,
        ],
    )
    assert path.stat().st_size < 3_000_000
    code, seconds, _ = _outcome(path, Limits(timeout_s=DEADLINE_S, max_memory_mb=700, ocr_enabled=False))
    assert code == RESOURCE_LIMIT
    assert seconds <= 30.0


# -- Word files ---------------------------------------------------------------------------------------
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(path: Path, body: str, prolog: str = "") -> Path:
    xml = f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", xml)
    return path


def _par(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_plain_generated_docx_is_read(tmp_path: Path) -> None:
    """The generator itself makes readable Word files (so the hostile cases below test what they say)."""
    path = _docx(tmp_path / "ok.docx", _par("Kommunen støtter forslaget om felles journal."))
    code, _, result = _outcome(path)
    assert code == "extracted" and result is not None
    assert "felles journal" in result.segments[0].text


def test_xxe_never_reads_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "hemmelig.txt"
    secret.write_text("HEMMELIG-INNHOLD-1234")
    prolog = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    path = _docx(tmp_path / "xxe.docx", _par("Innspill &xxe; slutt.") + _par("Andre avsnitt."), prolog)
    code, seconds, result = _outcome(path)
    assert seconds <= 10.0
    if result is not None:
        assert "HEMMELIG" not in " ".join(s.text for s in result.segments)
    else:
        assert code in (CORRUPT, NO_TEXT)


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    ents = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    path = _docx(tmp_path / "laughs.docx", _par("&l9;"), f"<!DOCTYPE w:document [{ents}]>")
    code, seconds, result = _outcome(path)
    assert seconds <= 10.0
    if result is not None:  # entities left unexpanded: nothing blew up
        assert sum(len(s.text) for s in result.segments) < 100_000
    else:
        assert code in (CORRUPT, NO_TEXT, RESOURCE_LIMIT)


def test_zip_bomb_docx_is_a_resource_limit(tmp_path: Path) -> None:
    """A member that unpacks to 600 MB: refused from its declared size, before unpacking."""
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            block = b" " * (1 << 24)
            for _ in range(36):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    assert path.stat().st_size < 5_000_000
    code, seconds, _ = _outcome(path)
    assert code == RESOURCE_LIMIT and seconds <= 10.0


def test_memory_exhaustion_in_a_docx_is_a_resource_limit(tmp_path: Path) -> None:
    """Under the size guard but over the sandbox's memory: a MemoryError, reported as resource_limit."""
    path = tmp_path / "big.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            row = _par("innspill " * 40).encode()
            for _ in range(400_000 // 10):
                fh.write(row * 10)
            fh.write(b"</w:body></w:document>")
    code, seconds, _ = _outcome(path, Limits(timeout_s=DEADLINE_S, max_memory_mb=500, ocr_enabled=False))
    assert code == RESOURCE_LIMIT, code
    assert seconds <= DEADLINE_S


def huge_paragraph_docx(path: Path, chars: int = 5_000_000) -> Path:
    words = ("helsefellesskap " * (chars // 16 + 1))[:chars]
    return _docx(path, _par("Kort innledning.") + _par(words) + _par("Med vennlig hilsen"))


def test_huge_paragraph_is_extracted_in_bounded_time(tmp_path: Path) -> None:
    """The engine reads it (its output size is the consumer's business: see test_extract_consumer)."""
    path = huge_paragraph_docx(tmp_path / "huge.docx")
    assert path.stat().st_size < 200_000
    code, seconds, result = _outcome(path)
    assert code == "extracted" and result is not None and seconds <= 30.0
    assert max(len(s.text) for s in result.segments) >= 5_000_000 - 1


# -- the sandbox's own process hygiene ------------------------------------------------------------------
_ORPHAN_SCRIPT = """
import sys, time
from pathlib import Path
from services.extract.model import Limits
from services.extract.sandbox import Worker
limits = Limits(timeout_s=300, max_memory_mb=4000, ocr_enabled=False)
w = Worker(limits)
print(w.pid, flush=True)
w.extract(Path(sys.argv[1]), limits)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_sandbox_child_dies_with_its_parent(tmp_path: Path) -> None:
    """kill -9 of the service during a long extraction leaves no worker running on."""
    from tests.unit.test_extract_errors import dense_pdf

    pdf = tmp_path / "slow.pdf"
    pdf.write_bytes(dense_pdf(200_000))
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT, str(pdf)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(2.0)  # the child is busy parsing
        assert _alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the sandbox child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


@pytest.mark.parametrize("n", [1])
def test_worker_answers_stay_json(tmp_path: Path, n: int) -> None:
    """A library that prints to stdout cannot corrupt the answer channel (it goes to stderr)."""
    path = _docx(tmp_path / "ok.docx", _par("print('x') er ikke et svar"))
    code, _, result = _outcome(path)
    assert code == "extracted" and result is not None and len(result.segments) == n
