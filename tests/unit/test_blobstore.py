"""The folder blob store, the receipt format and the store factory."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.blobstore import (
    BlobNotFound,
    BlobStore,
    InvalidBlobUri,
    LocalBlobStore,
    S3BlobStore,
    blob_store_for,
    iter_chunks,
    parse_s3_url,
    read_bytes,
)
from shared.receipts import Receipt, all_receipts, read_receipt, write_receipt
from shared.settings import Settings


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_local_store_is_content_addressed_and_streams(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    assert isinstance(store, BlobStore)
    data = b"%PDF-1.4\n" + bytes(range(256)) * 1000
    sha = _sha(data)
    assert not store.exists(sha)
    uri = store.put_bytes(data, sha)
    assert uri == f"blob://sha256/{sha}" and store.exists(sha)
    assert (tmp_path / "blobs" / sha[:2] / sha).read_bytes() == data
    assert read_bytes(store, uri) == data and store.size(uri) == len(data)
    assert b"".join(iter_chunks(store.open(uri), 1000)) == data
    with store.local_path(uri) as path:
        assert path.read_bytes() == data
    # storing the same hash again keeps the first blob and consumes the temp file
    tmp = store.new_temp_path()
    tmp.write_bytes(data)
    assert store.put_file(tmp, sha) == uri and not tmp.exists()
    assert list((tmp_path / "blobs" / ".tmp").iterdir()) == []


def test_local_store_copies_a_file_from_elsewhere(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "outside.pdf"
    src.write_bytes(b"%PDF-1.7 outside")
    uri = store.put_file(src, _sha(src.read_bytes()))
    assert src.is_file(), "a file outside the store is copied, never moved away from its owner"
    assert read_bytes(store, uri) == b"%PDF-1.7 outside"


@pytest.mark.parametrize(
    "uri",
    [
        "blob://sha256/../../etc/passwd",
        "blob://sha256/" + "A" * 64,
        "file:///etc/passwd",
        "s3://bucket/sha256/" + "a" * 64,
        "blob://sha256/" + "a" * 64 + "/x",
    ],
)
def test_local_store_refuses_foreign_uris(tmp_path: Path, uri: str) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(InvalidBlobUri):
        store.open(uri)
    with pytest.raises(InvalidBlobUri), store.local_path(uri):
        pass


def test_missing_blob_is_blob_not_found(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    uri = store.uri_for("a" * 64)
    with pytest.raises(BlobNotFound):
        store.open(uri)
    with pytest.raises(BlobNotFound), store.local_path(uri):
        pass
    with pytest.raises(BlobNotFound):
        store.size(uri)


def test_receipts_round_trip_and_list(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    shas = [_sha(bytes([i])) for i in range(3)]
    for i, sha in enumerate(shas):
        write_receipt(
            store, Receipt(sha[:32], sha, f"brev{i}.pdf", 10 + i, "application/pdf", event_id=f"e{i}")
        )
    assert read_receipt(store, "f" * 64) is None
    got = read_receipt(store, shas[1])
    assert got is not None and got.filename == "brev1.pdf" and got.bytes == 11 and got.event_id == "e1"
    assert got.duplicate is False
    assert sorted(r.sha256 for r in all_receipts(store)) == sorted(shas)
    # the folder layout older versions wrote stays readable (replay of documents ingested before)
    assert (tmp_path / shas[0][:2] / f"{shas[0]}.received.json").is_file()


def test_old_receipts_and_damaged_ones(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    sha = _sha(b"old")
    old = json.dumps(
        {
            "document_id": sha[:32],
            "sha256": sha,
            "filename": "a.pdf",
            "bytes": 3,
            "content_type": "application/pdf",
            "duplicate": False,
            "event_id": "x",
            "future_field": 1,
        }
    )
    (tmp_path / sha[:2]).mkdir(parents=True, exist_ok=True)
    (tmp_path / sha[:2] / f"{sha}.received.json").write_text(old)
    bad = _sha(b"bad")
    (tmp_path / bad[:2]).mkdir(parents=True, exist_ok=True)
    (tmp_path / bad[:2] / f"{bad}.received.json").write_text("{not json")
    assert [r.filename for r in all_receipts(store)] == ["a.pdf"]


def test_receipt_json_does_not_store_the_duplicate_flag() -> None:
    r = Receipt("d" * 32, "d" * 64, "x.pdf", 1, "application/pdf", duplicate=True)
    assert b"duplicate" not in r.to_json()
    assert Receipt.from_json(r.to_json()) == Receipt("d" * 32, "d" * 64, "x.pdf", 1, "application/pdf")
    with pytest.raises(ValueError):
        Receipt.from_json(b"[1, 2]")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://innspill", ("innspill", "")),
        ("s3://innspill/", ("innspill", "")),
        ("s3://innspill/prod/blobs/", ("innspill", "prod/blobs")),
    ],
)
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["s3://", "s3://A_B/x", "http://x/y"])
def test_parse_s3_url_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


def test_factory_picks_the_store(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path / "var")
    local = blob_store_for(base)
    assert isinstance(local, LocalBlobStore) and local.root == base.blob_dir
    assert isinstance(
        blob_store_for(base.model_copy(update={"blob_url": str(tmp_path / "b")})), LocalBlobStore
    )
    s3 = blob_store_for(
        base.model_copy(
            update={
                "blob_url": "s3://docs/innspill",
                "s3_endpoint_url": "http://127.0.0.1:1",
                "s3_access_key_id": "k",
                "s3_secret_access_key": SecretStr("s"),
            }
        )
    )
    assert isinstance(s3, S3BlobStore) and s3.bucket == "docs" and s3.prefix == "innspill"
    sha = "b" * 64
    assert s3.uri_for(sha) == f"s3://docs/innspill/sha256/{sha}" and s3.sha_of(s3.uri_for(sha)) == sha
    for foreign in (f"s3://other/innspill/sha256/{sha}", f"s3://docs/sha256/{sha}", f"blob://sha256/{sha}"):
        with pytest.raises(InvalidBlobUri):
            s3.sha_of(foreign)
    with pytest.raises(ValueError):
        blob_store_for(base.model_copy(update={"blob_url": "ftp://x/y"}))
