"""Content-addressed blob store. Document bytes live here; events carry only the URI.

One small protocol, :class:`BlobStore`, with two implementations:

* :class:`LocalBlobStore`: files under a folder (the default: ``<data_dir>/blobs``), URIs
  ``blob://sha256/<hex>``.
* :class:`S3BlobStore`: any S3-compatible service (``INNSPILL_BLOB_URL=s3://bucket/prefix``; endpoint,
  region and keys from the ``INNSPILL_S3_*`` settings), URIs ``s3://bucket/prefix/sha256/<hex>``.
  Uploads stream from the spooled file in parts (multipart above 8 MiB), never read whole into memory.

URIs are built from the SHA-256 alone, never from user input, and resolving a URI checks the hash form
(and, for S3, the bucket and prefix) so no URI can point outside the store. Each store also keeps small
ingest receipts (JSON bytes, format owned by :mod:`shared.receipts`) keyed by the same hash, so duplicate
detection and replay work the same whatever holds the blobs.

:func:`blob_store_for` picks the implementation from the settings; every service uses it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from shared.settings import Settings

_HEX = re.compile(r"[0-9a-f]{64}")
_URI = re.compile(r"^blob://sha256/([0-9a-f]{64})$")
_CHUNK = 1 << 20


class BlobNotFound(FileNotFoundError):
    pass


class InvalidBlobUri(ValueError):
    pass


class BlobStoreUnavailable(RuntimeError):
    """The blob store could not be reached or refused the operation (the caller answers 503 or retries)."""


def _check_sha(sha256: str) -> str:
    if not _HEX.fullmatch(sha256):
        raise InvalidBlobUri(f"not a sha256 hex digest: {sha256!r}")
    return sha256


@runtime_checkable
class BlobStore(Protocol):
    """Where document bytes and ingest receipts live, addressed by SHA-256."""

    def uri_for(self, sha256: str) -> str:
        """The URI a blob with this hash has (whether stored or not)."""
        ...

    def sha_of(self, uri: str) -> str:
        """The hash a URI of this store names; :class:`InvalidBlobUri` for any other URI."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def new_temp_path(self) -> Path:
        """A private local file to spool an upload into before :meth:`put_file`."""
        ...

    def put_file(self, src: Path, sha256: str) -> str:
        """Store a fully written local file under its hash (``src`` is consumed); returns the URI.
        An existing blob is kept as is."""
        ...

    def open(self, uri: str) -> IO[bytes]:
        """A readable binary stream of the blob; :class:`BlobNotFound` if absent. Close it after use."""
        ...

    def size(self, uri: str) -> int: ...

    def local_path(self, uri: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the blob's bytes for the duration of the ``with`` block (the blob itself for
        the folder store, a temporary download for S3)."""
        ...

    def put_receipt(self, sha256: str, data: bytes) -> None: ...

    def get_receipt(self, sha256: str) -> bytes | None: ...

    def list_receipts(self) -> Iterator[bytes]: ...


def read_bytes(store: BlobStore, uri: str) -> bytes:
    """The whole blob in memory (small blobs and tests only; stream with ``store.open`` otherwise)."""
    with store.open(uri) as fh:
        return fh.read()


def iter_chunks(fh: IO[bytes], chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """An open blob (:meth:`BlobStore.open`) as a sequence of chunks, e.g. for a streaming HTTP response;
    closes it at the end. Open it first, so a missing blob is an error before the first chunk."""
    with fh:
        while block := fh.read(chunk_size):
            yield block


class LocalBlobStore:
    """Blobs as files under ``root/ab/abcdef...``; writes are atomic renames, so readers never see half a file.
    The receipt of blob ``<hex>`` is ``root/ab/<hex>.received.json``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def uri_for(sha256: str) -> str:
        return f"blob://sha256/{_check_sha(sha256)}"

    def sha_of(self, uri: str) -> str:
        m = _URI.match(uri)
        if not m:
            raise InvalidBlobUri(f"not a blob URI: {uri!r}")
        return m.group(1)

    def path_for(self, uri: str) -> Path:
        sha = self.sha_of(uri)
        return self.root / sha[:2] / sha

    def exists(self, sha256: str) -> bool:
        return self.path_for(self.uri_for(sha256)).is_file()

    def new_temp_path(self) -> Path:
        """A private temp file inside the store (same filesystem, so the final move is a rename)."""
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="up-")
        os.close(fd)
        return Path(name)

    def put_file(self, src: Path, sha256: str) -> str:
        """Move a fully written temp file into place under its hash; an existing blob is kept as is."""
        uri = self.uri_for(sha256)
        dest = self.path_for(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = Path(src)
        if dest.exists():
            src.unlink(missing_ok=True)
        elif src.parent == self.tmp:
            os.replace(src, dest)
        else:
            part = self.new_temp_path()
            shutil.copyfile(src, part)
            os.replace(part, dest)
        return uri

    def put_bytes(self, data: bytes, sha256: str) -> str:
        tmp = self.new_temp_path()
        tmp.write_bytes(data)
        return self.put_file(tmp, sha256)

    def open(self, uri: str) -> IO[bytes]:
        try:
            return open(self.path_for(uri), "rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlobNotFound(uri) from exc

    def size(self, uri: str) -> int:
        try:
            return self.path_for(uri).stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(uri) from exc

    def read_bytes(self, uri: str) -> bytes:
        return read_bytes(self, uri)

    @contextlib.contextmanager
    def local_path(self, uri: str) -> Iterator[Path]:
        path = self.path_for(uri)
        if not path.is_file():
            raise BlobNotFound(uri)
        yield path

    def _receipt_path(self, sha256: str) -> Path:
        sha = _check_sha(sha256)
        return self.root / sha[:2] / f"{sha}.received.json"

    def put_receipt(self, sha256: str, data: bytes) -> None:
        dest = self._receipt_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.new_temp_path()
        tmp.write_bytes(data)
        os.replace(tmp, dest)

    def get_receipt(self, sha256: str) -> bytes | None:
        try:
            return self._receipt_path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def list_receipts(self) -> Iterator[bytes]:
        for path in sorted(self.root.glob("??/*.received.json")):
            with contextlib.suppress(FileNotFoundError):
                yield path.read_bytes()


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``) (prefix without slashes at the ends)."""
    m = re.fullmatch(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?", url.strip())
    if not m:
        raise ValueError(f"not an S3 URL (s3://bucket/prefix): {url!r}")
    return m.group(1), (m.group(2) or "").strip("/")


class S3BlobStore:
    """Blobs as objects ``<prefix>/sha256/<hex>`` in one bucket of an S3-compatible service; receipts as
    ``<prefix>/receipts/<hex>.json``. The client is boto3's (thread-safe; calls block, so async callers
    run them in a thread)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        spool_dir: Path | None = None,
        multipart_threshold: int = 8 * 1024 * 1024,
        create_bucket: bool = False,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=32,
                s3={"addressing_style": "path"} if endpoint_url else None,
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024),
            max_concurrency=4,
            use_threads=True,
        )
        self.spool = Path(spool_dir or tempfile.gettempdir()) / "innspill-spool"
        self.spool.mkdir(parents=True, exist_ok=True)
        if create_bucket:
            self.ensure_bucket()

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def uri_for(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self._key('sha256', _check_sha(sha256))}"

    def sha_of(self, uri: str) -> str:
        head = f"s3://{self.bucket}/{self._key('sha256')}/"
        if not uri.startswith(head) or not _HEX.fullmatch(uri[len(head) :]):
            raise InvalidBlobUri(f"not a blob URI of s3://{self.bucket}/{self.prefix}: {uri!r}")
        return uri[len(head) :]

    def _blob_key(self, uri: str) -> str:
        return self._key("sha256", self.sha_of(uri))

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key("sha256", _check_sha(sha256)))
            return True
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise

    def new_temp_path(self) -> Path:
        fd, name = tempfile.mkstemp(dir=self.spool, prefix="up-")
        os.close(fd)
        return Path(name)

    def put_file(self, src: Path, sha256: str) -> str:
        """Upload in parts straight from the file (no whole-file read); content-addressed, so an object
        already there is not uploaded again."""
        uri = self.uri_for(sha256)
        try:
            if not self.exists(sha256):
                self.client.upload_file(
                    str(src),
                    self.bucket,
                    self._key("sha256", sha256),
                    ExtraArgs={"ContentType": "application/octet-stream", "Metadata": {"sha256": sha256}},
                    Config=self.transfer,
                )
        finally:
            if Path(src).parent == self.spool:
                Path(src).unlink(missing_ok=True)
        return uri

    def put_bytes(self, data: bytes, sha256: str) -> str:
        tmp = self.new_temp_path()
        tmp.write_bytes(data)
        return self.put_file(tmp, sha256)

    def open(self, uri: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        key = self._blob_key(uri)
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(uri) from exc
            raise
        body: IO[bytes] = obj["Body"]
        return body

    def size(self, uri: str) -> int:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._blob_key(uri))
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(uri) from exc
            raise
        return int(head["ContentLength"])

    def read_bytes(self, uri: str) -> bytes:
        return read_bytes(self, uri)

    @contextlib.contextmanager
    def local_path(self, uri: str) -> Iterator[Path]:
        """Download to a private temp file (streamed, in parts), removed when the block ends."""
        from botocore.exceptions import ClientError

        key = self._blob_key(uri)
        tmp = self.new_temp_path()
        try:
            try:
                self.client.download_file(self.bucket, key, str(tmp), Config=self.transfer)
            except ClientError as exc:
                if self._missing(exc):
                    raise BlobNotFound(uri) from exc
                raise
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

    def put_receipt(self, sha256: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key("receipts", f"{_check_sha(sha256)}.json"),
            Body=data,
            ContentType="application/json",
        )

    def get_receipt(self, sha256: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(
                Bucket=self.bucket, Key=self._key("receipts", f"{_check_sha(sha256)}.json")
            )
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise
        data: bytes = obj["Body"].read()
        return data

    def list_receipts(self) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key("receipts") + "/"):
            for item in page.get("Contents", []):
                try:
                    obj = self.client.get_object(Bucket=self.bucket, Key=item["Key"])
                except ClientError as exc:
                    if self._missing(exc):
                        continue
                    raise
                yield obj["Body"].read()


def blob_store_for(settings: Settings, create_bucket: bool = False) -> LocalBlobStore | S3BlobStore:
    """The blob store the settings name: ``blob_url`` unset (or ``file://``/a path) = the folder under the
    data dir; ``s3://bucket/prefix`` = S3-compatible with the ``s3_*`` settings."""
    url = settings.blob_url
    if not url:
        return LocalBlobStore(settings.blob_dir)
    if url.startswith("s3://"):
        bucket, prefix = parse_s3_url(url)
        secret = settings.s3_secret_access_key
        return S3BlobStore(
            bucket,
            prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            spool_dir=settings.data_dir / "spool",
            create_bucket=create_bucket,
        )
    if url.startswith("file://"):
        return LocalBlobStore(Path(url.removeprefix("file://")))
    if "://" not in url:
        return LocalBlobStore(Path(url))
    raise ValueError(f"unsupported INNSPILL_BLOB_URL {url!r}: use s3://bucket/prefix or a folder path")
