"""Exports stream: the memory they take does not grow with the number of rows.

Measured with tracemalloc (every Python allocation, in every thread) on synthetic data, once
with ten times the rows of the other. No timings: benchmarks live in bench/.
"""

from __future__ import annotations

import io
import tracemalloc
from datetime import date, timedelta

import pytest
import xlsxwriter  # noqa: F401  (imported before measuring, so its loading is not counted)

from readerapp.exports import streaming
from readerapp.exports.queries import ExportFilters
from readerapp.exports.synthetic import generate
from readerapp.extensions import db

TODAY = date(2026, 11, 1)


class Sink:
    """A file that keeps only a count of what it was given."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def seek(self, *args: object) -> int:  # XlsxWriter asks; nothing to do
        return 0

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass


def peak_while_exporting(fmt: str) -> tuple[int, int]:
    filters = ExportFilters(
        TODAY - timedelta(days=400), TODAY + timedelta(days=30), per_participant=True
    )
    rows = streaming.total_rows(filters)
    tracemalloc.start()
    try:
        streaming.write_export(filters, fmt, Sink())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


def empty_bench_data() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_memory_stays_flat_with_ten_times_the_rows(fmt: str, monkeypatch) -> None:
    # Small chunks, so the smaller run is already more than one chunk long.
    monkeypatch.setattr(streaming, "SESSIONS_PER_CHUNK", 100)
    monkeypatch.setattr(streaming, "BATCH_ROWS", 200)
    generate(1, today=TODAY, groups=5)
    db.session.commit()
    small_rows, small_peak = peak_while_exporting(fmt)
    empty_bench_data()
    generate(1, today=TODAY, groups=60)
    db.session.commit()
    big_rows, big_peak = peak_while_exporting(fmt)
    assert big_rows > 8 * small_rows > 0
    # Everything read at once would take about ten times as much; streamed, it stays level.
    assert big_peak < small_peak * 1.5 + 256 * 1024, (small_peak, big_peak)


def test_xlsx_memory_stays_flat(monkeypatch) -> None:
    monkeypatch.setattr(streaming, "BATCH_ROWS", 200)
    generate(1, today=TODAY, groups=3)
    db.session.commit()
    small_rows, small_peak = peak_while_exporting("xlsx")
    empty_bench_data()
    generate(1, today=TODAY, groups=36)
    db.session.commit()
    big_rows, big_peak = peak_while_exporting("xlsx")
    assert big_rows > 8 * small_rows > 0
    assert big_peak < small_peak * 1.5 + 256 * 1024, (small_peak, big_peak)


def test_chunked_and_parallel_csv_match_one_pass(monkeypatch) -> None:
    """Key ranges exported separately (and on two threads) join into the same file, in order."""
    generate(1, today=TODAY, groups=8)
    db.session.commit()
    filters = ExportFilters(TODAY - timedelta(days=400), TODAY + timedelta(days=30))

    def csv_with(chunk: int, threads: int) -> bytes:
        monkeypatch.setattr(streaming, "SESSIONS_PER_CHUNK", chunk)
        monkeypatch.setattr(streaming, "EXPORT_THREADS", threads)
        out = io.BytesIO()
        streaming.write_export(filters, "csv", out)
        return out.getvalue()

    whole = csv_with(10**9, 1)
    assert whole.count(b"\n") == streaming.total_rows(filters) + 1
    assert csv_with(37, 1) == whole
    assert csv_with(37, 2) == whole
