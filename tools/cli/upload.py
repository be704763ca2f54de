"""Client side of ingest: upload files and follow them to ``classified`` with a progress bar."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Outcome:
    path: Path
    http_status: int
    document_id: str | None = None
    duplicate: bool = False
    status: str | None = None
    error: str | None = None
    seconds: float | None = None


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def upload_file(client: httpx.Client, ingest_url: str, path: Path) -> Outcome:
    with open(path, "rb") as fh:
        resp = client.post(f"{ingest_url}/documents", files={"file": (path.name, fh)}, timeout=120)
    body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    if resp.status_code in (200, 202):
        return Outcome(path, resp.status_code, body["document_id"], bool(body.get("duplicate")))
    return Outcome(path, resp.status_code, error=f"{body.get('error')}: {body.get('detail')}")


def document_status(client: httpx.Client, store_url: str, document_id: str) -> tuple[str | None, str | None]:
    """(status, error message) of a document in the store; (None, None) while the store has not seen it."""
    resp = client.get(f"{store_url}/documents/{document_id}", timeout=10)
    if resp.status_code != 200:
        return None, None
    body = resp.json()
    err = body.get("error") or {}
    return body.get("status"), (f"{err.get('code')}: {err.get('message')}" if err else None)


def wait_final(
    client: httpx.Client,
    store_url: str,
    outcomes: list[Outcome],
    started: float,
    timeout_s: float,
    on_change: object = None,
) -> None:
    """Poll until every uploaded document is ``classified`` or ``failed`` (or the timeout passes)."""
    deadline = time.monotonic() + timeout_s
    open_ = [o for o in outcomes if o.document_id]
    while open_ and time.monotonic() < deadline:
        for o in list(open_):
            status, err = document_status(client, store_url, o.document_id or "")
            if status in ("classified", "failed"):
                o.status, o.error, o.seconds = status, err, time.monotonic() - started
                open_.remove(o)
                if callable(on_change):
                    on_change(o)
        time.sleep(0.5)
