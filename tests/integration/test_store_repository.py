"""Store repository on real SQLite and PostgreSQL: migrations, idempotent upserts, order independence,
status rules, and the queries behind the API."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from services.store import search
from services.store.db import alembic_config, make_engine, migrate
from services.store.models import metadata
from services.store.repository import Repository, SegmentFilter
from shared.events import LABELS, Envelope
from tests.store_events import doc_id, extracted, failed, received, segment, segments

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def repo(engine: sa.Engine) -> Repository:
    return Repository(engine)


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Every stored row except wall-clock bookkeeping (created_at/updated_at, history row ids)."""
    with engine.connect() as conn:
        docs = conn.execute(sa.text("SELECT * FROM documents ORDER BY id")).mappings().all()
        segs = conn.execute(sa.text("SELECT * FROM segments ORDER BY segment_id")).mappings().all()
        hist = conn.execute(sa.text("SELECT * FROM status_events ORDER BY event_id")).mappings().all()
    return {
        "documents": [{k: v for k, v in d.items() if k not in ("created_at", "updated_at")} for d in docs],
        "segments": [dict(s) for s in segs],
        "history": [{k: v for k, v in h.items() if k != "id"} for h in hist],
    }


def story() -> list[Envelope[Any]]:
    """Three documents: one classified (with a re-classification and a replayed receipt), one failed at
    classification after extraction, one whose failure is superseded by a later re-extraction."""
    events: list[Envelope[Any]] = [received("alfa", 0), extracted("alfa", 5, 1, title="Innspill fra Alfa")]
    events += segments("alfa", 5, 2)
    events += [
        segment("alfa", 2, 5, minute=30, label="challenge", model="m-2"),
        received("alfa", 40, source="replay", filename="kopi.pdf"),
    ]
    events += [received("beta", 3), extracted("beta", 4, 4), failed("beta", 6)]
    events += [segment("beta", i, 4, 5 + i / 100) for i in range(2)]  # 2 of 4 classified before the failure
    events += [
        received("gamma", 7),
        failed("gamma", 8, stage="extract", code="timeout"),
        extracted("gamma", 3, 20),
    ]
    # theta is replayed through a changed extractor: 5 segments first, 3 in the newer extraction.
    events += [
        received("theta", 9),
        extracted("theta", 5, 10),
        *segments("theta", 5, 11),
        extracted("theta", 3, 50),
        *segments("theta", 3, 51, model="m-2"),
    ]
    return events


def test_migrations_upgrade_head_on_empty_database(database_url: str) -> None:
    eng = make_engine(database_url)
    try:
        with eng.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
        migrate(eng)
        migrate(eng)  # a second start finds the schema current and changes nothing
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with eng.connect() as conn:
            tables = {t for t in sa.inspect(conn).get_table_names() if not search.is_search_table(t)}
            assert tables == {
                "alembic_version",
                "documents",
                "segments",
                "status_events",
                "segment_themes",
                "corrections",
                "document_corrections",
                "points",
                "point_members",
                "segment_vectors",
                "point_exclusions",
                "point_merges",
                "point_names",
            }
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
            # The migration produces exactly the schema the models declare.
            # (the full-text index tables of migration 0003 live outside the ORM models: services/store/search.py)
            opts = {
                "compare_type": True,
                "include_name": lambda name, kind, _: not search.is_search_table(name),
            }
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
            assert diff == []
    finally:
        eng.dispose()


def test_same_events_twice_give_identical_rows(repo: Repository, engine: sa.Engine) -> None:
    events = story()
    repo.apply(events)
    first = snapshot(engine)
    repo.apply(events)
    for e in events:  # and once more, one event per transaction
        repo.apply([e])
    assert snapshot(engine) == first
    assert len(first["segments"]) == 10 and len(first["documents"]) == 4


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_shuffled_orders_give_identical_rows(database_url: str, seed: int, tmp_path: Any) -> None:
    events = story()
    eng_a = make_engine(database_url)
    migrate(eng_a)
    Repository(eng_a).apply(events)
    expected = snapshot(eng_a)
    # Same database server, fresh tables: drop and recreate through the migrations.
    with eng_a.begin() as conn:
        search.drop_schema(conn)  # first: on PostgreSQL segment_search has a foreign key to segments
        for table in (
            "status_events",
            "segments",
            "documents",
            "alembic_version",
            "segment_themes",
            "corrections",
            "document_corrections",
            "points",
            "point_members",
            "segment_vectors",
            "point_exclusions",
            "point_merges",
            "point_names",
        ):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    migrate(eng_a)
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    repo = Repository(eng_a)
    # In uneven batches, as the agents would see them.
    rng, i = random.Random(seed + 100), 0
    while i < len(shuffled):
        size = rng.randint(1, 4)
        repo.apply(shuffled[i : i + size])
        i += size
    assert snapshot(eng_a) == expected
    eng_a.dispose()


