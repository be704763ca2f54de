"""The ingest receipt: the one record that a document was accepted (its event acknowledged by the broker).

Ingest writes it after ``documents.received`` was published; it makes the same bytes a duplicate from then
on, and replay rebuilds ``documents.received`` from it. It is stored by the blob store beside the blob
(:meth:`shared.blobstore.BlobStore.put_receipt`), so it lives wherever the blobs live (folder or S3). This
module owns its format: a JSON object with the fields of :class:`Receipt` (unknown fields are ignored, so
older and newer receipts stay readable).
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from shared.blobstore import BlobStore
from shared.events import DocumentReceived

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    document_id: str
    sha256: str
    filename: str
    bytes: int
    content_type: str
    duplicate: bool = False
    #: With ``duplicate``: the earlier upload never finished, so it was sent through the pipeline again.
    redriven: bool = False
    event_id: str | None = None
    source: str | None = None
    received_at: str | None = None

    def replayed(self, blob_uri: str, received_at: datetime) -> DocumentReceived:
        """The ``documents.received`` payload that sends these stored bytes through the pipeline again
        (same document id; the caller's envelope gives the event its own id)."""
        return DocumentReceived(
            id=self.document_id,
            filename=self.filename,
            sha256=self.sha256,
            bytes=self.bytes,
            content_type=self.content_type,
            blob_uri=blob_uri,
            source="replay",
            received_at=received_at,
        )

    def to_json(self) -> builtins.bytes:
        body = asdict(self)
        body.pop("duplicate")  # properties of one answer, not of the stored record
        body.pop("redriven")
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: builtins.bytes | str) -> Receipt:
        raw = json.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("a receipt is a JSON object")
        known = {f.name for f in fields(cls)} - {"duplicate", "redriven"}
        body = {k: v for k, v in raw.items() if k in known}
        return cls(
            document_id=str(body.pop("document_id")),
            sha256=str(body.pop("sha256")),
            filename=str(body.pop("filename")),
            bytes=int(body.pop("bytes")),
            content_type=str(body.pop("content_type")),
            **body,
        )


def write_receipt(store: BlobStore, receipt: Receipt) -> None:
    store.put_receipt(receipt.sha256, receipt.to_json())


def read_receipt(store: BlobStore, sha256: str) -> Receipt | None:
    data = store.get_receipt(sha256)
    return Receipt.from_json(data) if data is not None else None


def all_receipts(store: BlobStore) -> Iterator[Receipt]:
    """Every receipt in the store; a damaged one is logged and skipped, never fatal."""
    for data in store.list_receipts():
        try:
            yield Receipt.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable ingest receipt skipped", extra={"error": str(exc)})
