"""Inference for fine-tuned BERT checkpoints: PyTorch on CPU, or an int8 ONNX file when the model
directory has one (``onnx`` in the manifest). Batches are length-sorted internally so short segments are
not padded to the longest one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from services.classify.compact import MAX_LENGTH
from services.classify.schema import Item, ModelError, Prediction, heading_text

ONNX_FILE = "model.int8.onnx"


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class BertClassifier:
    def __init__(
        self, model_dir: Path, model_version: str, *, runtime: str = "torch", threads: int | None = None,
        onnx_file: str | None = None, max_length: int = MAX_LENGTH, chunk: int = 32,
    ) -> None:
        self.model_version = model_version
        self.max_length = max_length
        self.chunk = chunk
        self.runtime = runtime
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
            if threads:
                torch.set_num_threads(threads)
            self.model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()

    def _encode(self, items: list[Item]) -> dict[str, Any]:
        return self.tokenizer(
            [heading_text(it.heading_path) for it in items], [it.text for it in items],
            truncation="longest_first", max_length=self.max_length, padding=True,
            return_tensors="np" if self.runtime == "onnx" else "pt",
        )

    def _logits(self, items: list[Item]) -> np.ndarray:
        enc = self._encode(items)
        if self.runtime == "onnx":
            feed = {k: v.astype(np.int64) for k, v in enc.items() if k in self._inputs}
            return self.session.run(None, feed)[0]
        with torch.inference_mode():
            return self.model(**enc).logits.float().numpy()

    def predict_proba(self, items: list[Item]) -> np.ndarray:
        """Probabilities in ``LABELS`` order (the checkpoint's label ids follow ``LABELS``)."""
        order = sorted(range(len(items)), key=lambda i: len(items[i].text) + len(" ".join(items[i].heading_path)))
        out = np.zeros((len(items), 4))
        for start in range(0, len(order), self.chunk):
            idx = order[start : start + self.chunk]
            out[idx] = softmax(self._logits([items[i] for i in idx]))
        return out

    def predict(self, items: list[Item]) -> list[Prediction]:
        if not items:
            return []
        return [Prediction.from_probs(row) for row in self.predict_proba(items)]


def export_onnx(model_dir: Path, quantize: bool = True) -> str:
    """Export the checkpoint to ONNX (dynamic batch and length) and quantise weights to int8."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tok(["Overskrift"], ["Et eksempel på tekst."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = model_dir / "model.fp32.onnx"
    dyn = {n: {0: "batch", 1: "seq"} for n in names}
    torch.onnx.export(
        model, (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]), str(fp32),
        input_names=names, output_names=["logits"], dynamic_axes={**dyn, "logits": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
    if not quantize:
        return fp32.name
    quantize_dynamic(str(fp32), str(model_dir / ONNX_FILE), weight_type=QuantType.QInt8)
    fp32.unlink()
    return ONNX_FILE
