"""The outcomes report page, its downloads, and staff's export of answer sets by code: load,
check who may see what (readerapp.access), delegate to readerapp.exports.outcomes_report.

Who gets what follows the exports' rule (``may_export``): staff see every partner's figures,
a partner viewer only its own organisation's, protected by the small-number rule; reader
leaders, who export nothing, see their groups' answers on the groups' own pages. The report
holds aggregates only, so opening it is not recorded; every export by participant code is.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from ..access import (
    EXPORTERS,
    disclosure_for,
    exports_cover_everyone,
    may_export_answers_by_code,
    require,
    roles_required,
)
from ..extensions import db
from ..organisations.forms import SETTING_LABELS
from ..organisations.models import SETTING_TYPES, Organisation
from ..timeutil import local_zone
from . import outcomes_report
from .charts import Series, bar_chart
from .downloads import attachment, report_file
from .forms import ReportForm, default_period
from .outcomes_report import MeasureSection, OutcomesReport, OutcomesScope, SettingChange
from .partnership_report import zone_today

bp = Blueprint("outcomes_report", __name__, template_folder="templates")

BEFORE_FILL = "#9db4cc"
AFTER_FILL = "#1f4e79"


class OutcomesForm(ReportForm):
    setting = SelectField(
        "Setting type",
        choices=[SelectChoice("", "Any setting")]
        + [SelectChoice(s, SETTING_LABELS[s]) for s in SETTING_TYPES],
        default="",
    )

    def outcomes_scope(self) -> OutcomesScope:
        scope = self.scope()
        return OutcomesScope(
            scope.date_from, scope.date_to, scope.organisation_id, self.setting.data or None
        )


def _own_organisation() -> Organisation | None:
    """A partner's own organisation (they see nothing else); None for staff (they see all)."""
    if exports_cover_everyone(current_user):
        return None
    organisation = db.session.get(Organisation, current_user.organisation_id)
    if organisation is None:
        abort(403)
    return organisation


def _form() -> OutcomesForm:
    """The filter form from the query string: the period defaulted to this quarter, and a
    partner held to its own organisation."""
    own = _own_organisation()
    args = MultiDict(request.args)
    if own is not None:
        asked = args.get("organisation", "")
        if asked and asked != str(own.id):
            abort(403)
        args["organisation"] = str(own.id)
    for name, value in default_period(zone_today(local_zone())).items():
        args.setdefault(name, value.isoformat())
    form = OutcomesForm(formdata=args)
    form.set_organisations(own)
    return form


def _report(form: OutcomesForm) -> OutcomesReport:
    name = None
    if form.organisation.data:
        name = {c.value: c.label for c in form.organisation.choices}.get(form.organisation.data)
    return outcomes_report.build_outcomes_report(
        form.outcomes_scope(), disclosure_for(current_user), name
    )


def _chart(chart_id: str, measure: MeasureSection, part: SettingChange) -> Markup:
    """Mean before and after for each figure of a measure (its total, or each item)."""
    figures = part.figures
    told = "; ".join(
        f"{f.label}: before {_told(f.mean_before)}, after {_told(f.mean_after)}, "
        f"{_told(f.pairs)} people with two measurements"
        for f in figures
    )
    title = f"{measure.name}: mean before and after"
    if part.setting != outcomes_report.ALL_SETTINGS:
        title += f" ({part.setting})"
    return bar_chart(
        chart_id,
        title,
        f"Bar chart of the mean first and latest answers of the people with two "
        f"measurements, for each figure of {measure.name}, {part.setting.lower()}: {told}.",
        [f.label for f in figures],
        [
            Series("Before", [_bar(f.mean_before) for f in figures], BEFORE_FILL),
            Series("After", [_bar(f.mean_after) for f in figures], AFTER_FILL),
        ],
    )


def measure_charts(measure: MeasureSection) -> dict[str, Any]:
    """The measure's chart over every setting, and one per setting when it has several."""
    charts: dict[str, Any] = {"overall": _chart(f"chart-{measure.key}", measure, measure.overall)}
    if len(measure.by_setting) > 1:
        charts["settings"] = [
            _chart(f"chart-{measure.key}-{n}", measure, part)
            for n, part in enumerate(measure.by_setting, start=1)
        ]
    return charts


def _told(value: object) -> str:
    if value is None:
        return "none"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _bar(value: float | int | str | None) -> float | int | str:
    return "none" if value is None else value


@bp.get("/reports/outcomes")
@roles_required(EXPORTERS)
def page() -> ResponseReturnValue:
    form = _form()
    if not form.validate():
        return render_template("exports/outcomes.html", form=form, report=None), 400
    report = _report(form)
    charts = [measure_charts(m) for m in report.measures]
    return render_template(
        "exports/outcomes.html",
        form=form,
        report=report,
        charts=charts,
        query=_query(form),
        by_code=may_export_answers_by_code(current_user),
        too_few=outcomes_report.TOO_FEW,
    )


def _query(form: OutcomesForm) -> dict[str, str]:
    names = ("date_from", "date_to", "organisation", "setting")
    return {name: str(form[name].data or "") for name in names}


def _download(fmt: str) -> ResponseReturnValue:
    form = _form()
    if not form.validate():
        return render_template("exports/outcomes.html", form=form, report=None), 400
    report = _report(form)
    return report_file(
        fmt,
        "outcomes-report",
        (report.scope.date_from, report.scope.date_to),
        lambda: outcomes_report.report_csv(report),
        lambda out: outcomes_report.report_xlsx(report, out),
    )


@bp.get("/reports/outcomes.csv")
@roles_required(EXPORTERS)
def report_csv() -> ResponseReturnValue:
    return _download("csv")


@bp.get("/reports/outcomes.xlsx")
@roles_required(EXPORTERS)
def report_xlsx() -> ResponseReturnValue:
    return _download("xlsx")


def _answers(fmt: str) -> ResponseReturnValue:
    require(may_export_answers_by_code(current_user))
    form = _form()
    if not form.validate():
        return render_template("exports/outcomes.html", form=form, report=None), 400
    exported = outcomes_report.export_answers_by_code(form.outcomes_scope(), fmt, "web")
    return attachment(iter([exported.body]), fmt, exported.filename)


@bp.get("/reports/outcomes/answers.csv")
@roles_required(EXPORTERS)
def answers_csv() -> ResponseReturnValue:
    return _answers("csv")


@bp.get("/reports/outcomes/answers.xlsx")
@roles_required(EXPORTERS)
def answers_xlsx() -> ResponseReturnValue:
    return _answers("xlsx")
