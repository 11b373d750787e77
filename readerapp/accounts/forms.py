"""Forms of signing in and of a person's own account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..users.admin_forms import optional_int
from ..users.limits import DISPLAY_NAME, EMAIL, PASSWORD
from ..users.operations import MIN_PASSWORD_LENGTH
from ..web.forms import CleanForm


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD)])
    remember = BooleanField("Keep me signed in on this device")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=PASSWORD)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords do not match.")],
    )


class SetPasswordForm(FlaskForm):
    """The password an invited person, or one who forgot theirs, chooses."""

    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=PASSWORD)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords do not match.")],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL)])


class InviteForm(CleanForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=DISPLAY_NAME)])
    role = SelectField("Role")
    organisation_id = SelectField("Organisation", coerce=optional_int)


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
