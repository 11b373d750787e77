# SQL here is assembled from fixed fragments only; every value is a bound parameter.
# ruff: noqa: S608
"""The SQL behind attendance exports and partnership reports.

Exports and reports are read-heavy and large (ten years of sessions), so they are written as SQL
that does the work in the database: local dates, formula neutralisation and even CSV lines are
computed there, and rows come back as plain tuples, never ORM objects.

Every statement here uses ``:name`` placeholders and runs unchanged through SQLAlchemy's
``text()``, the ``sqlite3`` module, and (after ``to_pyformat``) psycopg's ``COPY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..disclosure import REAL_FIGURES, Disclosure
from ..organisations.forms import SETTING_LABELS
from ..sessions.states import SESSION_STATES, STATE_LABELS, state_sql
from ..timeutil import local_to_utc, utcnow

# A text cell starting with one of these is read as a formula by spreadsheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# How SQLAlchemy stores DateTime on SQLite: comparisons there are between strings.
SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def neutralise(value: Any) -> Any:
    """Prefix a text value that a spreadsheet would run as a formula with a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


# The two column sets of an export: words for people (the default), and the names and stored
# values scripts were written against.
COLUMN_SETS = ("human", "machine")


@dataclass(frozen=True)
class ExportFilters:
    """What to export: a range of local dates (inclusive) and optional narrowing."""

    date_from: date
    date_to: date
    organisation_id: int | None = None
    setting_type: str | None = None
    group_id: int | None = None
    leader_id: int | None = None
    per_participant: bool = False
    columns: str = "human"
    # The instant that tells a session not yet logged from one still to come.
    as_of: datetime = field(default_factory=utcnow)
    # How counts of people are shown (small ones suppressed for partners).
    disclosure: Disclosure = REAL_FIGURES
    # A group's room or ward for every group (staff), or only where the venue's organisation
    # shares location detail (partners: a ward can identify people; access.sees_location_detail).
    every_room: bool = False

    @property
    def machine(self) -> bool:
        return self.columns == "machine"

    @property
    def protected_columns(self) -> frozenset[str]:
        """The columns whose small counts of people are suppressed (a session's own counts,
        never a total, so they are suppressed and not rounded)."""
        if self.per_participant or not self.disclosure.protects:
            return frozenset()
        return PEOPLE_COLUMNS


# The machine set: today's names and stored values, then the columns added since, last so that
# scripts reading columns by position keep working: each session's state (delivered,
# cancelled, not_yet_logged, to_come) and its group's room or ward.
SESSION_COLUMNS = (
    "session_id",
    "date",
    "start_time",
    "group",
    "venue",
    "organisation",
    "setting_type",
    "leader",
    "status",
    "cancellation_reason",
    "participants",
    "first_time",
    "staff_carers",
    "volunteers",
    "materials",
    "state",
    "room",
)
# The people's set shows the state where the stored status was ("scheduled" alone would mix
# sessions still to come with past ones nobody logged), and a group's room beside the group.
HUMAN_SESSION_COLUMNS = (
    "session_id",
    "date",
    "start_time",
    "group",
    "room",
    "venue",
    "organisation",
    "setting_type",
    "leader",
    "state",
    "cancellation_reason",
    "participants",
    "first_time",
    "staff_carers",
    "volunteers",
    "materials",
)
# Per participant the same way: the room last by machine names, beside the group in words.
PARTICIPANT_COLUMNS = (
    "session_id",
    "date",
    "start_time",
    "group",
    "venue",
    "organisation",
    "setting_type",
    "participant_code",
    "first_time",
    "room",
)
HUMAN_PARTICIPANT_COLUMNS = (
    "session_id",
    "date",
    "start_time",
    "group",
    "room",
    "venue",
    "organisation",
    "setting_type",
    "participant_code",
    "first_time",
)
# Headers in words; {zone} is the zone the dates and times are local to.
HEADERS = {
    "session_id": "Session ID",
    "date": "Date",
    "start_time": "Start time ({zone})",
    "group": "Group",
    "room": "Room or ward",
    "venue": "Venue",
    "organisation": "Organisation",
    "setting_type": "Setting",
    "leader": "Reader leader",
    "state": "Status",
    "cancellation_reason": "Cancellation reason",
    "participants": "Participants",
    "first_time": "First-time participants",
    "staff_carers": "Staff and carers",
    "volunteers": "Volunteers",
    "materials": "What was read",
    "participant_code": "Participant code",
}
PARTICIPANT_HEADERS = HEADERS | {"first_time": "First time"}
# A session's counts of people (readerapp/disclosure.py); staff and carers, and volunteers, are
# there in their role and are not counted among them.
PEOPLE_COLUMNS = frozenset({"participants", "first_time"})
# Which columns hold whole numbers (typed as numbers in XLSX and JSON).
NUMBER_COLUMNS = frozenset(
    {"session_id", "participants", "first_time", "staff_carers", "volunteers"}
)
# Columns whose values are generated or checked against a fixed list (dates, times, setting
# types, statuses): never a comma, quote, line break or formula character, so CSV needs no quotes.
PLAIN_COLUMNS = frozenset({"date", "start_time", "setting_type", "status", "state"})
# Machine values shown in words in the people's set.
VALUE_LABELS = {"setting_type": SETTING_LABELS, "state": STATE_LABELS}


