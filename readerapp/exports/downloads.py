"""Exports as HTTP downloads, streamed while the server sends them: for the Exports page and
the API alike."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from typing import IO

from flask import Response

from . import streaming
from .queries import ExportFilters

CHUNK_BYTES = 64 * 1024


def _streamed(make_body: Callable[[streaming.Source], Iterator[bytes]]) -> Iterator[bytes]:
    """The body, read through a connection of its own while the server sends it.

    It needs no Flask context: servers (and test clients) may send the body from another
    context than the view's.
    """
    source = streaming.Source.current()

    def body() -> Iterator[bytes]:
        try:
            yield from make_body(source)
        finally:
            source.close()

    return body()


def attachment(body: Iterator[bytes], fmt: str, name: str) -> Response:
    response = Response(body, mimetype=streaming.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _file_chunks(handle: io.BufferedIOBase) -> Iterator[bytes]:
    handle.seek(0)
    while piece := handle.read(CHUNK_BYTES):
        yield piece


def export_download(filters: ExportFilters, fmt: str, name: str | None = None) -> Response:
    """The export as an attachment, in ``fmt`` (csv, xlsx or json)."""
    name = name or streaming.filename(filters, fmt)
    if fmt == "csv":
        return attachment(_streamed(lambda src: streaming.csv_stream(filters, src)), fmt, name)
    if fmt == "json":
        return attachment(_streamed(lambda src: streaming.json_stream(filters, src)), fmt, name)

    def xlsx(source: streaming.Source) -> Iterator[bytes]:
        # XlsxWriter finishes the zip only at close: build it in a temporary file, then stream.
        with tempfile.TemporaryFile() as handle:
            streaming.write_xlsx(filters, handle, source)
            yield from _file_chunks(handle)

    return attachment(_streamed(xlsx), fmt, name)


def report_file(
    fmt: str,
    stem: str,
    period: tuple[date, date],
    csv_body: Callable[[], bytes],
    write_xlsx: Callable[[IO[bytes]], None],
) -> Response:
    """A report's figures as a CSV or XLSX attachment named after it and its period (built in
    memory: a report is a few small tables)."""
    if fmt == "csv":
        body = csv_body()
    else:
        buffer = io.BytesIO()
        write_xlsx(buffer)
        body = buffer.getvalue()
    name = f"{stem}-{period[0].isoformat()}-to-{period[1].isoformat()}.{fmt}"
    return attachment(iter([body]), fmt, name)
