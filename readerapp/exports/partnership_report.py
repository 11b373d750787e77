"""The partnership report: every figure by one SQL aggregate, and its CSV and XLSX downloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from html import escape
from statistics import median
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from ..disclosure import REAL_FIGURES, Disclosure
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.forms import SETTING_LABELS
from ..referrals.queries import ReferralRow, referral_rows
from ..sessions.models import ReadingSession
from ..sessions.states import SESSION_STATES, STATE_LABELS
from ..workforce.operations import HoursTotal, hours_lines, total_of
from .periods import previous_period, same_period_last_year
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


# The parts of the report a page, a print or a preset may include (the summary always is).
SECTIONS = {
    "groups": "By group",
    "comparison": "Compared with earlier periods",
    "months": "Month by month (charts)",
    "cancellations": "Cancellations",
    "reading": "What was read",
    "narrative": "Narrative and quotes",
    "outcomes": "Outcomes (wellbeing measures)",
    "outliers": "Sessions far above their group's usual (staff only)",
}
ALL_SECTIONS = frozenset(SECTIONS)


@dataclass(frozen=True)
class Narrative:
    """The narrative and quotes written for a report's scope, as the report prints them."""

    text: str
    quotes: list[tuple[str, str]]  # (quote, attribution or "")
    version: int
    saved_by: str
    saved_at: datetime
    # Quotes left out because the participant quoted withdrew their consent to quotes.
    withheld: int = 0


@dataclass
class GroupFigures:
    """One group's figures for the period (retention as the report defines it, within the
    group: the share of its registered participants who came to 4 or more of its sessions)."""

    group_id: int
    name: str
    setting: str  # in words
    delivered: int = 0
    cancelled: int = 0
    attendances: People = 0
    unique_participants: People = 0
    retained: People = 0
    disclosure: Disclosure = REAL_FIGURES

    @property
    def retention(self) -> float | None:
        return self.disclosure.ratio(self.retained, self.unique_participants)


@dataclass
class ReferralFigures:
    """Referrals made in the period from one source (a referrer partner, self-referrals, or
    every source together): how many came to a first session, how many became regular, and the
    median days from referral to first session (of those who came)."""

    source: str
    received: People = 0
    first_session: People = 0
    regular: People = 0
    days_to_first: float | None = None
    disclosure: Disclosure = REAL_FIGURES

    @property
    def to_first_session(self) -> float | None:
        return self.disclosure.ratio(self.first_session, self.received)

    @property
    def to_regular(self) -> float | None:
        return self.disclosure.ratio(self.regular, self.received)


ALL_SOURCES = "All sources"


def referral_figures(rows: list[ReferralRow]) -> list[ReferralFigures]:
    """Each source's figures, by name, then every source together (when there are several)."""
    by_source: dict[str, list[ReferralRow]] = defaultdict(list)
    for row in rows:
        by_source[row.source].append(row)

    def figures(source: str, of: list[ReferralRow]) -> ReferralFigures:
        waits = [(r.first_session_on - r.referred_on).days for r in of if r.first_session_on]
        return ReferralFigures(
            source=source,
            received=len(of),
            first_session=len(waits),
            regular=sum(1 for r in of if r.regular_on is not None),
            days_to_first=float(median(waits)) if waits else None,
        )

    result = [figures(source, by_source[source]) for source in sorted(by_source, key=str.lower)]
    if len(result) > 1:
        result.append(figures(ALL_SOURCES, rows))
    return result


def _protected_referrals(r: ReferralFigures, disclosure: Disclosure) -> ReferralFigures:
    """Counts of people over the period: totals (suppressed when small, else rounded); the
    median wait is left out where the people it is worked out from are few."""
    few = disclosure.is_small(r.first_session) if isinstance(r.first_session, int) else True
    return replace(
        r,
        disclosure=disclosure,
        received=disclosure.total(r.received),
        first_session=disclosure.total(r.first_session),
        regular=disclosure.total(r.regular),
        days_to_first=None if few else r.days_to_first,
    )


