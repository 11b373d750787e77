"""The outcomes report: paired change per measure (and per setting within it), how the answers
were collected, and anonymous feedback, for a period, a partner and a setting; with its CSV and
XLSX downloads, and staff's export of every answer set by participant code.

Answer sets come from ``reportable_answer_sets`` (the withdrawal policy applied) and are in the
scope when answered in the period, at a group of the setting asked for and, for one partner,
at a group it partnered on the day they were given: the partnership report's rule for sessions.

Each answer set is scored by the version of the measure it was given under; a measure's sets
are paired across its versions and reported under the latest version's labels (a new version
keeps its item keys when only its wording or layout changed).

Counts of people reach partner viewers as ``readerapp.disclosure`` shows them; a mean, interval
or share that rests on fewer people than its threshold is withheld ("too few people to show").
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

import sqlalchemy as sa

from ..attendance.models import Participant
from ..disclosure import Disclosure
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.forms import SETTING_LABELS
from ..organisations.models import Partnership, Venue
from ..outcomes.answers import MODE_LABELS, reportable_answer_sets
from ..outcomes.definitions import MeasureDefinition
from ..outcomes.models import ADMINISTRATION_MODES, AnswerSet, MeasureVersion
from ..outcomes.scoring import ChangeSummary, Score, paired_change, score_answers
from .queries import neutralise
from .streaming import BOM

TOO_FEW = "too few people to show"
ALL_SETTINGS = "All settings"

# A figure as shown: a number, the text of a withheld one, or None where there is nothing.
Shown = int | float | str | None


@dataclass(frozen=True)
class OutcomesScope:
    date_from: date
    date_to: date
    organisation_id: int | None = None  # None: every partner
    setting_type: str | None = None  # None: every setting


@dataclass(frozen=True)
class ScopedSet:
    """One reportable answer set in the scope, with what the report says about it."""

    answer_set: AnswerSet
    code: str | None  # None: anonymous feedback
    group_name: str
    setting_type: str


def scoped_answer_sets(scope: OutcomesScope) -> list[ScopedSet]:
    query = (
        reportable_answer_sets()
        .join(ReadingGroup, ReadingGroup.id == AnswerSet.group_id)
        .join(Venue, Venue.id == ReadingGroup.venue_id)
        .outerjoin(Participant, Participant.id == AnswerSet.participant_id)
        .add_columns(Participant.code, ReadingGroup.name, Venue.setting_type)
        .where(AnswerSet.answered_on >= scope.date_from, AnswerSet.answered_on <= scope.date_to)
        .order_by(AnswerSet.answered_on, AnswerSet.id)
    )
    if scope.setting_type is not None:
        query = query.where(Venue.setting_type == scope.setting_type)
    if scope.organisation_id is not None:
        partnered_that_day = sa.exists().where(
            Partnership.group_id == AnswerSet.group_id,
            Partnership.organisation_id == scope.organisation_id,
            Partnership.start_date <= AnswerSet.answered_on,
            sa.or_(Partnership.end_date.is_(None), Partnership.end_date >= AnswerSet.answered_on),
        )
        query = query.where(partnered_that_day)
    return [
        ScopedSet(s, code, name, setting) for s, code, name, setting in db.session.execute(query)
    ]


# --- What the report shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShownChange:
    """A ChangeSummary as the viewer may see it."""

    label: str
    pairs: Shown
    mean_before: Shown
    mean_after: Shown
    mean_change: Shown
    ci_low: Shown
    ci_high: Shown
    improved: Shown
    no_change: Shown
    declined: Shown
    improved_share: Shown
    no_change_share: Shown
    declined_share: Shown
    caution_text: str | None


def shown_change(summary: ChangeSummary, disclosure: Disclosure) -> ShownChange:
    """Staff see every figure. A protected viewer sees the counts of people as the small-number
    rule shows them, means and the interval only when they rest on enough people, and shares
    worked out from the counts shown."""
    if not disclosure.protects:
        return ShownChange(
            summary.label,
            summary.pairs,
            summary.mean_before,
            summary.mean_after,
            summary.mean_change,
            summary.ci_low,
            summary.ci_high,
            summary.improved,
            summary.no_change,
            summary.declined,
            summary.improved_share,
            summary.no_change_share,
            summary.declined_share,
            summary.caution_text,
        )
    few = disclosure.is_small(summary.pairs)

    def mean(value: float | None) -> Shown:
        return TOO_FEW if few and value is not None else value

    pairs = disclosure.total(summary.pairs)
    counts = [disclosure.total(n) for n in (summary.improved, summary.no_change, summary.declined)]

    def share(count: Shown) -> Shown:
        if not summary.pairs:
            return None
        ratio = disclosure.ratio(count, pairs)
        return TOO_FEW if ratio is None else ratio

    return ShownChange(
        summary.label,
        pairs,
        mean(summary.mean_before),
        mean(summary.mean_after),
        mean(summary.mean_change),
        mean(summary.ci_low),
        mean(summary.ci_high),
        *counts,
        *(share(c) for c in counts),
        summary.caution_text,
    )


@dataclass(frozen=True)
class SettingChange:
    setting: str  # its label, or ALL_SETTINGS
    figures: tuple[ShownChange, ...]  # a measure's total, or each item in order


@dataclass(frozen=True)
class MeasureSection:
    key: str
    name: str
    versions: tuple[str, ...]
    acknowledgement: str
    per_item: bool
    converted: bool
    meaningful_change: float | None
    minimum_pairs: int
    answer_sets: Shown  # a count of people's answer sets
    overall: SettingChange
    by_setting: tuple[SettingChange, ...]
    modes: tuple[tuple[str, Shown], ...]  # (mode label, answer sets)


@dataclass(frozen=True)
class FeedbackItem:
    label: str
    answers: Shown
    mean: Shown


@dataclass(frozen=True)
class FeedbackSection:
    key: str
    name: str
    acknowledgement: str
    answer_sets: Shown
    items: tuple[FeedbackItem, ...]


@dataclass
class OutcomesReport:
    scope: OutcomesScope
    organisation_name: str | None
    disclosure: Disclosure
    measures: list[MeasureSection]
    feedback: list[FeedbackSection]

    @property
    def setting_label(self) -> str:
        setting = self.scope.setting_type
        return SETTING_LABELS[setting] if setting else ALL_SETTINGS


class _Measure:
    """A measure's answer sets in the scope, and the definitions they were given under."""

    def __init__(self, latest: MeasureVersion) -> None:
        self.latest = latest
        self.versions: set[str] = set()
        self.sets: list[tuple[ScopedSet, MeasureDefinition]] = []

    @property
    def definition(self) -> MeasureDefinition:
        return MeasureDefinition.from_json(self.latest.definition)


