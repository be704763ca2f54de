"""Deterministic ids: the same bytes always give the same document, the same position the same segment."""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.UUID("6f1d2c1e-9a57-4f53-9d0e-6e6e73706931")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id_for(sha256: str) -> str:
    """A document id is the first 32 hex digits of the content hash."""
    return sha256[:32]


def segment_id_for(document_id: str, seq: int) -> str:
    return f"{document_id}-{seq:05d}"


def event_id_for(*parts: object) -> str:
    """A stable event id from what the event is about, so a replayed event has the same id."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))
