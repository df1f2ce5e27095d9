"""Parse and validate a submitted answer form (pure: no database, no request)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pulse.surveys.library import SCALES, ScaleKind

SKIP = "skip"
MAX_COMMENT_LENGTH = 4000


@dataclass(frozen=True)
class FormQuestion:
    id: int
    scale: ScaleKind
    required: bool

    @property
    def field_name(self) -> str:
        return f"q{self.id}"


@dataclass
class ParsedAnswers:
    values: dict[int, int] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)  # question id -> message (English)

    @property
    def ok(self) -> bool:
        return not self.errors


# Messages are English source strings; the answer page translates them.
REQUIRED = "Please answer this question."
OUT_OF_RANGE = "Please choose one of the options."
NOT_A_NUMBER = "Please enter a whole number between {min} and {max}."
TWICE = "This question was answered twice; please choose one option."
TOO_LONG = "Please keep your comment under {max} characters."


def parse_answers(
    questions: Sequence[FormQuestion], form: Mapping[str, Sequence[str]]
) -> ParsedAnswers:
    """Read only the fields of this pulse's questions; anything else in the form is ignored.

    `form` maps field names to every value sent for them (so duplicates are visible).
    """
    parsed = ParsedAnswers()
    for q in questions:
        raw_values = [v for v in form.get(q.field_name, []) if v.strip() != ""]
        if len(raw_values) > 1:
            parsed.errors[q.id] = TWICE
            continue
        raw = raw_values[0].strip() if raw_values else ""
        if raw in ("", SKIP):
            if q.required:
                parsed.errors[q.id] = REQUIRED
            continue
        if q.scale is ScaleKind.TEXT:
            if "\x00" in raw:
                parsed.errors[q.id] = OUT_OF_RANGE
            elif len(raw) > MAX_COMMENT_LENGTH:
                parsed.errors[q.id] = TOO_LONG.format(max=MAX_COMMENT_LENGTH)
            else:
                parsed.comments[q.id] = raw
            continue
        scale = SCALES[q.scale]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 4:
            parsed.errors[q.id] = (
                NOT_A_NUMBER.format(min=scale.minimum, max=scale.maximum)
                if q.scale is ScaleKind.HOURS
                else OUT_OF_RANGE
            )
            continue
        value = int(raw)
        if not scale.minimum <= value <= scale.maximum:
            parsed.errors[q.id] = (
                NOT_A_NUMBER.format(min=scale.minimum, max=scale.maximum)
                if q.scale is ScaleKind.HOURS
                else OUT_OF_RANGE
            )
            continue
        parsed.values[q.id] = value
    return parsed
