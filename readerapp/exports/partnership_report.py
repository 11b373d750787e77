"""The partnership report: every figure by one SQL aggregate, and its CSV and XLSX downloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..extensions import db
from .queries import ReportScope, Statement, neutralise, report_statements
from .streaming import BOM, dialect


@dataclass
class Month:
    month: str  # YYYY-MM
    planned: int
    delivered: int
    attendances: int

    @property
    def label(self) -> str:
        return date.fromisoformat(self.month + "-01").strftime("%b %Y")


@dataclass
class Report:
    scope: ReportScope
    organisation_name: str | None
    planned: int = 0
    delivered: int = 0
    cancelled: int = 0
    attendances: int = 0
    first_time: int = 0
    mean_group_size: float | None = None
    unique_participants: int = 0
    retained: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    months: list[Month] = field(default_factory=list)
    texts: list[tuple[str, str, int]] = field(default_factory=list)
    authors: list[tuple[str, int]] = field(default_factory=list)
    stations: list[tuple[str, int, int]] = field(default_factory=list)  # name, prisons, aired

    @property
    def retention(self) -> float | None:
        """Share of registered participants who came to 4 or more sessions in the period."""
        if not self.unique_participants:
            return None
        return self.retained / self.unique_participants

    @property
    def has_sessions(self) -> bool:
        return self.planned > 0

    def summary_rows(self) -> list[tuple[str, Any]]:
        """The headline figures as (label, value) pairs, for the page and the downloads."""
        rows: list[tuple[str, Any]] = [
            ("Sessions planned", self.planned),
            ("Sessions delivered", self.delivered),
            ("Sessions cancelled", self.cancelled),
            ("Total attendances", self.attendances),
            ("Unique participants (registered by code)", self.unique_participants),
            ("First-time attendances", self.first_time),
            (
                "Mean group size",
                round(self.mean_group_size, 1) if self.mean_group_size is not None else None,
            ),
            ("Participants with 4+ sessions", self.retained),
            (
                "Retention (share with 4+ sessions)",
                round(self.retention, 3) if self.retention is not None else None,
            ),
        ]
        for name, prisons, aired in self.stations:
            rows.append((f"Broadcasts aired: {name}", aired))
            rows.append((f"Prisons reached: {name}", prisons))
        return rows


def build_report(scope: ReportScope, organisation_name: str | None = None) -> Report:
    """Every figure by one SQL aggregate each; Python only reshapes the few result rows."""
    statements = report_statements(dialect(), scope)

    def run(name: str) -> list[sa.Row]:
        st: Statement = statements[name]
        return list(db.session.execute(sa.text(st.sql), st.params))

    report = Report(scope=scope, organisation_name=organisation_name)
    planned, delivered, cancelled, attendances, first_time, mean = run("summary")[0]
    report.planned, report.delivered, report.cancelled = (
        int(planned),
        int(delivered),
        int(cancelled),
    )
    report.attendances, report.first_time = int(attendances), int(first_time)
    report.mean_group_size = float(mean) if mean is not None else None
    unique, retained = run("participants")[0]
    report.unique_participants, report.retained = int(unique), int(retained)
    report.reasons = [(str(reason), int(n)) for reason, n in run("reasons")]
    report.months = [Month(str(m), int(p), int(d), int(a)) for m, p, d, a in run("monthly")]
    report.texts = [(str(t), str(a), int(n)) for t, a, n in run("texts")]
    report.authors = [(str(a), int(n)) for a, n in run("authors")]
    report.stations = [(str(n), int(p), int(a)) for n, p, a in run("radio")]
    return report


def report_tables(report: Report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as titled tables (for CSV and XLSX downloads)."""
    return [
        ("Summary", ["measure", "value"], [list(r) for r in report.summary_rows()]),
        (
            "By month",
            ["month", "sessions_planned", "sessions_delivered", "attendances"],
            [[m.month, m.planned, m.delivered, m.attendances] for m in report.months],
        ),
        ("Cancellations", ["reason", "sessions"], [list(r) for r in report.reasons]),
        ("Top texts", ["title", "author", "sessions"], [list(r) for r in report.texts]),
        ("Top authors", ["author", "sessions"], [list(r) for r in report.authors]),
    ]


def report_csv(report: Report) -> str:
    import csv
    import io

    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    scope = report.scope
    writer.writerow(["Partnership report", neutralise(report.organisation_name or "All partners")])
    writer.writerow(["From", scope.date_from.isoformat(), "To", scope.date_to.isoformat()])
    for title, header, rows in report_tables(report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([[neutralise(v) for v in row] for row in rows])
    return out.getvalue()


def report_xlsx(report: Report, out: IO[bytes]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        out, {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = workbook.add_format({"bold": True})
    for title, header, rows in report_tables(report):
        sheet = workbook.add_worksheet(title)
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, len(header) - 1, 24)
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, bold)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, int | float):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, neutralise(str(value)))
    workbook.close()


def current_quarter(today: date) -> tuple[date, date]:
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    end_month = first_month + 3
    end = (
        date(today.year + 1, 1, 1) if end_month > 12 else date(today.year, end_month, 1)
    ).toordinal() - 1
    return start, date.fromordinal(end)


def zone_today(tz: ZoneInfo) -> date:
    from ..timeutil import utcnow

    return utcnow().astimezone(tz).date()
