"""Extraction in sandboxed child processes: a pool of warm workers with a deadline, an address-space
limit, a CPU-time limit and a page limit per document.

Each worker is ``python -m services.extract.child`` in its own session (process group). It caps its own
address space before it imports any PDF code, dies with its parent, and serves one document at a time:
a JSON request line in, a JSON answer line out (JSON, not pickle, so even a child subverted by a
hostile file cannot run code in the service). The parent kills the worker's whole process group
(Tesseract included) at the document's deadline. A worker is recycled after ``recycle_after`` documents
and after any failure, so what one hostile file did to a process never reaches the next document.
Every failure becomes a clean :class:`ExtractionError`.

``SandboxPool`` holds up to ``size`` warm workers for the service; ``extract_in_sandbox`` runs one
document in a worker of its own (tests, tools).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from services.extract.child import CPU_SLACK_S
from services.extract.model import (
    CORRUPT,
    RESOURCE_LIMIT,
    TIMEOUT,
    ExtractionError,
    ExtractionResult,
    Limits,
)
from services.extract.serial import limits_to_dict, result_from_dict

log = logging.getLogger(__name__)

#: What a process that ran out of address space leaves in its stderr.
_MEMORY_SIGNS = (
    "MemoryError",
    "Cannot allocate memory",
    "failed to map segment",
    "bad_alloc",
    "out of memory",
    "Memory allocation",
    "SystemError",
)
#: Room for the child's own stderr (log lines) per document; anything before it is dropped.
_STDERR_KEEP = 4000
#: Documents a worker serves before it is replaced (memory fragmentation, caches).
RECYCLE_AFTER = 50

# Workers are started from one long-lived thread: PR_SET_PDEATHSIG fires when the *thread* that forked
# the child ends, so a child forked from a short-lived worker thread would die with that thread.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-spawner")


class Worker:
    """One warm sandboxed child process."""

    def __init__(self, limits: Limits, recycle_after: int = RECYCLE_AFTER) -> None:
        self.max_memory_mb = limits.max_memory_mb
        self.recycle_after = recycle_after
        self.served = 0
        cpu_budget = int((recycle_after + 1) * (limits.timeout_s + CPU_SLACK_S)) + 60
        argv = [
            sys.executable,
            "-m",
            "services.extract.child",
            str(os.getpid()),
            str(limits.max_memory_mb),
            str(cpu_budget),
        ]
        self.proc: subprocess.Popen[bytes] = _SPAWNER.submit(
            subprocess.Popen,
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # One BLAS thread: numpy (via pdfplumber) otherwise reserves memory per core at import.
            env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
        ).result()
        self._stdout = b""
        self._stderr = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def worn(self) -> bool:
        return self.served >= self.recycle_after or not self.alive

    def extract(
        self, path: Path, limits: Limits, filename: str | None = None, content_type: str | None = None
    ) -> ExtractionResult:
        """One document; on any failure the worker is closed (the caller replaces it)."""
        request = {
            "path": str(Path(path).resolve()),
            "filename": filename,
            "content_type": content_type,
            "limits": limits_to_dict(limits),
        }
        self.served += 1
        self._stderr = b""
        started = time.monotonic()
        try:
            answer = self._exchange(json.dumps(request).encode("utf-8") + b"\n", limits.timeout_s)
        except BaseException:
            self.close()
            raise
        if isinstance(answer, dict) and "result" in answer:
            return result_from_dict(answer["result"])
        self.close()
        if isinstance(answer, dict) and "error" in answer:
            raise ExtractionError(str(answer["error"]), str(answer.get("message", "")))
        raise self._death(time.monotonic() - started, limits)

    def _exchange(self, request: bytes, timeout_s: float) -> Any:
        """Send one request and read one answer line; None when the worker died without one."""
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        deadline = time.monotonic() + timeout_s
        out_fd, err_fd = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(out_fd, selectors.EVENT_READ)
            sel.register(err_fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ExtractionError(
                        TIMEOUT, f"extraction took longer than {timeout_s:g} s and was stopped"
                    )
                for key, _ in sel.select(timeout=min(left, 1.0)):
                    chunk = os.read(key.fd, 1 << 20)
                    if key.fd == err_fd:
                        if chunk:
                            self._stderr = (self._stderr + chunk)[-_STDERR_KEEP:]
                        else:
                            sel.unregister(err_fd)
                        continue
                    if not chunk:
                        return None  # the worker died
                    self._stdout += chunk
                    if b"\n" in chunk:
                        line, _, self._stdout = self._stdout.partition(b"\n")
                        try:
                            return json.loads(line.decode("utf-8"))
                        except (UnicodeDecodeError, ValueError):
                            return None

    def _death(self, elapsed: float, limits: Limits) -> ExtractionError:
        """The error for a worker that ended without an answer, judged by how it ended."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        tail = self._stderr.decode("utf-8", errors="replace")
        log.warning("extraction worker gave no answer", extra={"returncode": code, "stderr": tail})
        if code == -signal.SIGXCPU:
            return ExtractionError(TIMEOUT, f"extraction used more than {limits.timeout_s:g} s of CPU")
        if (code is not None and code < 0) or any(sign in tail for sign in _MEMORY_SIGNS):
            return ExtractionError(
                RESOURCE_LIMIT,
                f"the extraction process died after {elapsed:.1f} s (limit {limits.max_memory_mb} MB of memory)",
            )
        return ExtractionError(CORRUPT, f"the extraction process failed (exit code {code})")

    def close(self) -> None:
        """Kill the worker's whole process group and reap it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class SandboxPool:
    """Up to ``size`` warm workers; ``extract`` blocks while all are busy. Thread-safe."""

    def __init__(self, size: int, limits: Limits, recycle_after: int = RECYCLE_AFTER) -> None:
        self.size = max(1, size)
        self.limits = limits
        self.recycle_after = recycle_after
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._all: weakref.WeakSet[Worker] = weakref.WeakSet()
        self.started = 0  # workers started so far (recycling shows here)
        self.busy = 0  # documents in a worker now
        self.peak = 0  # most documents in workers at once
        atexit.register(self.close)

    def _take(self) -> Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                worker.close()
            self.started += 1
        worker = Worker(self.limits, self.recycle_after)
        self._all.add(worker)
        return worker

    def _give(self, worker: Worker) -> None:
        if worker.worn:
            worker.close()
            return
        with self._lock:
            self._idle.append(worker)

    def warm(self) -> None:
        """Start every worker now, so the first documents do not wait for imports."""
        with self._lock:
            missing = self.size - len(self._idle)
            self.started += max(missing, 0)
        fresh = [Worker(self.limits, self.recycle_after) for _ in range(max(missing, 0))]
        with self._lock:
            for worker in fresh:
                self._all.add(worker)
                self._idle.append(worker)

    def extract(
        self, path: Path, filename: str | None = None, content_type: str | None = None
    ) -> ExtractionResult:
        with self._slots:
            worker = self._take()
            with self._lock:
                self.busy += 1
                self.peak = max(self.peak, self.busy)
            try:
                return worker.extract(path, self.limits, filename, content_type)
            finally:
                with self._lock:
                    self.busy -= 1
                self._give(worker)

    def pids(self) -> list[int]:
        return [w.pid for w in list(self._all) if w.alive]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle + list(self._all):
            worker.close()


def extract_in_sandbox(
    path: Path, limits: Limits, filename: str | None = None, content_type: str | None = None
) -> ExtractionResult:
    """Extract ``path`` in a worker of its own; raise :class:`ExtractionError` on any failure."""
    worker = Worker(limits, recycle_after=1)
    try:
        return worker.extract(path, limits, filename, content_type)
    finally:
        worker.close()
