"""Stream the ``file`` part of a multipart upload without buffering the whole body.

Starlette's form parser spools the whole file before the endpoint sees it, so the size limit could only
be checked afterwards. Here the body is fed chunk by chunk through python-multipart's push parser and
the file part's bytes are yielded as they arrive; the caller stops reading at the limit.

Every way a body can be wrong ends as :class:`RejectedUpload` (400) with its own code, never as a 500:
``invalid_request`` (not multipart, no or bad boundary), ``malformed_multipart`` (the parser refused the
bytes), ``truncated_body`` (the body ended before the closing boundary), ``multiple_files`` (a second
``file`` field) and ``missing_file``. A client that goes away mid-upload raises
:class:`UploadDisconnected`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from services.ingest.validation import RejectedUpload

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

#: RFC 2046 allows 70 characters; python-multipart refuses more than 256. Anything longer is refused here.
MAX_BOUNDARY = 256


class UploadDisconnected(Exception):
    """The client closed the connection before the body was complete."""


@dataclass
class _State:
    header_field: bytes = b""
    header_value: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    in_file: bool = False
    seen_file: bool = False
    file_complete: bool = False
    extra_file: bool = False
    ended: bool = False
    filename: str | None = None
    pending: deque[bytes] = field(default_factory=deque)


class FilePart:
    """The ``file`` part of a request: ``filename`` is known once the first chunk was read."""

    def __init__(self, request: Request, field_name: str = "file") -> None:
        ctype, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if ctype != b"multipart/form-data" or not boundary:
            raise RejectedUpload(
                400, "invalid_request", "send the document as multipart/form-data with a field named 'file'"
            )
        if len(boundary) > MAX_BOUNDARY:
            raise RejectedUpload(
                400, "invalid_request", f"the multipart boundary is longer than {MAX_BOUNDARY} characters"
            )
        self.request = request
        self.field_name = field_name.encode()
        self.state = _State()
        try:
            self.parser = MultipartParser(boundary, self._callbacks())
        except Exception as exc:
            raise RejectedUpload(400, "invalid_request", f"unusable multipart boundary: {exc}") from exc

    def _callbacks(self) -> MultipartCallbacks:
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
            named_file = params.get(b"name") == self.field_name
            if named_file and st.seen_file:
                st.extra_file = True
            st.in_file = named_file and not st.seen_file
            if st.in_file:
                st.seen_file = True
                raw = params.get(b"filename")
                st.filename = raw.decode("utf-8", errors="replace") if raw is not None else None

        def on_part_data(data: bytes, start: int, end: int) -> None:
            if st.in_file:
                st.pending.append(data[start:end])

        def on_part_end() -> None:
            if st.in_file:
                st.file_complete = True
            st.in_file = False

        def on_end() -> None:
            st.ended = True

        return {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        }

    @property
    def filename(self) -> str | None:
        return self.state.filename

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.write(data)
        except Exception as exc:
            raise RejectedUpload(400, "malformed_multipart", f"malformed multipart body: {exc}") from exc
        if self.state.extra_file:
            raise RejectedUpload(
                400,
                "multiple_files",
                "send one document per request: the body has more than one 'file' field",
            )

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the file part's bytes; the iteration ends with an error unless the whole body was a
        well-formed multipart message with exactly one ``file`` part."""
        st = self.state
        try:
            async for body_chunk in self.request.stream():
                self._feed(body_chunk)
                while st.pending:
                    yield st.pending.popleft()
        except ClientDisconnect as exc:
            raise UploadDisconnected("the client closed the connection mid-upload") from exc
        try:
            self.parser.finalize()
        except Exception as exc:
            raise RejectedUpload(400, "malformed_multipart", f"malformed multipart body: {exc}") from exc
        while st.pending:
            yield st.pending.popleft()
        if not st.seen_file:
            if not st.ended:
                raise RejectedUpload(
                    400, "truncated_body", "the multipart body ended before its closing boundary"
                )
            raise RejectedUpload(400, "missing_file", "the multipart body has no field named 'file'")
        if not st.file_complete or not st.ended:
            raise RejectedUpload(
                400,
                "truncated_body",
                "the multipart body ended before its closing boundary: the file may be incomplete",
            )
