"""The analyst's workbench in a real browser over the running system: upload through the UI, search with an
inflected form, filters, the letter and its original PDF at a page, the XLSX export, accessibility (axe-core,
WCAG 2.1 A/AA) and layout at 390 and 1400 px, with screenshots for a human to look at."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.letters import letter_pdf_bytes
from tools.cli.stack import Stack

pytestmark = pytest.mark.timeout(300)

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def page(browser: Any, stack: Stack) -> Any:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="nb-NO", accept_downloads=True
    )
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def test_upload_two_letters_and_see_them_classified(page: Any, stack: Stack, tmp_path: Path) -> None:
    base = stack.url("store")
    files = []
    for n in (1, 2):
        path = tmp_path / f"brev-{n}.pdf"
        path.write_bytes(letter_pdf_bytes(tmp_path, f"kilde-{n}.pdf", variant=500 + n))
        files.append(path)
    empty = tmp_path / "tom.pdf"
    empty.write_bytes(b"")
    notes = tmp_path / "notater.txt"
    notes.write_text("bare tekst", encoding="utf-8")

    page.goto(f"{base}/ui/upload")
    assert page.locator("h1").inner_text() == "Last opp brev"
    page.set_input_files("#file-input", [str(p) for p in (*files, empty, notes)])
    done = page.locator("#upload-list li[data-status=classified]")
    done.nth(1).wait_for(timeout=150_000)
    assert done.count() == 2
    refused = page.locator("#upload-list li.is-failed").all_inner_texts()
    assert any("Filen er tom." in t for t in refused), refused
    assert any("Filtypen støttes ikke" in t for t in refused), refused
    assert page.locator("progress.upload-bar").first.evaluate("e => e.value") == 100

    page.set_input_files("#file-input", [str(files[0])])
    page.locator("#upload-list li.is-duplicate").first.wait_for()
    assert "duplikat" in page.locator("#upload-list li.is-duplicate").first.inner_text().lower()
    # The new letters show in the list of recent letters, classified.
    page.locator("#recent li .status-classified").first.wait_for()
    docs = httpx.get(f"{base}/documents", timeout=10).json()["items"]
    STATE["doc_id"] = next(d["id"] for d in docs if d["status"] == "classified")


def test_search_with_an_inflected_form(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.url('store')}/ui/segments?q=sykepleieren&annet=vis")
    count = page.locator(".result-count").inner_text()
    assert not count.startswith("0 "), count
    marks = [m.lower() for m in page.locator("ol.segments mark").all_inner_texts()]
    assert marks and all(m.startswith("sykepleier") for m in marks), marks
    assert "sykepleieren" not in marks  # other forms of the word were found


def test_filter_by_label_and_theme(page: Any, stack: Stack) -> None:
    base = stack.url("store")
    page.goto(f"{base}/ui/segments")
    assert page.locator("ol.segments li[data-label=other]").count() == 0  # «annet» hidden by default
    toggle = page.locator("a.toggle-other")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.wait_for_url("**annet=vis**")
    assert page.locator("a.toggle-other").get_attribute("aria-pressed") == "true"
    assert page.locator("ol.segments li[data-label=other]").count() > 0

    page.select_option("select[name=label]", "measure")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**label=measure**")
    labels = page.locator("ol.segments > li").evaluate_all("els => els.map(e => e.dataset.label)")
    assert labels and set(labels) == {"measure"}

    hits = httpx.get(f"{base}/segments", params={"limit": 200}, timeout=10).json()["items"]
    themed = [t["id"] for h in hits for t in h.get("themes") or []]
    if not themed:
        pytest.skip("the classifier gave these letters no themes")
    theme = max(set(themed), key=themed.count)
    page.goto(f"{base}/ui/segments?annet=vis")
    page.select_option("select[name=theme]", theme)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**theme={theme}**")
    shown = page.locator("ol.segments > li").count()
    assert shown == min(50, themed.count(theme))


def test_open_letter_and_original_pdf_at_page(page: Any, stack: Stack) -> None:
    base = stack.url("store")
    page.goto(f"{base}/")
    page.locator("table.docs a", has_text="Innspill").first.click()
    page.wait_for_url("**/ui/documents/**")
    assert page.locator("ol.segments li.compact").count() >= 1  # letterhead / signature lines, one line each
    link = page.locator("ol.segments li:not(.compact) a.pdf-link").last
    href = link.get_attribute("href") or ""
    assert "/file#page=" in href
    page_no = int(href.rsplit("=", 1)[1])
    assert page_no >= 1
    resp = page.request.get(base + href.split("#")[0])
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.body().startswith(b"%PDF")
    cite = page.locator("ol.segments li:not(.compact) button.copy-cite").last
    assert cite.get_attribute("data-citation").endswith(f"s. {page_no}")
    cite.click()
    assert page.locator(".copy-status").filter(has_text="Kopier").count() >= 0  # no error thrown


def test_export_xlsx(page: Any, stack: Stack) -> None:
    from openpyxl import load_workbook

    page.goto(f"{stack.url('store')}/ui/segments?label=measure")
    with page.expect_download() as info:
        page.locator(".exports a", has_text="Excel").click()
    download = info.value
    assert download.suggested_filename.startswith("innspill-tiltak-")
    assert download.suggested_filename.endswith(".xlsx")
    ws = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    header = [c.value for c in ws[1]]
    assert {"Avsender", "Tittel", "Dato", "Avsendertype", "Tema", "Kildehenvisning", "Lenke"} <= set(header)
    assert ws.max_row >= 2 and ws.freeze_panes == "A2" and ws.auto_filter.ref


def _pages(base: str) -> list[str]:
    doc = STATE.get("doc_id")
    pages = ["/", "/ui/segments", "/ui/segments?q=sykepleiere&annet=vis", "/ui/stats", "/ui/upload"]
    pages += ["/ui/themes", "/ui/themes/samhandling", "/ui/themes/samhandling?min_senders=1"]
    pages += ["/ui/review", "/ui/documents/finnes-ikke"]
    if doc:
        pages.append(f"/ui/documents/{doc}")
    return [base + p for p in pages]


@pytest.mark.parametrize("width", [1400, 390])
def test_accessibility_and_layout(
    browser: Any, stack: Stack, axe_source: str | None, shots: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="nb-NO", bypass_csp=True)
    pg = context.new_page()
    problems: list[str] = []
    try:
        for url in _pages(stack.url("store")):
            pg.goto(url)
            pg.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
            name = (
                url.split("//", 1)[1].split("/", 1)[1].replace("/", "_").replace("?", "_").replace("&", "_")
            )
            pg.screenshot(path=str(shots / f"{width}-{name or 'dokumenter'}.png"), full_page=True)
            assert pg.locator("html").get_attribute("lang") == "nb"
            overflow = pg.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                problems.append(f"{url} at {width}px: {overflow}px horizontal overflow")
            if axe_source is None:
                continue
            pg.add_script_tag(content=axe_source)
            result = pg.evaluate(
                "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
            )
            for v in result["violations"]:
                targets = [n["target"] for n in v["nodes"]][:3]
                problems.append(f"{url} at {width}px: {v['id']} ({v['impact']}): {v['help']} {targets}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    if axe_source is None:
        pytest.skip(
            "axe-core not installed (npm install --prefix tests/browser axe-core): layout checked only"
        )


def test_skip_link_and_keyboard(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.url('store')}/ui/segments")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Hopp til innholdet"
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#innhold"
    outline = page.evaluate(
        "() => { const a = document.querySelector('a.toggle-other'); a.focus(); return getComputedStyle(a).outlineStyle; }"
    )
    assert outline != "none"
