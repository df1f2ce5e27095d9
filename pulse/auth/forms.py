"""Forms for signing in, passwords and staff accounts."""

# Flask-WTF ships no type hints, so its base class is Any to mypy.
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

# Generous upper bounds so absurd input gets a message instead of reaching the hasher.
_PASSWORD_INPUT_MAX = 1024


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=_PASSWORD_INPUT_MAX)]
    )
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField("Sign out everywhere")


class _NewPasswordMixin:
    # The 8..128 policy is checked by the service, which gives the clearer message.
    new_password = PasswordField(
        "New password", validators=[InputRequired(), Length(max=_PASSWORD_INPUT_MAX)]
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[InputRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class SetPasswordForm(_NewPasswordMixin, FlaskForm):
    submit = SubmitField("Set password and sign in")


class ChangePasswordForm(_NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=_PASSWORD_INPUT_MAX)]
    )
    submit = SubmitField("Change password")


def _optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    return int(str(value))


STAFF_ROLE_CHOICES = [
    SelectChoice("manager", "Manager"),
    SelectChoice("leader", "Leader"),
    SelectChoice("hr", "HR"),
]


class StaffForm(FlaskForm):
    """Create a staff account; team choices are filled in by the view."""

    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), Email("Enter a valid email address.")]
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES, default="manager")
    team = SelectField("Team (optional)", coerce=_optional_int, validate_choice=True)
    manages = SelectMultipleField("Teams they manage", coerce=int)
    submit = SubmitField("Create account and send link")


class SendLinkForm(FlaskForm):
    submit = SubmitField("Send link")