def test_status_rules_and_history(repo: Repository) -> None:
    repo.apply(story())
    alfa = repo.get_document(doc_id("alfa"))
    assert alfa is not None
    d = alfa.document
    assert d.status == "classified" and d.classified_count == 5 and d.segment_count == 5
    assert d.filename == "alfa.pdf" and d.source == "http"  # the earliest receipt wins over the replay
    re_classified = next(s for s in alfa.segments if s.seq == 2)
    assert re_classified.model_version == "m-2" and re_classified.label == "challenge"
    assert [h.status for h in alfa.history] == ["received", "extracted", "classified", "received"]

    beta = repo.get_document(doc_id("beta"))
    assert beta is not None and beta.document.status == "failed"
    assert (beta.document.failed_stage, beta.document.error_code) == ("classify", "model_error")

    gamma = repo.get_document(doc_id("gamma"))
    assert gamma is not None
    # Failed at minute 8, re-extracted at minute 20: the failure is superseded, but stays recorded.
    assert gamma.document.status == "extracted" and gamma.document.error_code == "timeout"

    theta = repo.get_document(doc_id("theta"))
    assert theta is not None and theta.document.status == "classified"
    assert [(s.seq, s.model_version) for s in theta.segments] == [(0, "m-2"), (1, "m-2"), (2, "m-2")]


def test_document_row_created_by_first_segment(repo: Repository) -> None:
    repo.apply([segment("delta", 0, 2)])
    view = repo.get_document(doc_id("delta"))
    assert view is not None
    assert view.document.status == "received" and view.document.filename is None
    assert view.document.segment_count == 2 and view.document.classified_count == 1
    repo.apply([segment("delta", 1, 2)])
    view = repo.get_document(doc_id("delta"))
    assert view is not None and view.document.status == "classified"
    repo.apply([received("delta", 0)])
    view = repo.get_document(doc_id("delta"))
    assert view is not None and view.document.status == "classified" and view.document.filename == "delta.pdf"


def test_failure_after_success_stands_and_later_reclassification_clears_it(repo: Repository) -> None:
    repo.apply([received("eps", 0), extracted("eps", 2, 1), *segments("eps", 2, 2), failed("eps", 10)])
    assert repo.get_document(doc_id("eps")).document.status == "failed"  # type: ignore[union-attr]  # the document exists at this point of the test
    repo.apply([segment("eps", 0, 2, minute=20, model="m-2"), segment("eps", 1, 2, minute=20, model="m-2")])
    assert repo.get_document(doc_id("eps")).document.status == "classified"  # type: ignore[union-attr]  # the document exists at this point of the test


def test_classified_marker_follows_the_final_segment_count(repo: Repository) -> None:
    # Segments claim 2 in all, so the document looks complete until the extraction says 3.
    repo.apply([segment("eta", 0, 2), segment("eta", 1, 2)])
    assert repo.get_document(doc_id("eta")).document.status == "classified"  # type: ignore[union-attr]  # the document exists at this point of the test
    repo.apply([extracted("eta", 3, 1)])
    view = repo.get_document(doc_id("eta"))
    assert view is not None and view.document.status == "extracted"
    assert [h.status for h in view.history] == ["extracted"]


def test_duplicates_inside_one_batch(repo: Repository) -> None:
    older, newer = (
        segment("zeta", 0, 1, minute=2),
        segment("zeta", 0, 1, minute=9, label="example", model="m-9"),
    )
    repo.apply([newer, older, older, received("zeta", 0), received("zeta", 0)])
    view = repo.get_document(doc_id("zeta"))
    assert view is not None and len(view.segments) == 1
    assert view.segments[0].model_version == "m-9" and view.document.status == "classified"


