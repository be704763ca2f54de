"""The drop folder: files put there are ingested and moved to ``processed/`` or ``rejected/``.

The rule (also in the README): a file directly inside the folder is ingested only once it is complete,
which means

* its name does not start with ``.`` and does not end in ``.part`` or ``.tmp``: writers that can should
  write ``brev.pdf.part`` (or ``.brev.pdf``) and rename it to ``brev.pdf`` when done (write-then-rename);
  such names are left alone until renamed, however long that takes;
* its size, modification time and inode stayed the same for ``drop_stable_s`` seconds (default 2 s),
  observed across several scans; an empty file waits ``empty_grace_s`` (default 30 s) before it is
  refused as empty, since "created, then filled" is a common way to write;
* it did not change while it was read (checked again after the last byte; otherwise it is read again
  once it is stable).

Symbolic links and anything that is not a regular file (folders, FIFOs, sockets, devices) are never
followed or opened: they are moved to ``rejected/`` with ``<name>.reason.txt`` beside them. So is a file
ingest refuses (wrong type, too large, empty). While the broker or blob store is unreachable a file stays
where it is and is tried again, so no dropped file is ever silently lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from watchfiles import awatch

from services.ingest.receiver import Receiver
from services.ingest.validation import RejectedUpload
from shared.blobstore import BlobStoreUnavailable
from shared.kafka import BrokerUnavailable

log = logging.getLogger(__name__)

IN_PROGRESS_SUFFIXES = (".part", ".tmp")

#: (size, mtime in ns, inode, device): what must stay the same for a file to count as complete.
Signature = tuple[int, int, int, int]


def _signature(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


class FileChanged(Exception):
    """The file changed while it was being read; it is read again once stable."""


@dataclass
class _Seen:
    signature: Signature
    since: float
    not_before: float = 0.0


def _unique(dest_dir: Path, name: str) -> Path:
    dest = dest_dir / name
    n = 1
    while dest.exists() or dest.is_symlink():
        dest = dest_dir / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return dest


def in_progress(name: str) -> bool:
    """Names that writers use while a file is not complete yet."""
    return name.startswith(".") or name.endswith(IN_PROGRESS_SUFFIXES)


class DropFolder:
    def __init__(
        self,
        root: Path,
        receiver: Receiver,
        retry_s: float = 5.0,
        stable_s: float = 2.0,
        empty_grace_s: float = 30.0,
    ) -> None:
        self.root = root
        self.processed = root / "processed"
        self.rejected = root / "rejected"
        self.receiver = receiver
        self.retry_s = retry_s
        self.stable_s = stable_s
        self.empty_grace_s = max(empty_grace_s, stable_s)
        self._seen: dict[str, _Seen] = {}
        for d in (self.root, self.processed, self.rejected):
            d.mkdir(parents=True, exist_ok=True)

    def scan(self) -> tuple[list[tuple[Path, os.stat_result]], list[tuple[Path, str]]]:
        """Regular files that may be ingested (with their lstat) and entries to refuse (with the reason).
        Nothing is followed: every entry is judged by ``lstat``."""
        files: list[tuple[Path, os.stat_result]] = []
        refused: list[tuple[Path, str]] = []
        with os.scandir(self.root) as entries:
            for entry in entries:
                path = Path(entry.path)
                if path in (self.processed, self.rejected) or in_progress(entry.name):
                    continue
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    refused.append((path, "symlink: links are not followed; put the file itself here"))
                elif not stat.S_ISREG(st.st_mode):
                    refused.append((path, "not_a_file: only regular files directly in the folder are read"))
                else:
                    files.append((path, st))
        return sorted(files), sorted(refused)

    def pending(self) -> list[Path]:
        """Files waiting in the folder (hidden and partial files, e.g. ``.x.part``, are skipped)."""
        return [p for p, _ in self.scan()[0]]

    def _reject(self, path: Path, error: str, detail: str) -> Path:
        dest = _unique(self.rejected, path.name)
        os.rename(path, dest)  # renames a link or folder itself, never its target
        dest.with_name(dest.name + ".reason.txt").write_text(f"{error}: {detail}\n", encoding="utf-8")
        log.warning("dropped file rejected", extra={"file": dest.name, "error": error})
        return dest

    def ready(self, path: Path, st: os.stat_result, now: float) -> bool:
        """Record one observation; True once the file was unchanged for the stability window."""
        sig = _signature(st)
        seen = self._seen.get(path.name)
        if seen is None or seen.signature != sig:
            self._seen[path.name] = _Seen(sig, now)
            return False
        if now < seen.not_before:
            return False
        quiet = now - seen.since
        return quiet >= (self.empty_grace_s if st.st_size == 0 else self.stable_s)

    async def sweep(self) -> None:
        files, refused = self.scan()
        for path, reason in refused:
            error, _, detail = reason.partition(": ")
            try:
                self._reject(path, error, detail)
            except FileNotFoundError:
                pass
        now = time.monotonic()
        names = {p.name for p, _ in files}
        for name in list(self._seen):
            if name not in names:
                del self._seen[name]
        for path, st in files:
            if self.ready(path, st, now):
                outcome = await self.handle(path, _signature(st))
                if outcome != "retry":
                    self._seen.pop(path.name, None)
                elif path.name in self._seen:
                    self._seen[path.name].not_before = time.monotonic() + self.retry_s

    async def handle(self, path: Path, expected: Signature | None = None) -> str:
        """Ingest one file; returns ``processed``, ``rejected``, ``retry`` or ``gone``.

        ``expected`` is the signature that was found stable: if the file no longer has it, it is left
        for the next round."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return "gone"
        except OSError as exc:  # ELOOP: it became a symlink; others: not readable
            try:
                self._reject(path, "unreadable", str(exc))
            except FileNotFoundError:
                return "gone"
            return "rejected"
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                fh.close()
                self._reject(path, "not_a_file", "only regular files directly in the folder are read")
                return "rejected"
            sig = _signature(st)
            if expected is not None and sig != expected:
                return "retry"

            async def chunks() -> AsyncIterator[bytes]:
                while block := fh.read(1 << 20):
                    yield block
                if _signature(os.fstat(fh.fileno())) != sig:
                    raise FileChanged(path.name)

            try:
                receipt = await self.receiver.accept_stream(chunks(), path.name, source="folder")
            except FileChanged:
                log.info(
                    "dropped file changed while read; waiting for it to settle", extra={"file": path.name}
                )
                self._seen.pop(path.name, None)
                return "retry"
            except RejectedUpload as exc:
                fh.close()
                self._reject(path, exc.error, exc.detail)
                return "rejected"
            except (BrokerUnavailable, BlobStoreUnavailable) as exc:
                log.warning("file kept for retry", extra={"file": path.name, "error": str(exc)})
                return "retry"
        shutil.move(path, _unique(self.processed, path.name))
        log.info(
            "dropped file ingested",
            extra={"file": path.name, "document_id": receipt.document_id, "duplicate": receipt.duplicate},
        )
        return "processed"

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep on start, then on every change and at least every quarter stability window (observations
        of a quiet file need scans without events)."""
        tick_ms = int(max(0.1, min(self.retry_s, self.stable_s / 4)) * 1000)
        await self.sweep()
        async for _changes in awatch(
            self.root,
            stop_event=stop,
            recursive=False,
            rust_timeout=tick_ms,
            yield_on_timeout=True,
        ):
            try:
                await self.sweep()
            except Exception:  # one odd entry must not stop the watcher
                log.exception("drop folder sweep failed; trying again")