def _by_measure(sets: Iterable[ScopedSet]) -> dict[int, _Measure]:
    """Answer sets grouped by measure, in the order of the measures' names."""
    sets = list(sets)
    ids = {s.answer_set.measure_version_id for s in sets}
    versions = {
        v.id: v
        for v in db.session.scalars(sa.select(MeasureVersion).where(MeasureVersion.id.in_(ids)))
    }
    definitions = {i: MeasureDefinition.from_json(v.definition) for i, v in versions.items()}
    measures: dict[int, _Measure] = {}
    for scoped in sets:
        version = versions[scoped.answer_set.measure_version_id]
        entry = measures.setdefault(version.measure_id, _Measure(version))
        if (version.loaded_at, version.id) > (entry.latest.loaded_at, entry.latest.id):
            entry.latest = version
        entry.versions.add(version.version)
        entry.sets.append((scoped, definitions[version.id]))
    return dict(sorted(measures.items(), key=lambda kv: kv[1].latest.measure.name))


def _paired(
    definition: MeasureDefinition,
    sets: Sequence[tuple[ScopedSet, MeasureDefinition]],
    disclosure: Disclosure,
    setting: str,
) -> SettingChange:
    people: dict[str, list[tuple[date, Score]]] = {}
    for scoped, own in sets:
        answer_set = scoped.answer_set
        people.setdefault(str(answer_set.participant_id), []).append(
            (answer_set.answered_on, score_answers(own, answer_set.answers))
        )
    change = paired_change(definition, people)
    return SettingChange(setting, tuple(shown_change(s, disclosure) for s in change.summaries))


def _people(sets: Iterable[ScopedSet]) -> int:
    return len({s.answer_set.participant_id for s in sets})


def _measure_section(entry: _Measure, disclosure: Disclosure) -> MeasureSection:
    definition = entry.definition
    settings = sorted({s.setting_type for s, _ in entry.sets}, key=SETTING_LABELS.__getitem__)
    by_setting = tuple(
        _paired(
            definition,
            [(s, d) for s, d in entry.sets if s.setting_type == setting],
            disclosure,
            SETTING_LABELS[setting],
        )
        for setting in settings
    )
    mode_counts = {mode: 0 for mode in ADMINISTRATION_MODES}
    for scoped, _ in entry.sets:
        mode_counts[scoped.answer_set.mode] += 1
    return MeasureSection(
        key=definition.key,
        name=definition.name,
        versions=tuple(sorted(entry.versions)),
        acknowledgement=definition.acknowledgement,
        per_item=definition.scoring == "per_item",
        converted=definition.conversion is not None,
        meaningful_change=definition.meaningful_change,
        minimum_pairs=definition.minimum_pairs,
        answer_sets=disclosure.total(len(entry.sets)),
        overall=_paired(definition, entry.sets, disclosure, ALL_SETTINGS),
        by_setting=by_setting,
        modes=tuple(
            (MODE_LABELS[mode], disclosure.total(n)) for mode, n in mode_counts.items() if n
        ),
    )


