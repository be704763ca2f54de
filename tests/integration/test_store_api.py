"""The store's HTTP API and exports on SQLite and PostgreSQL (no broker needed: data goes in through the
repository, as the agents would write it)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from services.store.app import create_app
from shared.settings import Settings
from tests.store_events import doc_id, extracted, failed, received, segment

pytestmark = pytest.mark.integration

NASTY = '=HYPERLINK("http://evil.example","klikk")'


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        app.state.repo.apply(
            [
                received("Åsnes", 0),
                extracted("Åsnes", 3, 1, sender="Åsnes kommune", title="Innspill til planen"),
                segment(
                    "Åsnes", 0, 3, label="other", text="Innspill til Nasjonal helse- og samhandlingsplan"
                ),
                segment(
                    "Åsnes",
                    1,
                    3,
                    label="challenge",
                    text="Det er krevende å rekruttere sykepleiere.",
                    heading_path=["Utfordringer", "Bemanning"],
                ),
                segment("Åsnes", 2, 3, label="measure", text=NASTY),
                received("Lom", 5),
                extracted("Lom", 2, 6, sender="Lom kommune"),
                segment("Lom", 0, 2, label="example", text="-Prosjektet er etablert og fungerer godt."),
                received("Vik", 7),
                failed("Vik", 8, stage="extract", code="encrypted_pdf"),
                received("Ål", 3),
                failed("Ål", 4, stage="extract", code="timeout"),
                extracted("Ål", 0, 9),
            ]
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as c:
            yield c


async def test_document_list_and_filters(client: httpx.AsyncClient) -> None:
    body = (await client.get("/documents")).json()
    assert body["total"] == 4
    assert [d["id"] for d in body["items"]] == [doc_id("Vik"), doc_id("Lom"), doc_id("Ål"), doc_id("Åsnes")]
    by_id = {d["id"]: d for d in body["items"]}
    assert by_id[doc_id("Åsnes")]["status"] == "classified"
    assert by_id[doc_id("Åsnes")]["counts"]["labels"] == {
        "challenge": 1,
        "measure": 1,
        "example": 0,
        "other": 1,
    }
    assert by_id[doc_id("Lom")]["status"] == "extracted"
    assert by_id[doc_id("Vik")]["status"] == "failed"
    assert by_id[doc_id("Vik")]["error"]["code"] == "encrypted_pdf"
    # Re-extracted after its failure (with nothing to classify): not an error any more.
    assert by_id[doc_id("Ål")]["status"] == "classified" and by_id[doc_id("Ål")]["error"] is None

    assert (await client.get("/documents", params={"status": "failed"})).json()["total"] == 1
    assert (await client.get("/documents", params={"sender": "Lom kommune"})).json()["total"] == 1
    assert (await client.get("/documents", params={"q": "PLANEN"})).json()["total"] == 1
    page = (await client.get("/documents", params={"limit": 1, "offset": 1})).json()
    assert page["total"] == 4 and [d["id"] for d in page["items"]] == [doc_id("Lom")]

    bad = await client.get("/documents", params={"status": "done"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"


async def test_document_detail_and_unknown_id(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/documents/{doc_id('Åsnes')}")).json()
    assert body["status"] == "classified" and body["error"] is None
    assert body["metadata"] == {
        "sender": "Åsnes kommune",
        "date": "1. mars 2025",
        "title": "Innspill til planen",
        "page_count": 3,
        "sender_kind": "ukjent",
        "corrected": None,
        "model": None,
    }
    assert body["counts"]["segments"] == 3 and body["counts"]["classified"] == 3
    segs = body["segments"]
    assert [s["seq"] for s in segs] == [0, 1, 2]
    assert segs[1]["label"] == "challenge" and segs[1]["heading_path"] == ["Utfordringer", "Bemanning"]
    assert set(segs[1]["scores"]) == {"challenge", "measure", "example", "other"}
    assert segs[1]["model_version"] == "m-1" and segs[1]["page"] == 1
    assert [h["status"] for h in body["history"]] == ["received", "extracted", "classified"]

    missing = await client.get("/documents/does-not-exist")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found" and "does-not-exist" in missing.json()["detail"]


async def test_segment_search(client: httpx.AsyncClient) -> None:
    body = (await client.get("/segments", params={"q": "KREVENDE"})).json()
    assert body["total"] == 1 and body["items"][0]["sender"] == "Åsnes kommune"
    assert (await client.get("/segments", params={"q": "bemanning"})).json()["total"] == 1  # heading path
    assert (await client.get("/segments", params={"label": "measure"})).json()["total"] == 1
    assert (await client.get("/segments", params={"sender": "Lom kommune"})).json()["total"] == 1
    assert (await client.get("/segments", params={"document_id": doc_id("Åsnes")})).json()["total"] == 3
    both = (await client.get("/segments", params={"label": "example", "sender": "Åsnes kommune"})).json()
    assert both == {"total": 0, "limit": 50, "offset": 0, "items": []}

    bad = await client.get("/segments", params={"label": "problem"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_filter" and "label" in bad.json()["detail"]
    assert (await client.get("/segments", params={"limit": 0})).status_code == 422


async def test_stats(client: httpx.AsyncClient) -> None:
    body = (await client.get("/stats")).json()
    assert body["labels"] == {"challenge": 1, "measure": 1, "example": 1, "other": 1}
    assert body["documents_by_status"] == {"received": 0, "extracted": 1, "classified": 2, "failed": 1}
    per_doc = {d["id"]: d for d in body["documents"]}
    assert per_doc[doc_id("Lom")]["labels"]["example"] == 1
    assert per_doc[doc_id("Åsnes")]["filename"] == "Åsnes.pdf"


async def test_csv_export_is_excel_friendly_and_inert(client: httpx.AsyncClient) -> None:
    resp = await client.get("/export/segments.csv", params={"lang": "en"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    raw = resp.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4
    texts = {r["text"] for r in rows}
    assert "'" + NASTY in texts and "'-Prosjektet er etablert og fungerer godt." in texts
    assert {r["sender"] for r in rows} == {"Åsnes kommune", "Lom kommune"}
    challenge = next(r for r in rows if r["label"] == "challenge")
    assert (
        challenge["heading_path"] == "Utfordringer > Bemanning"
        and float(challenge["score_challenge"]) == 0.85
    )

    filtered = await client.get(
        "/export/segments.csv", params={"label": "measure", "sender": "Åsnes kommune"}
    )
    assert len(list(csv.DictReader(io.StringIO(filtered.content.decode("utf-8-sig"))))) == 1
    assert (await client.get("/export/segments.csv", params={"label": "x"})).status_code == 422


async def test_xlsx_export_has_no_formulas(client: httpx.AsyncClient) -> None:
    resp = await client.get("/export/segments.xlsx", params={"document_id": doc_id("Åsnes"), "lang": "en"})
    assert resp.status_code == 200 and "spreadsheetml" in resp.headers["content-type"]
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == 3
    text_col = header.index("text")
    assert ("'" + NASTY) in [r[text_col] for r in data]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value!r}"


async def test_query_without_words_is_no_text_filter_everywhere(client: httpx.AsyncClient) -> None:
    """«%» has no word to search for: the API, the exports and the UI all treat it as no search (same rows as
    without q), the export's file name does not mention it, and the UI says why it shows everything."""
    everything = (await client.get("/segments")).json()["total"]
    for q in ("%", " * ", "?!"):
        body = (await client.get("/segments", params={"q": q})).json()
        assert body["total"] == everything == 4, q
    assert (await client.get("/segments", params={"q": "% krevende"})).json()["total"] == 1
    resp = await client.get("/export/segments.csv", params={"q": "%", "lang": "en"})
    assert len(list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))) == everything
    unfiltered = await client.get("/export/segments.csv", params={"lang": "en"})
    assert resp.headers["content-disposition"] == unfiltered.headers["content-disposition"]
    page = await client.get("/ui/segments", params={"q": "%", "annet": "vis"})
    assert page.status_code == 200
    assert "inneholder ingen ord" in page.text and f"{everything} segmenter" in page.text
    plain = await client.get("/ui/segments", params={"q": "krevende"})
    assert "inneholder ingen ord" not in plain.text and "1 segment" in plain.text
