"""Forms admins use to create and change user accounts."""

from __future__ import annotations

from typing import Any

from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import CleanForm
from .limits import DISPLAY_NAME, EMAIL, PASSWORD
from .models import ROLES, Role
from .operations import MIN_PASSWORD_LENGTH

ROLE_LABELS: dict[str, str] = {
    Role.ADMIN: "Admin",
    Role.MANAGER: "Manager",
    Role.READER_LEADER: "Reader leader",
    Role.PARTNER_VIEWER: "Partner viewer",
}


def optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class _UserFields(CleanForm):
    display_name = StringField("Name", validators=[DataRequired(), Length(max=DISPLAY_NAME)])
    role = SelectField("Role", choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    organisation_id = SelectField("Organisation", coerce=optional_int)


class CreateUserForm(_UserFields):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL)])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=PASSWORD)],
    )


class EditUserForm(_UserFields):
    new_password = PasswordField(
        "New password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=PASSWORD)]
    )