# The outlier rule, stated once (the staff report prints it from these): a delivered session is
# flagged when its headcount is more than OUTLIER_FACTOR times the median headcount of its
# group's delivered sessions in the period, and at least OUTLIER_MARGIN above that median; a
# median needs at least OUTLIER_MIN_SESSIONS sessions to say what is usual.
OUTLIER_FACTOR = 2
OUTLIER_MARGIN = 5
OUTLIER_MIN_SESSIONS = 3
OUTLIER_RULE = (
    f"A delivered session is flagged when its headcount is more than {OUTLIER_FACTOR} times the "
    "median headcount of its group's delivered sessions in this period and at least "
    f"{OUTLIER_MARGIN} above that median. Groups with fewer than {OUTLIER_MIN_SESSIONS} "
    "delivered sessions in the period are not checked."
)


@dataclass(frozen=True)
class Outlier:
    session_id: int
    group_name: str
    start_dt: datetime
    headcount: int
    usual: float  # the group's median headcount in the period


def far_above_usual(sessions: list[tuple[int, int]]) -> list[tuple[int, int, float]]:
    """Of one group's delivered sessions, as (session id, headcount), those far above the
    group's usual: (session id, headcount, the group's median)."""
    if len(sessions) < OUTLIER_MIN_SESSIONS:
        return []
    usual = float(median(n for _, n in sessions))
    return [
        (session_id, n, usual)
        for session_id, n in sessions
        if n > OUTLIER_FACTOR * usual and n >= usual + OUTLIER_MARGIN
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
    # Delivered sessions whose log was entered late, from a paper register.
    entered_late: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    months: list[Month] = field(default_factory=list)
    texts: list[tuple[str, str, int]] = field(default_factory=list)
    authors: list[tuple[str, int]] = field(default_factory=list)
    stations: list[StationFigures] = field(default_factory=list)
    groups: list[GroupFigures] = field(default_factory=list)
    outliers: list[Outlier] = field(default_factory=list)
    referrals: list[ReferralFigures] = field(default_factory=list)
    # The same figures for the period just before and the same period a year earlier
    # (``with_comparisons`` adds them).
    previous: Report | None = None
    last_year: Report | None = None
    # The sections it includes, and the narrative and quotes written for its scope.
    sections: frozenset[str] = ALL_SECTIONS
    narrative: Narrative | None = None
    # How its counts of people are shown (``protected`` sets it).
    disclosure: Disclosure = REAL_FIGURES
    # Reader leaders' time at its delivered sessions, preparation and travel included
    # (readerapp.workforce): everyone's, volunteers', and volunteers' valued at the hourly rate.
    hours: HoursTotal | None = None

    @property
    def retention(self) -> float | None:
        """Share of registered participants who came to 4 or more sessions in the period
        (worked out from the figures shown: None when one of them is suppressed)."""
        return self.disclosure.ratio(self.retained, self.unique_participants)

    @property
    def late_entry_share(self) -> float | None:
        """Share of delivered sessions logged late from paper (a count of sessions, not of
        people: shown to every reader of the report)."""
        return self.entered_late / self.delivered if self.delivered else None

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
            (
                "Logs entered late from paper (share of delivered)",
                round(self.late_entry_share, 3) if self.late_entry_share is not None else None,
            ),
        ]
        if self.hours is not None:
            rate = current_app.config["VOLUNTEER_HOURLY_RATE"]
            rows += [
                ("Reader leader hours delivered", self.hours.hours),
                ("Volunteer hours delivered", self.hours.volunteer_hours),
                (f"Value of volunteer hours (£{rate:.2f} an hour)", self.hours.volunteer_value),
            ]
        for station in self.stations:
            rows += station.rows()
        return rows


# The statements behind the figures compared with earlier periods (an earlier period needs no
# months, readings, radio or flags).
FIGURE_STATEMENTS = ("summary", "participants", "groups", "group_people")


