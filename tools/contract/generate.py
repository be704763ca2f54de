"""Write the event contract for downstream teams from the code that produces the events.

    python -m tools.contract.generate            # (re)write docs/contract/*.schema.json, docs/asyncapi.yaml
    python -m tools.contract.generate --check    # exit 1 and name each stale file; write nothing

Each topic's record value is the CloudEvents-style ``Envelope`` of ``shared/events.py`` with ``data``
set to that topic's payload model; its JSON Schema comes from pydantic (``model_json_schema``). The
output depends on the code only (default prefix and partition counts, never the environment), so
``--check`` in CI says exactly when a model changed without the files being regenerated.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from shared.events import (
    PAYLOADS,
    SCHEMA_VERSION,
    SPEC_VERSION,
    DeadLetter,
    DocumentCorrected,
    DocumentExtracted,
    DocumentFailed,
    DocumentReceived,
    Envelope,
    PointExcluded,
    PointNamed,
    PointsMerged,
    SegmentClassified,
    SegmentCorrected,
    SegmentExtracted,
)
from shared.settings import Settings
from shared.streams import consumer_group
from shared.topics import Topics

REPO = Path(__file__).resolve().parents[2]
DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING = "0.5.0"


@dataclass(frozen=True)
class TopicSpec:
    """What the code does with one topic. ``attr`` names the ``shared.topics.Topics`` property."""

    attr: str
    payload: type[BaseModel]
    summary: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    key: str = "document_id"
    key_nullable: bool = False
    #: Further payload types the topic carries besides ``payload`` (its schema is then a oneOf by ``type``).
    also: tuple[type[BaseModel], ...] = ()

    @property
    def payloads(self) -> tuple[type[BaseModel], ...]:
        return (self.payload, *self.also)


#: Every topic of ``Topics.all()``, in that order. Producers and consumers are the services whose code
#: publishes to or subscribes to the topic (see services/*/consumer.py, ingest's receiver, shared/kafka.py).
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "documents_received",
        DocumentReceived,
        "A document arrived (HTTP upload, drop folder or replay); its bytes are in the blob store at blob_uri.",
        producers=("ingest",),
        consumers=("extract", "store"),
    ),
    TopicSpec(
        "documents_extracted",
        DocumentExtracted,
        "A document was read: metadata found, page count, sections and how many segments it yielded.",
        producers=("extract",),
        consumers=("store",),
    ),
    TopicSpec(
        "segments_extracted",
        SegmentExtracted,
        "One text segment of a document, in reading order (seq), with its page and heading path.",
        producers=("extract",),
        consumers=("classify",),
    ),
    TopicSpec(
        "segments_classified",
        SegmentClassified,
        "An extracted segment with its label, a score per label and the model version that set them.",
        producers=("classify",),
        consumers=("store",),
    ),
    TopicSpec(
        "segments_corrected",
        SegmentCorrected,
        "An analyst's correction of one segment's label or themes (SegmentCorrected, with the model's "
        "values), of one document's sender, sender kind, date or title (DocumentCorrected, with "
        "extraction's values) or of the point grouping: a quote taken out of a point (PointExcluded), two "
        "points merged (PointsMerged) or a point named (PointNamed), with who, when and a note. A "
        "correction wins over any later model output; the store consumes its own corrections, so a store "
        "rebuilt from the topics keeps them.",
        producers=("store",),
        consumers=("store",),
        also=(DocumentCorrected, PointExcluded, PointsMerged, PointNamed),
    ),
    TopicSpec(
        "documents_failed",
        DocumentFailed,
        "A document no stage could process, with the stage, an error code and a readable message.",
        producers=("extract",),
        consumers=("store",),
    ),
    TopicSpec(
        "deadletter",
        DeadLetter,
        "A record a stage could not handle (undecodable, wrong schema, failed after retries), with its "
        "origin and the error. Nothing consumes it automatically: it is for operators.",
        producers=("extract", "classify", "store"),
        consumers=(),
        key="the original record's key (a document_id), or none",
        key_nullable=True,
    ),
)


def _defaults() -> tuple[Topics, Settings]:
    """Default prefix and partition counts, from the code's defaults only (never the environment)."""
    settings = Settings.model_construct()
    return Topics(settings.topic_prefix), settings


