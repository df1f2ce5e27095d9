"""HR forms for questions, question sets and pulses.

Times are typed in the organisation's time zone (config TIMEZONE) and converted to UTC here;
every message is written for the person filling in the form, and no input can cause a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from pulse.surveys import set_import
from pulse.surveys.library import DIMENSIONS, SCALES, ScaleKind
from pulse.surveys.models import ReleaseMode
from pulse.surveys.services import DEFAULT_K, DEFAULT_K_COMMENTS, MIN_K
from pulse.surveys.set_import import SetEntry

MAX_K = 1000
LATEST_YEAR = 2100
# A time typed for "now" is already a minute old when it arrives; accept it.
OPENING_GRACE = timedelta(minutes=2)
INPUT_FORMAT = "%Y-%m-%dT%H:%M"
_KEEP_UNDER = "Keep this under {} characters."


# --- Time zone helpers ------------------------------------------------------------------------


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as an aware UTC datetime (ValueError when out of range)."""
    if local.year >= LATEST_YEAR:
        raise ValueError(f"Choose a date before {LATEST_YEAR}.")
    try:
        return local.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("Choose a date between now and 2100.") from exc


def local_value(moment: datetime | None, zone: ZoneInfo) -> str:
    """The value for a datetime-local input showing `moment` in `zone`."""
    return moment.astimezone(zone).strftime(INPUT_FORMAT) if moment else ""