def build_report(
    scope: ReportScope,
    organisation_name: str | None = None,
    *,
    figures_only: bool = False,
    outliers: bool = True,
) -> Report:
    """Every figure by one SQL aggregate each; Python only reshapes the few result rows.
    ``figures_only`` leaves out all but FIGURE_STATEMENTS; ``outliers`` looks for flags."""
    statements = report_statements(dialect(), scope)

    def run(name: str) -> list[sa.Row]:
        st: Statement = statements[name]
        return list(db.session.execute(sa.text(st.sql), st.params))

    planned, *parts, attendances, first_time, mean, entered_late = run("summary")[0]
    report = Report(
        **vars(StateCounts.of(planned, *parts)), scope=scope, organisation_name=organisation_name
    )
    report.attendances, report.first_time = int(attendances), int(first_time)
    report.mean_group_size = float(mean) if mean is not None else None
    report.entered_late = int(entered_late)
    unique, retained = run("participants")[0]
    report.unique_participants, report.retained = int(unique), int(retained)
    report.groups = _group_figures(run("groups"), run("group_people"))
    if figures_only:
        return report
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
    if outliers:
        report.outliers = _flagged(run("headcounts"))
    report.hours = total_of(hours_lines(scope.date_from, scope.date_to, scope.organisation_id))
    report.referrals = referral_figures(
        referral_rows(scope.date_from, scope.date_to, scope.organisation_id)
    )
    return report


def _group_figures(groups: list[sa.Row], group_people: list[sa.Row]) -> list[GroupFigures]:
    people = {int(g): (int(u), int(r)) for g, u, r in group_people}
    figures = []
    for group_id, name, setting, _planned, delivered, cancelled, *_open, attendances in groups:
        unique, retained = people.get(int(group_id), (0, 0))
        figures.append(
            GroupFigures(
                int(group_id),
                str(name),
                SETTING_LABELS.get(str(setting), str(setting)),
                delivered=int(delivered),
                cancelled=int(cancelled),
                attendances=int(attendances),
                unique_participants=unique,
                retained=retained,
            )
        )
    return figures


def _flagged(headcounts: list[sa.Row]) -> list[Outlier]:
    """The outliers among (group id, session id, headcount) rows: only the few flagged are
    looked up (their group's name and their start)."""
    by_group: dict[int, list[tuple[int, int]]] = {}
    for group_id, session_id, headcount in headcounts:
        by_group.setdefault(int(group_id), []).append((int(session_id), int(headcount)))
    flagged = {
        session_id: (headcount, usual)
        for sessions in by_group.values()
        for session_id, headcount, usual in far_above_usual(sessions)
    }
    if not flagged:
        return []
    rows = db.session.execute(
        sa.select(ReadingSession.id, ReadingGroup.name, ReadingSession.start_dt)
        .join(ReadingGroup, ReadingGroup.id == ReadingSession.group_id)
        .where(ReadingSession.id.in_(list(flagged)))
    )
    return sorted(
        (Outlier(i, name, start, *flagged[i]) for i, name, start in rows),
        key=lambda o: (o.start_dt, o.session_id),
    )


def with_comparisons(report: Report) -> Report:
    """The report with the previous period's and the same period last year's figures."""
    scope = report.scope
    earlier = {}
    for name, (start, end) in (
        ("previous", previous_period(scope.date_from, scope.date_to)),
        ("last_year", same_period_last_year(scope.date_from, scope.date_to)),
    ):
        earlier[name] = build_report(
            replace(scope, date_from=start, date_to=end),
            report.organisation_name,
            figures_only=True,
        )
    return replace(report, **earlier)


# The headline figures compared with earlier periods: (label, attribute).
COMPARED = (
    ("Sessions delivered", "delivered"),
    ("Sessions cancelled", "cancelled"),
    ("Total attendances", "attendances"),
    ("Unique participants", "unique_participants"),
    ("Participants with 4+ sessions", "retained"),
    ("Retention (share with 4+ sessions)", "retention"),
)
GROUP_COMPARED = (
    ("Sessions delivered", "delivered"),
    ("Sessions cancelled", "cancelled"),
    ("Attendances", "attendances"),
    ("Unique participants", "unique_participants"),
    ("Retention (share with 4+ sessions)", "retention"),
)