def columns_for(filters: ExportFilters) -> tuple[str, ...]:
    """The columns of the export, by machine name, in order."""
    if filters.per_participant:
        return PARTICIPANT_COLUMNS if filters.machine else HUMAN_PARTICIPANT_COLUMNS
    return SESSION_COLUMNS if filters.machine else HUMAN_SESSION_COLUMNS


def headers_for(filters: ExportFilters, tz: ZoneInfo) -> list[str]:
    """The header row: machine names, or words with the zone of local times stated."""
    names = columns_for(filters)
    if filters.machine:
        return list(names)
    headers = PARTICIPANT_HEADERS if filters.per_participant else HEADERS
    return [headers[name].format(zone=tz.key) for name in names]


def column_kind(filters: ExportFilters, name: str) -> str:
    """How a column's values are typed: number, date, time (XLSX time of day), plain (text
    that needs no CSV quotes) or text."""
    if name == "date":
        return "date"
    if name == "first_time" and filters.per_participant and not filters.machine:
        return "text"  # Yes or No
    if name in NUMBER_COLUMNS:
        return "number"
    if name == "start_time" and not filters.machine:
        return "time"
    if name in PLAIN_COLUMNS and (filters.machine or name not in VALUE_LABELS):
        return "plain"
    return "text"


def utc_bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants from local midnight starting ``date_from`` to the one after ``date_to``."""
    return (
        local_to_utc(date_from, time(0), tz),
        local_to_utc(date_to + timedelta(days=1), time(0), tz),
    )


def offset_intervals(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets over [lo, hi): (UTC instant it starts, offset in minutes).

    SQLite has no time zones, so local times there are UTC shifted by the offset in force,
    chosen by a CASE over these few intervals (two a year for Europe/London).
    """

    def minutes(at: datetime) -> int:
        offset = at.astimezone(tz).utcoffset() or timedelta(0)
        return int(offset.total_seconds() // 60)

    intervals = [(lo, minutes(lo))]
    day = lo
    while day < hi:
        nxt = min(day + timedelta(days=1), hi)
        if minutes(nxt) != minutes(day):
            a, b = day, nxt  # the change happens in (a, b]: bisect to the minute
            while b - a > timedelta(minutes=1):
                mid = a + (b - a) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= a:
                    break
                if minutes(mid) == minutes(a):
                    a = mid
                else:
                    b = mid
            intervals.append((b, minutes(b)))
        day = nxt
    return intervals


@dataclass
class Statement:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)


