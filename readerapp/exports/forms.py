"""Filter forms for exports and reports (GET forms: they change nothing, so no CSRF token)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..access import MAY_LEAD
from ..attendance.limits import PARTICIPANT_CODE
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.forms import SETTING_LABELS
from ..organisations.models import SETTING_TYPES, Organisation, Partnership
from ..users.models import User
from ..web.forms import CleanForm
from .models import ATTRIBUTION_MAX, NARRATIVE_MAX, PRESET_NAME_MAX, QUOTE_MAX, QUOTES_MAX
from .operations import NarrativeInput, PresetInput
from .partnership_report import ALL_SECTIONS, SECTIONS
from .periods import PERIOD_LABELS, PERIOD_TYPES
from .queries import ExportFilters, ReportScope

# Ten years and a bit: enough for any report, and a bound on what one request may ask for.
MAX_RANGE_DAYS = 366 * 12


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def organisation_choices(organisation: Organisation | None) -> list[SelectChoice]:
    """Every organisation, or only the viewer's own (partners see nothing else)."""
    if organisation is not None:
        return [SelectChoice(str(organisation.id), organisation.name)]
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
    )
    return [SelectChoice("", "All partners")] + [SelectChoice(str(i), n) for i, n in rows]


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
        self.organisation.choices = organisation_choices(organisation)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


SECTION_CHOICES = [SelectChoice(name, label) for name, label in SECTIONS.items()]


class ReportForm(PeriodForm):
    # The sections to include (none ticked: all of them; the summary always shows).
    section = CheckboxesField("Sections", choices=SECTION_CHOICES)

    def scope(self) -> ReportScope:
        return ReportScope(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            organisation_id=_int_or_none(self.organisation.data),
        )

    def sections(self) -> frozenset[str]:
        return frozenset(self.section.data or ()) or ALL_SECTIONS


class NarrativeForm(CleanForm):
    """The narrative and quotes for one report scope (given in the address, not the form)."""

    based_on = HiddenField(default="0")
    text = TextAreaField(
        "Narrative",
        validators=[Length(max=NARRATIVE_MAX, message=f"Keep it to {NARRATIVE_MAX} characters")],
    )

    def quote_slots(self) -> list[tuple[StringField, StringField, StringField]]:
        return [
            (self[f"quote_{i}"], self[f"attribution_{i}"], self[f"code_{i}"])
            for i in range(1, QUOTES_MAX + 1)
        ]

    def validate(self, extra_validators: object = None) -> bool:
        valid = super().validate(extra_validators)
        for quote, *others in self.quote_slots():
            for other in others:
                if (other.data or "").strip() and not (quote.data or "").strip():
                    other.errors = [*other.errors, "Enter the quote, or clear this"]
                    valid = False
        if not (self.text.data or "").strip() and not any(
            (q.data or "").strip() for q, *_ in self.quote_slots()
        ):
            self.text.errors = [*self.text.errors, "Write a narrative or at least one quote"]
            valid = False
        if not str(self.based_on.data or "0").isdigit():
            self.form_errors.append("The page was incomplete: open it again")
            valid = False
        return valid

    def narrative_input(self) -> NarrativeInput:
        return NarrativeInput(
            text=self.text.data or "",
            quotes=[(q.data or "", a.data or "", c.data or "") for q, a, c in self.quote_slots()],
            based_on=int(self.based_on.data or 0),
        )


for _slot in range(1, QUOTES_MAX + 1):
    setattr(
        NarrativeForm,
        f"quote_{_slot}",
        TextAreaField(
            f"Quote {_slot}",
            validators=[Length(max=QUOTE_MAX, message=f"Keep it to {QUOTE_MAX} characters")],
        ),
    )
    setattr(
        NarrativeForm,
        f"attribution_{_slot}",
        StringField(
            f"Said by (quote {_slot})",
            validators=[
                Length(max=ATTRIBUTION_MAX, message=f"Keep it to {ATTRIBUTION_MAX} characters")
            ],
        ),
    )
    setattr(
        NarrativeForm,
        f"code_{_slot}",
        StringField(
            f"Participant code of the speaker (quote {_slot})",
            validators=[
                Length(max=PARTICIPANT_CODE, message=f"Keep it to {PARTICIPANT_CODE} characters")
            ],
        ),
    )


class PresetForm(CleanForm):
    name = StringField(
        "Name",
        validators=[InputRequired(message="Enter a name"), Length(max=PRESET_NAME_MAX)],
    )
    organisation = SelectField("Partner organisation", default="")
    period_type = RadioField(
        "Period",
        choices=[SelectChoice(p, PERIOD_LABELS[p]) for p in PERIOD_TYPES],
        default="quarter",
        validators=[InputRequired(message="Choose a kind of period")],
    )
    date_from = DateField("From (custom range only)", validators=[Optional()])
    date_to = DateField("To (custom range only)", validators=[Optional()])
    sections = CheckboxesField("Sections", choices=SECTION_CHOICES)

    def set_organisations(self) -> None:
        self.organisation.choices = organisation_choices(None)

    def validate(self, extra_validators: object = None) -> bool:
        valid = super().validate(extra_validators)
        if self.period_type.data == "custom":
            for field in (self.date_from, self.date_to):
                if field.data is None and not field.errors:
                    field.errors = [*field.errors, "A custom range needs both dates"]
                    valid = False
            if (
                self.date_from.data
                and self.date_to.data
                and self.date_to.data < self.date_from.data
            ):
                self.date_to.errors = [*self.date_to.errors, "must be on or after the From date"]
                valid = False
        if not self.sections.data:
            self.sections.errors = [*self.sections.errors, "Choose at least one section"]
            valid = False
        return valid

    def preset_input(self) -> PresetInput:
        return PresetInput(
            name=self.name.data or "",
            organisation_id=_int_or_none(self.organisation.data),
            period_type=self.period_type.data,
            sections=frozenset(self.sections.data or ()),
            date_from=self.date_from.data,
            date_to=self.date_to.data,
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
