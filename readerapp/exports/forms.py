"""Filter forms for exports and reports (GET forms: they change nothing, so no CSRF token)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from ..access import MAY_LEAD
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.forms import SETTING_LABELS
from ..organisations.models import SETTING_TYPES, Organisation, Partnership
from ..users.models import User
from .queries import ExportFilters, ReportScope

# Ten years and a bit: enough for any report, and a bound on what one request may ask for.
MAX_RANGE_DAYS = 366 * 12


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField("From", validators=[InputRequired(message="Enter a date")])
    date_to = DateField("To", validators=[InputRequired(message="Enter a date")])
    organisation = SelectField("Partner organisation", default="")

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data:
            if field.data < self.date_from.data:
                raise ValidationError("must be on or after the From date")
            if (field.data - self.date_from.data).days > MAX_RANGE_DAYS:
                raise ValidationError("the period can be at most 12 years")

    def set_organisations(self, organisation: Organisation | None) -> None:
        """Every organisation, or only the viewer's own (partners see nothing else)."""
        if organisation is not None:
            self.organisation.choices = [SelectChoice(str(organisation.id), organisation.name)]
            return
        rows = db.session.execute(
            sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
        )
        self.organisation.choices = [SelectChoice("", "All partners")] + [
            SelectChoice(str(i), n) for i, n in rows
        ]


class ReportForm(PeriodForm):
    def scope(self) -> ReportScope:
        return ReportScope(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            organisation_id=_int_or_none(self.organisation.data),
        )


class ExportForm(PeriodForm):
    setting = SelectField(
        "Setting type",
        choices=[SelectChoice("", "Any setting")]
        + [SelectChoice(s, SETTING_LABELS[s]) for s in SETTING_TYPES],
        default="",
    )
    group = SelectField("Group", default="")
    leader = SelectField("Reader leader", default="")
    per_participant = BooleanField("One row per participant attendance (participant codes)")
    format = RadioField(
        "Format",
        choices=[
            SelectChoice("csv", "CSV (Excel, LibreOffice)"),
            SelectChoice("xlsx", "Excel workbook (XLSX)"),
            SelectChoice("json", "JSON"),
        ],
        default="csv",
        validators=[InputRequired(message="Choose a format")],
    )
    columns = RadioField(
        "Columns",
        choices=[
            SelectChoice("human", "In words: headers and values for people to read"),
            SelectChoice("machine", "Machine names: the column names and values scripts read"),
        ],
        default="human",
        validators=[InputRequired(message="Choose the columns")],
    )

    def set_choices(self, organisation: Organisation | None, sees_participants: bool) -> None:
        self.set_organisations(organisation)
        groups = sa.select(ReadingGroup.id, ReadingGroup.name).order_by(ReadingGroup.name)
        leaders = (
            sa.select(User.id, User.display_name, User.email)
            .where(User.role.in_(MAY_LEAD))
            .order_by(User.display_name)
        )
        if organisation is not None:
            # A partner picks among their own groups and those groups' leaders, by name only.
            partnered = sa.select(Partnership.group_id).where(
                Partnership.organisation_id == organisation.id
            )
            groups = groups.where(ReadingGroup.id.in_(partnered))
            leading = sa.select(ReadingGroup.lead_leader_id).where(ReadingGroup.id.in_(partnered))
            leaders = leaders.where(User.id.in_(leading))
        self.group.choices = [SelectChoice("", "Any group")] + [
            SelectChoice(str(i), n) for i, n in db.session.execute(groups)
        ]
        self.leader.choices = [SelectChoice("", "Any leader")] + [
            SelectChoice(str(i), n if organisation is not None else f"{n} ({e})")
            for i, n, e in db.session.execute(leaders)
        ]
        if not sees_participants:
            del self.per_participant

    def filters(self) -> ExportFilters:
        per_participant = "per_participant" in self and bool(self.per_participant.data)
        return ExportFilters(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            organisation_id=_int_or_none(self.organisation.data),
            setting_type=self.setting.data or None,
            group_id=_int_or_none(self.group.data),
            leader_id=_int_or_none(self.leader.data),
            per_participant=per_participant,
            columns=self.columns.data,
        )


def default_period(today: date) -> dict[str, date]:
    from .partnership_report import current_quarter

    start, end = current_quarter(today)
    return {"date_from": start, "date_to": end}