class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str, tz: ZoneInfo) -> None:
        if name not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {name!r}")
        self.name = name
        self.tz = tz
        self.sqlite = name == "sqlite"

    def instant(self, value: datetime) -> Any:
        """A UTC instant as the database compares it (text on SQLite)."""
        if self.sqlite:
            return value.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_DATETIME_FORMAT)
        return value

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def first_char(self, expr: str) -> str:
        return f"substr({expr}, 1, 1)" if self.sqlite else f"left({expr}, 1)"

    def neutralised(self, expr: str) -> str:
        """``expr`` with a leading formula character defused by a single quote."""
        chr_ = "char" if self.sqlite else "chr"
        triggers = f"'=', '+', '-', '@', {chr_}(9), {chr_}(13)"
        return (
            f"CASE WHEN {self.first_char(expr)} IN ({triggers}) THEN '''' || {expr} ELSE {expr} END"
        )

    def local(self, column: str, params: dict[str, Any], lo: datetime, hi: datetime) -> str:
        """The local wall-clock time of a UTC column (text on SQLite, a timestamp on PostgreSQL)."""
        if not self.sqlite:
            params["tz"] = self.tz.key
            return f"({column} AT TIME ZONE :tz)"
        intervals = offset_intervals(self.tz, lo, hi)
        if len(intervals) == 1:
            params["off0"] = f"{intervals[0][1]:+d} minutes"
            return f"datetime({column}, :off0)"
        cases = []
        for i, (_start, offset) in enumerate(intervals):
            params[f"off{i}"] = f"{offset:+d} minutes"
            if i + 1 < len(intervals):
                params[f"until{i}"] = self.instant(intervals[i + 1][0])
                cases.append(f"WHEN {column} < :until{i} THEN :off{i}")
        last = len(intervals) - 1
        return f"datetime({column}, CASE {' '.join(cases)} ELSE :off{last} END)"

    def local_date(self, local: str) -> str:
        return f"substr({local}, 1, 10)" if self.sqlite else f"to_char({local}, 'YYYY-MM-DD')"

    def local_day_value(self, local: str) -> str:
        """The local date in the type partnership dates compare with."""
        return f"substr({local}, 1, 10)" if self.sqlite else f"CAST({local} AS date)"

    def local_time(self, local: str) -> str:
        if self.sqlite:
            return f"substr({local}, 12, 5)"
        return f"left(CAST(CAST({local} AS time) AS text), 5)"

    def local_month(self, local: str) -> str:
        return f"substr({local}, 1, 7)" if self.sqlite else f"to_char({local}, 'YYYY-MM')"

    def true(self) -> str:
        return "1" if self.sqlite else "TRUE"

    def as_int(self, expr: str) -> str:
        return f"CAST({expr} AS INTEGER)"

    def materials(self) -> tuple[str, str | None]:
        """Every text read in a session as "Title — Author; …" by title: (column, join).

        Each item is neutralised inside the aggregate, so the first one, which starts the
        cell, is safe. SQLite runs a small ordered subquery per session (through the primary
        key); PostgreSQL would plan that as a hash join per session, so there the texts of
        every session in [:lo, :hi) are grouped in one pass and joined.
        """
        item = self.neutralised("m.title") + " || ' — ' || m.author"
        if self.sqlite:
            column = (
                f"(SELECT group_concat(item, '; ') FROM (SELECT {item} AS item "
                "FROM session_material sm JOIN reading_material m ON m.id = sm.material_id "
                "WHERE sm.session_id = s.id ORDER BY m.title, m.author))"
            )
            return column, None
        join = (
            f"LEFT JOIN (SELECT sm.session_id, string_agg({item}, '; ' ORDER BY m.title, "
            "m.author) AS materials FROM session_material sm "
            "JOIN reading_material m ON m.id = sm.material_id "
            "JOIN reading_session s2 ON s2.id = sm.session_id "
            "WHERE s2.start_dt >= :lo AND s2.start_dt < :hi GROUP BY sm.session_id) mat "
            "ON mat.session_id = s.id"
        )
        return "mat.materials", join


def _partner_condition(d: Dialect, local: str) -> str:
    """The session's group is partnered with :org_id on the session's local date."""
    local_day = d.local_day_value(local)
    return (
        "EXISTS (SELECT 1 FROM partnership p WHERE p.group_id = s.group_id "
        f"AND p.organisation_id = :org_id AND p.start_date <= {local_day} "
        f"AND (p.end_date IS NULL OR p.end_date >= {local_day}))"
    )


