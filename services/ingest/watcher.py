"""The drop folder: files put there are ingested and moved to ``processed/`` or ``rejected/``.

A rejected file gets ``<name>.reason.txt`` beside it. While the broker is unreachable a file stays where
it is and is tried again, so no dropped file is ever silently lost.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from watchfiles import Change, awatch

from services.ingest.receiver import Receiver
from services.ingest.validation import RejectedUpload
from shared.kafka import BrokerUnavailable

log = logging.getLogger(__name__)


def _unique(dest_dir: Path, name: str) -> Path:
    dest = dest_dir / name
    n = 1
    while dest.exists():
        dest = dest_dir / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return dest


class DropFolder:
    def __init__(self, root: Path, receiver: Receiver, retry_s: float = 5.0) -> None:
        self.root = root
        self.processed = root / "processed"
        self.rejected = root / "rejected"
        self.receiver = receiver
        self.retry_s = retry_s
        for d in (self.root, self.processed, self.rejected):
            d.mkdir(parents=True, exist_ok=True)

    def pending(self) -> list[Path]:
        """Files waiting in the folder (hidden and partial files, e.g. ``.x.part``, are skipped)."""
        return sorted(
            p
            for p in self.root.iterdir()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp"))
        )

    async def handle(self, path: Path) -> str:
        """Ingest one file; returns ``processed``, ``rejected`` or ``retry``."""
        if not path.is_file():
            return "gone"
        if not await self._stable(path):
            return "retry"
        try:
            receipt = await self.receiver.accept_path(path, source="folder")
        except RejectedUpload as exc:
            dest = _unique(self.rejected, path.name)
            shutil.move(path, dest)
            dest.with_name(dest.name + ".reason.txt").write_text(
                f"{exc.error}: {exc.detail}\n", encoding="utf-8"
            )
            log.warning("dropped file rejected", extra={"file": dest.name, "error": exc.error})
            return "rejected"
        except BrokerUnavailable as exc:
            log.warning(
                "broker unavailable; file kept for retry", extra={"file": path.name, "error": str(exc)}
            )
            return "retry"
        shutil.move(path, _unique(self.processed, path.name))
        log.info(
            "dropped file ingested",
            extra={"file": path.name, "document_id": receipt.document_id, "duplicate": receipt.duplicate},
        )
        return "processed"

    @staticmethod
    async def _stable(path: Path, wait_s: float = 0.3) -> bool:
        """A file still being written is left for the next round."""
        try:
            before = path.stat().st_size
            await asyncio.sleep(wait_s)
            return path.stat().st_size == before
        except FileNotFoundError:
            return False

    async def sweep(self) -> None:
        for path in self.pending():
            await self.handle(path)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep on start, then on every change, and every ``retry_s`` for files left for retry."""
        await self.sweep()
        async for changes in awatch(
            self.root,
            stop_event=stop,
            recursive=False,
            rust_timeout=int(self.retry_s * 1000),
            yield_on_timeout=True,
        ):
            if any(change != Change.deleted for change, _ in changes) or not changes:
                await self.sweep()
