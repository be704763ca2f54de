"""How a document's status follows from what the store has seen of it.

The result depends only on stored facts (event times and counts), never on the order in which events
arrived, so a replay or a shuffled consumption converges to the same status.

Rules, in order:

1. ``failed`` when a failure was recorded and no *later* success supersedes it. A success is a
   ``documents.extracted`` event, or the document becoming fully classified; "later" compares event
   times. So a replay that re-extracts or re-classifies a failed document clears the failure, while a
   failure that happened after the last success stands, whatever order the events arrived in.
2. ``classified`` when the segment count is known and at least that many distinct segments are
   classified (a count of 0 means there is nothing to classify).
3. ``extracted`` once a ``documents.extracted`` event was seen.
4. ``received`` otherwise (the row may have been created by a segment that overtook its document).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Status = Literal["received", "extracted", "classified", "failed"]
STATUSES: tuple[Status, ...] = get_args(Status)
#: A document in one of these is still on its way through the pipeline (pages refresh, the sweeper watches).
IN_PROGRESS: tuple[Status, ...] = ("received", "extracted")


@dataclass(frozen=True)
class DocumentFacts:
    extracted_at: datetime | None = None
    failed_at: datetime | None = None
    segment_count: int | None = None
    classified_count: int = 0
    last_classified_at: datetime | None = None


def is_complete(facts: DocumentFacts) -> bool:
    return facts.segment_count is not None and facts.classified_count >= facts.segment_count


def compute_status(facts: DocumentFacts) -> Status:
    complete = is_complete(facts)
    successes = [t for t in (facts.extracted_at, facts.last_classified_at if complete else None) if t]
    if facts.failed_at is not None and (not successes or facts.failed_at >= max(successes)):
        return "failed"
    if complete:
        return "classified"
    if facts.extracted_at is not None:
        return "extracted"
    return "received"
