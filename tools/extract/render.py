"""Render plain text to PDF the way an office suite would: one text line per PDF line, a running
letterhead at the top and "Side X av Y" at the foot of every page.

Used by the fidelity and benchmark scripts. LibreOffice (headless) is preferred because its PDFs look
like real letters; reportlab is the fallback where LibreOffice is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

#: Opening of a flat ODT document (the namespaces every renderer here uses).
ODF_OPEN = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
"""


def odf_page_layout(side: str, header_gap: str) -> str:
    """An A4 page layout named ``pm1`` with header and footer areas, for a flat ODT's automatic styles."""
    return f"""  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="1.2cm"
    fo:margin-bottom="1.2cm" fo:margin-left="{side}" fo:margin-right="{side}"/>
   <style:header-style><style:header-footer-properties fo:min-height="0cm" fo:margin-bottom="{header_gap}"/>
   </style:header-style>
   <style:footer-style><style:header-footer-properties fo:min-height="0cm" fo:margin-top="0.6cm"/>
   </style:footer-style>
  </style:page-layout>
"""


_FODT_HEAD = (
    ODF_OPEN
    + """ <office:font-face-decls>
  <style:font-face style:name="Liberation Serif" svg:font-family="'Liberation Serif'"
   style:font-family-generic="roman"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0cm"/>
   <style:text-properties style:font-name="Liberation Serif" fo:font-size="11pt" fo:language="nb"
    fo:country="NO" fo:hyphenate="false"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph"/>
  <style:style style:name="Header" style:family="paragraph">
   <style:text-properties fo:font-size="9pt"/>
  </style:style>
  <style:style style:name="Footer" style:family="paragraph">
   <style:paragraph-properties fo:text-align="center"/>
   <style:text-properties fo:font-size="9pt"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
"""
    + odf_page_layout("2cm", "0.6cm")
    + """ </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">
   <style:header><text:p text:style-name="Header">{letterhead}</text:p></style:header>
   <style:footer><text:p text:style-name="Footer">Side <text:page-number text:select-page="current"/> av
 <text:page-count/></text:p></style:footer>
  </style:master-page>
 </office:master-styles>
 <office:body><office:text>
"""
)
_FODT_TAIL = " </office:text></office:body>\n</office:document>\n"


def _odf_line(text: str) -> str:
    """One paragraph; spaces kept as ODF space elements so leading and repeated spaces survive."""
    out: list[str] = []
    for ch in text.rstrip("\n"):
        if ch == " ":
            out.append("<text:s/>")
        elif ch == "\t":
            out.append("<text:tab/>")
        else:
            out.append(escape(ch))
    return f'  <text:p text:style-name="Standard">{"".join(out)}</text:p>\n'


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


#: Documents per LibreOffice run. One run over ~250 letters was seen to end without writing the last few
#: PDFs (no error, no output); runs of this size have not shown it.
LO_CHUNK = 60


def fodt_to_pdf(documents: dict[str, str], out_dir: Path, timeout_s: float = 300) -> dict[str, Path]:
    """Convert flat ODT documents (name -> XML) to ``out_dir/<name>.pdf`` with headless LibreOffice, in
    runs of ``LO_CHUNK`` documents with a private profile each (parallel runs do not collide); a document
    a run left out is converted once more on its own. Returns name -> PDF path."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in documents:
        (out_dir / f"{name}.pdf").unlink(missing_ok=True)  # so a stale PDF cannot hide a failed one
    names = sorted(documents)
    for i in range(0, len(names), LO_CHUNK):
        _soffice_run(exe, {n: documents[n] for n in names[i : i + LO_CHUNK]}, out_dir, timeout_s)
    for name in [n for n in names if not (out_dir / f"{n}.pdf").is_file()]:
        _soffice_run(exe, {name: documents[name]}, out_dir, timeout_s)
    missing = [name for name in documents if not (out_dir / f"{name}.pdf").is_file()]
    if missing:
        raise RuntimeError(f"LibreOffice wrote no PDF for {missing}")
    return {name: out_dir / f"{name}.pdf" for name in documents}


def _soffice_run(exe: str, documents: dict[str, str], out_dir: Path, timeout_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="innspill-lo-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name, xml in documents.items():
            (src / f"{name}.fodt").write_text(xml, encoding="utf-8")
        subprocess.run(
            [
                exe,
                f"-env:UserInstallation=file://{Path(tmp) / 'profile'}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                *sorted(str(p) for p in src.glob("*.fodt")),
            ],
            check=True,
            capture_output=True,
            timeout=timeout_s,
            env={**os.environ, "HOME": tmp},
        )


def render_with_libreoffice(docs: dict[str, tuple[list[str], str]], out_dir: Path) -> dict[str, Path]:
    """Render several documents in one LibreOffice run: name -> (lines, letterhead)."""
    return fodt_to_pdf(
        {
            name: _FODT_HEAD.format(letterhead=escape(letterhead))
            + "".join(_odf_line(ln) for ln in lines)
            + _FODT_TAIL
            for name, (lines, letterhead) in docs.items()
        },
        out_dir,
    )


def _font() -> str:
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for candidate in (
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
        str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"),
    ):
        if Path(candidate).is_file():
            if "TextSerif" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("TextSerif", candidate))
            return "TextSerif"
    return "Times-Roman"


def render_with_reportlab(lines: list[str], letterhead: str, out: Path) -> Path:
    """Fallback renderer: same layout, long lines wrapped at the right margin."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    font = _font()
    width, height = A4
    left, right, top, bottom = 2 * cm, width - 2 * cm, height - 2.1 * cm, 2.1 * cm
    pitch = 12.7
    wrapped: list[str] = []
    for line in lines:
        words, cur = line.rstrip("\n").split(" "), ""
        for w in words:
            trial = f"{cur} {w}" if cur else w
            if cur and stringWidth(trial, font, 11) > right - left:
                wrapped.append(cur)
                cur = w
            else:
                cur = trial
        wrapped.append(cur)
    per_page = int((top - bottom) // pitch)
    pages = [wrapped[i : i + per_page] for i in range(0, len(wrapped), per_page)] or [[]]
    c = canvas.Canvas(str(out), pagesize=A4)
    for n, page in enumerate(pages, start=1):
        c.setFont(font, 9)
        c.drawString(left, height - 1.2 * cm - 9, letterhead)
        c.drawCentredString(width / 2, 1.2 * cm, f"Side {n} av {len(pages)}")
        c.setFont(font, 11)
        y = top
        for line in page:
            c.drawString(left, y, line)
            y -= pitch
        c.showPage()
    c.save()
    return out


def render_texts(
    docs: dict[str, tuple[list[str], str]], out_dir: Path, engine: str = "auto"
) -> tuple[str, dict[str, Path]]:
    """Render every document; returns the engine used ("libreoffice" or "reportlab") and the PDF paths."""
    if engine in ("auto", "libreoffice") and soffice():
        try:
            return "libreoffice", render_with_libreoffice(docs, out_dir)
        except (subprocess.SubprocessError, OSError) as exc:
            if engine == "libreoffice":
                raise
            print(f"LibreOffice failed ({exc!r}); falling back to reportlab")
    out_dir.mkdir(parents=True, exist_ok=True)
    return "reportlab", {
        name: render_with_reportlab(lines, head, out_dir / f"{name}.pdf")
        for name, (lines, head) in docs.items()
    }