@dataclass(frozen=True)
class Change:
    """A figure now against an earlier one: the difference (percentage points for a share)
    and, for counts, the change in per cent of the earlier figure (None where it cannot be
    worked out: a suppressed figure, or nothing to compare with)."""

    now: Any
    before: Any
    share: bool = False

    @property
    def difference(self) -> float | int | None:
        if not isinstance(self.now, int | float) or not isinstance(self.before, int | float):
            return None
        if self.share:
            return round((self.now - self.before) * 100, 1)
        return self.now - self.before

    @property
    def percent(self) -> float | None:
        difference = self.difference
        if self.share or difference is None or not self.before:
            return None
        return round(difference * 100 / self.before, 1)


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    group: str | None
    now: Any
    previous: Change
    last_year: Change

    @property
    def share(self) -> bool:
        return self.previous.share

    def shown(self) -> list[str]:
        """The row's cells as the page prints them (formatted here: a report of every partner
        has hundreds of groups, and one call per row keeps the page quick)."""
        return [
            shown_figure(self.now, self.share),
            shown_figure(self.previous.before, self.share),
            *_shown_change(self.previous),
            shown_figure(self.last_year.before, self.share),
            *_shown_change(self.last_year),
        ]


# What each figure cell of a comparison row is, read out by phones where the table stacks.
COMPARISON_COLUMNS = (
    "This period",
    "Previous period",
    "Change on previous period",
    "Change on previous period (%)",
    "Same period last year",
    "Change on last year",
    "Change on last year (%)",
)
_FIGURE_CELLS = "".join(
    f'<td class="num" data-label="{escape(c)}">{{}}</td>' for c in COMPARISON_COLUMNS
)


def comparison_rows_html(rows: list[ComparisonRow], with_group: bool) -> Markup:
    """The comparison table's body rows as HTML, every text escaped.

    Built here rather than in the template: a report of every partner compares 600 groups on
    5 measures, 3,000 rows of 9 cells, and a template escaping each cell into a string of its
    own took most of the page's Python time. The same few texts come back again and again
    (small counts, dashes), so each is escaped once."""
    escaped: dict[str, str] = {}

    def text(value: str) -> str:
        shown = escaped.get(value)
        if shown is None:
            shown = escaped[value] = escape(value)
        return shown

    lines = []
    for row in rows:
        group = f'<td data-label="Group">{text(row.group or "")}</td>' if with_group else ""
        cells = _FIGURE_CELLS.format(*map(text, row.shown()))
        lines.append(
            f'<tr>{group}<th scope="row" data-label="Measure">{text(row.label)}</th>{cells}</tr>'
        )
    return Markup("\n".join(lines))  # noqa: S704  (every text in it escaped above)