def _feedback_section(entry: _Measure, disclosure: Disclosure) -> FeedbackSection:
    """Anonymous answer sets are not linked to anyone: counts and item means, never pairs."""
    definition = entry.definition
    items = []
    for item in definition.items:
        values = [
            s.answer_set.answers[item.key]
            for s, _ in entry.sets
            if item.key in s.answer_set.answers
        ]
        mean: Shown = statistics.fmean(values) if values else None
        if mean is not None and disclosure.is_small(len(values)):
            mean = TOO_FEW
        items.append(FeedbackItem(item.label, disclosure.total(len(values)), mean))
    return FeedbackSection(
        key=definition.key,
        name=definition.name,
        acknowledgement=definition.acknowledgement,
        answer_sets=disclosure.total(len(entry.sets)),
        items=tuple(items),
    )


def build_outcomes_report(
    scope: OutcomesScope, disclosure: Disclosure, organisation_name: str | None = None
) -> OutcomesReport:
    sets = scoped_answer_sets(scope)
    coded = _by_measure(s for s in sets if s.code is not None)
    anonymous = _by_measure(s for s in sets if s.code is None)
    return OutcomesReport(
        scope=scope,
        organisation_name=organisation_name,
        disclosure=disclosure,
        measures=[_measure_section(e, disclosure) for e in coded.values()],
        feedback=[_feedback_section(e, disclosure) for e in anonymous.values()],
    )


# --- Downloads -----------------------------------------------------------------------------------

Table = tuple[str, list[str], list[list[Any]]]

CHANGE_HEADER = [
    "Measure",
    "Acknowledgement",
    "Setting",
    "Figure",
    "People with two measurements",
    "Mean before",
    "Mean after",
    "Mean change",
    "95% interval: low",
    "95% interval: high",
    "Improved",
    "No change",
    "Declined",
    "Share improved",
    "Share no change",
    "Share declined",
    "Note",
]


def _rounded(value: Shown, places: int = 2) -> Shown:
    return round(value, places) if isinstance(value, float) else value


def report_tables(report: OutcomesReport) -> list[Table]:
    """The report's figures as titled tables, for the CSV and XLSX downloads."""
    change_rows = []
    for m in report.measures:
        for part in (m.overall, *m.by_setting):
            for f in part.figures:
                change_rows.append(
                    [
                        m.name,
                        m.acknowledgement,
                        part.setting,
                        f.label,
                        f.pairs,
                        *(
                            _rounded(v)
                            for v in (
                                f.mean_before,
                                f.mean_after,
                                f.mean_change,
                                f.ci_low,
                                f.ci_high,
                            )
                        ),
                        f.improved,
                        f.no_change,
                        f.declined,
                        *(
                            _rounded(v, 3)
                            for v in (f.improved_share, f.no_change_share, f.declined_share)
                        ),
                        f.caution_text or "",
                    ]
                )
    modes = [[m.name, label, n] for m in report.measures for label, n in m.modes]
    feedback = [
        [f.name, f.acknowledgement, item.label, item.answers, _rounded(item.mean)]
        for f in report.feedback
        for item in f.items
    ]
    return [
        ("Paired change", CHANGE_HEADER, change_rows),
        ("How answered", ["Measure", "How the questions were answered", "Answer sets"], modes),
        (
            "Anonymous feedback",
            ["Measure", "Acknowledgement", "Question", "Answers", "Mean answer"],
            feedback,
        ),
    ]


def _preamble(report: OutcomesReport) -> list[list[str]]:
    scope = report.scope
    lines = [
        ["Outcomes report", neutralise(report.organisation_name or "All partners")],
        ["From", scope.date_from.isoformat(), "To", scope.date_to.isoformat()],
        ["Setting", report.setting_label],
    ]
    if report.disclosure.note:
        lines.append(
            [report.disclosure.note + f' Figures resting on fewer people show as "{TOO_FEW}".']
        )
    return lines


