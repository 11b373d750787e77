"""Export and report pages: load, check who may see what, delegate to the exports and the
report, stream."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..access import (
    EXPORTERS,
    disclosure_for,
    exports_cover_everyone,
    may_manage_report_presets,
    may_read_narrative_history,
    may_read_report_narrative,
    may_write_report_narrative,
    roles_required,
    sees_every_location_detail,
    sees_outlier_flags,
    sees_participants,
)
from ..extensions import db
from ..organisations.models import Organisation
from ..sessions.states import STATE_LABELS
from ..timeutil import local_zone
from . import operations, outcomes_views, partnership_report, streaming
from .charts import Series, bar_chart
from .downloads import export_download, report_file
from .forms import ExportForm, ReportForm, default_period
from .outcomes_report import (
    OutcomesReport,
    OutcomesScope,
    build_outcomes_report,
    section_tables,
)

bp = Blueprint("exports", __name__, template_folder="templates")

DELIVERY_TITLE = "Sessions planned per month: delivered, cancelled, not yet logged, to come"
# Bar colours per state: delivered stands out, what is still open is pale.
STATE_FILLS = {
    "delivered": "#0b6e4f",
    "cancelled": "#b3261e",
    "not_yet_logged": "#e0a526",
    "to_come": "#c9d1db",
}


def _own_organisation() -> Organisation | None:
    """A partner's own organisation (they see nothing else); None for staff (they see all)."""
    if exports_cover_everyone(current_user):
        return None
    organisation = db.session.get(Organisation, current_user.organisation_id)
    if organisation is None:
        abort(403)
    return organisation


def _args_for(own: Organisation | None) -> MultiDict[str, str]:
    """The query string, with the period defaulted and a partner held to their organisation."""
    args = MultiDict(request.args)
    if own is not None:
        asked = args.get("organisation", "")
        if asked and asked != str(own.id):
            abort(403)
        args["organisation"] = str(own.id)
    today = partnership_report.zone_today(local_zone())
    for name, value in default_period(today).items():
        if name not in args:
            args[name] = value.isoformat()
    # Addresses written before there was a choice of columns get the words, as the form does.
    args.setdefault("columns", "human")
    return args


@bp.get("/exports/")
@roles_required(EXPORTERS)
def index() -> ResponseReturnValue:
    own = _own_organisation()
    form = ExportForm(formdata=_args_for(own))
    form.set_choices(own, sees_participants(current_user))
    return render_template("exports/index.html", form=form, own=own)


@bp.get("/exports/attendance")
@roles_required(EXPORTERS)
def attendance() -> ResponseReturnValue:
    own = _own_organisation()
    if request.args.get("per_participant") and not sees_participants(current_user):
        abort(403)
    form = ExportForm(formdata=_args_for(own))
    form.set_choices(own, sees_participants(current_user))
    if not form.validate():
        return render_template("exports/index.html", form=form, own=own), 400
    filters = replace(
        form.filters(),
        disclosure=disclosure_for(current_user, form.columns.data == "machine"),
        every_room=sees_every_location_detail(current_user),
    )
    fmt = form.format.data
    if filters.per_participant:
        streaming.record_participant_export(filters, fmt, "web")
    return export_download(filters, fmt)


def _report_form(own: Organisation | None) -> ReportForm:
    form = ReportForm(formdata=_args_for(own))
    form.set_organisations(own)
    if not sees_outlier_flags(current_user):
        form.section.choices = [c for c in form.section.choices if c.value != "outliers"]
    return form


def _built_report(form: ReportForm) -> partnership_report.Report:
    """The report's chosen sections, its counts of people as the viewer may see them."""
    sections = form.sections()
    flags = sees_outlier_flags(current_user) and "outliers" in sections
    built = partnership_report.build_report(form.scope(), _organisation_name(form), outliers=flags)
    if "comparison" in sections:
        built = partnership_report.with_comparisons(built)
    organisation_id = built.scope.organisation_id
    narrative = None
    if (
        "narrative" in sections
        and organisation_id is not None
        and may_read_report_narrative(current_user, organisation_id)
    ):
        narrative = operations.narrative_shown(
            operations.NarrativeScope(organisation_id, built.scope.date_from, built.scope.date_to)
        )
    built = replace(built, sections=sections, narrative=narrative)
    return partnership_report.protected(built, disclosure_for(current_user))


