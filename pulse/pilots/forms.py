"""HR forms for setting up a pilot and editing its schedule.

Field checks (required, whole numbers, readable dates) live here; the pilot rules (dates that fit,
disjoint teams, a unique name) are checked by pulse.pilots.services and shown as form errors.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from pulse.pilots.models import Phase
from pulse.pilots.services import MAX_BASELINES, MAX_OPEN_DAYS
from pulse.surveys.forms import (
    LocalDateTimeField,
    TeamsField,
    WholeNumberField,
    choices,
    min_comment_group_field,
    min_group_field,
)

CADENCE_CHOICES = [("1", "Every week"), ("2", "Every 2 weeks"), ("4", "Every 4 weeks")]
PHASE_CHOICES = [
    (Phase.BASELINE.value, "Baseline (before the start)"),
    (Phase.DURING.value, "During the pilot"),
    (Phase.FINAL.value, "Final (at or after the end)"),
]


class PlainDateField(DateField):
    """A date input with a plain-language error for anything unreadable."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError("Enter a date, for example 2027-03-01.") from exc


class PilotForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            InputRequired("Give the pilot a name."),
            Length(max=120, message="Keep the name under 120 characters."),
        ],
    )
    hypothesis = TextAreaField(
        "What you expect to happen",
        validators=[Length(max=2000, message="Keep this under 2000 characters.")],
    )
    starts_on = PlainDateField("Start date", validators=[InputRequired("Enter the start date.")])
    ends_on = PlainDateField("End date", validators=[InputRequired("Enter the end date.")])
    pilot_teams = TeamsField("Pilot teams", required="Choose at least one pilot team.")
    comparison_teams = TeamsField("Comparison teams", required=None)
    question_set = SelectField("Question set", validate_choice=False)
    baseline_pulses = WholeNumberField(
        "Baseline pulses before the start",
        default=2,
        validators=[
            InputRequired("Enter how many baseline pulses to run."),
            NumberRange(1, MAX_BASELINES, f"Choose a number from 1 to {MAX_BASELINES}."),
        ],
    )
    cadence_weeks = SelectField(
        "A pulse during the pilot",
        choices=choices(CADENCE_CHOICES),
        default="2",
        validate_choice=False,
    )
    open_days = WholeNumberField(
        "Each pulse stays open for (days)",
        default=7,
        validators=[
            InputRequired("Enter how many days each pulse stays open."),
            NumberRange(1, MAX_OPEN_DAYS, f"Choose a number from 1 to {MAX_OPEN_DAYS}."),
        ],
    )
    timezone = StringField(
        "Time zone",
        validators=[
            InputRequired("Enter a time zone, for example Europe/Berlin."),
            Length(max=60, message="Enter a time zone, for example Europe/Berlin."),
        ],
    )
    min_group = min_group_field()
    min_comment_group = min_comment_group_field()

    def validate_question_set(self, field: Field) -> None:
        if field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError("Choose one of the question sets.")

    def validate_cadence_weeks(self, field: Field) -> None:
        if field.data not in {value for value, _label in CADENCE_CHOICES}:
            raise ValidationError("Choose every week, every 2 weeks or every 4 weeks.")

    def validate_min_comment_group(self, field: Field) -> None:
        k = self.min_group.data
        if isinstance(k, int) and isinstance(field.data, int) and field.data < k:
            raise ValidationError(
                "The minimum group for comments cannot be smaller than the one for numbers."
            )


class MovePulseForm(FlaskForm):
    opens_at = LocalDateTimeField(
        "New opening time", validators=[InputRequired("Enter the new opening date and time.")]
    )
    closes_at = LocalDateTimeField("New closing time (optional)", validators=[Optional()])


class SkipPulseForm(FlaskForm):
    """A single button: only the CSRF token."""


class AddPulseForm(FlaskForm):
    phase = SelectField(
        "Phase",
        choices=choices(PHASE_CHOICES),
        default=Phase.DURING.value,
        validate_choice=False,
    )
    day = PlainDateField("Opens on", validators=[InputRequired("Enter the day it opens.")])

    def validate_phase(self, field: Field) -> None:
        if field.data not in {phase.value for phase in Phase}:
            raise ValidationError("Choose baseline, during or final.")
