"""The streaming multipart reader: every malformed body is a specific 400, never a crash or a silent pass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import Request

from services.ingest.multipart_stream import FilePart, UploadDisconnected
from services.ingest.validation import RejectedUpload

PDF = b"%PDF-1.4\n" + b"x" * 5000 + b"\n%%EOF\n"


def _part(boundary: bytes, name: str, filename: str, data: bytes) -> bytes:
    return (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="'
        + name.encode()
        + b'"; filename="'
        + filename.encode()
        + b'"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + data + b"\r\n"
    )


def _request(body_chunks: list[bytes], boundary: bytes, disconnect_after: int | None = None) -> Request:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": i < len(body_chunks) - 1}
        for i, c in enumerate(body_chunks)
    ]
    if disconnect_after is not None:
        messages = [{**m, "more_body": True} for m in messages[:disconnect_after]] + [
            {"type": "http.disconnect"}
        ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/documents",
        "headers": [(b"content-type", b"multipart/form-data; boundary=" + boundary)],
    }
    recv: Callable[[], Awaitable[dict[str, Any]]] = receive
    return Request(scope, recv)


async def _read(part: FilePart) -> bytes:
    out = b""
    async for chunk in part.chunks():
        out += chunk
    return out


def _split(body: bytes, n: int = 7) -> list[bytes]:
    step = max(1, len(body) // n)
    return [body[i : i + step] for i in range(0, len(body), step)]


async def test_a_well_formed_body_streams_the_file() -> None:
    b = b"XyZ123"
    body = _part(b, "note", "n.txt", b"hei") + _part(b, "file", "brev.pdf", PDF) + b"--" + b + b"--\r\n"
    part = FilePart(_request(_split(body), b))
    assert await _read(part) == PDF
    assert part.filename == "brev.pdf"


async def test_a_boundary_over_256_characters_is_400_before_reading() -> None:
    b = b"a" * 300
    with pytest.raises(RejectedUpload) as err:
        FilePart(_request([_part(b, "file", "x.pdf", PDF)], b))
    assert err.value.status == 400 and err.value.error == "invalid_request"
    assert "256" in err.value.detail


async def test_a_body_without_closing_boundary_is_truncated() -> None:
    b = b"XyZ"
    body = _part(b, "file", "brev.pdf", PDF[: len(PDF) // 2])[:-2]  # half a PDF, no closing boundary
    with pytest.raises(RejectedUpload) as err:
        await _read(FilePart(_request(_split(body), b)))
    assert err.value.status == 400 and err.value.error == "truncated_body"


async def test_a_body_that_stops_after_the_part_but_before_the_end_is_truncated() -> None:
    b = b"XyZ"
    body = _part(b, "file", "brev.pdf", PDF)  # part closed, final "--XyZ--" missing
    with pytest.raises(RejectedUpload) as err:
        await _read(FilePart(_request([body], b)))
    assert err.value.error == "truncated_body"


async def test_a_second_file_field_is_refused() -> None:
    b = b"XyZ"
    body = _part(b, "file", "a.pdf", PDF) + _part(b, "file", "b.pdf", PDF) + b"--" + b + b"--\r\n"
    with pytest.raises(RejectedUpload) as err:
        await _read(FilePart(_request(_split(body), b)))
    assert err.value.status == 400 and err.value.error == "multiple_files"


async def test_garbage_after_the_boundary_is_malformed() -> None:
    b = b"XyZ"
    body = b"--XyZ\r\nthis is not a header line at all\x00\x01\r\n\r\n"
    with pytest.raises(RejectedUpload) as err:
        await _read(FilePart(_request([body], b)))
    assert err.value.status == 400 and err.value.error in ("malformed_multipart", "truncated_body")


async def test_no_file_field_is_missing_file() -> None:
    b = b"XyZ"
    body = _part(b, "other", "a.pdf", PDF) + b"--" + b + b"--\r\n"
    with pytest.raises(RejectedUpload) as err:
        await _read(FilePart(_request([body], b)))
    assert err.value.error == "missing_file"


@pytest.mark.parametrize(
    "ctype", [b"application/pdf", b"multipart/form-data", b"multipart/form-data; boundary="]
)
async def test_not_multipart_or_no_boundary(ctype: bytes) -> None:
    req = _request([PDF], b"x")
    req.scope["headers"] = [(b"content-type", ctype)]
    with pytest.raises(RejectedUpload) as err:
        FilePart(req)
    assert err.value.status == 400 and err.value.error == "invalid_request"


async def test_a_client_that_goes_away_is_a_disconnect() -> None:
    b = b"XyZ"
    body = _part(b, "file", "brev.pdf", PDF) + b"--" + b + b"--\r\n"
    with pytest.raises(UploadDisconnected):
        await _read(FilePart(_request(_split(body), b, disconnect_after=2)))
