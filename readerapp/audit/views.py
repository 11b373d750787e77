"""Admins browse, filter and export the audit trail. There is no route that changes it."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ..access import admins_only
from ..timeutil import utcnow
from .display import entries
from .queries import AuditFilter, csv_lines, page_of_actions
from .trail import ACTIONS, entity_types
from .words import action_name, kind_of

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    actor = StringField("Who (email or system name contains)", validators=[Optional()])
    entity_type = SelectField("What", validators=[Optional()])
    entity_id = StringField("Record id", validators=[Optional()])
    action = SelectField("Action", validators=[Optional()])
    action_id = StringField("Action id", validators=[Optional(), Length(max=40)])
    date_from = DateField("From (date)", validators=[Optional()])
    date_to = DateField("To (date)", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("must be on or after the From date")

    def as_filter(self) -> AuditFilter:
        return AuditFilter(
            actor=(self.actor.data or "").strip() or None,
            entity_type=self.entity_type.data or None,
            entity_id=(self.entity_id.data or "").strip() or None,
            action=self.action.data or None,
            action_id=(self.action_id.data or "").strip() or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )


def _form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.entity_type.choices = [SelectChoice("", "Anything")] + [
        SelectChoice(t, kind_of(t).label) for t in entity_types()
    ]
    form.action.choices = [SelectChoice("", "Any action")] + [
        SelectChoice(a, action_name(a)) for a in ACTIONS
    ]
    return form


FILTERS = ("actor", "entity_type", "entity_id", "action", "action_id", "date_from", "date_to")


def _query_args(form: AuditFilterForm) -> dict[str, str]:
    return {name: str(request.args[name]) for name in FILTERS if request.args.get(name)}


@bp.get("")
@admins_only
def index() -> ResponseReturnValue:
    form = _form()
    if request.args and not form.validate():
        return render_template("audit/index.html", form=form, events=[], page=1, more=False), 400
    page = form.page.data or 1
    actions, more = page_of_actions(form.as_filter(), page)
    args = _query_args(form)
    return render_template(
        "audit/index.html",
        form=form,
        events=entries(actions, current_user),
        page=page,
        more=more,
        previous_url=url_for("audit.index", **args, page=page - 1) if page > 1 else None,
        next_url=url_for("audit.index", **args, page=page + 1) if more else None,
        export_url=url_for("audit.export_csv", **args),
    )


@bp.get("/export.csv")
@admins_only
def export_csv() -> ResponseReturnValue:
    form = _form()
    if request.args and not form.validate():
        return render_template("audit/index.html", form=form, events=[], page=1, more=False), 400
    filename = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        csv_lines(form.as_filter()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
