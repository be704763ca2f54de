"""End to end on the running stack: a correction made through the API survives ``innspill replay``, and
letters written here with planted recurring proposals come back from ``/points`` as one point per proposal
with the right sender count (the near miss stays apart)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import wait_for_status
from tests.letters import letter_pdf_bytes
from tools.cli.stack import Stack

pytestmark = [pytest.mark.e2e]


def upload(stack: Stack, name: str, pdf: bytes) -> str:
    r = httpx.post(f"{stack.url('ingest')}/documents", files={"file": (name, pdf)}, timeout=30)
    assert r.status_code in (200, 202), r.text
    return str(r.json()["document_id"])


def test_correction_survives_replay(stack: Stack, tmp_path: Path) -> None:
    doc_id = upload(stack, "rettelse.pdf", letter_pdf_bytes(tmp_path, "rettelse.pdf", variant=11))
    before = wait_for_status(stack, doc_id, "classified")
    seg = next(s for s in before["segments"] if s["label"] != "example" and len(s["text"]) > 40)
    store = stack.url("store")
    r = httpx.patch(
        f"{store}/segments/{seg['segment_id']}",
        json={"label": "example", "themes": ["eldre"], "note": "e2e"},
        headers={"X-Innspill-User": "e2e"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["corrected"] and r.json()["label"] == "example"
    bad = httpx.patch(f"{store}/segments/{seg['segment_id']}", json={"label": "nope"}, timeout=10)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"

    last = max(s["classified_at"] for s in before["segments"])
    subprocess.run(
        [sys.executable, "-m", "tools.cli.main", "replay", doc_id],
        check=True,
        env=stack.env(),
        capture_output=True,
    )
    deadline = time.monotonic() + 120
    after: dict[str, Any] = {}
    while time.monotonic() < deadline:
        after = httpx.get(f"{store}/documents/{doc_id}", timeout=10).json()
        if after["segments"] and all(s["classified_at"] > last for s in after["segments"]):
            break
        time.sleep(0.5)
    assert all(s["classified_at"] > last for s in after["segments"]), "the replay did not reclassify"
    again = next(s for s in after["segments"] if s["segment_id"] == seg["segment_id"])
    assert (again["label"], again["corrected"], again["model_label"]) == ("example", True, seg["label"])
    assert [t["id"] for t in again["themes"]] == ["eldre"]
    hist = httpx.get(f"{store}/segments/{seg['segment_id']}/history", timeout=10).json()["history"]
    assert [h["user"] for h in hist] == ["e2e"]
    csv_text = httpx.get(
        f"{store}/export/segments.csv", params={"document_id": doc_id, "corrected": "true"}, timeout=30
    ).text
    assert "e2e" in csv_text and len(csv_text.strip().splitlines()) == 2


# Planted proposals, each sender in its own words (written for this test).
JOURNAL = [
    "Vi foreslår at staten innfører en felles pasientjournal for kommuner og sykehus.",
    "Departementet bør sørge for at pasientopplysninger kan deles digitalt mellom kommunen og helseforetaket.",
    "Vi anbefaler én felles journalløsning slik at helseopplysninger følger pasienten på tvers av nivåene.",
]
RECRUIT = [
    "Staten bør gi øremerkede midler til rekruttering av sykepleiere i distriktskommunene.",
    "Vi foreslår en egen tilskuddsordning som gjør det mulig å rekruttere og beholde sykepleiere i distriktene.",
    None,
]
NEAR_MISS = [None, None, "Staten bør gi øremerkede midler til velferdsteknologi i hjemmetjenesten."]
SENDERS = ["Nordvik kommune", "Sørdal kommune", "Vestmo kommune"]


def render_plain(path: Path, letter: list[tuple[str, str]]) -> bytes:
    """A one-page letter without a running page header (the sender must come from the letterhead)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story: list[Any] = []
    for kind, text in letter:
        story += [
            Paragraph(escape(text), styles["Heading3" if kind in ("question", "title") else "BodyText"]),
            Spacer(1, 6),
        ]
    SimpleDocTemplate(str(path), pagesize=A4, title=letter[2][1]).build(story)
    return path.read_bytes()


def planted_letter(i: int) -> list[tuple[str, str]]:
    body: list[tuple[str, str]] = [
        ("letterhead", SENDERS[i]),
        ("date", f"{SENDERS[i].split()[0]}, {10 + i}. oktober 2026"),
        ("title", f"Høringsinnspill fra {SENDERS[i]}"),
        ("paragraph", "Vi takker for invitasjonen til å gi innspill til planen."),
        ("question", "Forslag til tiltak"),
        ("paragraph", JOURNAL[i]),
    ]
    for extra in (RECRUIT[i], NEAR_MISS[i]):
        if extra:
            body.append(("paragraph", extra))
    body += [("closing", "Med vennlig hilsen"), ("signature", f"Ola Hansen, kommunalsjef, {SENDERS[i]}")]
    return body


def test_points_group_planted_proposals(stack: Stack, tmp_path: Path) -> None:
    ids = []
    for i in range(3):
        pdf = render_plain(tmp_path / f"planted{i}.pdf", planted_letter(i))
        ids.append(upload(stack, f"planted{i}.pdf", pdf))
    docs = [wait_for_status(stack, d, "classified") for d in ids]
    assert all(d["status"] == "classified" for d in docs)

    points = httpx.get(f"{stack.url('store')}/points", params={"min_senders": 1}, timeout=120).json()[
        "points"
    ]

    def point_with(text: str) -> dict[str, Any]:
        return next(p for p in points if any(text[:40] in s["text"] for s in p["segments"]))

    journal = point_with(JOURNAL[0])
    planted = set(ids)
    # Every planted letter is in the journal point; the earlier test's letter makes the same proposal
    # («deling av pasientopplysninger») and may rightly be there too: one sender per letter either way.
    in_journal = {s["document_id"] for s in journal["segments"]}
    assert planted <= in_journal, journal
    assert journal["sender_count"] == len(in_journal) >= 3
    recruit = point_with(RECRUIT[0])
    assert {s["document_id"] for s in recruit["segments"]} == set(ids[:2]) and recruit["sender_count"] == 2
    near = point_with(NEAR_MISS[2])
    assert near["id"] not in (recruit["id"], journal["id"]) and near["sender_count"] == 1
    senders = {s["sender"] for s in journal["segments"] if s["document_id"] in planted}
    assert senders == set(SENDERS)
    many = httpx.get(f"{stack.url('store')}/points", timeout=60).json()["points"]
    assert many[0]["id"] == journal["id"] and recruit["id"] in {p["id"] for p in many}