class LocalDateTimeField(DateTimeLocalField):
    """A datetime-local input with a plain-language error for anything unreadable."""

    def __init__(self, label: str = "", validators: Any = None, **kwargs: Any) -> None:
        # The first format is what browsers expect back in the input's value.
        kwargs.setdefault(
            "format", [INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        )
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError("Enter a date and time, for example 2026-12-01 09:00.") from exc

    def utc(self, zone: ZoneInfo) -> datetime | None:
        """The entered time in UTC, or None; adds an error to the field when out of range."""
        if self.data is None:
            return None
        try:
            return to_utc(self.data, zone)
        except ValueError as exc:
            self.errors = [*self.errors, str(exc)]
            return None


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError("Enter a whole number.") from exc


class TeamsField(Field):
    """Team ids from a tree of checkboxes; unknown ids are refused, duplicates ignored.

    `required` is the message when nothing is ticked (None: ticking nothing is fine). The view
    sets `valid_ids` to the teams that may be chosen.
    """

    def __init__(
        self,
        label: str = "",
        *,
        required: str | None = "Choose at least one team to invite.",
        **kwargs: Any,
    ) -> None:
        super().__init__(label, **kwargs)
        self.valid_ids: set[int] = set()
        self.unknown = False
        self.required = required

    def process_data(self, value: Any) -> None:
        self.data = list(value) if isinstance(value, list | tuple | set) else []

    def process_formdata(self, valuelist: list[Any]) -> None:
        ids: list[int] = []
        self.unknown = False
        for raw in valuelist:
            value = str(raw).strip()
            if not (value.isdigit() and len(value) < 12):
                self.unknown = True
            elif int(value) not in ids:
                ids.append(int(value))
        self.data = ids

    def pre_validate(self, form: Any) -> None:
        if self.unknown or any(i not in self.valid_ids for i in self.data):
            raise ValidationError(
                "Some of the chosen teams no longer exist. Please check the teams again."
            )
        if self.required and not self.data:
            raise ValidationError(self.required)


def min_group_field() -> WholeNumberField:
    """The k field of a pulse (or of a pilot's pulses), with its limits."""
    return WholeNumberField(
        "Minimum group for numbers (k)",
        default=DEFAULT_K,
        validators=[
            InputRequired("Enter the minimum group size."),
            NumberRange(MIN_K, MAX_K, f"Choose a number from {MIN_K} to {MAX_K}."),
        ],
    )


def min_comment_group_field() -> WholeNumberField:
    """The k_c field (comments), with its limits (services.check_thresholds wants k_c >= k)."""
    return WholeNumberField(
        "Minimum group for comments (k_c)",
        default=DEFAULT_K_COMMENTS,
        validators=[
            InputRequired("Enter the minimum group size for comments."),
            NumberRange(MIN_K, MAX_K, f"Choose a number from {MIN_K} to {MAX_K}."),
        ],
    )


def choices(pairs: Sequence[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _release_choices() -> list[SelectChoice]:
    return choices(
        [
            (ReleaseMode.AFTER_CLOSE.value, "When the pulse closes"),
            (ReleaseMode.STEPS.value, "While open, in steps of at least k new responses"),
        ]
    )


# --- Questions and sets -----------------------------------------------------------------------


class QuestionForm(FlaskForm):
    """A custom question; its key may be left empty and is then made from the text."""

    text = TextAreaField(
        "Question text",
        validators=[
            InputRequired("Write the question."),
            Length(max=set_import.TEXT_MAX, message="Keep the question under 500 characters."),
        ],
    )
    dimension = SelectField(
        "Dimension",
        choices=choices([(code, d.name) for code, d in DIMENSIONS.items()]),
        validate_choice=False,
    )
    scale = SelectField(
        "Response scale",
        choices=choices([(kind.value, scale.name) for kind, scale in SCALES.items()]),
        validate_choice=False,
    )
    reverse = BooleanField("Reverse-keyed (agreeing means a worse result)")
    construct = StringField(
        "Construct",
        validators=[
            Length(max=set_import.CONSTRUCT_MAX, message="Keep this under 200 characters.")
        ],
    )
    modelled_on = StringField(
        "Modelled on",
        validators=[Length(max=set_import.SOURCE_MAX, message="Keep this under 300 characters.")],
    )
    licence_note = StringField(
        "Licence note",
        validators=[Length(max=set_import.LICENCE_MAX, message="Keep this under 300 characters.")],
    )
    key = StringField(
        "Key (optional)",
        validators=[Length(max=set_import.KEY_MAX, message="Keep the key under 80 characters.")],
    )

    def question(self, library: set_import.Library) -> set_import.NewQuestion:
        """The question as entered; an empty key becomes one made from the text."""
        text = set_import.clean(self.text.data or "")
        key = (self.key.data or "").strip()
        return set_import.NewQuestion(
            key=key or set_import.slug_key(text, self.dimension.data, library.questions),
            text=text,
            dimension=self.dimension.data,
            scale=ScaleKind(self.scale.data),
            reverse=bool(self.reverse.data),
            construct=set_import.clean(self.construct.data or ""),
            modelled_on=set_import.clean(self.modelled_on.data or ""),
            licence_note=set_import.clean(self.licence_note.data or ""),
        )

    def check(self, question: set_import.NewQuestion, library: set_import.Library) -> bool:
        """Library rules (unique key and text); problems go onto the matching fields."""
        problems = set_import.check_new_question(question, library)
        fields = {"source": "modelled_on", "licence": "licence_note"}
        for name, message in problems.items():
            f = getattr(self, fields.get(name, name))
            f.errors = [*f.errors, message[:1].upper() + message[1:] + "."]
        return not problems

    def validate_dimension(self, field: Field) -> None:
        if field.data not in DIMENSIONS:
            raise ValidationError("Choose one of the dimensions.")

    def validate_scale(self, field: Field) -> None:
        if field.data not in {kind.value for kind in SCALES}:
            raise ValidationError("Choose one of the scales.")


class QuestionSetForm(FlaskForm):
    """Name and description; the chosen questions come from `parse_set_picks`."""

    name = StringField(
        "Name",
        validators=[
            InputRequired("Give the set a name."),
            Length(max=set_import.NAME_MAX, message="Keep the name under 120 characters."),
        ],
    )
    description = TextAreaField(
        "Description",
        validators=[
            Length(
                max=set_import.DESCRIPTION_MAX,
                message="Keep the description under 1000 characters.",
            )
        ],
    )


class ImportSetForm(FlaskForm):
    file = FileField(
        "Question set file", validators=[FileRequired("Choose a YAML or JSON file to import.")]
    )


def parse_set_picks(
    form: Mapping[str, Sequence[str]], library_keys: Sequence[str]
) -> tuple[list[SetEntry], list[str]]:
    """The questions ticked in the set form, in the order HR gave (then library order).

    Each library question has a checkbox `pick` (value: its key), a number `order-<key>` and a
    checkbox `required-<key>`.
    """
    picked = set(form.get("pick", []))
    errors: list[str] = []
    if picked - set(library_keys):
        errors.append("Some chosen questions are no longer in the library; please choose again.")
    chosen: list[tuple[int, int, SetEntry]] = []
    for index, key in enumerate(library_keys):
        if key not in picked:
            continue
        order_values = [v.strip() for v in form.get(f"order-{key}", []) if v.strip()]
        order = 10_000  # no number: after the numbered ones, in library order
        if order_values:
            raw = order_values[0]
            if raw.isdigit() and 1 <= int(raw) <= 999 and len(order_values) == 1:
                order = int(raw)
            else:
                errors.append(f"The order of {key!r} must be one whole number from 1 to 999.")
        required = bool(form.get(f"required-{key}"))
        chosen.append((order, index, SetEntry(key, required)))
    chosen.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in chosen], errors


# --- Pulses -----------------------------------------------------------------------------------


class PulseForm(FlaskForm):
    """A new pulse, saved as a draft or scheduled to open and close at given times."""

    title = StringField(
        "Title",
        validators=[
            InputRequired("Give the pulse a title."),
            Length(max=200, message="Keep the title under 200 characters."),
        ],
    )
    question_set = SelectField("Question set", validate_choice=False)
    teams = TeamsField("Who is invited")
    min_group = min_group_field()
    min_comment_group = min_comment_group_field()
    release = RadioField(
        "Team results appear",
        choices=_release_choices(),
        default=ReleaseMode.AFTER_CLOSE.value,
        validate_choice=False,
    )
    opens_at = LocalDateTimeField("Opens at", validators=[Optional()])
    closes_at = LocalDateTimeField("Closes at", validators=[Optional()])

    def validate_question_set(self, field: Field) -> None:
        if field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError("Choose one of the question sets.")

    def validate_min_comment_group(self, field: Field) -> None:
        k = self.min_group.data
        if isinstance(k, int) and isinstance(field.data, int) and field.data < k:
            raise ValidationError(
                "The minimum group for comments cannot be smaller than the one for numbers."
            )

    def validate_release(self, field: Field) -> None:
        if field.data not in {mode.value for mode in ReleaseMode}:
            raise ValidationError("Choose when team results appear.")

    def schedule(
        self, *, scheduling: bool, zone: ZoneInfo, now: datetime
    ) -> tuple[datetime | None, datetime | None] | None:
        """(opens_at, closes_at) in UTC, (None, None) for a draft, or None with field errors."""
        if not scheduling:
            return None, None
        return check_window(self.opens_at, self.closes_at, zone=zone, now=now)


def check_window(
    opens_field: LocalDateTimeField,
    closes_field: LocalDateTimeField,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[datetime, datetime] | None:
    """Both times, in UTC, in order and in the future; otherwise None with field errors."""
    ok = True
    for f, what in ((opens_field, "opening"), (closes_field, "closing")):
        if f.data is None and not f.errors:
            f.errors = [*f.errors, f"Enter the {what} date and time."]
            ok = False
    opens_at, closes_at = opens_field.utc(zone), closes_field.utc(zone)
    if not ok or opens_at is None or closes_at is None:
        return None
    if opens_at < now - OPENING_GRACE:
        opens_field.errors = [
            *opens_field.errors,
            "The opening time has passed. Choose a later time, or save a draft and open it now.",
        ]
        return None
    if closes_at <= opens_at:
        closes_field.errors = [*closes_field.errors, "The closing time must be after the opening."]
        return None
    return opens_at, closes_at


class ButtonForm(FlaskForm):
    """A single button (close, retry, remind): only the CSRF token."""


class OpenNowForm(FlaskForm):
    closes_at = LocalDateTimeField("Closes at", validators=[Optional()])


class ExtendForm(FlaskForm):
    closes_at = LocalDateTimeField(
        "New closing time", validators=[InputRequired("Enter the new closing date and time.")]
    )


class ScheduleForm(FlaskForm):
    opens_at = LocalDateTimeField("Opens at", validators=[Optional()])
    closes_at = LocalDateTimeField("Closes at", validators=[Optional()])


def error_messages(form: FlaskForm) -> list[str]:
    """Every error on the form as one sentence each, with the field's label."""
    messages: list[str] = []
    for f in form:
        for error in f.errors:
            messages.append(f"{f.label.text}: {error}" if f.label.text else str(error))
    messages.extend(str(e) for e in form.form_errors)
    return messages
