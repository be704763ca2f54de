"""Label corrections in a real browser over the running system, with auth on (``INNSPILL_API_TOKEN``): one
click on a segment card of a letter, the review queue by keyboard only (label keys, j/k, u), what a visitor
without the session cannot do, and accessibility (axe-core, WCAG 2.1 A/AA) of the pages after corrections.

The whole module runs on one stack with a token: the analyst logs in through the login form like a person
would, so the corrections go through the same session cookie as in production."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.store.web.norwegian import LABEL_NAMES
from shared.events import LABELS
from tests.e2e.conftest import stack_settings, wait_for_status
from tests.letters import letter_pdf_bytes
from tools.cli.stack import Stack, running_stack

pytestmark = pytest.mark.timeout(300)

TOKEN = "nettleser-test-nokkel-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, e2e_database: str
) -> Iterator[Stack]:
    """The running system with an API token: every service process gets ``INNSPILL_API_TOKEN`` (the
    variable is set only while they start, so it does not leak into other tests)."""
    tmp = tmp_path_factory.mktemp("review")
    settings = stack_settings(kafka_bootstrap, tmp, "rev", e2e_database, api_token=TOKEN)
    with contextlib.ExitStack() as on_exit:
        env = pytest.MonkeyPatch()
        env.setenv("INNSPILL_API_TOKEN", TOKEN)
        try:
            s = on_exit.enter_context(running_stack(settings, tmp / "logs", explicit_bootstrap=True))
        finally:
            env.undo()
        yield s


@pytest.fixture(scope="module")
def letters(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two letters, uploaded with the token and classified: their document ids."""
    tmp = tmp_path_factory.mktemp("letters")
    ids = []
    for n in (1, 2):
        pdf = letter_pdf_bytes(tmp, f"kontroll-{n}.pdf", variant=700 + n)
        resp = httpx.post(
            f"{stack.url('ingest')}/documents",
            files={"file": (f"kontroll-{n}.pdf", pdf)},
            headers=AUTH,
            timeout=30,
        )
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["document_id"])
    for doc_id in ids:
        assert wait_for_status(stack, doc_id, "classified", headers=AUTH)["status"] == "classified"
    return ids


def log_in(pg: Any, base: str, next_path: str) -> None:
    """Log in through the login form the way a person does: the page a visitor asks for sends them there."""
    pg.goto(base + next_path)
    pg.wait_for_url("**/login?next=**")
    pg.fill("#token", TOKEN)
    pg.click("form.login button[type=submit]")
    pg.wait_for_url(base + next_path)


@pytest.fixture(scope="module")
def page(browser: Any, stack: Stack, letters: list[str]) -> Iterator[Any]:
    # bypass_csp: axe-core is injected into the live page after the corrections.
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="nb-NO", accept_downloads=True, bypass_csp=True
    )
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    log_in(pg, stack.url("store"), "/")
    yield pg
    context.close()


