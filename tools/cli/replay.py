"""Re-run documents through the pipeline from their stored blobs (e.g. after a model upgrade).

Republishing ``documents.received`` for a blob makes extract and classify run again; ids are
deterministic, so the store updates the same rows and the segments carry the new ``model_version``.
The documents are those ingest accepted, from the receipts in the blob store (folder or S3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from shared.blobstore import BlobStore, blob_store_for
from shared.events import Envelope, make_event, utcnow
from shared.kafka import Publisher
from shared.receipts import Receipt, all_receipts
from shared.settings import Settings
from shared.topics import topics_for


def receipts(blobs: BlobStore) -> Iterator[Receipt]:
    """Every document ingest accepted, from the receipts kept in the blob store."""
    return all_receipts(blobs)


def replay_event(receipt: Receipt, blobs: BlobStore, nonce: str) -> Envelope[Any]:
    """A fresh ``documents.received`` for a stored blob; ``nonce`` makes the event id new for this replay
    while the document id stays the same."""
    data = receipt.replayed(blobs.uri_for(receipt.sha256), utcnow())
    return make_event(data, "innspill/replay", data.id, "replay", nonce)


async def replay(settings: Settings, document_ids: list[str] | None, nonce: str) -> list[str]:
    """Republish the given documents (all when ``document_ids`` is empty); returns the ids sent."""
    blobs = blob_store_for(settings)
    wanted = set(document_ids or [])
    stored = await asyncio.to_thread(lambda: list(receipts(blobs)))
    chosen = [r for r in stored if not wanted or r.document_id in wanted]
    missing = wanted - {r.document_id for r in chosen}
    if missing:
        raise KeyError(f"no stored blob for: {', '.join(sorted(missing))}")
    publisher = Publisher(settings, "innspill-replay")
    await publisher.start(timeout_s=15)
    try:
        topic = topics_for(settings).documents_received
        await publisher.publish_many(topic, [(r.document_id, replay_event(r, blobs, nonce)) for r in chosen])
    finally:
        await publisher.stop()
    return [r.document_id for r in chosen]
