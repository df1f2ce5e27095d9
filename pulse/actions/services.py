"""Writing follow-up actions: logging, editing, the dated timeline, and asking about them.

Every function flushes and never commits; each staff write is audited. Broken rules raise an
ActionError subclass whose message is shown to the user as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from pulse.actions.models import Action, ActionQuestion, ActionStatus, ActionUpdate
from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.models import Person, Team
from pulse.results.models import OUTCOMES
from pulse.surveys.library import (
    ACTION_RATING,
    ACTION_RATING_PREFIX,
    DIMENSIONS,
    QUESTIONS,
    ScaleKind,
)
from pulse.surveys.models import Pulse, PulseQuestion, PulseState

SOURCES = ("dashboard", "heatmap", "comments", "pilot", "actions")
# What an action can answer: every results dimension (comments have their own page and tags).
ACTION_DIMENSIONS = tuple(code for code in DIMENSIONS if code != "comments")
SEEN_CHANGES = "heard.seen_changes"
MAX_TITLE = 200
MAX_REASON = 500
MAX_TEXT = 5000


class ActionError(Exception):
    """An action rule was broken; the message is shown to the user as it is."""


class TitleRequired(ActionError):
    pass


class DropNeedsReason(ActionError):
    pass


class UnknownDimension(ActionError):
    pass


class UnknownOutcome(ActionError):
    pass


class NothingToRecord(ActionError):
    pass


class PulseAlreadyOpened(ActionError):
    pass


@dataclass(frozen=True)
class ActionFields:
    """What a person types about an action (its links to team, pulse and dimension aside)."""

    title: str
    description: str = ""
    outcome: str | None = None
    owner: Person | None = None
    due_on: date | None = None
    status: ActionStatus = ActionStatus.PLANNED
    drop_reason: str | None = None
    visible: bool = True


@dataclass(frozen=True)
class ActionLink:
    """Where the action came from: the team (None: whole organisation), pulse and dimension."""

    team: Team | None
    pulse: Pulse | None = None
    dimension: str | None = None
    source: str = "actions"


def _clean_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise TitleRequired("Give the action a title.")
    return cleaned[:MAX_TITLE]


def _clean_reason(reason: str | None) -> str | None:
    cleaned = " ".join((reason or "").split())
    return cleaned[:MAX_REASON] or None


def check_link(link: ActionLink) -> None:
    if link.dimension is not None and link.dimension not in ACTION_DIMENSIONS:
        raise UnknownDimension("That is not a dimension Pulse reports.")


def check_fields(fields: ActionFields) -> None:
    _clean_title(fields.title)
    if fields.outcome is not None and fields.outcome not in OUTCOMES:
        raise UnknownOutcome("Choose one of the business outcomes listed.")
    if fields.status is ActionStatus.DROPPED and not _clean_reason(fields.drop_reason):
        raise DropNeedsReason("Say why the action was dropped.")


def _set_status(action: Action, status: ActionStatus, drop_reason: str | None, today: date) -> None:
    """Apply a status with its rules: done dates completion, dropped keeps its reason."""
    if status is ActionStatus.DROPPED and not _clean_reason(drop_reason):
        raise DropNeedsReason("Say why the action was dropped.")
    if status is ActionStatus.DONE and action.status is not ActionStatus.DONE:
        action.completed_on = today
    elif status is not ActionStatus.DONE:
        action.completed_on = None
    action.drop_reason = _clean_reason(drop_reason) if status is ActionStatus.DROPPED else None
    action.status = status


def log_action(link: ActionLink, fields: ActionFields, *, actor: Person, now: datetime) -> Action:
    """A new action for a team (or the whole organisation), owned by `fields.owner` or the actor."""
    check_link(link)
    check_fields(fields)
    action = Action(
        team=link.team,
        pulse=link.pulse,
        dimension=link.dimension,
        source=link.source if link.source in SOURCES else "actions",
        title=_clean_title(fields.title),
        description=fields.description.strip()[:MAX_TEXT],
        outcome=fields.outcome,
        owner=fields.owner or actor,
        due_on=fields.due_on,
        status=ActionStatus.PLANNED,
        visible=fields.visible,
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    _set_status(action, fields.status, fields.drop_reason, now.date())
    db.session.add(action)
    db.session.flush()
    audit.record(
        "action.create",
        actor=actor,
        now=now,
        target=f"action:{action.id}",
        detail={
            "title": action.title,
            "team": link.team.id if link.team else None,
            "pulse": link.pulse.id if link.pulse else None,
            "dimension": link.dimension,
            "source": action.source,
            "status": action.status.value,
        },
    )
    return action


def edit_action(
    action: Action, link: ActionLink, fields: ActionFields, *, actor: Person, now: datetime
) -> list[str]:
    """Change an action's fields; a status change also goes on the timeline. Returns what
    changed (field names)."""
    check_link(link)
    check_fields(fields)
    before = _snapshot(action)
    old_status = action.status
    action.team = link.team
    action.pulse = link.pulse
    action.dimension = link.dimension
    action.title = _clean_title(fields.title)
    action.description = fields.description.strip()[:MAX_TEXT]
    action.outcome = fields.outcome
    action.owner = fields.owner or action.owner
    action.due_on = fields.due_on
    action.visible = fields.visible
    _set_status(action, fields.status, fields.drop_reason, now.date())
    changed = [name for name, value in _snapshot(action).items() if before[name] != value]
    if not changed:
        return []
    action.updated_at = now
    if action.status is not old_status:
        action.updates.append(
            ActionUpdate(
                at=now,
                author=actor,
                note="",
                status_from=old_status,
                status_to=action.status,
                visible=action.visible,
            )
        )
    db.session.flush()
    audit.record(
        "action.edit",
        actor=actor,
        now=now,
        target=f"action:{action.id}",
        detail={"changed": changed},
    )
    return changed


def _snapshot(action: Action) -> dict[str, object]:
    return {
        "team": action.team.id if action.team else None,
        "pulse": action.pulse.id if action.pulse else None,
        "dimension": action.dimension,
        "title": action.title,
        "description": action.description,
        "outcome": action.outcome,
        "owner": action.owner.id if action.owner else None,
        "due_on": action.due_on,
        "visible": action.visible,
        "status": action.status,
        "drop_reason": action.drop_reason,
    }


def add_update(
    action: Action,
    *,
    note: str,
    status: ActionStatus | None,
    drop_reason: str | None,
    visible: bool,
    actor: Person,
    now: datetime,
) -> ActionUpdate:
    """A dated timeline entry: a note, a status change, or both."""
    note = note.strip()[:MAX_TEXT]
    new_status = status if status is not None and status is not action.status else None
    if not note and new_status is None:
        raise NothingToRecord("Write a note or choose a new status.")
    old_status = action.status
    if new_status is not None:
        _set_status(action, new_status, drop_reason, now.date())
    update = ActionUpdate(
        at=now,
        author=actor,
        note=note,
        status_from=old_status if new_status is not None else None,
        status_to=new_status,
        visible=visible,
    )
    action.updates.append(update)
    action.updated_at = now
    db.session.flush()
    audit.record(
        "action.update",
        actor=actor,
        now=now,
        target=f"action:{action.id}",
        detail={
            "update": update.id,
            "status_from": old_status.value if new_status is not None else None,
            "status_to": new_status.value if new_status is not None else None,
            "visible": visible,
        },
    )
    return update


@dataclass(frozen=True)
class Asked:
    """What ask_in_pulse added."""

    seen_changes: bool
    ratings: int


def rating_text(title: str) -> str:
    """A rating question's stored text: the fixed prefix (translated when shown) and the title."""
    return f"{ACTION_RATING_PREFIX} {title}"[:500]


