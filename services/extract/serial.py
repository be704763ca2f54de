"""JSON forms of the engine's results, for the sandbox's process boundary."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from services.extract.model import ExtractionResult, Limits, Metadata, Segment


def limits_to_dict(limits: Limits) -> dict[str, Any]:
    return asdict(limits)


def limits_from_dict(data: dict[str, Any]) -> Limits:
    names = {f.name for f in fields(Limits)}
    return Limits(**{k: v for k, v in data.items() if k in names})


def result_to_dict(result: ExtractionResult) -> dict[str, Any]:
    return {
        "segments": [asdict(s) for s in result.segments],
        "page_count": result.page_count,
        "metadata": asdict(result.metadata),
        "ocr_pages": list(result.ocr_pages),
        "furniture": list(result.furniture),
    }


def result_from_dict(data: dict[str, Any]) -> ExtractionResult:
    return ExtractionResult(
        segments=[
            Segment(
                text=str(s["text"]),
                page=int(s["page"]),
                kind=str(s["kind"]),
                heading_path=[str(h) for h in s["heading_path"]],
                ocr=bool(s["ocr"]),
            )
            for s in data["segments"]
        ],
        page_count=int(data["page_count"]),
        metadata=Metadata(
            sender=data["metadata"].get("sender"),
            sender_kind=str(data["metadata"].get("sender_kind") or "ukjent"),
            date=data["metadata"].get("date"),
            title=data["metadata"].get("title"),
        ),
        ocr_pages=[int(p) for p in data.get("ocr_pages", [])],
        furniture=[str(t) for t in data.get("furniture", [])],
    )