def tables_csv(tables: Sequence[Table], preamble: Sequence[list[Any]] = ()) -> bytes:
    out = io.StringIO()
    out.write(BOM)  # Excel reads UTF-8 reliably only with it
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(preamble)
    for title, header, rows in tables:
        if preamble or len(tables) > 1:
            writer.writerow([])
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows([[_csv_value(v) for v in row] for row in rows])
    return out.getvalue().encode()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def tables_xlsx(tables: Sequence[Table], out: IO[bytes], notes: Sequence[str] = ()) -> None:
    """One sheet per table: a bold frozen header with a filter, real numbers and dates."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        out, {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for title, header, rows in tables:
        sheet = workbook.add_worksheet(title)
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, bold)
            sheet.set_column(col, col, min(48, max(12, len(name) + 2)))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(1, len(rows)), len(header) - 1)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    sheet.write_string(r, col, "Yes" if value else "No")
                elif isinstance(value, int | float):
                    sheet.write_number(r, col, value)
                elif isinstance(value, date):
                    sheet.write_datetime(r, col, value, day)
                else:
                    sheet.write_string(r, col, neutralise(str(value)))
        # Below the figures, where a reader of the sheet looks for notes.
        for n, note in enumerate(notes, start=len(rows) + 2):
            sheet.write_string(n, 0, note)
    workbook.close()


def section_tables(report: OutcomesReport) -> tuple[list[Table], list[str]]:
    """The outcomes as a section of another download (the partnership report's): its tables
    titled as outcomes, and the notes that go with them (each measure's acknowledgement is in
    its rows; the small-number rule, when it applies, in the notes). A sheet's name may hold
    no colon, hence the dash."""
    tables = [
        (f"Outcomes - {title[0].lower()}{title[1:]}", h, r) for title, h, r in report_tables(report)
    ]
    notes = []
    if report.disclosure.note:
        notes.append(f'Outcomes: figures resting on fewer people show as "{TOO_FEW}".')
    return tables, notes


def report_csv(report: OutcomesReport) -> bytes:
    return tables_csv(report_tables(report), _preamble(report))


def report_xlsx(report: OutcomesReport, out: IO[bytes]) -> None:
    tables_xlsx(report_tables(report), out, [" ".join(line) for line in _preamble(report)[3:]])


# --- Staff's export by participant code ----------------------------------------------------------


def answers_table(scope: OutcomesScope) -> Table:
    """One row per answer set given by code in the scope: personal data, for staff only (the
    caller checks ``may_export_answers_by_code`` and records the export in the audit trail)."""
    sets = [s for s in scoped_answer_sets(scope) if s.code is not None]
    measures = _by_measure(sets)
    item_columns: list[tuple[str, str]] = []  # (measure key, item key)
    header = [
        "Participant code",
        "Group",
        "Setting",
        "Measure",
        "Version",
        "Acknowledgement",
        "Date answered",
        "How the questions were answered",
        "Complete",
    ]
    for entry in measures.values():
        definition = entry.definition
        for item in definition.items:
            item_columns.append((definition.key, item.key))
            header.append(f"{definition.name}: {item.label}")
    header += ["Total", "Score compared (converted where the measure says)"]
    definitions = {s.answer_set.id: d for e in measures.values() for s, d in e.sets}
    rows = []
    for scoped in sets:
        answer_set = scoped.answer_set
        own = definitions[answer_set.id]
        score = score_answers(own, answer_set.answers)
        rows.append(
            [
                scoped.code,
                scoped.group_name,
                SETTING_LABELS[scoped.setting_type],
                own.name,
                own.version,
                own.acknowledgement,
                answer_set.answered_on,
                MODE_LABELS[answer_set.mode],
                answer_set.complete,
                *(
                    answer_set.answers.get(item) if key == own.key else None
                    for key, item in item_columns
                ),
                score.total,
                score.metric,
            ]
        )
    return ("Answer sets", header, rows)


@dataclass(frozen=True)
class AnswersExport:
    body: bytes
    filename: str
    answer_sets: int


def export_answers_by_code(
    scope: OutcomesScope, fmt: str, via: str, requested_by_id: int | None = None
) -> AnswersExport:
    """The staff export of answer sets by participant code, as CSV or XLSX, recorded in the
    audit trail: health data by code is leaving the service (the trail says which scope and
    how many answer sets, never the codes or the answers). The caller checks
    ``may_export_answers_by_code`` and commits (a read-only web request commits the record
    itself); the web, the API and the command line all export through here (the command line
    names the account it exports for: ``requested_by_id``)."""
    from ..audit.trail import record

    table = answers_table(scope)
    requested = {} if requested_by_id is None else {"requested_by_id": requested_by_id}
    record(
        "export_answers",
        "export",
        None,
        requested
        | {
            "kind": "outcome_answer_sets",
            "format": fmt,
            "via": via,
            "from": scope.date_from.isoformat(),
            "to": scope.date_to.isoformat(),
            "organisation_id": scope.organisation_id,
            "setting": scope.setting_type,
            "answer_sets": len(table[2]),
        },
    )
    if fmt == "csv":
        body = tables_csv([table])
    else:
        buffer = io.BytesIO()
        tables_xlsx([table], buffer)
        body = buffer.getvalue()
    name = f"outcome-answers-{scope.date_from.isoformat()}-to-{scope.date_to.isoformat()}.{fmt}"
    return AnswersExport(body, name, len(table[2]))
