"""Status rules of the store (services.store.status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.store.status import DocumentFacts, compute_status, is_complete

T = datetime(2025, 1, 1, tzinfo=UTC)


def t(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (DocumentFacts(), "received"),
        (DocumentFacts(segment_count=3, classified_count=1), "received"),  # a segment overtook its document
        (DocumentFacts(extracted_at=t(1), segment_count=3), "extracted"),
        (
            DocumentFacts(extracted_at=t(1), segment_count=3, classified_count=2, last_classified_at=t(2)),
            "extracted",
        ),
        (
            DocumentFacts(extracted_at=t(1), segment_count=3, classified_count=3, last_classified_at=t(2)),
            "classified",
        ),
        # Completeness is known from the segments' own count before documents.extracted arrives.
        (DocumentFacts(segment_count=2, classified_count=2, last_classified_at=t(2)), "classified"),
        # Nothing to classify is complete.
        (DocumentFacts(extracted_at=t(1), segment_count=0), "classified"),
        (DocumentFacts(failed_at=t(0)), "failed"),
        (
            DocumentFacts(
                extracted_at=t(1),
                failed_at=t(2),
                segment_count=3,
                classified_count=1,
                last_classified_at=t(1),
            ),
            "failed",
        ),
        # A failure after full classification stands ...
        (
            DocumentFacts(
                extracted_at=t(1),
                failed_at=t(5),
                segment_count=1,
                classified_count=1,
                last_classified_at=t(2),
            ),
            "failed",
        ),
        # ... and a later re-classification clears it.
        (
            DocumentFacts(
                extracted_at=t(1),
                failed_at=t(5),
                segment_count=1,
                classified_count=1,
                last_classified_at=t(9),
            ),
            "classified",
        ),
        # A later re-extraction clears an extraction failure.
        (DocumentFacts(extracted_at=t(9), failed_at=t(5), segment_count=4), "extracted"),
        # Incomplete classification after the failure does not clear it.
        (
            DocumentFacts(
                extracted_at=t(1),
                failed_at=t(5),
                segment_count=4,
                classified_count=3,
                last_classified_at=t(9),
            ),
            "failed",
        ),
        # A tie keeps the failure.
        (DocumentFacts(extracted_at=t(5), failed_at=t(5), segment_count=4), "failed"),
    ],
)
def test_compute_status(facts: DocumentFacts, expected: str) -> None:
    assert compute_status(facts) == expected


def test_is_complete() -> None:
    assert not is_complete(DocumentFacts(classified_count=5))
    assert not is_complete(DocumentFacts(segment_count=5, classified_count=4))
    assert is_complete(DocumentFacts(segment_count=5, classified_count=5))
    assert is_complete(DocumentFacts(segment_count=5, classified_count=6))
