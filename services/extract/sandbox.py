"""Run one extraction in a child process with a deadline, an address-space limit and a page limit.

Each document gets a fresh ``python -m services.extract.child`` that lowers its own ``RLIMIT_AS`` and
``RLIMIT_CPU`` before it imports any PDF code, then reads one request (JSON on stdin) and writes one
answer (JSON on stdout). The parent kills the child's whole process group (Tesseract included) at the
deadline. JSON, not pickle, comes back, so even a child subverted by a hostile file cannot run code in
the worker. Every failure becomes a clean :class:`ExtractionError`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
#: Room for the child's own stderr (log lines); anything past it is dropped.
_STDERR_KEEP = 4000


def extract_in_sandbox(
    path: Path, limits: Limits, filename: str | None = None, content_type: str | None = None
) -> ExtractionResult:
    """Extract ``path`` in a child process; raise :class:`ExtractionError` on any failure."""
    request = json.dumps(
        {
            "path": str(Path(path).resolve()),
            "filename": filename,
            "content_type": content_type,
            "limits": limits_to_dict(limits),
        }
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.extract.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # One BLAS thread: numpy (via pdfplumber) otherwise reserves memory per core at import.
        env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
    )
    try:
        out, err = proc.communicate(request.encode("utf-8"), timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ExtractionError(
            TIMEOUT, f"extraction took longer than {limits.timeout_s:g} s and was stopped"
        ) from None
    except BaseException:
        _kill_group(proc)
        raise
    elapsed = time.monotonic() - started
    try:
        answer = json.loads(out.decode("utf-8")) if out.strip() else None
    except (UnicodeDecodeError, ValueError):
        answer = None
    if isinstance(answer, dict) and "result" in answer:
        return result_from_dict(answer["result"])
    if isinstance(answer, dict) and "error" in answer:
        raise ExtractionError(str(answer["error"]), str(answer.get("message", "")))
    code = proc.returncode
    tail = err.decode("utf-8", errors="replace")[-_STDERR_KEEP:]
    log.warning("extraction child gave no answer", extra={"returncode": code, "stderr": tail})
    if code == -signal.SIGXCPU:
        raise ExtractionError(TIMEOUT, f"extraction used more than {limits.timeout_s:g} s of CPU")
    if (code is not None and code < 0) or any(sign in tail for sign in _MEMORY_SIGNS):
        raise ExtractionError(
            RESOURCE_LIMIT,
            f"the extraction process died after {elapsed:.1f} s (limit {limits.max_memory_mb} MB of memory)",
        )
    raise ExtractionError(CORRUPT, f"the extraction process failed (exit code {code})")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        proc.kill()