def test_queries(repo: Repository) -> None:
    repo.apply(
        [
            received("Øvre", 0),
            extracted("Øvre", 3, 1, sender="Øvre Eiker kommune", title="Høringssvar om samhandling"),
            segment("Øvre", 0, 3, label="challenge", text="Kommunene SNAKKER IKKE sammen om pasientforløp."),
            segment(
                "Øvre",
                1,
                3,
                label="measure",
                text="Det bør utredes 100% digital samhandling.",
                heading_path=["Tiltak", "Økonomi og styring"],
            ),
            segment("Øvre", 2, 3, label="example", text="Et prosjekt er etablert."),
            received("Bø", 5),
            extracted("Bø", 1, 6, sender="Bø kommune"),
            segment("Bø", 0, 1, label="measure", text="Vi ønsker mer samhandling."),
        ]
    )
    total, hits = repo.search_segments(SegmentFilter(q="snakker ikke"))
    assert total == 1 and hits[0].segment.seq == 0
    total, hits = repo.search_segments(SegmentFilter(q="ØKONOMI"))  # heading path, Unicode case folding
    assert total == 1 and hits[0].segment.heading_path == ["Tiltak", "Økonomi og styring"]
    assert repo.search_segments(SegmentFilter(q="100%"))[0] == 1
    # A search with no word characters has nothing to match: it is no text filter at all (like an empty q),
    # and a wildcard is never read as one ("100%" above matched the word 100 only).
    assert repo.search_segments(SegmentFilter(q="%"))[0] == 4
    assert repo.search_segments(SegmentFilter(q="% _ *"))[0] == 4
    assert repo.search_segments(SegmentFilter(q="samhandling%"))[0] == 2
    assert repo.search_segments(SegmentFilter(label="measure"))[0] == 2
    total, hits = repo.search_segments(SegmentFilter(label="measure", sender="Bø kommune"))
    assert total == 1 and hits[0].sender == "Bø kommune"
    assert repo.search_segments(SegmentFilter(document_id=doc_id("Øvre")))[0] == 3
    total, page = repo.search_segments(SegmentFilter(), limit=2, offset=2)
    assert total == 4 and len(page) == 2

    total, docs, counts = repo.list_documents()
    assert total == 2 and [d.filename for d in docs] == ["Bø.pdf", "Øvre.pdf"]  # newest first
    assert counts[doc_id("Øvre")] == {"challenge": 1, "measure": 1, "example": 1, "other": 0}
    assert repo.list_documents(q="høringssvar")[0] == 1
    assert repo.list_documents(q="øvre.pdf")[0] == 1
    assert repo.list_documents(sender="Bø kommune")[0] == 1
    assert repo.list_documents(status="classified")[0] == 2
    stats = repo.stats()
    assert stats["labels"] == {"challenge": 1, "measure": 2, "example": 1, "other": 0}
    assert stats["documents_by_status"]["classified"] == 2
    assert repo.senders() == sorted(["Bø kommune", "Øvre Eiker kommune"])


def flagged(name: str, seq: int, n: int, confidence: float, review: bool, minute: float = 2) -> Envelope[Any]:
    """A classified segment with the model's top score and review flag given."""
    env = segment(name, seq, n, minute, label="measure", model=f"m-{minute}")
    rest = (1.0 - confidence) / 3
    data = env.data.model_copy(
        update={
            "scores": {lab: (confidence if lab == "measure" else rest) for lab in LABELS},
            "needs_review": review,
        }
    )
    return env.model_copy(update={"data": data})


def shown_flags(engine: sa.Engine, name: str) -> tuple[list[bool], list[bool]]:
    """(shown, model's) review flags of a letter's segments in reading order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT needs_review, model_needs_review FROM segments WHERE document_id = :d ORDER BY seq"
            ),
            {"d": doc_id(name)},
        ).all()
    return [bool(r[0]) for r in rows], [bool(r[1]) for r in rows]


def test_review_flags_stay_within_the_letters_budget(repo: Repository, engine: sa.Engine) -> None:
    # Ten segments, the model unsure of seven: a fifth of the letter (two) is shown, the least confident.
    confidence = [0.95, 0.41, 0.52, 0.33, 0.61, 0.97, 0.48, 0.58, 0.66, 0.99]
    events = [received("budsjett", 0), extracted("budsjett", 10, 1)]
    events += [flagged("budsjett", i, 10, c, c < 0.7) for i, c in enumerate(confidence)]
    repo.apply(events[:5])  # the first three segments, two flagged: both shown (the budget is the letter's)
    assert shown_flags(engine, "budsjett")[0] == [False, True, True]
    repo.apply(events[5:6])  # a third flag, less sure than one shown: it takes that one's place
    assert shown_flags(engine, "budsjett")[0] == [False, True, False, True]
    repo.apply(events[6:])
    shown, model = shown_flags(engine, "budsjett")
    assert [i for i, f in enumerate(shown) if f] == [1, 3]  # 0.41 and 0.33
    assert model == [c < 0.7 for c in confidence]  # the model's flags are kept
    # Re-classified with confidence: the next least confident flag is shown again.
    repo.apply([flagged("budsjett", 3, 10, 0.93, False, minute=30)])
    shown, _ = shown_flags(engine, "budsjett")
    assert [i for i, f in enumerate(shown) if f] == [1, 6]  # 0.41 and 0.48


def test_review_budget_does_not_depend_on_arrival_order(repo: Repository, engine: sa.Engine) -> None:
    confidence = [0.35, 0.9, 0.45, 0.5, 0.55, 0.98, 0.3, 0.62, 0.95, 0.4, 0.99, 0.44]
    results = []
    for name, reverse in (("framover", False), ("bakover", True)):
        events = [received(name, 0), extracted(name, 12, 1)]
        events += [flagged(name, i, 12, c, c < 0.7) for i, c in enumerate(confidence)]
        for e in reversed(events) if reverse else events:
            repo.apply([e])
        results.append(shown_flags(engine, name)[0])
    assert results[0] == results[1]
    assert [i for i, f in enumerate(results[0]) if f] == [0, 6]  # 0.35 and 0.30: floor(0.2 * 12) = 2