def suffix(topics: Topics, name: str) -> str:
    """The topic name without its prefix: ``innspill.documents.received`` -> ``documents.received``."""
    return name.removeprefix(f"{topics.prefix}.")


def event_type_of(model: type[BaseModel]) -> str:
    """The envelope ``type`` of events carrying ``model`` (shared.events.PAYLOADS)."""
    return next(name for name, payload in PAYLOADS.items() if payload is model)


def schema_path(topics: Topics, topic: str) -> str:
    """Where a topic's schema lives, relative to docs/."""
    return f"contract/{suffix(topics, topic)}.schema.json"


def _one_envelope(payload: type[BaseModel], summary: str) -> dict[str, Any]:
    """The JSON Schema of an envelope around ``payload``, with the event type pinned."""
    schema = Envelope[payload].model_json_schema()  # type: ignore[valid-type]  # a class chosen at run time
    props = schema["properties"]
    props["type"] = {**props["type"], "const": event_type_of(payload)}
    props["data"] = {**props["data"], "description": summary}
    return schema


def envelope_schema(spec: TopicSpec, topic: str) -> dict[str, Any]:
    """The JSON Schema of one topic's record value: one envelope, or a oneOf of envelopes (told apart by
    their pinned ``type``) when the topic carries several payload types."""
    if spec.also:
        types = " or ".join(f"{event_type_of(p)!r} around a {p.__name__}" for p in spec.payloads)
        what = f"(type {types}, specversion {SPEC_VERSION}, schema_version {SCHEMA_VERSION})"
    else:
        what = (
            f"(type {event_type_of(spec.payload)!r}, specversion {SPEC_VERSION}, schema_version "
            f"{SCHEMA_VERSION}) around a {spec.payload.__name__}"
        )
    head = {
        "$schema": DIALECT,
        "title": f"{topic} record value",
        "description": (
            f"The value of every record on {topic}: a CloudEvents-style envelope {what}. "
            "New fields are additive; a consumer must ignore fields it does not know."
        ),
    }
    if not spec.also:
        schema = _one_envelope(spec.payload, spec.summary)
        return {**head, **{k: v for k, v in schema.items() if k not in {"title", "description"}}}
    branches: list[dict[str, Any]] = []
    defs: dict[str, Any] = {}
    for payload in spec.payloads:
        schema = _one_envelope(payload, spec.summary)
        for name, definition in schema.pop("$defs", {}).items():
            if defs.setdefault(name, definition) != definition:
                raise SystemExit(f"{topic}: two payloads define {name!r} differently")
        branches.append(schema)
    return {**head, "oneOf": branches, "$defs": defs}


def _check_coverage(topics: Topics) -> None:
    covered = [getattr(topics, spec.attr) for spec in TOPICS]
    if covered != topics.all():
        raise SystemExit(
            "tools/contract/generate.py TOPICS must list the topics of shared/topics.py in order: "
            f"it has {covered}, the code has {topics.all()}"
        )


