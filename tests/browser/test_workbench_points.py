"""A theme page in a real browser over the running system: three letters written here make one proposal in
different words; the analyst opens the point, takes one quote out with its button, and the point the API
gives afterwards has one sender fewer; then the analyst merges the quote's own point back into it and names
the point in their own words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import test_knowledge as planted
from tests.e2e.conftest import wait_for_status
from tools.cli.stack import Stack


@pytest.fixture(scope="module")
def page(browser: Any, stack: Stack) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nb-NO")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def point_quoting(store: str, text: str) -> dict[str, Any]:
    points = httpx.get(f"{store}/points", params={"min_senders": 1}, timeout=120).json()["points"]
    return next(p for p in points if any(text[:40] in s["text"] for s in p["segments"]))


def journal_point(store: str) -> dict[str, Any]:
    return point_quoting(store, planted.JOURNAL[0])


def test_take_a_quote_out_of_a_point(page: Any, stack: Stack, tmp_path: Path) -> None:
    ids = []
    for i in range(3):
        pdf = planted.render_plain(tmp_path / f"punkt{i}.pdf", planted.planted_letter(i))
        ids.append(planted.upload(stack, f"punkt{i}.pdf", pdf))
    for d in ids:
        wait_for_status(stack, d, "classified")
    store = stack.url("store")
    before = journal_point(store)
    assert before["sender_count"] >= 3
    theme = "digitalisering" if "digitalisering" in before["themes"] else before["themes"][0]

    page.goto(f"{store}/ui/themes/{theme}?min_senders=1")
    point = page.locator(f"li.point[id='{before['id']}']")
    point.locator("summary").click()
    quote = point.locator(".quotes > li").filter(has_text=planted.JOURNAL[2][:40])
    quote.get_by_role("button", name="Ta ut av punktet").click()
    quote.locator(".exclude-status").filter(has_text="Tatt ut av punktet").wait_for(timeout=30_000)
    assert "is-excluded" in (quote.get_attribute("class") or "")

    after = journal_point(store)
    assert after["id"] == before["id"] and after["sender_count"] == before["sender_count"] - 1
    log = httpx.get(f"{store}/points/exclusions", timeout=30).json()["exclusions"]
    assert log and log[0]["point_id"] == before["id"]

    # the analyst changes their mind: the quote's own point is merged back into the journal point
    alone = point_quoting(store, planted.JOURNAL[2])
    assert alone["id"] != before["id"] and alone["sender_count"] == 1
    shared = [t for t in after["themes"] if t in alone["themes"]]
    assert shared, (after["themes"], alone["themes"])
    page.goto(f"{store}/ui/themes/{shared[0]}?min_senders=1")
    merge = page.get_by_role("button", name="Slå sammen")
    assert merge.is_disabled()
    for pid in (before["id"], alone["id"]):
        page.locator(f"li.point[id='{pid}'] input.merge-pick-box").check()
    assert merge.is_enabled() and "2 valgte" in merge.inner_text()
    with page.expect_navigation(timeout=60_000):
        merge.click()
    page.locator(f"li.point[id='{before['id']}']").wait_for()
    merged = journal_point(store)
    assert merged["id"] == before["id"] and merged["sender_count"] == before["sender_count"]
    log = httpx.get(f"{store}/points/merges", timeout=30).json()["merges"]
    assert log and (log[0]["point_id"], log[0]["merged_point_id"]) == (before["id"], alone["id"])

    # and names it in their own words
    point = page.locator(f"li.point[id='{before['id']}']")
    point.locator("summary").click()
    point.get_by_label("Punktets navn").fill("Felles journal for kommune, fastlege og sykehus")
    point.get_by_role("button", name="Lagre navnet").click()
    point.locator(".name-status").filter(has_text="Navnet er lagret").wait_for()
    assert point.locator(".summary-text").inner_text() == "Felles journal for kommune, fastlege og sykehus"
    named = journal_point(store)
    assert named["summary"] == "Felles journal for kommune, fastlege og sykehus" and named["named_by"]
