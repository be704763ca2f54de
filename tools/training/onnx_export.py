"""Export a fine-tuned BERT checkpoint to ONNX and quantise it to int8 for the classify service."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from services.classify.bert import ONNX_FILE


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
        model,
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(fp32),
        input_names=names,
        output_names=["logits"],
        dynamic_axes={**dyn, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    if not quantize:
        return fp32.name
    quantize_dynamic(str(fp32), str(model_dir / ONNX_FILE), weight_type=QuantType.QInt8)
    fp32.unlink()
    return ONNX_FILE
