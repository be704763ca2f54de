"""The sandboxed side of ``sandbox.py``: limits first, then one extraction, answered as JSON."""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path


def _apply_limits(max_memory_mb: int, timeout_s: float) -> None:
    if max_memory_mb > 0:
        cap = int(max_memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = int(timeout_s) + 5  # CPU seconds: a second line of defence behind the parent's kill
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


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


def _answer(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False))
    sys.stdout.flush()


def main() -> int:
    request = json.loads(sys.stdin.read())
    lim = request["limits"]
    cap = int(lim["max_memory_mb"])
    _apply_limits(cap, float(lim["timeout_s"]))
    memory_answer = {"error": "resource_limit", "message": f"extraction needed more than {cap} MB of memory"}
    try:
        import pdfminer

        # pdfminer looks for CMap files in CMAP_PATH first: keep it on the library's own folder.
        os.environ["CMAP_PATH"] = str(Path(pdfminer.__file__).parent / "cmap")
        from services.extract.engine import extract_document
        from services.extract.model import CORRUPT, ExtractionError
        from services.extract.serial import limits_from_dict, result_to_dict

        limits = limits_from_dict(lim)
    except MemoryError:
        _answer(memory_answer)
        return 0
    try:
        result = extract_document(
            Path(request["path"]), limits, request.get("filename"), request.get("content_type")
        )
        _answer({"result": result_to_dict(result)})
    except ExtractionError as exc:
        if exc.code == CORRUPT and near_memory_cap(cap):
            _answer(memory_answer)
        else:
            _answer({"error": exc.code, "message": exc.message})
    except MemoryError:
        _answer(memory_answer)
    except RecursionError:
        _answer({"error": CORRUPT, "message": "the document's structure is nested too deeply to parse"})
    except Exception as exc:
        if "memory" in str(exc).lower() or near_memory_cap(cap):
            _answer(memory_answer)
        else:
            _answer({"error": CORRUPT, "message": f"the document could not be parsed ({type(exc).__name__})"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
