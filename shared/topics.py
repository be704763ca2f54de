"""Topic names (one prefix setting) and their partition counts."""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import Settings


@dataclass(frozen=True)
class Topics:
    prefix: str = "innspill"

    @property
    def documents_received(self) -> str:
        return f"{self.prefix}.documents.received"

    @property
    def documents_extracted(self) -> str:
        return f"{self.prefix}.documents.extracted"

    @property
    def segments_extracted(self) -> str:
        return f"{self.prefix}.segments.extracted"

    @property
    def segments_classified(self) -> str:
        return f"{self.prefix}.segments.classified"

    @property
    def segments_corrected(self) -> str:
        return f"{self.prefix}.segments.corrected"

    @property
    def documents_failed(self) -> str:
        return f"{self.prefix}.documents.failed"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"

    def all(self) -> list[str]:
        return [
            self.documents_received,
            self.documents_extracted,
            self.segments_extracted,
            self.segments_classified,
            self.segments_corrected,
            self.documents_failed,
            self.deadletter,
        ]

    def partitions(self, settings: Settings) -> dict[str, int]:
        """Segment topics get more partitions: they carry the volume and let classify scale out."""
        seg, doc = settings.segment_partitions, settings.document_partitions
        return {
            self.documents_received: doc,
            self.documents_extracted: doc,
            self.segments_extracted: seg,
            self.segments_classified: seg,
            self.segments_corrected: doc,
            self.documents_failed: doc,
            self.deadletter: 1,
        }


def topics_for(settings: Settings) -> Topics:
    return Topics(settings.topic_prefix)
