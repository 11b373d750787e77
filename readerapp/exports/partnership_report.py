"""The partnership report: every figure by one SQL aggregate, and its CSV and XLSX downloads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..disclosure import REAL_FIGURES, Disclosure
from ..extensions import db
from ..sessions.states import SESSION_STATES, STATE_LABELS
from .queries import ReportScope, Statement, neutralise, report_statements
from .streaming import BOM, dialect


@dataclass(kw_only=True)
class StateCounts:
    """Sessions planned, and the four parts they split into (which add up to planned)."""

    planned: int = 0
    delivered: int = 0
    cancelled: int = 0
    not_yet_logged: int = 0
    to_come: int = 0

    @classmethod
    def of(cls, planned: Any, *parts: Any) -> StateCounts:
        """From a count and the counts per state, in the order of SESSION_STATES."""
        counts = {state: int(n) for state, n in zip(SESSION_STATES, parts, strict=True)}
        return cls(planned=int(planned), **counts)

    def parts(self) -> list[tuple[str, int]]:
        """(state, sessions) in the order of SESSION_STATES."""
        return [(state, getattr(self, state)) for state in SESSION_STATES]


# A count of people as shown: the number, or the text of a suppressed one (readerapp/disclosure).
People = int | str


@dataclass
class Month(StateCounts):
    month: str  # YYYY-MM
    attendances: People = 0

    @property
    def label(self) -> str:
        return date.fromisoformat(self.month + "-01").strftime("%b %Y")


class StationFigures(NamedTuple):
    """A radio station's figures for the period (``prisons`` is its reach, not per period)."""

    name: str
    prisons: int
    aired: int
    repeats: int  # of the broadcasts aired, those that repeated an earlier one
    programmes: int  # programmes with a broadcast aired

    def rows(self) -> list[tuple[str, int]]:
        return [
            (f"Broadcasts aired: {self.name}", self.aired),
            (f"Repeats aired: {self.name}", self.repeats),
            (f"Programmes aired: {self.name}", self.programmes),
            (f"Prisons reached: {self.name}", self.prisons),
        ]


@dataclass
class Report(StateCounts):
    scope: ReportScope
    organisation_name: str | None
    attendances: People = 0
    first_time: People = 0
    mean_group_size: float | None = None
    unique_participants: People = 0
    retained: People = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    months: list[Month] = field(default_factory=list)
    texts: list[tuple[str, str, int]] = field(default_factory=list)
    authors: list[tuple[str, int]] = field(default_factory=list)
    stations: list[StationFigures] = field(default_factory=list)
    # How its counts of people are shown (``protected`` sets it).
    disclosure: Disclosure = REAL_FIGURES

    @property
    def retention(self) -> float | None:
        """Share of registered participants who came to 4 or more sessions in the period
        (worked out from the figures shown: None when one of them is suppressed)."""
        return self.disclosure.ratio(self.retained, self.unique_participants)

    @property
    def has_sessions(self) -> bool:
        return self.planned > 0

    @property
    def shows_sessions(self) -> bool:
        """A radio station's own report leaves the session figures out when it partners no
        sessions: a row of zeros above its radio figures says nothing."""
        is_station_report = self.scope.organisation_id is not None and bool(self.stations)
        return self.has_sessions or not is_station_report

    def summary_rows(self) -> list[tuple[str, Any]]:
        """The headline figures as (label, value) pairs, for the page and the downloads."""
        if not self.shows_sessions:
            return [row for station in self.stations for row in station.rows()]
        rows: list[tuple[str, Any]] = [("Sessions planned", self.planned)]
        rows += [(f"Sessions {STATE_LABELS[state].lower()}", n) for state, n in self.parts()]
        rows += [
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
        for station in self.stations:
            rows += station.rows()
        return rows


def build_report(scope: ReportScope, organisation_name: str | None = None) -> Report:
    """Every figure by one SQL aggregate each; Python only reshapes the few result rows."""
    statements = report_statements(dialect(), scope)

    def run(name: str) -> list[sa.Row]:
        st: Statement = statements[name]
        return list(db.session.execute(sa.text(st.sql), st.params))

    planned, *parts, attendances, first_time, mean = run("summary")[0]
    report = Report(
        **vars(StateCounts.of(planned, *parts)), scope=scope, organisation_name=organisation_name
    )
    report.attendances, report.first_time = int(attendances), int(first_time)
    report.mean_group_size = float(mean) if mean is not None else None
    unique, retained = run("participants")[0]
    report.unique_participants, report.retained = int(unique), int(retained)
    report.reasons = [(str(reason), int(n)) for reason, n in run("reasons")]
    report.months = [
        Month(**vars(StateCounts.of(planned, *parts)), month=str(m), attendances=int(a))
        for m, planned, *parts, a in run("monthly")
    ]
    report.texts = [(str(t), str(a), int(n)) for t, a, n in run("texts")]
    report.authors = [(str(a), int(n)) for a, n in run("authors")]
    report.stations = [
        StationFigures(str(n), int(p), int(a), int(r), int(pr)) for n, p, a, r, pr in run("radio")
    ]
    return report


def protected(report: Report, disclosure: Disclosure) -> Report:
    """The report as ``disclosure`` shows it: every count of people adds up sessions, so each
    is a total (suppressed when small, else rounded); the mean group size is worked out again
    from the attendances shown, so that it gives back nothing they hide."""
    if not disclosure.protects:
        return replace(report, disclosure=disclosure)
    attendances = disclosure.total(report.attendances)
    return replace(
        report,
        disclosure=disclosure,
        attendances=attendances,
        first_time=disclosure.total(report.first_time),
        unique_participants=disclosure.total(report.unique_participants),
        retained=disclosure.total(report.retained),
        mean_group_size=disclosure.ratio(attendances, report.delivered),
        months=[replace(m, attendances=disclosure.total(m.attendances)) for m in report.months],
    )


def report_tables(report: Report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as titled tables (for CSV and XLSX downloads)."""
    return [
        ("Summary", ["Measure", "Value"], [list(r) for r in report.summary_rows()]),
        (
            "By month",
            ["Month", "Sessions planned"]
            + [STATE_LABELS[state] for state in SESSION_STATES]
            + ["Attendances"],
            [
                [m.month, m.planned, *(n for _, n in m.parts()), m.attendances]
                for m in report.months
            ],
        ),
        ("Cancellations", ["Reason", "Sessions"], [list(r) for r in report.reasons]),
        ("Top texts", ["Title", "Author", "Sessions"], [list(r) for r in report.texts]),
        ("Top authors", ["Author", "Sessions"], [list(r) for r in report.authors]),
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
    if report.disclosure.note:
        writer.writerow([report.disclosure.note])
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
        if report.disclosure.note and title == "Summary":
            # Below the figures, where a reader of the sheet looks for notes.
            rows = [*rows, [], [report.disclosure.note]]
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