def shown_figure(value: Any, share: bool = False) -> str:
    """A figure as the page shows it: a dash for none, a share in per cent, a count with
    thousands separators, a suppressed count as its text."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if share:
        return f"{value * 100:.0f}%"
    return f"{value:,}"


def _shown_change(change: Change) -> tuple[str, str]:
    difference, percent = change.difference, change.percent
    if difference is None:
        shown_difference = "—"
    elif change.share:
        shown_difference = f"{difference:+.1f} pts"
    else:
        shown_difference = f"{difference:+,}"
    return shown_difference, "—" if percent is None else f"{percent:+.1f}%"


def _shown(value: Any, share: bool) -> Any:
    """A share rounded as the summary rounds it."""
    return round(value, 3) if share and isinstance(value, float) else value


def _row(label: str, group: str | None, now: Any, previous: Any, last_year: Any) -> ComparisonRow:
    share = label.startswith("Retention")
    if share:
        now, previous, last_year = (
            _shown(now, share),
            _shown(previous, share),
            _shown(last_year, share),
        )
    return ComparisonRow(
        label, group, now, Change(now, previous, share), Change(now, last_year, share)
    )


def comparison_rows(report: Report) -> list[ComparisonRow]:
    """The headline figures against the previous period and the same period last year."""
    if report.previous is None or report.last_year is None:
        return []
    return [
        _row(
            label,
            None,
            getattr(report, name),
            getattr(report.previous, name),
            getattr(report.last_year, name),
        )
        for label, name in COMPARED
    ]


def group_comparison_rows(report: Report) -> list[ComparisonRow]:
    """Each group's figures against the same two periods (a group missing from a period has
    no sessions in it: its figures there are 0)."""
    if report.previous is None or report.last_year is None:
        return []
    periods = [report, report.previous, report.last_year]
    by_id = [{g.group_id: g for g in r.groups} for r in periods]
    names: dict[int, str] = {}
    for groups in reversed(by_id):
        names |= {i: g.name for i, g in groups.items()}
    rows: list[ComparisonRow] = []
    for group_id in sorted(names, key=lambda i: (names[i].casefold(), i)):
        figures = [
            groups.get(group_id)
            or GroupFigures(group_id, names[group_id], "", disclosure=r.disclosure)
            for groups, r in zip(by_id, periods, strict=True)
        ]
        rows += [
            _row(label, names[group_id], *(getattr(f, name) for f in figures))
            for label, name in GROUP_COMPARED
        ]
    return rows


def protected(report: Report, disclosure: Disclosure) -> Report:
    """The report as ``disclosure`` shows it: every count of people adds up sessions, so each
    is a total (suppressed when small, else rounded); the mean group size is worked out again
    from the attendances shown, so that it gives back nothing they hide."""
    if not disclosure.protects:
        return replace(
            report,
            disclosure=disclosure,
            groups=[replace(g, disclosure=disclosure) for g in report.groups],
            referrals=[replace(r, disclosure=disclosure) for r in report.referrals],
            previous=report.previous and protected(report.previous, disclosure),
            last_year=report.last_year and protected(report.last_year, disclosure),
        )
    attendances = disclosure.total(report.attendances)
    # A group's figures add up its sessions too: totals, suppressed when small, else rounded.
    groups = [
        replace(
            g,
            disclosure=disclosure,
            attendances=disclosure.total(g.attendances),
            unique_participants=disclosure.total(g.unique_participants),
            retained=disclosure.total(g.retained),
        )
        for g in report.groups
    ]
    return replace(
        report,
        disclosure=disclosure,
        attendances=attendances,
        first_time=disclosure.total(report.first_time),
        unique_participants=disclosure.total(report.unique_participants),
        retained=disclosure.total(report.retained),
        mean_group_size=disclosure.ratio(attendances, report.delivered),
        months=[replace(m, attendances=disclosure.total(m.attendances)) for m in report.months],
        groups=groups,
        referrals=[_protected_referrals(r, disclosure) for r in report.referrals],
        # One session's headcount against its group's usual is a data-quality aid for staff.
        outliers=[],
        previous=report.previous and protected(report.previous, disclosure),
        last_year=report.last_year and protected(report.last_year, disclosure),
    )


def _period_header(report: Report | None, name: str) -> str:
    if report is None:
        return name
    return f"{name} ({report.scope.date_from.isoformat()} to {report.scope.date_to.isoformat()})"


def _comparison_cells(row: ComparisonRow) -> list[Any]:
    return [
        row.now,
        row.previous.before,
        row.previous.difference,
        row.previous.percent,
        row.last_year.before,
        row.last_year.difference,
        row.last_year.percent,
    ]


def _comparison_header(report: Report) -> list[str]:
    return [
        _period_header(report, "This period"),
        _period_header(report.previous, "Previous period"),
        "Change",
        "Change (%)",
        _period_header(report.last_year, "Same period last year"),
        "Change",
        "Change (%)",
    ]


def report_tables(report: Report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as titled tables (for CSV and XLSX downloads), its chosen sections only."""
    wanted = report.sections
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        ("Summary", ["Measure", "Value"], [list(r) for r in report.summary_rows()])
    ]
    if "groups" in wanted and report.shows_sessions:
        tables.append(
            (
                "By group",
                [
                    "Group",
                    "Setting",
                    "Sessions delivered",
                    "Sessions cancelled",
                    "Attendances",
                    "Unique participants",
                    "Participants with 4+ sessions",
                    "Retention (share with 4+ sessions)",
                ],
                [
                    [
                        g.name,
                        g.setting,
                        g.delivered,
                        g.cancelled,
                        g.attendances,
                        g.unique_participants,
                        g.retained,
                        round(g.retention, 3) if g.retention is not None else None,
                    ]
                    for g in report.groups
                ],
            )
        )
    if report.referrals:
        tables.append(
            (
                "Referrals",
                [
                    "Source",
                    "Referrals received",
                    "Came to a first session",
                    "Conversion to a first session",
                    "Became regular",
                    "Conversion to regular attendance",
                    "Median days from referral to first session",
                ],
                [
                    [
                        r.source,
                        r.received,
                        r.first_session,
                        _rounded_share(r.to_first_session),
                        r.regular,
                        _rounded_share(r.to_regular),
                        r.days_to_first,
                    ]
                    for r in report.referrals
                ],
            )
        )
    if "comparison" in wanted and report.previous is not None and report.shows_sessions:
        header = _comparison_header(report)
        tables.append(
            (
                "Compared with earlier periods",
                ["Measure", *header],
                [[r.label, *_comparison_cells(r)] for r in comparison_rows(report)],
            )
        )
        tables.append(
            (
                "By group compared",
                ["Group", "Measure", *header],
                [[r.group, r.label, *_comparison_cells(r)] for r in group_comparison_rows(report)],
            )
        )
    if "months" in wanted:
        tables.append(
            (
                "By month",
                ["Month", "Sessions planned"]
                + [STATE_LABELS[state] for state in SESSION_STATES]
                + ["Attendances"],
                [
                    [m.month, m.planned, *(n for _, n in m.parts()), m.attendances]
                    for m in report.months
                ],
            )
        )
    if "cancellations" in wanted:
        tables.append(("Cancellations", ["Reason", "Sessions"], [list(r) for r in report.reasons]))
    if "reading" in wanted:
        tables.append(
            ("Top texts", ["Title", "Author", "Sessions"], [list(r) for r in report.texts])
        )
        tables.append(("Top authors", ["Author", "Sessions"], [list(r) for r in report.authors]))
    if "narrative" in wanted and report.narrative is not None:
        narrative = report.narrative
        tables.append(
            (
                "Narrative and quotes",
                ["Part", "Text", "Attribution"],
                [["Narrative", narrative.text, ""]]
                + [["Quote", text, attribution] for text, attribution in narrative.quotes],
            )
        )
    return tables


def _rounded_share(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


Table = tuple[str, list[str], list[list[Any]]]


def report_csv(report: Report, extra: Sequence[Table] = (), notes: Sequence[str] = ()) -> str:
    """The report's tables, then ``extra`` ones (its outcomes section) with their ``notes``."""
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
    writer.writerows([[note] for note in notes])
    for title, header, rows in [*report_tables(report), *extra]:
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([[neutralise(v) for v in row] for row in rows])
    return out.getvalue()


def report_xlsx(
    report: Report, out: IO[bytes], extra: Sequence[Table] = (), notes: Sequence[str] = ()
) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        out, {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = workbook.add_format({"bold": True})
    for title, header, rows in [*report_tables(report), *extra]:
        sheet = workbook.add_worksheet(title)
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, len(header) - 1, 24)
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, bold)
        if title == "Summary" and (report.disclosure.note or notes):
            # Below the figures, where a reader of the sheet looks for notes.
            shown_notes = [report.disclosure.note, *notes] if report.disclosure.note else notes
            rows = [*rows, [], *([note] for note in shown_notes)]
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
