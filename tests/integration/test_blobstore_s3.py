"""The S3 blob store against a real S3-compatible server (moto's standalone server over HTTP): streaming
multipart uploads, content addressing, receipts, and the whole path upload -> ingest -> S3 -> extract ->
store with ``INNSPILL_BLOB_URL=s3://...``. Skipped when the server cannot start."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from shared.blobstore import (
    BlobNotFound,
    BlobStore,
    InvalidBlobUri,
    S3BlobStore,
    blob_store_for,
    iter_chunks,
    read_bytes,
)
from shared.kafka import ensure_topics
from shared.receipts import Receipt, all_receipts, read_receipt, write_receipt
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tests.letters import letter_pdf_bytes
from tests.s3_server import moto_s3
from tools.cli.broker import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


def _store(endpoint: str, bucket: str, prefix: str = "innspill", **kw: Any) -> S3BlobStore:
    return S3BlobStore(
        bucket,
        prefix,
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        create_bucket=True,
        **kw,
    )


def test_big_blob_is_uploaded_in_parts_and_read_back_as_a_stream(s3_endpoint: str, tmp_path: Path) -> None:
    store = _store(s3_endpoint, "blobs-big", spool_dir=tmp_path, multipart_threshold=5 * 1024 * 1024)
    assert isinstance(store, BlobStore)
    src = store.new_temp_path()
    digest = hashlib.sha256()
    with open(src, "wb") as fh:
        for i in range(12):  # 12 MiB, written and hashed block by block
            block = hashlib.sha256(str(i).encode()).digest() * (1024 * 1024 // 32)
            digest.update(block)
            fh.write(block)
    sha = digest.hexdigest()
    assert not store.exists(sha)
    uri = store.put_file(src, sha)
    assert uri == f"s3://blobs-big/innspill/sha256/{sha}"
    assert not src.exists(), "the spooled file is consumed"
    assert store.exists(sha) and store.size(uri) == 12 * 1024 * 1024
    head = store.client.head_object(Bucket="blobs-big", Key=f"innspill/sha256/{sha}")
    assert head["ETag"].strip('"').endswith("-3"), "uploaded as a multipart upload of 5 MiB parts"
    back = hashlib.sha256()
    for chunk in iter_chunks(store.open(uri), 256 * 1024):
        assert len(chunk) <= 256 * 1024
        back.update(chunk)
    assert back.hexdigest() == sha
    with store.local_path(uri) as local:
        assert local.stat().st_size == 12 * 1024 * 1024
    assert not local.exists(), "the temporary download is removed"


def test_same_bytes_are_stored_once_and_foreign_uris_are_refused(s3_endpoint: str, tmp_path: Path) -> None:
    store = _store(s3_endpoint, "blobs-dedup", spool_dir=tmp_path)
    data = b"%PDF-1.4 small"
    sha = hashlib.sha256(data).hexdigest()
    uri = store.put_bytes(data, sha)
    assert store.put_bytes(data, sha) == uri
    keys = [o["Key"] for o in store.client.list_objects_v2(Bucket="blobs-dedup")["Contents"]]
    assert keys == [f"innspill/sha256/{sha}"]
    assert read_bytes(store, uri) == data
    missing = store.uri_for("0" * 64)
    with pytest.raises(BlobNotFound):
        store.open(missing)
    with pytest.raises(BlobNotFound), store.local_path(missing):
        pass
    for foreign in (f"s3://other/innspill/sha256/{sha}", f"s3://blobs-dedup/innspill/sha256/../{sha}"):
        with pytest.raises(InvalidBlobUri):
            store.open(foreign)
    assert list(tmp_path.rglob("up-*")) == []


def test_receipts_live_in_the_bucket(s3_endpoint: str, tmp_path: Path) -> None:
    store = _store(s3_endpoint, "blobs-receipts", prefix="a/b", spool_dir=tmp_path)
    shas = [hashlib.sha256(bytes([i])).hexdigest() for i in range(3)]
    assert read_receipt(store, shas[0]) is None
    for i, sha in enumerate(shas):
        write_receipt(store, Receipt(sha[:32], sha, f"b{i}.pdf", i + 1, "application/pdf", event_id=str(i)))
    assert read_receipt(store, shas[2]) == Receipt(
        shas[2][:32], shas[2], "b2.pdf", 3, "application/pdf", event_id="2"
    )
    assert sorted(r.filename for r in all_receipts(store)) == ["b0.pdf", "b1.pdf", "b2.pdf"]
    # another prefix in the same bucket is another store
    assert list(all_receipts(_store(s3_endpoint, "blobs-receipts", prefix="c", spool_dir=tmp_path))) == []


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "blob_url": f"s3://pipeline-{os.getpid()}-{settings.topic_prefix}/docs",
            "s3_endpoint_url": s3_endpoint,
            "s3_access_key_id": "testing",
            "s3_secret_access_key": SecretStr("testing"),
            "ocr_enabled": False,
            "extract_timeout_s": 60.0,
            # ingest asks the store about duplicates; no store listens on a port in this test
            "store_url": f"http://127.0.0.1:{free_port()}",
        }
    )


async def _asgi(app: Any, base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
        yield client


async def test_upload_to_s3_is_extracted_and_served_by_the_store(
    s3_settings: Settings, tmp_path: Path
) -> None:
    """ingest (S3 configured) -> S3 -> extract reads it from S3 -> the store knows the document and its
    file is read back through the blob interface, byte for byte; the same bytes again are a duplicate."""
    from services.extract.app import create_app as extract_app
    from services.ingest.app import create_app as ingest_app
    from services.store.app import create_app as store_app

    await ensure_topics(s3_settings)
    topics = topics_for(s3_settings)
    pdf = letter_pdf_bytes(tmp_path)
    ingest, extract, store = ingest_app(s3_settings), extract_app(s3_settings), store_app(s3_settings)
    async with (
        ingest.router.lifespan_context(ingest),
        extract.router.lifespan_context(extract),
        store.router.lifespan_context(store),
    ):
        assert await extract.state.runner.wait_running(60), "extract agents did not start"
        async for client in _asgi(ingest, "http://ingest"):
            first = await client.post("/documents", files={"file": ("brev.pdf", pdf, "application/pdf")})
            assert first.status_code == 202, first.text
            again = await client.post("/documents", files={"file": ("kopi.pdf", pdf, "application/pdf")})
            assert again.status_code == 200 and again.json()["duplicate"] is True
        body = first.json()
        doc_id, sha = body["document_id"], body["sha256"]
        received = await read_topic(s3_settings.kafka_bootstrap, topics.documents_received)
        assert len(received) == 1
        uri = received[0]["value"]["data"]["blob_uri"]
        assert uri == f"s3://pipeline-{os.getpid()}-{s3_settings.topic_prefix}/docs/sha256/{sha}"
        assert not [p for p in s3_settings.blob_dir.rglob("*") if p.is_file()], "nothing on local disk"

        extracted = await read_topic(s3_settings.kafka_bootstrap, topics.documents_extracted, timeout_s=180)
        assert [r["key"] for r in extracted] == [doc_id]
        segments = await read_topic(s3_settings.kafka_bootstrap, topics.segments_extracted, timeout_s=60)
        texts = " ".join(r["value"]["data"]["text"] for r in segments if r["key"] == doc_id)
        assert "sykepleiere" in texts

        async for client in _asgi(store, "http://store"):
            deadline = 120.0
            detail: dict[str, Any] = {}
            while deadline > 0:
                resp = await client.get(f"/documents/{doc_id}")
                if resp.status_code == 200 and resp.json().get("blob_uri"):
                    detail = resp.json()
                    break
                await asyncio.sleep(0.5)
                deadline -= 0.5
            assert detail.get("blob_uri") == uri
            routes = {getattr(r, "path", "") for r in store.routes}
            if "/documents/{document_id}/file" in routes:
                served = await client.get(f"/documents/{doc_id}/file")
                assert served.status_code == 200 and served.content == pdf
    blobs = blob_store_for(s3_settings)
    assert read_bytes(blobs, detail["blob_uri"]) == pdf
    receipt = read_receipt(blobs, sha)
    assert receipt is not None and receipt.document_id == doc_id and receipt.filename == "brev.pdf"


async def test_replay_reads_receipts_from_s3(s3_settings: Settings, tmp_path: Path) -> None:
    from tools.cli.replay import replay

    await ensure_topics(s3_settings)
    blobs = blob_store_for(s3_settings, create_bucket=True)
    data = letter_pdf_bytes(tmp_path)
    sha = hashlib.sha256(data).hexdigest()
    blobs.put_bytes(data, sha)
    write_receipt(blobs, Receipt(sha[:32], sha, "brev.pdf", len(data), "application/pdf"))
    sent = await replay(s3_settings, [], nonce="n1")
    assert sent == [sha[:32]]
    records = await read_topic(s3_settings.kafka_bootstrap, topics_for(s3_settings).documents_received)
    assert [(r["key"], r["value"]["data"]["source"], r["value"]["data"]["blob_uri"]) for r in records] == [
        (sha[:32], "replay", blobs.uri_for(sha))
    ]
    with pytest.raises(KeyError):
        await replay(s3_settings, ["f" * 32], nonce="n2")
