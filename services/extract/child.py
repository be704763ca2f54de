"""The sandboxed side of ``sandbox.py``: a warm worker process that extracts one document at a time.

    python -m services.extract.child PARENT_PID MAX_MEMORY_MB CPU_BUDGET_S

Before it imports any PDF code the process ties its life, and its process group's, to its parent
(``PR_SET_PDEATHSIG``, and a watchdog thread that notices a new parent pid), and caps its address
space (``RLIMIT_AS``). It then
reads requests, one JSON object per line on stdin, and answers each with one JSON line on the stdout
it was started with (the library's own prints go to stderr). Before each request the CPU-time limit
is moved to "used so far + this document's deadline", so a loop that escapes the parent's deadline
still dies of ``SIGXCPU``. End of stdin ends the worker.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

_PR_SET_PDEATHSIG = 1
#: CPU seconds granted on top of a document's wall-clock deadline before SIGXCPU.
CPU_SLACK_S = 5


def _kill_own_group(*_: object) -> None:
    """End this worker and everything it started (Tesseract) at once."""
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """End this worker's whole process group (Tesseract included) when its parent goes.

    The kernel sends SIGTERM when the parent dies (``PR_SET_PDEATHSIG``); the handler kills the group.
    Should C code hold the interpreter for a while, the handler runs when it returns, and the CPU-time
    limit bounds that wait. A watchdog thread that notices a new parent pid covers kernels without
    prctl, and one check covers a parent that died before prctl was set."""
    signal.signal(signal.SIGTERM, _kill_own_group)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        _kill_own_group()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                _kill_own_group()

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _apply_memory_limit(max_memory_mb: int) -> None:
    if max_memory_mb > 0:
        cap = int(max_memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_budget(timeout_s: float) -> None:
    """Allow this document ``timeout_s`` + slack CPU seconds from now (never above the hard limit)."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(_cpu_used() + timeout_s) + CPU_SLACK_S
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def near_memory_cap(max_memory_mb: int) -> bool:
    """Whether this process's peak address space came close to its cap. Starved of memory, C
    extensions fail in odd ways (a zlib error, a page that "cannot be read"), so a failure near the
    cap is reported as a resource limit, not as a broken file."""
    if max_memory_mb <= 0:
        return False
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024 >= 0.9 * max_memory_mb * 1024 * 1024
    except (OSError, ValueError):
        return False
    return False


def _answer(out: IO[str], obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def extract_one(request: dict[str, Any], cap: int) -> dict[str, Any]:
    """One request in, one answer out: ``{"result": ...}`` or ``{"error": code, "message": ...}``."""
    from services.extract.engine import extract_document
    from services.extract.model import CORRUPT, RESOURCE_LIMIT, ExtractionError
    from services.extract.serial import limits_from_dict, result_to_dict

    memory_answer = {"error": RESOURCE_LIMIT, "message": f"extraction needed more than {cap} MB of memory"}
    limits = limits_from_dict(request["limits"])
    try:
        result = extract_document(
            Path(request["path"]), limits, request.get("filename"), request.get("content_type")
        )
        return {"result": result_to_dict(result)}
    except ExtractionError as exc:
        if exc.code == CORRUPT and near_memory_cap(cap):
            return memory_answer
        return {"error": exc.code, "message": exc.message}
    except MemoryError:
        return memory_answer
    except RecursionError:
        return {"error": CORRUPT, "message": "the document's structure is nested too deeply to parse"}
    except Exception as exc:
        if "memory" in str(exc).lower() or near_memory_cap(cap):
            return memory_answer
        return {"error": CORRUPT, "message": f"the document could not be parsed ({type(exc).__name__})"}


def serve(stdin: IO[str], out: IO[str], cap: int) -> None:
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        _cpu_budget(float(request["limits"]["timeout_s"]))
        try:
            answer = extract_one(request, cap)
        except MemoryError:
            answer = {"error": "resource_limit", "message": f"extraction needed more than {cap} MB of memory"}
        try:
            _answer(out, answer)
        except MemoryError:
            _answer(
                out, {"error": "resource_limit", "message": "the extraction result did not fit in memory"}
            )


def main(argv: list[str]) -> int:
    parent_pid, cap, cpu_budget = int(argv[0]), int(argv[1]), int(argv[2])
    die_with_parent(parent_pid)
    # Answers go to the stdout we were started with; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_budget, cpu_budget))
    _apply_memory_limit(cap)
    try:
        import pdfminer

        # pdfminer looks for CMap files in CMAP_PATH first: keep it on the library's own folder.
        os.environ["CMAP_PATH"] = str(Path(pdfminer.__file__).parent / "cmap")
        import pdfplumber  # noqa: F401  # warm: the imports are most of a cold start

        from services.extract import engine, guards

        guards.install()
        engine.check_pdfminer()
    except MemoryError:
        _answer(
            out, {"error": "resource_limit", "message": f"the extractor needs more than {cap} MB of memory"}
        )
        return 0
    serve(sys.stdin, out, cap)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
