"""shared/memory.py: returning freed heap pages must never fail, with or without glibc."""

from __future__ import annotations

import ctypes.util

import pytest

from shared import memory


def test_release_runs_and_frees_a_large_temporary() -> None:
    def rss_kb() -> int:
        with open("/proc/self/status") as fh:
            return int(fh.read().split("VmRSS:")[1].split()[0])

    if ctypes.util.find_library("c") is None:
        pytest.skip("no C library to trim")
    junk = [str(i) * 3 for i in range(1_000_000)]  # many small objects, as unpickling makes
    before = rss_kb()
    del junk
    memory.release_free_memory()
    assert rss_kb() < before


def test_without_a_c_library_it_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda _: None)
    memory.release_free_memory()
