"""Re-run documents through the pipeline from their stored blobs (e.g. after a model upgrade).

Republishing ``documents.received`` for a blob makes extract and classify run again; ids are
deterministic, so the store updates the same rows and the segments carry the new ``model_version``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from shared.blobstore import LocalBlobStore
from shared.events import DocumentReceived, make_event, utcnow
from shared.kafka import Publisher
from shared.settings import Settings
from shared.topics import topics_for


def receipts(blob_dir: Path) -> Iterator[dict[str, object]]:
    """Every document ingest accepted, from the receipts written beside the blobs."""
    for path in sorted(blob_dir.glob("??/*.received.json")):
        yield json.loads(path.read_text())


def replay_event(receipt: dict[str, object], blobs: LocalBlobStore, nonce: str):  # type: ignore[no-untyped-def]
    """A fresh ``documents.received`` for a stored blob; ``nonce`` makes the event id new for this replay
    while the document id stays the same."""
    sha = str(receipt["sha256"])
    data = DocumentReceived(
        id=str(receipt["document_id"]),
        filename=str(receipt["filename"]),
        sha256=sha,
        bytes=int(receipt["bytes"]),
        content_type=str(receipt["content_type"]),  # type: ignore[arg-type]
        blob_uri=blobs.uri_for(sha),
        source="replay",
        received_at=utcnow(),
    )
    return make_event(data, "innspill/replay", data.id, "replay", nonce)


async def replay(settings: Settings, document_ids: list[str] | None, nonce: str) -> list[str]:
    """Republish the given documents (all when ``document_ids`` is empty); returns the ids sent."""
    blobs = LocalBlobStore(settings.blob_dir)
    wanted = set(document_ids or [])
    chosen = [r for r in receipts(settings.blob_dir) if not wanted or r["document_id"] in wanted]
    missing = wanted - {str(r["document_id"]) for r in chosen}
    if missing:
        raise KeyError(f"no stored blob for: {', '.join(sorted(missing))}")
    publisher = Publisher(settings, "innspill-replay")
    await publisher.start(timeout_s=15)
    try:
        topic = topics_for(settings).documents_received
        await publisher.publish_many(
            topic, [(str(r["document_id"]), replay_event(r, blobs, nonce)) for r in chosen]
        )
    finally:
        await publisher.stop()
    return [str(r["document_id"]) for r in chosen]
