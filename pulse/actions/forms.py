"""Forms for logging and following up actions; every message is written for the person typing.

Choices that depend on the viewer (teams, owners, pulses) are set by the view before validation,
so a value outside them is refused with a plain message, never a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from pulse.actions.models import ActionStatus
from pulse.actions.services import ACTION_DIMENSIONS, MAX_REASON, MAX_TEXT, MAX_TITLE
from pulse.results.models import OUTCOMES
from pulse.surveys.library import DIMENSIONS

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

STATUS_CHOICES = [(s.value, s.label) for s in ActionStatus]
DIMENSION_CHOICES = [("", "None")] + [(code, DIMENSIONS[code].name) for code in ACTION_DIMENSIONS]
OUTCOME_CHOICES = [("", "None"), *list(OUTCOMES.items())]


def options(pairs: Sequence[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class Pick(SelectField):
    """A select whose refusal of an unknown value says what to do."""

    def __init__(self, label: str = "", validators: Any = None, **kwargs: Any) -> None:
        self.invalid = kwargs.pop("invalid", "Choose one of the options listed.")
        super().__init__(label, validators, **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.data not in {str(c.value) for c in self.choices or []}:
            raise ValidationError(self.invalid)


class Day(DateField):
    """A date input with a plain-language error and sane years."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError("Enter a date, for example 2026-12-31.") from exc

    def pre_validate(self, form: Any) -> None:
        if isinstance(self.data, date) and not EARLIEST_YEAR <= self.data.year < LATEST_YEAR:
            raise ValidationError(f"Choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}.")


class ActionForm(FlaskForm):
    team = Pick("For", invalid="Choose one of your teams.")
    title = StringField(
        "Title",
        validators=[
            InputRequired("Give the action a title."),
            Length(max=MAX_TITLE, message=f"Keep the title under {MAX_TITLE} characters."),
        ],
    )
    description = TextAreaField(
        "What will change",
        validators=[Length(max=MAX_TEXT, message=f"Keep this under {MAX_TEXT} characters.")],
    )
    outcome = Pick(
        "Business outcome it should move",
        choices=options(OUTCOME_CHOICES),
        invalid="Choose one of the business outcomes listed.",
    )
    pulse = Pick("Pulse that prompted it", invalid="That pulse does not exist.")
    dimension = Pick(
        "Dimension it answers",
        choices=options(DIMENSION_CHOICES),
        invalid="That is not a dimension Pulse reports.",
    )
    owner = Pick("Owner", invalid="Choose an owner from the list.")
    due_on = Day("Due date", validators=[Optional()])
    status = Pick("Status", choices=options(STATUS_CHOICES), default=ActionStatus.PLANNED.value)
    drop_reason = TextAreaField(
        "Why it was dropped",
        validators=[Length(max=MAX_REASON, message=f"Keep this under {MAX_REASON} characters.")],
    )
    visible = BooleanField("Show on the team's “You said, we did” page", default=True)

    def validate_drop_reason(self, field: TextAreaField) -> None:
        if self.status.data == ActionStatus.DROPPED.value and not (field.data or "").strip():
            raise ValidationError("Say why the action was dropped.")


class UpdateForm(FlaskForm):
    note = TextAreaField(
        "Note",
        validators=[Length(max=MAX_TEXT, message=f"Keep the note under {MAX_TEXT} characters.")],
    )
    status = Pick("Status", choices=options([("", "No change"), *STATUS_CHOICES]), default="")
    drop_reason = TextAreaField(
        "Why it was dropped",
        validators=[Length(max=MAX_REASON, message=f"Keep this under {MAX_REASON} characters.")],
    )
    visible = BooleanField("Show this update to employees", default=True)

    def validate_drop_reason(self, field: TextAreaField) -> None:
        if self.status.data == ActionStatus.DROPPED.value and not (field.data or "").strip():
            raise ValidationError("Say why the action was dropped.")

    def validate_note(self, field: TextAreaField) -> None:
        if not (field.data or "").strip() and not self.status.data:
            raise ValidationError("Write a note or choose a new status.")


class AskForm(FlaskForm):
    """Add follow-up questions to a pulse (a single button, with its CSRF token)."""
