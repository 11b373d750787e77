"""Attendance exports (CSV, XLSX, JSON), streamed, and the filters people type for them.

Exports stream: rows are read in chunks or through a server-side cursor and written as they come,
so memory stays flat however many rows there are. CSV takes the fastest path each database
offers: on PostgreSQL ``COPY (query) TO STDOUT``; on SQLite, lines built inside SQLite over key
ranges read by two threads (the sqlite3 module releases the GIL while SQLite works) and written
in order.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..dbguard import lift_statement_bound, restore_statement_bound
from ..extensions import db
from ..timeutil import local_zone
from .queries import (
    COLUMN_SETS,
    Dialect,
    ExportFilters,
    Statement,
    column_kind,
    columns_for,
    count_rows,
    csv_chunk,
    export_rows,
    headers_for,
    neutralise,
    to_pyformat,
    utc_bounds,
)

FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
BOM = "\ufeff"
# Sessions per chunk of a parallel SQLite export (about 8 attendance rows each).
SESSIONS_PER_CHUNK = 4000
EXPORT_THREADS = 1
COPY_BLOCK_BYTES = 256 * 1024
BATCH_ROWS = 2000

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int], None]


def dialect() -> Dialect:
    return Dialect(db.engine.dialect.name, local_zone())


class Source:
    """A database connection of the export's own, straight from the pool.

    Exports read through the driver (tuples, server-side cursors, COPY) and outlive the view
    that starts them: the body is sent after the view returns, maybe from another context. So
    they use no Flask context and no ORM session, just the engine and the zone, captured in the
    view, and a connection opened on first use and closed at the end. On SQLite the driver
    connection runs in autocommit mode, so a long export takes no write lock.

    An export reads every row asked for, however long that takes, so its statements are not
    held to the request bound (DB_STATEMENT_TIMEOUT): on PostgreSQL its transaction lifts
    ``statement_timeout`` for itself alone (``SET LOCAL``), and the pool's rollback when the
    connection is handed back restores it for whatever uses the connection next.
    """

    def __init__(self, engine: sa.Engine, tz: ZoneInfo) -> None:
        self.engine = engine
        self.dialect = Dialect(engine.dialect.name, tz)
        database = engine.url.database
        self.sqlite_path = (
            database if self.dialect.sqlite and database and database != ":memory:" else None
        )
        self._pooled: Any = None

    @classmethod
    def current(cls) -> Source:
        """For the app's database, in the app's zone (call inside an app context)."""
        return cls(db.engine, local_zone())

    @property
    def raw(self) -> Any:
        if self._pooled is None:
            pooled = self.engine.raw_connection()
            try:
                lift_statement_bound(self.engine, pooled.driver_connection)
            except BaseException:
                pooled.close()
                raise
            self._pooled = pooled
        return self._pooled.driver_connection

    def sql(self, statement: Statement) -> str:
        return statement.sql if self.dialect.sqlite else to_pyformat(statement.sql)

    def scalar(self, statement: Statement) -> Any:
        cursor = self.raw.cursor()
        try:
            cursor.execute(self.sql(statement), statement.params)
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    def close(self) -> None:
        if self._pooled is not None:
            restore_statement_bound(self.engine, self._pooled.driver_connection)
            self._pooled.close()  # back to the pool, rolled back: the bound is back too
            self._pooled = None


def total_rows(filters: ExportFilters, source: Source | None = None) -> int:
    src = source or Source.current()
    try:
        return int(src.scalar(count_rows(src.dialect, filters)))
    finally:
        if source is None:
            src.close()


def filename(filters: ExportFilters, fmt: str) -> str:
    kind = "attendance-by-participant" if filters.per_participant else "attendance"
    return f"{kind}-{filters.date_from.isoformat()}-to-{filters.date_to.isoformat()}.{fmt}"


# --- CSV ----------------------------------------------------------------------------------------


def csv_header(filters: ExportFilters, tz: ZoneInfo) -> str:
    # A header in words may hold a comma (none does today): quote it as any text.
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(headers_for(filters, tz))
    return BOM + out.getvalue()


def csv_stream(
    filters: ExportFilters, source: Source, progress: Progress | None = None
) -> Iterator[bytes]:
    """The export as CSV (UTF-8 with a BOM), in pieces."""
    yield csv_header(filters, source.dialect.tz).encode()
    if source.dialect.sqlite:
        yield from _sqlite_csv(source, filters, progress)
    else:
        yield from _postgres_csv(source, filters, progress)


def _postgres_csv(
    source: Source, filters: ExportFilters, progress: Progress | None
) -> Iterator[bytes]:
    statement = export_rows(source.dialect, filters, suppress_in_sql=True)
    copy_sql = f"COPY ({source.sql(statement)}) TO STDOUT WITH (FORMAT csv)"
    # COPY hands over one row at a time: gather them into blocks before they go anywhere.
    block = bytearray()
    with source.raw.cursor() as cursor, cursor.copy(copy_sql, statement.params) as copy:
        for data in copy:
            block += data
            if len(block) >= COPY_BLOCK_BYTES:
                if progress is not None:
                    progress(block.count(b"\n"))
                yield bytes(block)
                block.clear()
    if block:
        if progress is not None:
            progress(block.count(b"\n"))
        yield bytes(block)


def _chunks(source: Source, filters: ExportFilters) -> list[tuple[datetime, datetime]]:
    """UTC sub-ranges with about SESSIONS_PER_CHUNK sessions each (by an even split of time)."""
    d = source.dialect
    lo, hi = utc_bounds(filters.date_from, filters.date_to, d.tz)
    sessions = source.scalar(
        Statement(
            "SELECT count(*) FROM reading_session WHERE start_dt >= :lo AND start_dt < :hi",
            {"lo": d.instant(lo), "hi": d.instant(hi)},
        )
    )
    n = max(1, math.ceil(sessions / SESSIONS_PER_CHUNK))
    step = (hi - lo) / n
    edges = [lo + step * i for i in range(n)] + [hi]
    return list(itertools.pairwise(edges))


def _sqlite_csv(
    source: Source, filters: ExportFilters, progress: Progress | None
) -> Iterator[bytes]:
    chunks = _chunks(source, filters)
    path = source.sqlite_path
    d = source.dialect

    def emit(text: str | None) -> Iterator[bytes]:
        if text:
            if progress is not None:
                progress(text.count("\n") + 1)
            yield (text + "\n").encode()

    if path is None or len(chunks) == 1 or EXPORT_THREADS == 1:
        for lo, hi in chunks:
            yield from emit(source.scalar(csv_chunk(d, filters, lo, hi)))
        return

    # Each thread reads through a pooled connection of its own, set up as every other one (the
    # same busy timeout, SQLITE_BUSY_TIMEOUT) and in autocommit mode: under WAL a reader never
    # waits for a writer, so the busy timeout only matters in SQLite's rare recovery moments.
    local = threading.local()
    opened: list[Any] = []
    lock = threading.Lock()

    def run(bounds: tuple[datetime, datetime]) -> str | None:
        pooled = getattr(local, "pooled", None)
        if pooled is None:
            pooled = source.engine.raw_connection()
            local.pooled = pooled
            with lock:
                opened.append(pooled)
        st = csv_chunk(d, filters, *bounds)
        return pooled.driver_connection.execute(st.sql, st.params).fetchone()[0]

    try:
        for text in ordered_parallel(run, chunks, EXPORT_THREADS):
            yield from emit(text)
    finally:
        for pooled in opened:
            pooled.close()


def ordered_parallel(
    func: Callable[[T], R], items: Iterable[T], workers: int, ahead: int | None = None
) -> Iterator[R]:
    """``map(func, items)`` on ``workers`` threads, in order, at most ``ahead`` results queued.

    Bounding the look-ahead keeps memory flat: a slow reader never lets results pile up.
    """
    ahead = ahead or workers * 2
    iterator = iter(items)
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
    pending: deque[Future[R]] = deque()
    try:
        for item in iterator:
            pending.append(executor.submit(func, item))
            if len(pending) >= ahead:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(iterator, _DONE)
            if nxt is not _DONE:
                pending.append(executor.submit(func, nxt))
            yield result
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


_DONE: Any = object()


# --- Rows as Python tuples (JSON, XLSX) ------------------------------------------------------


def iter_rows(
    filters: ExportFilters, source: Source, progress: Progress | None = None
) -> Iterator[tuple]:
    """The export's rows as tuples, in batches; a server-side cursor on PostgreSQL."""
    statement = export_rows(source.dialect, filters)
    if source.dialect.sqlite:
        cursor = source.raw.cursor()  # SQLite steps through the result as it is fetched
    else:
        cursor = source.raw.cursor(name="readerapp_export")
    protected = [
        i for i, name in enumerate(columns_for(filters)) if name in filters.protected_columns
    ]
    cell = filters.disclosure.cell
    try:
        cursor.execute(source.sql(statement), statement.params)
        while batch := cursor.fetchmany(BATCH_ROWS):
            if progress is not None:
                progress(len(batch))
            if not protected:
                yield from batch
                continue
            for row in batch:
                shown = list(row)
                for i in protected:
                    shown[i] = cell(shown[i])
                yield tuple(shown)
    finally:
        cursor.close()