def _where(d: Dialect, filters: ExportFilters, params: dict[str, Any], local: str) -> list[str]:
    conditions = ["s.start_dt >= :lo", "s.start_dt < :hi"]
    if filters.organisation_id is not None:
        params["org_id"] = filters.organisation_id
        conditions.append(_partner_condition(d, local))
    if filters.setting_type is not None:
        params["setting_type"] = filters.setting_type
        conditions.append("v.setting_type = :setting_type")
    if filters.group_id is not None:
        params["group_id"] = filters.group_id
        conditions.append("s.group_id = :group_id")
    if filters.leader_id is not None:
        params["leader_id"] = filters.leader_id
        conditions.append("COALESCE(s.leader_id, g.lead_leader_id) = :leader_id")
    return conditions


def export_rows(
    d: Dialect,
    filters: ExportFilters,
    lo: datetime | None = None,
    hi: datetime | None = None,
    csv_lines: bool = False,
    suppress_in_sql: bool = False,
) -> Statement:
    """One row per session (or per participant attendance), in the order of the export.

    ``lo``/``hi`` narrow the UTC range to one chunk of a parallel export; the local-time
    expression still covers the whole export, so every chunk formats dates the same way.
    With ``csv_lines`` each row is a single column: the finished CSV line. With it, or with
    ``suppress_in_sql`` (rows PostgreSQL's COPY writes as they are), small counts of people are
    suppressed by the database; otherwise the reader does it (``streaming.iter_rows``).

    Per-participant rows repeat their session's columns: those are computed (and, for CSV,
    quoted and joined) once per session in a materialised CTE, not once per attendance.
    """
    full_lo, full_hi = utc_bounds(filters.date_from, filters.date_to, d.tz)
    params: dict[str, Any] = {
        "lo": d.instant(lo or full_lo),
        "hi": d.instant(hi or full_hi),
    }
    local = d.local("s.start_dt", params, full_lo, full_hi)
    n = d.neutralised
    expressions = {
        "session_id": "s.id",
        "date": d.local_date(local),
        "start_time": d.local_time(local),
        "group": n("g.name"),
        "venue": n("v.name"),
        "organisation": n("o.name"),
        "setting_type": "v.setting_type",
        "room": n("g.room")
        if filters.every_room
        else f"CASE WHEN o.share_location_detail THEN {n('g.room')} END",
    }
    joins = [
        "FROM reading_session s",
        "JOIN reading_group g ON g.id = s.group_id",
        "JOIN venue v ON v.id = g.venue_id",
        "JOIN organisation o ON o.id = v.organisation_id",
    ]
    if not filters.per_participant:
        materials, materials_join = d.materials()
        params["now"] = d.instant(filters.as_of)
        expressions |= {
            "leader": n("u.display_name"),
            "status": "s.status",
            "cancellation_reason": n("s.cancellation_reason"),
            "participants": "a.participants",
            "first_time": "a.first_time",
            "staff_carers": "a.staff_carers",
            "volunteers": "a.volunteers",
            "materials": materials,
            "state": state_sql("s.status", "s.start_dt", ":now"),
        }
        joins += [
            "LEFT JOIN user_account u ON u.id = COALESCE(s.leader_id, g.lead_leader_id)",
            "LEFT JOIN attendance a ON a.session_id = s.id",
        ]
        if materials_join:
            joins.append(materials_join)
    else:
        expressions |= {
            "participant_code": n("pt.code"),
            "first_time": "CASE WHEN pa.first_time THEN 1 ELSE 0 END",
        }
    if not filters.machine:
        for name, labels in VALUE_LABELS.items():
            if name in expressions:
                expressions[name] = _labelled(expressions[name], labels)
        if filters.per_participant:
            expressions["first_time"] = "CASE WHEN pa.first_time THEN 'Yes' ELSE 'No' END"
    # (column name, SQL expression, kind) in output order
    columns = [
        (name, expressions[name], column_kind(filters, name)) for name in columns_for(filters)
    ]
    if csv_lines or suppress_in_sql:
        columns = [
            (name, filters.disclosure.cell_sql(expr), "plain")
            if name in filters.protected_columns
            else (name, expr, kind)
            for name, expr, kind in columns
        ]
    where = " AND ".join(_where(d, filters, params, local))
    if not filters.per_participant:
        if csv_lines:
            selected = f"{csv_line(columns)} AS line"
        else:
            selected = ", ".join(f"{expr} AS {_alias(name)}" for name, expr, _ in columns)
        sql = f"SELECT {selected} {' '.join(joins)} WHERE {where} ORDER BY s.start_dt, s.group_id"
        return Statement(sql, params)
    # The session's columns are computed once per session, those before the attendance's
    # columns and those after them (the machine set's room) apart.
    first = next(i for i, c in enumerate(columns) if c[0] in ATTENDANCE_COLUMNS)
    after = next(
        (i for i, c in enumerate(columns) if i > first and c[0] not in ATTENDANCE_COLUMNS),
        len(columns),
    )
    before_columns, attendance_columns = columns[:first], columns[first:after]
    after_columns = columns[after:]
    session_columns = before_columns + after_columns
    if csv_lines:
        selected = f"{csv_line(before_columns)} AS line"
        if after_columns:
            selected += f", {csv_line(after_columns)} AS line_after"
    else:
        selected = ", ".join(f"{expr} AS {_alias(name)}" for name, expr, _ in session_columns)
    sessions = (
        f"WITH sx AS MATERIALIZED (SELECT s.id AS sid, s.start_dt AS sort1, s.group_id AS sort2, "
        f"{selected} {' '.join(joins)} WHERE {where})"
    )
    if csv_lines:
        outer = f"sx.line || ',' || {csv_line(attendance_columns)}"
        if after_columns:
            outer += " || ',' || sx.line_after"
        outer += " AS line"
    else:
        outer = ", ".join(
            [f"sx.{_alias(name)}" for name, _, _ in before_columns]
            + [f"{expr} AS {_alias(name)}" for name, expr, _ in attendance_columns]
            + [f"sx.{_alias(name)}" for name, _, _ in after_columns]
        )
    sql = (
        f"{sessions} SELECT {outer} FROM sx "
        "JOIN participant_attendance pa ON pa.session_id = sx.sid "
        "JOIN participant pt ON pt.id = pa.participant_id "
        "ORDER BY sx.sort1, sx.sort2, pt.code"
    )
    return Statement(sql, params)


