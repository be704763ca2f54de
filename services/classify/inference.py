"""The loaded model as the service uses it: one inference thread shared by the stream agent and the
HTTP API, so concurrent batches queue instead of fighting over the CPU cores."""

from __future__ import annotations

import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.classify import metrics
from services.classify.loader import load_classifier
from services.classify.schema import Classifier, Item, Prediction


def limit_threads(threads: int) -> None:
    """Cap torch's CPU threads, only where a model already brought torch in (non-BERT models never
    import it)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, threads))


class InferenceService:
    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classify-inference")

    @classmethod
    def from_dir(cls, model_dir: Path, threads: int) -> InferenceService:
        """Load the model once; raises ``ModelError`` with the reason when the directory is unusable."""
        classifier = load_classifier(model_dir, threads=threads)
        limit_threads(threads)
        return cls(classifier)

    @property
    def model_version(self) -> str:
        return self.classifier.model_version

    async def predict(self, items: list[Item], source: str) -> list[Prediction]:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        preds = await loop.run_in_executor(self._pool, self.classifier.predict, items)
        metrics.INFERENCE_SECONDS.labels(source).observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.labels(source).observe(len(items))
        for p in preds:
            metrics.SEGMENTS.labels(source, p.label).inc()
        return preds

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
