"""Forms of the results pages: tagging a comment, and reading the comment filters from a URL.

Nothing typed here can cause a 500: unknown filter values are ignored and an over-long topic is
an error message, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from pulse.results.comments import MAX_TOPIC, Filters, clean_topic
from pulse.results.models import OUTCOMES

NO_OUTCOME = ("", "No outcome")


class TagForm(FlaskForm):
    """One comment's tag. An empty topic removes the tag."""

    topic = StringField(
        "Topic",
        validators=[
            Optional(),
            Length(max=MAX_TOPIC, message=f"Keep the topic to {MAX_TOPIC} characters or fewer."),
        ],
        filters=[lambda value: clean_topic(value) if isinstance(value, str) else ""],
    )
    outcome = SelectField(
        "Business outcome",
        choices=[SelectChoice(value, label) for value, label in [NO_OUTCOME, *OUTCOMES.items()]],
        validators=[Optional()],
        validate_choice=True,
    )

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return "The tag could not be saved."


def _positive_int(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 12:
        return None
    number = int(value)
    return number if number > 0 else None


def comment_filters(args: Mapping[str, str]) -> Filters:
    """The question, topic and outcome a comments URL asks for; anything unusable is dropped.

    The page checks the question against the pulse's free-text questions too.
    """
    topic = clean_topic(args.get("topic", ""))
    outcome = args.get("outcome", "")
    return Filters(
        question_id=_positive_int(args.get("question")),
        topic=topic if 0 < len(topic) <= MAX_TOPIC else None,
        outcome=outcome if outcome in OUTCOMES else None,
    )


def back_params(form: Mapping[str, str]) -> dict[str, Any]:
    """Where a tag form returns to: the same team, pulse and filters, each checked again."""
    filters = comment_filters(
        {
            "question": form.get("back_question", ""),
            "topic": form.get("back_topic", ""),
            "outcome": form.get("back_outcome", ""),
        }
    )
    params: dict[str, Any] = {}
    if filters.question_id:
        params["question"] = filters.question_id
    if filters.topic:
        params["topic"] = filters.topic
    if filters.outcome:
        params["outcome"] = filters.outcome
    team = _positive_int(form.get("back_team"))
    if team:
        params["team_id"] = team
    return params