def json_stream(
    filters: ExportFilters, source: Source, progress: Progress | None = None
) -> Iterator[bytes]:
    """A JSON array of objects, one per row, written as the rows arrive."""
    names = headers_for(filters, source.dialect.tz)
    yield b"[\n"
    first = True
    buffer: list[str] = []
    for row in iter_rows(filters, source, progress):
        # Text was neutralised in SQL already; neutralise() again is a cheap second guard.
        item = json.dumps(dict(zip(names, map(neutralise, row), strict=True)), ensure_ascii=False)
        buffer.append(item if first else ",\n" + item)
        first = False
        if len(buffer) >= BATCH_ROWS:
            yield "".join(buffer).encode()
            buffer.clear()
    buffer.append("\n]\n")
    yield "".join(buffer).encode()


# XLSX column widths, in characters: at least the header's (or this), at most this.
MIN_WIDTH = 8
MAX_WIDTH = 50
# Widths follow the longest value among the first rows; later rows rarely change the picture.
WIDTH_SAMPLE_ROWS = 1000


def write_xlsx(
    filters: ExportFilters, out: IO[bytes], source: Source, progress: Progress | None = None
) -> None:
    """One typed sheet: dates as dates, counts as numbers, the header row frozen and filtered.

    In the people's set times of day are time values too, and columns are as wide as their
    contents; the machine set keeps its times as text. constant_memory writes each row to a
    temporary file as soon as the next one starts (column widths and the filter, which sit
    outside the rows in the file, can still be set at the end).
    """
    import xlsxwriter

    names = columns_for(filters)
    headers = headers_for(filters, source.dialect.tz)
    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    sheet = workbook.add_worksheet("Attendance")
    bold = workbook.add_format({"bold": True})
    formats = {
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "time": workbook.add_format({"num_format": "hh:mm"}),
    }
    sheet.freeze_panes(1, 0)
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    kinds = [column_kind(filters, name) for name in names]
    widths = [max(MIN_WIDTH, len(header) + 2) for header in headers]
    last_row = 0
    for r, row in enumerate(iter_rows(filters, source, progress), start=1):
        last_row = r
        for col, (kind, value) in enumerate(zip(kinds, row, strict=True)):
            if value is None:
                continue
            if kind == "date":
                sheet.write_datetime(r, col, date.fromisoformat(value), formats["date"])
            elif kind == "time":
                sheet.write_datetime(r, col, time.fromisoformat(value), formats["time"])
            elif kind == "number" and not isinstance(value, str):
                sheet.write_number(r, col, int(value))
            else:
                text = neutralise(str(value))
                sheet.write_string(r, col, text)
                if r <= WIDTH_SAMPLE_ROWS and len(text) + 2 > widths[col]:
                    widths[col] = min(MAX_WIDTH, len(text) + 2)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.autofilter(0, 0, last_row, len(names) - 1)
    workbook.close()