def _message(spec: TopicSpec, payload: type[BaseModel], topic: str, schema_file: str) -> dict[str, Any]:
    return {
        "name": payload.__name__,
        "title": f"{event_type_of(payload)} event",
        "summary": spec.summary,
        "contentType": "application/json",
        "payload": {"$ref": f"./{schema_file}"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": ["string", "null"] if spec.key_nullable else "string",
                    "description": f"Record key: {spec.key}.",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _channel(spec: TopicSpec, topic: str, title: str, partitions: int) -> dict[str, Any]:
    return {
        "address": topic,
        "title": title,
        "description": spec.summary,
        "messages": {p.__name__: {"$ref": f"#/components/messages/{p.__name__}"} for p in spec.payloads},
        "bindings": {"kafka": {"topic": topic, "partitions": partitions, "bindingVersion": KAFKA_BINDING}},
        "x-key": spec.key,
        "x-produced-by": list(spec.producers),
        "x-consumed-by": list(spec.consumers),
    }


def _operations(spec: TopicSpec, topic: str, channel_id: str, settings: Settings) -> dict[str, Any]:
    """One ``send`` per producing service, one ``receive`` (with its consumer group) per consumer."""
    ref = {"$ref": f"#/channels/{channel_id}"}
    messages = [{"$ref": f"#/channels/{channel_id}/messages/{p.__name__}"} for p in spec.payloads]
    suffix_id = channel_id[0].upper() + channel_id[1:]
    ops: dict[str, Any] = {}
    for service in spec.producers:
        ops[f"{service}Sends{suffix_id}"] = {
            "action": "send",
            "channel": ref,
            "messages": messages,
            "summary": f"{service} publishes to {topic}.",
        }
    for service in spec.consumers:
        group = consumer_group(settings, service)
        ops[f"{service}Receives{suffix_id}"] = {
            "action": "receive",
            "channel": ref,
            "messages": messages,
            "summary": f"{service} consumes {topic} in consumer group {group}.",
            "bindings": {
                "kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": KAFKA_BINDING}
            },
        }
    return ops


def asyncapi(topics: Topics, settings: Settings) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic, one send/receive operation per service."""
    partitions = topics.partitions(settings)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in TOPICS:
        topic = getattr(topics, spec.attr)
        channel_id = _camel(spec.attr)
        for payload in spec.payloads:
            messages[payload.__name__] = _message(spec, payload, topic, schema_path(topics, topic))
        channels[channel_id] = _channel(spec, topic, suffix(topics, topic), partitions[topic])
        operations.update(_operations(spec, topic, channel_id, settings))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "innspill events",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "The Kafka topics of the innspill pipeline (ingest -> extract -> classify -> store). "
                "Every record value is a JSON CloudEvents-style envelope (id, type, source, time, "
                "specversion, schema_version, data); the payload schemas are in ./contract/. Topic names "
                f"carry one prefix (INNSPILL_TOPIC_PREFIX, default {topics.prefix!r}); partition counts "
                "are the defaults (INNSPILL_DOCUMENT_PARTITIONS, INNSPILL_SEGMENT_PARTITIONS). "
                "Generated by `python -m tools.contract.generate`; do not edit by hand."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": settings.kafka_bootstrap,
                "protocol": "kafka",
                "description": "The broker from INNSPILL_KAFKA_BOOTSTRAP (this is the default).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _camel(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(word.capitalize() for word in rest)


def render() -> dict[str, str]:
    """Every contract file, path relative to docs/ -> exact text."""
    topics, settings = _defaults()
    _check_coverage(topics)
    files: dict[str, str] = {}
    for spec in TOPICS:
        topic = getattr(topics, spec.attr)
        schema = envelope_schema(spec, topic)
        files[schema_path(topics, topic)] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    header = "# Generated by `python -m tools.contract.generate` from shared/events.py; do not edit.\n"
    body = yaml.safe_dump(asyncapi(topics, settings), sort_keys=False, allow_unicode=True, width=100)
    files["asyncapi.yaml"] = header + body
    return files


def stale(docs_dir: Path) -> list[str]:
    """The files under ``docs_dir`` that differ from what the code generates (or are missing), plus
    schema files no topic produces any more."""
    files = render()
    out = [rel for rel, text in files.items() if _read(docs_dir / rel) != text]
    contract = docs_dir / "contract"
    if contract.is_dir():
        extra = {f"contract/{p.name}" for p in contract.glob("*.schema.json")} - set(files)
        out.extend(sorted(extra))
    return out


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write(docs_dir: Path) -> list[str]:
    """Write every file that changed; remove schema files of topics that no longer exist."""
    changed = stale(docs_dir)
    files = render()
    for rel in changed:
        path = docs_dir / rel
        if rel in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel], encoding="utf-8")
        else:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.contract.generate",
        description="Generate the event contract (JSON Schemas, AsyncAPI).",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is stale; write nothing")
    parser.add_argument("--docs", type=Path, default=REPO / "docs", help="the docs folder (default: ./docs)")
    args = parser.parse_args(argv)
    if args.check:
        out = stale(args.docs)
        for rel in out:
            print(f"stale: {args.docs / rel} (run `python -m tools.contract.generate`)", file=sys.stderr)
        return 1 if out else 0
    for rel in write(args.docs):
        print(f"wrote {args.docs / rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
