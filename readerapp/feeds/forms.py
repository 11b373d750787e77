from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .limits import FEED_TOKEN_LABEL
from .scopes import SCOPES

# Which target field each scope reads.
TARGET_FIELDS = {rule.scope.value: rule.form_field for rule in SCOPES.values()}


def _optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1  # not among the choices: the field reports it


class FeedTokenForm(FlaskForm):
    scope = SelectField(
        "What the feed shows",
        choices=[SelectChoice(rule.scope.value, rule.label) for rule in SCOPES.values()],
        validators=[DataRequired()],
    )
    organisation_id = SelectField("Partner organisation", coerce=_optional_int)
    group_id = SelectField("Reading group", coerce=_optional_int)
    leader_id = SelectField("Reader leader", coerce=_optional_int)
    station_id = SelectField("Radio station", coerce=_optional_int)
    label = StringField("Label (optional)", validators=[Optional(), Length(max=FEED_TOKEN_LABEL)])

    def validate(self, extra_validators: dict | None = None) -> bool:  # type: ignore[override]
        # Only the chosen scope's target is required; the others are ignored.
        for name in TARGET_FIELDS.values():
            self[name].validate_choice = False
        if not super().validate(extra_validators):
            return False
        field = self[TARGET_FIELDS[self.scope.data]]
        valid = {choice.value for choice in field.choices if choice.value is not None}
        if field.data not in valid:
            field.errors.append("Choose one from the list.")
            return False
        return True