def write_export(
    filters: ExportFilters,
    fmt: str,
    out: IO[bytes],
    progress: Progress | None = None,
    source: Source | None = None,
) -> None:
    """Write the whole export to ``out`` (the command line, tests and benchmarks)."""
    src = source or Source.current()
    try:
        if fmt == "xlsx":
            write_xlsx(filters, out, src, progress)
            return
        if fmt == "csv":
            stream = csv_stream(filters, src, progress)
        else:
            stream = json_stream(filters, src, progress)
        for piece in stream:
            out.write(piece)
    finally:
        if source is None:
            src.close()


def record_participant_export(filters: ExportFilters, fmt: str, via: str) -> None:
    """Per-participant rows are personal data leaving the service: the audit trail says so."""
    try:
        from ..audit.trail import record
    except ImportError:  # a deployment without the audit trail
        return
    record(
        "export",
        "export",
        None,
        {
            "kind": "attendance_per_participant",
            "format": fmt,
            "via": via,
            "from": filters.date_from.isoformat(),
            "to": filters.date_to.isoformat(),
        },
    )


# Local dates differ from UTC ones by less than a day; two keep well clear of the edge.
DATA_MARGIN = timedelta(days=2)


def within_sessions(filters: ExportFilters) -> ExportFilters:
    """The same export with its dates narrowed to the span that has sessions.

    The rows do not change, but an open-ended range (the API accepts any dates) then costs what
    the data costs: SQLite's local-time expression covers years, not millennia. A range with no
    sessions at all ends before it starts, which exports nothing.
    """
    from ..sessions.models import ReadingSession

    first, last = db.session.execute(
        sa.select(sa.func.min(ReadingSession.start_dt), sa.func.max(ReadingSession.start_dt))
    ).one()
    if first is None:
        return replace(filters, date_to=filters.date_from - timedelta(days=1))
    return replace(
        filters,
        date_from=max(filters.date_from, (first - DATA_MARGIN).date()),
        date_to=min(filters.date_to, (last + DATA_MARGIN).date()),
    )


