"""Stream the ``file`` part of a multipart upload without buffering the whole body.

Starlette's form parser spools the whole file before the endpoint sees it, so the size limit could only
be checked afterwards. Here the body is fed chunk by chunk through python-multipart's push parser and
the file part's bytes are yielded as they arrive; the caller stops reading at the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from services.ingest.validation import RejectedUpload


@dataclass
class _State:
    header_field: bytes = b""
    header_value: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    in_file: bool = False
    seen_file: bool = False
    filename: str | None = None
    pending: list[bytes] = field(default_factory=list)


class FilePart:
    """The ``file`` part of a request: ``filename`` is known once the first chunk was read."""

    def __init__(self, request: Request, field_name: str = "file") -> None:
        ctype, params = parse_options_header(request.headers.get("content-type", ""))
        if ctype != b"multipart/form-data" or b"boundary" not in params:
            raise RejectedUpload(
                400, "invalid_request", "send the document as multipart/form-data with a field named 'file'"
            )
        self.request = request
        self.field_name = field_name.encode()
        self.state = _State()
        self.parser = MultipartParser(params[b"boundary"], self._callbacks())

    def _callbacks(self) -> dict[str, object]:
        st = self.state

        def on_part_begin() -> None:
            st.headers = {}

        def on_header_field(data: bytes, start: int, end: int) -> None:
            st.header_field += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            st.header_value += data[start:end]

        def on_header_end() -> None:
            st.headers[st.header_field.lower()] = st.header_value
            st.header_field, st.header_value = b"", b""

        def on_headers_finished() -> None:
            _, params = parse_options_header(st.headers.get(b"content-disposition", b""))
            is_file = params.get(b"name") == self.field_name and not st.seen_file
            st.in_file = is_file
            if is_file:
                st.seen_file = True
                raw = params.get(b"filename")
                st.filename = raw.decode("utf-8", errors="replace") if raw is not None else None

        def on_part_data(data: bytes, start: int, end: int) -> None:
            if st.in_file:
                st.pending.append(data[start:end])

        def on_part_end() -> None:
            st.in_file = False

        return {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        }

    @property
    def filename(self) -> str | None:
        return self.state.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the file part's bytes; raise 400 if the body had no ``file`` part."""
        async for body_chunk in self.request.stream():
            try:
                self.parser.write(body_chunk)
            except Exception as exc:
                raise RejectedUpload(400, "invalid_request", f"malformed multipart body: {exc}") from exc
            while self.state.pending:
                yield self.state.pending.pop(0)
        self.parser.finalize()
        while self.state.pending:
            yield self.state.pending.pop(0)
        if not self.state.seen_file:
            raise RejectedUpload(400, "missing_file", "the multipart body has no field named 'file'")