# The per-participant columns read from the attendance, after the session's.
ATTENDANCE_COLUMNS = frozenset({"participant_code", "first_time"})


def _labelled(expr: str, labels: dict[str, str]) -> str:
    """``expr``'s fixed machine values in words (labels come from the code, never from input)."""

    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    cases = " ".join(f"WHEN {quoted(value)} THEN {quoted(text)}" for value, text in labels.items())
    return f"CASE {expr} {cases} ELSE {expr} END"


def _alias(name: str) -> str:
    """A column's SELECT alias (``group`` and ``date`` are keywords)."""
    return {"group": "group_name", "date": "local_date"}.get(name, name)


def csv_line(columns: list[tuple[str, str, str]]) -> str:
    """An SQL expression joining (name, expression, kind) columns into one CSV line (RFC 4180
    quoting)."""
    fields = [
        _csv_number(expr)
        if kind == "number"
        else _csv_text(expr)
        if kind == "text"
        else f"COALESCE({expr}, '')"
        for _, expr, kind in columns
    ]
    return " || ',' || ".join(fields)


def count_rows(d: Dialect, filters: ExportFilters) -> Statement:
    """How many rows ``export_rows`` will return (for progress bars)."""
    lo, hi = utc_bounds(filters.date_from, filters.date_to, d.tz)
    params: dict[str, Any] = {"lo": d.instant(lo), "hi": d.instant(hi)}
    local = d.local("s.start_dt", params, lo, hi)
    joins = "JOIN reading_group g ON g.id = s.group_id JOIN venue v ON v.id = g.venue_id"
    if filters.per_participant:
        joins += " JOIN participant_attendance pa ON pa.session_id = s.id"
    where = _where(d, filters, params, local)
    return Statement(
        f"SELECT count(*) FROM reading_session s {joins} WHERE {' AND '.join(where)}", params
    )