class ExportError(ValueError):
    """Filter input that names nothing known, or dates that make no range."""


def resolve_names(
    date_from: date,
    date_to: date,
    organisation: str | None = None,
    setting_type: str | None = None,
    group: str | None = None,
    leader_email: str | None = None,
    per_participant: bool = False,
    columns: str = "human",
) -> ExportFilters:
    """Filters from the names people type (the command line), checked against the database."""
    from ..groups.models import ReadingGroup
    from ..organisations.models import SETTING_TYPES, Organisation
    from ..users.models import User

    if date_from > date_to:
        raise ExportError("the start date is after the end date")
    if columns not in COLUMN_SETS:
        raise ExportError(f"unknown column set {columns!r}: one of {', '.join(COLUMN_SETS)}")
    org_id = group_id = leader_id = None
    if organisation:
        org_id = db.session.scalar(
            sa.select(Organisation.id).where(Organisation.name == organisation)
        )
        if org_id is None:
            raise ExportError(f"no organisation is called {organisation!r}")
    if setting_type and setting_type not in SETTING_TYPES:
        raise ExportError(
            f"unknown setting type {setting_type!r}: one of {', '.join(SETTING_TYPES)}"
        )
    if group:
        group_id = db.session.scalar(sa.select(ReadingGroup.id).where(ReadingGroup.name == group))
        if group_id is None:
            raise ExportError(f"no group is called {group!r}")
    if leader_email:
        leader_id = db.session.scalar(
            sa.select(User.id).where(User.email == User.normalise_email(leader_email))
        )
        if leader_id is None:
            raise ExportError(f"no user has the email {leader_email!r}")
    return ExportFilters(
        date_from=date_from,
        date_to=date_to,
        organisation_id=org_id,
        setting_type=setting_type or None,
        group_id=group_id,
        leader_id=leader_id,
        per_participant=per_participant,
        columns=columns,
        every_room=True,  # the command line is the operator's, as staff
    )
