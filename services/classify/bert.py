"""Inference for fine-tuned BERT checkpoints: PyTorch on CPU, or an int8 ONNX file when the model
directory has one (``onnx`` in the manifest). Batches are length-sorted internally so short segments are
not padded to the longest one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from services.classify.schema import Item, ModelError, Prediction, heading_text

ONNX_FILE = "model.int8.onnx"
#: Longest input (heading path + text) in tokens, for training and serving alike.
MAX_LENGTH = 128


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class BertClassifier:
    def __init__(
        self,
        model_dir: Path,
        model_version: str,
        *,
        runtime: str = "torch",
        threads: int | None = None,
        onnx_file: str | None = None,
        max_length: int = MAX_LENGTH,
        chunk: int = 32,
    ) -> None:
        self.model_version = model_version
        self.max_length = max_length
        self.chunk = chunk
        self.runtime = runtime
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        if runtime == "onnx":
            import onnxruntime as ort

            opts = ort.SessionOptions()
            if threads:
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
            path = model_dir / (onnx_file or ONNX_FILE)
            if not path.is_file():
                raise ModelError(f"{path} is missing")
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            self._inputs = {i.name for i in self.session.get_inputs()}
        else:
            import torch
            from transformers import AutoModelForSequenceClassification

            if threads:
                torch.set_num_threads(threads)
            self.model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()

    def _encode(self, items: list[Item]) -> dict[str, Any]:
        return self.tokenizer(
            [heading_text(it.heading_path) for it in items],
            [it.text for it in items],
            truncation="longest_first",
            max_length=self.max_length,
            padding=True,
            return_tensors="np" if self.runtime == "onnx" else "pt",
        )

    def _logits(self, items: list[Item]) -> np.ndarray:
        enc = self._encode(items)
        if self.runtime == "onnx":
            feed = {k: v.astype(np.int64) for k, v in enc.items() if k in self._inputs}
            return self.session.run(None, feed)[0]
        import torch

        with torch.inference_mode():
            return self.model(**enc).logits.float().numpy()

    def predict_proba(self, items: list[Item]) -> np.ndarray:
        """Probabilities in ``LABELS`` order (the checkpoint's label ids follow ``LABELS``)."""
        order = sorted(
            range(len(items)), key=lambda i: len(items[i].text) + len(" ".join(items[i].heading_path))
        )
        out = np.zeros((len(items), 4))
        for start in range(0, len(order), self.chunk):
            idx = order[start : start + self.chunk]
            out[idx] = softmax(self._logits([items[i] for i in idx]))
        return out

    def predict(self, items: list[Item]) -> list[Prediction]:
        if not items:
            return []
        return [Prediction.from_probs(row) for row in self.predict_proba(items)]