def api(stack: Stack, path: str) -> Any:
    resp = httpx.get(f"{stack.url('store')}{path}", headers=AUTH, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def other_label(label: str) -> str:
    return next(lb for lb in LABELS if lb != label)


def axe_violations(pg: Any, axe_source: str, where: str) -> list[str]:
    pg.add_script_tag(content=axe_source)
    result = pg.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    return [
        f"{where}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_correct_a_label_with_one_click_on_the_letter(page: Any, stack: Stack, letters: list[str]) -> None:
    base, doc_id = stack.url("store"), letters[0]
    page.goto(f"{base}/ui/documents/{doc_id}")
    card = page.locator("#segments > li.segment:not(.compact):visible").first
    ctrl = card.locator(".correct")
    seg_id = ctrl.get_attribute("data-segment-id")
    model = ctrl.get_attribute("data-label")
    assert seg_id and model in LABELS
    assert ctrl.locator(".corrected-mark").is_hidden()
    new = other_label(model)

    ctrl.locator(f"button[data-set-label={new}]").click()  # the one click
    ctrl.locator(".corrected-mark").wait_for(state="visible")
    assert "Rettet" in ctrl.locator(".corrected-mark").inner_text()
    assert ctrl.locator(".correct-status").inner_text() == "Lagret"
    assert ctrl.locator(f"button[data-set-label={new}]").get_attribute("aria-pressed") == "true"
    assert ctrl.locator(f"button[data-set-label={model}]").get_attribute("aria-pressed") == "false"
    assert ctrl.locator(".model-said").inner_text() == f"modellen sa {LABEL_NAMES[model]}"
    assert "is-corrected" in (card.get_attribute("class") or "").split()
    assert card.get_attribute("data-label") == new
    assert card.locator(".seg-head .label").inner_text().strip().lower() == LABEL_NAMES[new]
    # The marker is a visible border on the card, not only a class name.
    border = card.evaluate("e => getComputedStyle(e).borderLeftWidth")
    assert border == "4px", border

    seg = api(stack, f"/segments/{seg_id}")
    assert (seg["corrected"], seg["label"], seg["model_label"]) == (True, new, model)
    assert seg["corrected_by"] and seg["corrected_by"].startswith("token:")
    history = api(stack, f"/segments/{seg_id}/history")
    assert [h["label"] for h in history["history"]] == [new]
    assert history["model"]["label"] == model and history["final"]["label"] == new

    page.reload()  # the server renders the correction too
    again = page.locator(f".correct[data-segment-id='{seg_id}']")
    assert again.locator(".corrected-mark").is_visible()
    assert again.get_attribute("data-label") == new

    with page.expect_download() as info:
        page.locator(".exports a", has_text="CSV").click()
    raw = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = {r["Segment-id"]: r for r in csv.DictReader(io.StringIO(raw))}
    row = rows[seg_id]
    assert (row["Kategori"], row["Modellens kategori"], row["Korrigert"]) == (new, model, "ja")
    assert row["Korrigert av"].startswith("token:")
    untouched = [r for k, r in rows.items() if k != seg_id]
    assert untouched and all(r["Korrigert"] == "nei" for r in untouched)
    STATE["corrected_doc"] = doc_id


def _press_and_wait(page: Any, key: str, done: int) -> None:
    page.keyboard.press(key)
    page.locator(".review-progress", has_text=f"{done} kontrollert").wait_for()


def test_review_queue_with_the_keyboard_only(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.url('store')}/ui/review")
    items = page.locator("ol.review-queue > li.review-item")
    n = items.count()
    assert n >= 12, f"only {n} segments in the queue"
    ids = items.evaluate_all("els => els.map(e => e.dataset.segmentId)")
    labels = page.locator("ol.review-queue .correct").evaluate_all("els => els.map(e => e.dataset.label)")
    current = page.locator("ol.review-queue > li.review-item.current")
    assert current.get_attribute("data-segment-id") == ids[0]
    assert page.evaluate("() => document.activeElement.dataset.segmentId") == ids[0]

    # A label key on the first item corrects it and moves on.
    first_new = other_label(labels[0])
    _press_and_wait(page, str(LABELS.index(first_new) + 1), 1)
    seg = api(stack, f"/segments/{ids[0]}")
    assert (seg["corrected"], seg["label"], seg["model_label"]) == (True, first_new, labels[0])
    assert [h["label"] for h in api(stack, f"/segments/{ids[0]}/history")["history"]] == [first_new]
    assert current.get_attribute("data-segment-id") == ids[1]

    # k goes back, u undoes: the model's label is final again, and the undo is in the history.
    page.keyboard.press("k")
    assert current.get_attribute("data-segment-id") == ids[0]
    page.keyboard.press("u")
    first = items.nth(0).locator(".correct")
    first.locator(".correct-status", has_text="Tilbake til modellens etikett").wait_for()
    assert first.locator(".corrected-mark").is_hidden()
    assert first.get_attribute("data-label") == labels[0]
    seg = api(stack, f"/segments/{ids[0]}")
    assert (seg["corrected"], seg["label"]) == (False, labels[0])
    history = api(stack, f"/segments/{ids[0]}/history")["history"]
    assert len(history) == 2 and set(history[1]["reverted"]) == {"label", "themes"}
    assert history[1]["after"]["label"] == labels[0]
    assert current.get_attribute("data-segment-id") == ids[0]  # undo does not move

    # j moves on without changing anything; then a run through the queue, confirming or changing labels.
    page.keyboard.press("j")
    assert current.get_attribute("data-segment-id") == ids[1]
    assert api(stack, f"/segments/{ids[1]}")["corrected"] is False
    chosen: dict[str, str] = {}
    started = time.monotonic()
    for k in range(1, 11):
        label = labels[k] if k % 2 else other_label(labels[k])  # every other one confirms the model
        _press_and_wait(page, str(LABELS.index(label) + 1), 1 + k)
        chosen[ids[k]] = label
    elapsed = time.monotonic() - started
    reviewed = len(chosen)
    print(f"reviewed {reviewed} segments by keyboard in {elapsed:.1f} s")
    assert reviewed == 10
    assert current.get_attribute("data-segment-id") == ids[11]
    for seg_id, label in chosen.items():
        seg = api(stack, f"/segments/{seg_id}")
        assert (seg["corrected"], seg["label"]) == (True, label), seg_id
    # The reviewed ones leave the queue; the undone first one stays in it.
    queue = {i["segment_id"] for i in api(stack, "/review?limit=500")["items"]}
    assert ids[0] in queue and not queue & set(chosen)


def test_without_the_session_no_correction_then_login(browser: Any, stack: Stack, letters: list[str]) -> None:
    base = stack.url("store")
    seg_id = api(stack, "/review?limit=1")["items"][0]["segment_id"]
    before = api(stack, f"/segments/{seg_id}")
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="nb-NO")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    try:
        pg.goto(f"{base}/ui/review")
        assert "/login?next=" in pg.url  # the page (and its correction controls) is not shown
        assert pg.locator(".correct").count() == 0
        assert pg.locator("form.login h1").inner_text() == "Logg inn"

        # The API refuses a correction from this browser: no session, or a wrong token.
        refused = pg.request.patch(f"{base}/segments/{seg_id}", data={"label": other_label(before["label"])})
        assert refused.status == 401 and refused.json()["error"] == "unauthorized"
        wrong = pg.request.patch(
            f"{base}/segments/{seg_id}",
            data={"label": other_label(before["label"])},
            headers={"Authorization": "Bearer feil"},
        )
        assert wrong.status == 403 and wrong.json()["error"] == "forbidden"
        assert api(stack, f"/segments/{seg_id}")["corrected"] is before["corrected"] is False

        pg.fill("#token", "feil-nokkel")
        pg.click("form.login button[type=submit]")
        assert pg.locator("form.login [role=alert]").inner_text() == "Tilgangsnøkkelen er feil."

        pg.fill("#token", TOKEN)
        pg.click("form.login button[type=submit]")
        pg.wait_for_url(f"{base}/ui/review")
        ctrl = pg.locator(f".correct[data-segment-id='{seg_id}']")
        new = other_label(before["label"])
        ctrl.locator(f"button[data-set-label={new}]").click()
        ctrl.locator(".corrected-mark").wait_for(state="visible")
        after = api(stack, f"/segments/{seg_id}")
        assert (after["corrected"], after["label"], after["model_label"]) == (True, new, before["label"])
    finally:
        context.close()


def test_accessibility_after_corrections(
    page: Any, stack: Stack, axe_source: str | None, shots: Path, letters: list[str]
) -> None:
    base = stack.url("store")
    page.goto(f"{base}/ui/review")
    items = page.locator("ol.review-queue > li.review-item")
    assert items.count() >= 2
    labels = page.locator("ol.review-queue .correct").evaluate_all("els => els.map(e => e.dataset.label)")
    for k in range(2):
        _press_and_wait(page, str(LABELS.index(other_label(labels[k])) + 1), 1 + k)
    assert items.locator(".corrected-mark:visible").count() == 2
    page.screenshot(path=str(shots / "1400-review-after-corrections.png"), full_page=True)
    problems: list[str] = []
    if axe_source is not None:
        problems += axe_violations(page, axe_source, "/ui/review after two corrections")

    doc = STATE.get("corrected_doc", letters[0])
    page.goto(f"{base}/ui/documents/{doc}")
    assert page.locator("#segments .correct.is-corrected").count() >= 1
    page.screenshot(path=str(shots / "1400-letter-after-correction.png"), full_page=True)
    if axe_source is not None:
        problems += axe_violations(page, axe_source, f"/ui/documents/{doc}")
    assert not problems, "\n".join(problems)
    if axe_source is None:
        pytest.skip("axe-core not installed (npm install --prefix tests/browser axe-core)")
