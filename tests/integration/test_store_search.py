"""Norwegian full-text search on real SQLite (FTS5) and PostgreSQL (tsvector): whole words, inflected and
nynorsk forms, AND, phrases, ranking text above headings, heading-only exclusion, the index kept in step
by the store's writes and built by the migration for existing rows; same results on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import sqlalchemy as sa
from alembic import command

from services.store import search
from services.store.db import alembic_config, make_engine, migrate
from services.store.repository import Repository, SegmentFilter
from shared.events import DocumentReceived, make_event
from shared.ids import document_id_for, sha256_hex
from tests.store_events import at, doc_id, extracted, received, segment
from tools.bench.search_corpus import QUERIES, doc_names, gold, letter_events

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def repo(engine: sa.Engine) -> Repository:
    r = Repository(engine)
    r.apply(letter_events())
    return r


def found(repo: Repository, q: str, **kw: str) -> list[tuple[str, int]]:
    names = doc_names()
    _, hits = repo.search_segments(SegmentFilter(q=q, **kw), limit=1000)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    return [(names[h.segment.document_id], h.segment.seq) for h in hits]


def test_whole_words_not_substrings(repo: Repository) -> None:
    hits = found(repo, "IKT")
    assert set(hits) == gold("ikt")
    # «viktigste», «Innsikt», «distriktene» contain the letters but are other words.
    assert ("havbu", 2) not in hits and ("legeforeningen", 4) not in hits and ("ostfold", 4) not in hits


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("legevakta", {("fjordvik", 2), ("fjordvik", 3), ("ostfold", 2), ("privat", 0)}),
        ("legevakten", {("fjordvik", 2), ("fjordvik", 3), ("ostfold", 2), ("privat", 0)}),
        ("fastleger", {("legeforeningen", 1), ("legeforeningen", 2), ("privat", 1), ("jordmorforbundet", 2)}),
        ("kommuner", {("havbu", 4), ("jordmorforbundet", 0), ("ostfold", 0)}),
        ("sykehus", {("vestlandet", 0), ("vestlandet", 1), ("sykepleierforbundet", 0), ("havbu", 0)}),
        ("sjukehus", {("vestlandet", 0), ("havbu", 0), ("ostfold", 3)}),
        ("tjenesten", {("vestlandet", 2), ("vestlandet", 3), ("ungdomsrad", 1)}),
    ],
)
def test_inflected_and_nynorsk_forms_find_each_other(
    repo: Repository, query: str, expect: set[tuple[str, int]]
) -> None:
    assert expect <= set(found(repo, query))


def test_all_words_must_match_and_phrases(repo: Repository) -> None:
    both = set(found(repo, "rekruttere kompetanse"))
    assert both == gold("rekruttere")
    assert ("sykepleierforbundet", 0) not in both  # «kompetanse» without «rekruttere»
    phrase = set(found(repo, '"digitale løsninger"'))
    assert phrase == gold("digital")
    # The same words apart are not the phrase, but match as plain words.
    assert ("pasientforeningen", 3) not in phrase
    assert ("pasientforeningen", 3) in set(found(repo, "digitale løsninger"))
    assert set(found(repo, "«digitale løsninger»")) == phrase


def test_text_hits_rank_above_heading_hits_and_can_be_excluded(repo: Repository) -> None:
    hits = found(repo, "legevakt")
    heading_only = [("ungdomsrad", 3)]
    assert set(heading_only) <= set(hits)
    assert hits.index(("ungdomsrad", 3)) == len(hits) - 1  # the only heading-only hit comes last
    text_only = found(repo, "legevakt", scope="text")
    assert set(text_only) == set(hits) - set(heading_only)
    # A plain search is counted on the index alone: the totals agree with the hits, with and without scope.
    for scope in (None, "text"):
        for q in ("legevakt", '"digitale løsninger"', "rekruttere kompetanse"):
            total, page = repo.search_segments(SegmentFilter(q=q, scope=scope), limit=1000)
            assert total == len(page) > 0, (q, scope)
    # sort=order gives letter order instead of relevance, same set
    assert set(found(repo, "legevakt", sort="order")) == set(hits)


def test_everyday_queries_meet_the_target(repo: Repository) -> None:
    recalls, precisions = [], []
    for qid, q in QUERIES.items():
        got, want = set(found(repo, q)), gold(qid)
        recalls.append(len(got & want) / len(want))
        precisions.append(len(got & want) / len(got) if got else 0.0)
    assert sum(recalls) / len(recalls) >= 0.9
    assert sum(precisions) / len(precisions) >= 0.9


def test_highlight_marks_inflected_words_only() -> None:
    html = str(search.highlight("Legevakten og <b>viktigste</b> IKT-løsning", "legevakta ikt"))
    assert "<mark>Legevakten</mark>" in html and "<mark>IKT-løsning</mark>" in html
    assert "&lt;b&gt;viktigste&lt;/b&gt;" in html


def test_index_follows_writes_and_deletes(engine: sa.Engine) -> None:
    repo = Repository(engine)
    repo.apply([received("x", 0), segment("x", 0, None, text="Ventetida på legevakta er for lang.")])
    assert repo.search_segments(SegmentFilter(q="legevakt"))[0] == 1
    # A newer classification of the same segment with another text replaces the indexed words.
    repo.apply([segment("x", 0, None, minute=9, text="Fastlegene mangler vikarer.")])
    assert repo.search_segments(SegmentFilter(q="legevakt"))[0] == 0
    assert repo.search_segments(SegmentFilter(q="fastlege"))[0] == 1
    # A deleted segment row leaves the index too (trigger / cascade).
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM segments WHERE document_id = :d"), {"d": doc_id("x")})
        n = conn.execute(sa.text("SELECT count(*) FROM segment_search")).scalar_one()
        # The index itself (not the store's read cache, which only out-of-band writes like this one miss).
        fts = search.match_subquery(engine.dialect.name, search.parse_query("fastlege"))
        matched = conn.execute(sa.select(sa.func.count()).select_from(fts)).scalar_one()
    assert n == 0 and matched == 0


def test_migration_indexes_existing_rows(database_url: str) -> None:
    eng = make_engine(database_url)
    try:
        migrate(eng)
        repo = Repository(eng)
        events = [
            received("y", 0),
            extracted("y", 1),
            segment("y", 0, 1, text="Sjukehusa treng fleire jordmødrer."),
        ]
        # Rows without index entries (the projection's index hook switched off), then the schema taken back
        # to before the search revision and up again: the search revision indexes the rows it finds.
        with mock.patch("services.store.projection.index_segments"):
            repo.apply(events)
        cfg = alembic_config()
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        migrate(eng)
        assert repo.search_segments(SegmentFilter(q="sykehus"))[0] == 1
        assert repo.search_segments(SegmentFilter(q="jordmor"))[0] == 1
    finally:
        eng.dispose()


def test_unsearchable_query_is_ignored_and_operators_are_words(repo: Repository) -> None:
    total_all = repo.search_segments(SegmentFilter())[0]
    assert repo.search_segments(SegmentFilter(q="!!! ---"))[0] == total_all
    # FTS5 / tsquery syntax in user input is just text.
    assert repo.search_segments(SegmentFilter(q='IKT OR NOT "'))[0] == 0  # «or», «not» are in no letter
    assert repo.search_segments(SegmentFilter(q="a:* & | !"))[0] >= 0


async def test_document_file_serves_the_original_bytes(database_url: str, tmp_path: Path) -> None:
    import httpx

    from services.store.app import create_app
    from shared.blobstore import LocalBlobStore
    from shared.settings import Settings

    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    data = b"%PDF-1.4\n% innspill test\n"
    sha = sha256_hex(data)
    uri = LocalBlobStore(settings.blob_dir).put_bytes(data, sha)
    did = document_id_for(sha)
    rec = DocumentReceived(
        id=did,
        filename="høringssvar.pdf",
        sha256=sha,
        bytes=len(data),
        content_type="application/pdf",
        blob_uri=uri,
        source="http",
        received_at=at(0),
    )
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        app.state.repo.apply([make_event(rec, "test")])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
            r = await client.get(f"/documents/{did}/file")
            assert r.status_code == 200
            assert r.content == data
            assert r.headers["content-type"] == "application/pdf"
            assert r.headers["content-disposition"].startswith("inline;")
            assert "h%C3%B8ringssvar.pdf" in r.headers["content-disposition"]
            missing = await client.get("/documents/nope/file")
            assert missing.status_code == 404 and missing.json()["error"] == "not_found"
