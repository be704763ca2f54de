"""Seeds and thread settings that make a training run repeatable: same data + same seed -> same model."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def make_deterministic(seed: int, threads: int | None = None) -> None:
    """Seed every generator, ask torch for deterministic kernels, and optionally pin the thread count.

    On CPU the reductions inside matmul can split work differently with a different thread count, so a
    repeatable run also needs the same ``threads`` (the recipe records it in the model card)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads:
        torch.set_num_threads(threads)


def seeded_generator(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g