def ask_in_pulse(pulse: Pulse, actions: Sequence[Action], *, actor: Person, now: datetime) -> Asked:
    """Add the "seen changes" question and a rating question per action, before the pulse opens.

    Each rating is asked only in its action's team subtree (everyone for organisation-wide
    actions) and tallied under ACTION_RATING, which no dashboard or heatmap score includes.
    Asking twice adds nothing twice.
    """
    if pulse.is_frozen or pulse.state(now) not in (PulseState.DRAFT, PulseState.SCHEDULED):
        raise PulseAlreadyOpened("This pulse has already opened: its questions are fixed.")
    keys = {q.question_key for q in pulse.questions}
    rated = set(
        db.session.scalars(
            select(ActionQuestion.action_id)
            .join(PulseQuestion, PulseQuestion.id == ActionQuestion.question_id)
            .where(PulseQuestion.pulse_id == pulse.id)
        )
    )
    position = max((q.position for q in pulse.questions), default=0)
    seen = SEEN_CHANGES not in keys
    if seen:
        item = QUESTIONS[SEEN_CHANGES]
        position += 1
        pulse.questions.append(
            PulseQuestion(
                position=position,
                question_key=item.key,
                builtin=True,
                dimension=item.dimension,
                scale=item.scale.value,
                text=item.text,
                reverse=item.reverse,
                required=False,
            )
        )
    added = 0
    for action in actions:
        if action.id in rated:
            continue
        position += 1
        question = PulseQuestion(
            position=position,
            question_key=f"{ACTION_RATING}.{action.id}",
            builtin=False,
            dimension=ACTION_RATING,
            scale=ScaleKind.AGREE5.value,
            text=rating_text(action.title),
            reverse=False,
            required=False,
            audience_team_id=action.team_id,
        )
        pulse.questions.append(question)
        db.session.flush()
        db.session.add(ActionQuestion(question_id=question.id, action_id=action.id))
        added += 1
    db.session.flush()
    audit.record(
        "pulse.ask_about_actions",
        actor=actor,
        now=now,
        target=f"pulse:{pulse.id}",
        detail={"seen_changes": seen, "ratings": added},
    )
    return Asked(seen, added)
