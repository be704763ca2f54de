"""Content-addressed blob store. Document bytes live here; events carry only the URI.

URIs are built from the SHA-256 alone (``blob://sha256/<hex>``), never from user input, and resolving a
URI checks the hash form so no URI can point outside the store.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_URI = re.compile(r"^blob://sha256/([0-9a-f]{64})$")


class BlobNotFound(FileNotFoundError):
    pass


class InvalidBlobUri(ValueError):
    pass


class LocalBlobStore:
    """Blobs as files under ``root/ab/abcdef...``; writes are atomic renames, so readers never see half a file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def uri_for(sha256: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise InvalidBlobUri(f"not a sha256 hex digest: {sha256!r}")
        return f"blob://sha256/{sha256}"

    def path_for(self, uri: str) -> Path:
        m = _URI.match(uri)
        if not m:
            raise InvalidBlobUri(f"not a blob URI: {uri!r}")
        sha = m.group(1)
        return self.root / sha[:2] / sha

    def exists(self, sha256: str) -> bool:
        return self.path_for(self.uri_for(sha256)).is_file()

    def new_temp_path(self) -> Path:
        """A private temp file inside the store (same filesystem, so the final move is a rename)."""
        fd, name = __import__("tempfile").mkstemp(dir=self.tmp, prefix="up-")
        os.close(fd)
        return Path(name)

    def put_file(self, src: Path, sha256: str) -> str:
        """Move a fully written temp file into place under its hash; an existing blob is kept as is."""
        uri = self.uri_for(sha256)
        dest = self.path_for(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            Path(src).unlink(missing_ok=True)
        else:
            os.replace(src, dest) if Path(src).parent == self.tmp else shutil.copyfile(src, dest)
        return uri

    def put_bytes(self, data: bytes, sha256: str) -> str:
        tmp = self.new_temp_path()
        tmp.write_bytes(data)
        return self.put_file(tmp, sha256)

    def read_bytes(self, uri: str) -> bytes:
        path = self.path_for(uri)
        if not path.is_file():
            raise BlobNotFound(uri)
        return path.read_bytes()
