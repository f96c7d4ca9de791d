"""Streaming multipart/form-data: the ``file`` field's bytes flow on as they arrive, never spooled
(FastAPI's UploadFile would buffer the whole file to a temporary file first)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import Message

from python_multipart.multipart import MultipartParser, parse_options_header

from files_ms.api.deps import coalesced
from liftbit_common.errors import BadRequest, InvalidInput


@dataclass
class FormFile:
    filename: str
    content_type: str
    body: AsyncIterator[bytes]


class _FileFieldReader:
    def __init__(self, field: str) -> None:
        self.field = field
        self.filename: str | None = None
        self.content_type = ""  # none sent: guessed from the name
        self.file_ended = False
        self.pending: list[bytes] = []
        self._in_file = False
        self._headers: dict[str, str] = {}
        self._name = self._value = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._name.decode("latin-1").lower()] = self._value.decode("utf-8", errors="replace")
        self._name = self._value = b""

    def _headers_finished(self) -> None:
        disposition = Message()
        disposition["content-disposition"] = self._headers.get("content-disposition", "")
        name = disposition.get_param("name", header="content-disposition")
        if name == self.field and self.filename is None:
            self.filename = disposition.get_filename() or ""
            self.content_type = self._headers.get("content-type", self.content_type)
            self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.pending.append(bytes(data[start:end]))

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self.file_ended = True

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data


async def open_form_file(content_type: str | None, chunks: AsyncIterator[bytes], field: str = "file") -> FormFile:
    """Read up to the start of the ``field`` part; its bytes then stream from ``FormFile.body``."""
    mime, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise BadRequest("expected a multipart/form-data body with a boundary", code="not_multipart")
    reader = _FileFieldReader(field)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    async for chunk in chunks:
        parser.write(chunk)
        if reader.filename is not None:
            break
    if reader.filename is None:
        raise InvalidInput(f"the form has no {field!r} field with a file", code="file_field_missing")

    async def body() -> AsyncIterator[bytes]:
        yield reader.take()
        async for chunk in chunks:
            if reader.file_ended:
                continue  # drain the rest of the form; later fields are ignored
            parser.write(chunk)
            yield reader.take()
        if not reader.file_ended:
            raise BadRequest("the multipart body ended inside the file", code="incomplete_body")

    return FormFile(filename=reader.filename, content_type=reader.content_type, body=coalesced(body()))
