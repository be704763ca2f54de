"""The store's web UI: letter text is escaped, pages render, login by cookie when a token is set.
Runs on a temporary SQLite file, without a broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.store.app import create_app
from services.store.db import normalise_url
from services.store.web.pages import safe_next
from shared.settings import Settings
from tests.store_events import doc_id, extracted, received, segment

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def _client(tmp_path: Path, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path / "var", api_token=token)
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        app.state.repo.apply(
            [
                received("ond", 0, filename=f"{EVIL}.pdf"),
                extracted("ond", 2, 1, sender=EVIL, title=f"Tittel {EVIL}"),
                segment("ond", 0, 2, text=f"Tekst med {EVIL}", heading_path=[EVIL], label="challenge"),
                segment("ond", 1, 2, text="Vanlig tekst om samhandling.", label="measure"),
            ]
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as c:
            yield c


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(tmp_path):
        yield c


@pytest.fixture
async def locked(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(tmp_path, token="hemmelig"):
        yield c


@pytest.mark.parametrize(
    "path",
    ["/", f"/ui/documents/{doc_id('ond')}", "/ui/segments", "/ui/segments?q=tekst", "/ui/stats"],
)
async def test_pages_escape_letter_text(client: httpx.AsyncClient, path: str) -> None:
    resp = await client.get(path)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "script-src 'self'" in resp.headers["content-security-policy"]


async def test_document_page_shows_segments_by_label(client: httpx.AsyncClient) -> None:
    html = (await client.get(f"/ui/documents/{doc_id('ond')}")).text
    assert 'class="segment seg-challenge"' in html and 'class="segment seg-measure"' in html
    assert "Vanlig tekst om samhandling." in html
    assert f"/export/segments.csv?document_id={doc_id('ond')}" in html


async def test_segment_page_rejects_unknown_label(client: httpx.AsyncClient) -> None:
    resp = await client.get("/ui/segments", params={"label": "<b>nei</b>"})
    assert resp.status_code == 400
    assert "Ugyldig filter" in resp.text and "<b>nei</b>" not in resp.text


async def test_unknown_document_page_is_404(client: httpx.AsyncClient) -> None:
    resp = await client.get("/ui/documents/nope")
    assert resp.status_code == 404 and "Det finnes ikke noe dokument" in resp.text


async def test_static_assets_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/store.css")).status_code == 200
    assert (await client.get("/static/store.js")).status_code == 200


async def test_login_with_token_sets_httponly_cookie(locked: httpx.AsyncClient) -> None:
    page = await locked.get("/ui/stats")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fui%2Fstats"
    assert (await locked.get("/documents")).status_code == 401  # the API answers JSON, not a redirect
    assert (await locked.get("/login")).status_code == 200
    assert (await locked.get("/static/store.css")).status_code == 200

    wrong = await locked.post("/login", data={"token": "feil", "next": "/ui/stats"})
    assert wrong.status_code == 401 and "Tilgangsnøkkelen er feil" in wrong.text
    assert "innspill_session" not in wrong.headers.get("set-cookie", "")

    ok = await locked.post("/login", data={"token": "hemmelig", "next": "/ui/stats"})
    assert ok.status_code == 303 and ok.headers["location"] == "/ui/stats"
    cookie = ok.headers["set-cookie"].lower()
    assert cookie.startswith("innspill_session=") and "httponly" in cookie and "samesite=strict" in cookie
    assert "hemmelig" not in cookie  # a signed session, never the token itself

    assert (await locked.get("/ui/stats")).status_code == 200  # httpx keeps the cookie
    assert (await locked.get("/documents")).status_code == 200

    out = await locked.post("/logout")
    assert out.status_code == 303
    locked.cookies.clear()
    assert (await locked.get("/")).status_code == 303


async def test_login_refuses_open_redirect(locked: httpx.AsyncClient) -> None:
    ok = await locked.post("/login", data={"token": "hemmelig", "next": "//evil.example/"})
    assert ok.headers["location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/"),
        ("/ui/stats?x=1", "/ui/stats?x=1"),
        ("https://evil.example", "/"),
        ("//evil", "/"),
        ("/\\evil", "/"),
        ("ui", "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///var/innspill.db", "sqlite:///var/innspill.db"),
    ],
)
def test_database_url_mapping(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


async def test_pages_are_norwegian(client: httpx.AsyncClient) -> None:
    for path in ("/", f"/ui/documents/{doc_id('ond')}", "/ui/segments", "/ui/stats", "/ui/upload"):
        html = (await client.get(path)).text
        assert '<html lang="nb">' in html and 'href="#innhold"' in html, path
        assert ">Dokumenter<" in html and ">Last opp<" in html
    seg = (await client.get("/ui/segments")).text
    assert "utfordring" in seg and "tiltak" in seg and 'aria-pressed="false"' in seg
    doc = (await client.get(f"/ui/documents/{doc_id('ond')}")).text
    assert f"/documents/{doc_id('ond')}/file#page=" in doc and "Kopier kildehenvisning" in doc


async def test_other_is_hidden_by_default_in_segment_list(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        app.state.repo.apply(
            [
                received("brev", 0),
                extracted("brev", 2, 1, sender="Lom kommune"),
                segment("brev", 0, 2, text="Med vennlig hilsen Lom kommune", label="other"),
                segment("brev", 1, 2, text="Vi foreslår felles legevakt.", label="measure"),
            ]
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as c:
            hidden = (await c.get("/ui/segments")).text
            assert "felles legevakt" in hidden and "Med vennlig hilsen" not in hidden
            assert "1 segment (uten «annet»)" in hidden and "hide_other=true" in hidden
            shown = (await c.get("/ui/segments", params={"annet": "vis"})).text
            assert "Med vennlig hilsen" in shown and 'aria-pressed="true"' in shown


async def test_upload_forward_answers_clearly_when_ingest_is_down(tmp_path: Path) -> None:
    from tools.cli.broker import free_port

    settings = Settings(
        data_dir=tmp_path / "var", ingest_url=f"http://127.0.0.1:{free_port()}", max_upload_bytes=1000
    )
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as c:
            files = {"file": ("brev.pdf", b"%PDF-1.4 hei", "application/pdf")}
            down = await c.post("/ui/upload", files=files)
            assert down.status_code == 503 and down.json()["error"] == "ingest_unavailable"
            big = await c.post("/ui/upload", files={"file": ("stor.pdf", b"x" * 70_000, "application/pdf")})
            assert big.status_code == 413 and big.json()["error"] == "too_large"
            plain = await c.post("/ui/upload", content=b"hei", headers={"content-type": "text/plain"})
            assert plain.status_code == 415


async def test_exports_are_norwegian_with_telling_file_names(client: httpx.AsyncClient) -> None:
    import io

    from openpyxl import load_workbook

    resp = await client.get("/export/segments.xlsx", params={"label": "measure"})
    disposition = resp.headers["content-disposition"]
    assert "innspill-tiltak-" in disposition and disposition.endswith('.xlsx"')
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Avsender", "Avsendertype", "Tittel", "Dato"] and "Kildehenvisning" in header
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["H"].width == 70
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["Kategori"] == "tiltak" and str(row["Lenke"]).endswith("#s1")
    assert ws.cell(row=2, column=header.index("Tekst") + 1).alignment.wrap_text
    en = await client.get("/export/segments.csv", params={"lang": "en"})
    assert en.content.decode("utf-8-sig").startswith("document_id,")
    nb = await client.get("/export/segments.csv")
    assert nb.content.decode("utf-8-sig").startswith("Dokument-id,")


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        ("extracted", "2 pages, 16 segments", "2 sider, 16 segmenter"),
        ("extracted", "1 page, 1 segment", "1 side, 1 segment"),
        ("received", "brev.pdf (2048 bytes, via http)", "brev.pdf (2,0 kB, via opplasting)"),
        ("received", "a (b) (12 bytes, via replay)", "a (b) (12 B, via ny kjøring)"),
        ("classified", "3 of 4 segments classified", "3 av 4 segmenter klassifisert"),
        ("failed", "extract: timeout: took too long", "uttrekk: timeout: took too long"),
        ("failed", "elsewhere: x", "elsewhere: x"),
        ("extracted", "something else", "something else"),
        ("received", None, ""),
    ],
)
def test_history_details_are_shown_in_norwegian(status: str, detail: str | None, expected: str) -> None:
    from services.store.web.norwegian import history_detail

    assert history_detail(status, detail) == expected


async def test_document_history_is_norwegian(client: httpx.AsyncClient) -> None:
    html = (await client.get(f"/ui/documents/{doc_id('ond')}")).text
    assert "3 sider, 2 segmenter" in html and "2 av 2 segmenter klassifisert" in html
    assert " pages, " not in html and "segments classified" not in html and " bytes, via " not in html


def test_review_script_names_labels_in_norwegian() -> None:
    """After a correction the card's badge is rewritten by static/review.js: with the Norwegian name."""
    js = (Path(__file__).resolve().parents[2] / "services/store/web/static/review.js").read_text("utf-8")
    assert "badge.textContent = NAMES[seg.label]" in js and "badge.textContent = seg.label;" not in js