def _outcomes_section(report: partnership_report.Report) -> OutcomesReport | None:
    """The outcomes of the people in the report's scope and period, as the outcomes report
    shows them (small numbers protected for partners); None when the section is not chosen
    or nobody answered."""
    if "outcomes" not in report.sections:
        return None
    scope = report.scope
    outcomes = build_outcomes_report(
        OutcomesScope(scope.date_from, scope.date_to, scope.organisation_id, None),
        disclosure_for(current_user),
        report.organisation_name,
    )
    return outcomes if outcomes.measures or outcomes.feedback else None


def _organisation_name(form: ReportForm) -> str | None:
    return (
        {c.value: c.label for c in form.organisation.choices}.get(form.organisation.data)
        if form.organisation.data
        else None
    )


@bp.get("/reports/partnership")
@roles_required(EXPORTERS)
def report() -> ResponseReturnValue:
    own = _own_organisation()
    form = _report_form(own)
    if not form.validate():
        return render_template("exports/report.html", form=form, report=None), 400
    result = _built_report(form)
    labels = [m.label for m in result.months]
    charts = None
    if result.has_sessions:
        charts = {
            "attendance": bar_chart(
                "chart-attendance",
                "Attendances per month",
                "Bar chart of the total headcount at delivered sessions in each month: "
                + "; ".join(f"{m.label} {m.attendances}" for m in result.months),
                labels,
                [Series("Attendances", [m.attendances for m in result.months], "#1f4e79")],
            ),
            "delivery": bar_chart(
                "chart-delivery",
                DELIVERY_TITLE,
                "Bar chart of the sessions planned in each month, split into delivered, "
                "cancelled, not yet logged and still to come: "
                + "; ".join(
                    f"{m.label} {m.planned} planned: "
                    + ", ".join(f"{n} {STATE_LABELS[s].lower()}" for s, n in m.parts())
                    for m in result.months
                ),
                labels,
                [
                    Series(STATE_LABELS[state], [getattr(m, state) for m in result.months], fill)
                    for state, fill in STATE_FILLS.items()
                ],
            ),
        }
    query = {k: v for k, v in form.data.items() if k in ("date_from", "date_to", "organisation")}
    if form.section.data:
        query["section"] = form.section.data
    outcomes = _outcomes_section(result)
    return render_template(
        "exports/report.html",
        outcomes=outcomes,
        outcome_charts=[outcomes_views.measure_charts(m) for m in outcomes.measures]
        if outcomes
        else [],
        form=form,
        report=result,
        charts=charts,
        query=query,
        state_labels=STATE_LABELS,
        comparison=partnership_report.comparison_rows(result),
        group_comparison=partnership_report.group_comparison_rows(result),
        comparison_rows_html=partnership_report.comparison_rows_html,
        fig=partnership_report.shown_figure,
        outlier_rule=partnership_report.OUTLIER_RULE,
        outlier_flags_shown=sees_outlier_flags(current_user),
        may_write=may_write_report_narrative(current_user),
        may_read_history=may_read_narrative_history(current_user),
        may_use_presets=may_manage_report_presets(current_user),
    )


def _report_download(fmt: str) -> ResponseReturnValue:
    own = _own_organisation()
    form = _report_form(own)
    if not form.validate():
        return render_template("exports/report.html", form=form, report=None), 400
    result = _built_report(form)
    # The outcomes section as the page shows it (small numbers protected the same way).
    outcomes = _outcomes_section(result)
    extra, notes = section_tables(outcomes) if outcomes is not None else ([], [])
    return report_file(
        fmt,
        "partnership-report",
        (result.scope.date_from, result.scope.date_to),
        lambda: partnership_report.report_csv(result, extra, notes).encode(),
        lambda out: partnership_report.report_xlsx(result, out, extra, notes),
    )


@bp.get("/reports/partnership.csv")
@roles_required(EXPORTERS)
def report_csv() -> ResponseReturnValue:
    return _report_download("csv")


@bp.get("/reports/partnership.xlsx")
@roles_required(EXPORTERS)
def report_xlsx() -> ResponseReturnValue:
    return _report_download("xlsx")