# Quoted CSV fields built in SQL (RFC 4180: double the quotes inside, quote every text field).
def _csv_text(expr: str) -> str:
    return f"""COALESCE('"' || replace({expr}, '"', '""') || '"', '')"""


def _csv_number(expr: str) -> str:
    return f"COALESCE(CAST({expr} AS TEXT), '')"


def csv_chunk(d: Dialect, filters: ExportFilters, lo: datetime, hi: datetime) -> Statement:
    """SQLite: one chunk of the export as a single string of CSV lines (one line feed between them,
    as PostgreSQL's COPY writes them).

    Building the lines and joining them inside SQLite leaves Python one string per chunk, so the
    export runs at nearly the database's own speed.
    """
    inner = export_rows(d, filters, lo, hi, csv_lines=True)
    sql = f"SELECT group_concat(line, char(10)) FROM ({inner.sql})"
    return Statement(sql, inner.params)


def to_pyformat(sql: str) -> str:
    """``:name`` placeholders as psycopg's ``%(name)s``."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


def render_literals(sql: str, params: dict[str, Any]) -> str:
    """The statement with its parameters written in (for the ``sqlite3``/``psql`` CLIs)."""

    def literal(match: re.Match[str]) -> str:
        value = params[match.group(1)]
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        return "'" + str(value).replace("'", "''") + "'"

    return re.sub(r"(?<![:\w]):(\w+)", literal, sql)


# --- Partnership report ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportScope:
    date_from: date
    date_to: date
    organisation_id: int | None = None  # None: every partner
    # The instant that tells a session not yet logged from one still to come.
    as_of: datetime = field(default_factory=utcnow)


def _scope_cte(d: Dialect, scope: ReportScope, params: dict[str, Any]) -> str:
    lo, hi = utc_bounds(scope.date_from, scope.date_to, d.tz)
    params["lo"] = d.instant(lo)
    params["hi"] = d.instant(hi)
    local = d.local("s.start_dt", params, lo, hi)
    where = ["s.start_dt >= :lo", "s.start_dt < :hi"]
    if scope.organisation_id is not None:
        params["org_id"] = scope.organisation_id
        where.append(_partner_condition(d, local))
    params["now"] = d.instant(scope.as_of)
    state = state_sql("s.status", "s.start_dt", ":now")
    return (
        "WITH scope AS (SELECT s.id, s.group_id, s.status, s.cancellation_reason, "
        "CASE WHEN s.entered_late_at IS NOT NULL THEN 1 ELSE 0 END AS late, "
        f"{d.local_month(local)} AS month, {state} AS state "
        f"FROM reading_session s WHERE {' AND '.join(where)})"
    )


def _state_counts() -> str:
    """Sessions in each state, as SELECT items in the order of SESSION_STATES."""
    return ", ".join(
        f"COALESCE(sum(CASE WHEN scope.state = '{state}' THEN 1 ELSE 0 END), 0)"
        for state in SESSION_STATES
    )


def report_statements(d: Dialect, scope: ReportScope, top: int = 10) -> dict[str, Statement]:
    """Every aggregate of the partnership report, one GROUP BY each."""
    statements: dict[str, Statement] = {}

    def add(name: str, body: str) -> None:
        params: dict[str, Any] = {"top": top}
        statements[name] = Statement(f"{_scope_cte(d, scope, params)} {body}", params)

    delivered = "scope.status = 'delivered'"
    add(
        "summary",
        f"SELECT count(*), {_state_counts()}, "
        f"COALESCE(sum(CASE WHEN {delivered} THEN a.participants END), 0), "
        f"COALESCE(sum(CASE WHEN {delivered} THEN a.first_time END), 0), "
        f"avg(CASE WHEN {delivered} THEN a.participants END), "
        f"COALESCE(sum(CASE WHEN {delivered} THEN scope.late ELSE 0 END), 0) "
        "FROM scope LEFT JOIN attendance a ON a.session_id = scope.id",
    )
    add(
        "monthly",
        f"SELECT scope.month, count(*), {_state_counts()}, "
        f"COALESCE(sum(CASE WHEN {delivered} THEN a.participants END), 0) "
        "FROM scope LEFT JOIN attendance a ON a.session_id = scope.id "
        "GROUP BY scope.month ORDER BY scope.month",
    )
    add(
        "reasons",
        "SELECT scope.cancellation_reason, count(*) FROM scope "
        "WHERE scope.status = 'cancelled' GROUP BY scope.cancellation_reason "
        "ORDER BY count(*) DESC, scope.cancellation_reason",
    )
    add(
        "participants",
        "SELECT count(*), COALESCE(sum(CASE WHEN n >= 4 THEN 1 ELSE 0 END), 0) FROM "
        "(SELECT pa.participant_id, count(*) AS n FROM participant_attendance pa "
        f"JOIN scope ON scope.id = pa.session_id WHERE {delivered} "
        "GROUP BY pa.participant_id) per_person",
    )
    add(
        "texts",
        "SELECT m.title, m.author, count(*) FROM session_material sm "
        "JOIN scope ON scope.id = sm.session_id JOIN reading_material m ON m.id = sm.material_id "
        f"WHERE {delivered} GROUP BY m.id, m.title, m.author "
        "ORDER BY count(*) DESC, m.title LIMIT :top",
    )
    add(
        "authors",
        "SELECT m.author, count(*) FROM session_material sm "
        "JOIN scope ON scope.id = sm.session_id JOIN reading_material m ON m.id = sm.material_id "
        f"WHERE {delivered} GROUP BY m.author ORDER BY count(*) DESC, m.author LIMIT :top",
    )
    # Per group: its setting, its sessions in each state and its attendances; its people and
    # those of them with 4+ sessions (counted within the group) come from "group_people".
    add(
        "groups",
        f"SELECT g.id, g.name, v.setting_type, count(*), {_state_counts()}, "
        f"COALESCE(sum(CASE WHEN {delivered} THEN a.participants END), 0) "
        "FROM scope JOIN reading_group g ON g.id = scope.group_id "
        "JOIN venue v ON v.id = g.venue_id "
        "LEFT JOIN attendance a ON a.session_id = scope.id "
        "GROUP BY g.id, g.name, v.setting_type ORDER BY g.name, g.id",
    )
    add(
        "group_people",
        "SELECT group_id, count(*), COALESCE(sum(CASE WHEN n >= 4 THEN 1 ELSE 0 END), 0) FROM "
        "(SELECT scope.group_id, pa.participant_id, count(*) AS n FROM participant_attendance pa "
        f"JOIN scope ON scope.id = pa.session_id WHERE {delivered} "
        "GROUP BY scope.group_id, pa.participant_id) per_person GROUP BY group_id",
    )
    # Each delivered session's headcount, for the outlier flags (a median needs them all).
    add(
        "headcounts",
        "SELECT scope.group_id, scope.id, a.participants "
        "FROM scope JOIN attendance a ON a.session_id = scope.id "
        f"WHERE {delivered} AND a.participants IS NOT NULL",
    )
    # Radio: the stations in scope, their reach, and in the period their aired broadcasts, the
    # repeats among them and the programmes they belonged to.
    lo, hi = utc_bounds(scope.date_from, scope.date_to, d.tz)
    radio_params: dict[str, Any] = {"lo": d.instant(lo), "hi": d.instant(hi)}
    station_filter = "o.kind = 'radio_station'"
    if scope.organisation_id is not None:
        radio_params["org_id"] = scope.organisation_id
        station_filter += " AND o.id = :org_id"
    statements["radio"] = Statement(
        "SELECT o.name, COALESCE(o.prisons_reached, 0), count(aired.id), "
        "COALESCE(sum(CASE WHEN aired.repeat_of_id IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "count(DISTINCT e.programme_id) "
        "FROM organisation o "
        "LEFT JOIN broadcast aired ON aired.station_id = o.id AND aired.status = 'aired' "
        "AND aired.air_dt >= :lo AND aired.air_dt < :hi "
        "LEFT JOIN episode e ON e.id = aired.episode_id "
        f"WHERE {station_filter} GROUP BY o.id, o.name, o.prisons_reached ORDER BY o.name",
        radio_params,
    )
    return statements
