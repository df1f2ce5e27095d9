"""Values the action pages show, prepared outside the views and templates.

Reading query arguments (the form's prefill and the list's filters), list and CSV rows, the
wording of a pilot's effect, and the employee page's groups. A team the viewer may not use raises
NotAllowed, which views turn into a 404 so a team's existence is never confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask import url_for
from werkzeug.datastructures import MultiDict

from pulse import i18n
from pulse.actions import impact, queries, services
from pulse.actions.models import Action, ActionStatus
from pulse.actions.permissions import acts_for_organisation, can_log_for
from pulse.actions.queries import ORG, Filters
from pulse.core.pagination import plural
from pulse.extensions import db
from pulse.org.models import Person, Team
from pulse.results import charts, exports
from pulse.results.models import OUTCOMES
from pulse.surveys.library import DIMENSIONS
from pulse.surveys.models import Pulse

ORG_NAME = "Whole organisation"
NONE_LABEL = "None"


class NotAllowed(LookupError):
    """A team named in the query string that the viewer may not use (or that does not exist)."""


def number(value: str | None) -> int | None:
    """A query argument as an id; anything else (or too long for the database) is None."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 12 else None


def _team(value: str, person: Person) -> Team:
    team_id = number(value)
    team = db.session.get(Team, team_id) if team_id is not None else None
    if team is None or not can_log_for(person, team):
        raise NotAllowed(value)
    return team


def chosen_team(value: str | None, person: Person) -> tuple[Team | None, bool]:
    """The team a form names and whether it names the whole organisation; no lookup failure
    here (the form's own validation and the view's permission checks deal with those)."""
    if value == ORG:
        return None, acts_for_organisation(person)
    try:
        return _team(value or "", person), False
    except NotAllowed:
        return None, False


# --- logging an action ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefill:
    data: dict[str, object]
    errors: dict[str, str]
    source: str


def prefill(args: MultiDict[str, str], person: Person) -> Prefill:
    """What the page the action is logged from says: team, pulse, dimension, outcome, source.

    A team the viewer may not log for raises NotAllowed; any other bad value becomes a message on
    its field.
    """
    data: dict[str, object] = {"owner": str(person.id)}
    errors: dict[str, str] = {}
    team_arg = args.get("team", "")
    team = None
    if team_arg == ORG:
        if not acts_for_organisation(person):
            raise NotAllowed(team_arg)
        data["team"] = ORG
    elif team_arg:
        team = _team(team_arg, person)
        data["team"] = str(team.id)
    elif acts_for_organisation(person):
        data["team"] = ORG
    pulse_arg = args.get("pulse", "")
    if pulse_arg:
        pulse_id = number(pulse_arg)
        pulse = db.session.get(Pulse, pulse_id) if pulse_id is not None else None
        linkable = queries.linkable_pulses(person, team, whole_org=data.get("team") == ORG)
        if pulse is None:
            errors["pulse"] = "That pulse does not exist."
        elif not pulse.is_frozen:
            errors["pulse"] = "That pulse has not opened yet; choose one that has results."
        elif pulse not in linkable:
            errors["pulse"] = "That pulse did not ask this team; choose one that did."
        else:
            data["pulse"] = str(pulse.id)
    dimension = args.get("dimension", "")
    if dimension in services.ACTION_DIMENSIONS:
        data["dimension"] = dimension
    elif dimension:
        errors["dimension"] = "That is not a dimension Pulse reports."
    outcome = args.get("outcome", "")
    if outcome in OUTCOMES:
        data["outcome"] = outcome
    elif outcome:
        errors["outcome"] = "That is not one of the business outcomes."
    source = args.get("source", "actions")
    return Prefill(data, errors, source if source in services.SOURCES else "actions")


# --- lists ---------------------------------------------------------------------------------------


def filters(args: MultiDict[str, str], person: Person) -> Filters:
    """The list's filters from query arguments; unknown values are ignored, a team outside a
    manager's subtree raises NotAllowed."""
    status = args.get("status", "")
    team_arg = args.get("team", "")
    team = _team(team_arg, person) if team_arg and team_arg != ORG else None
    return Filters(
        status=ActionStatus(status) if status in {s.value for s in ActionStatus} else None,
        team=team,
        org_only=team_arg == ORG,
        dimension=args.get("dimension") if args.get("dimension") in DIMENSIONS else None,
        outcome=args.get("outcome") if args.get("outcome") in OUTCOMES else None,
        owner_id=number(args.get("owner")),
        overdue=args.get("overdue") == "1",
    )


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def name(person: Person | None) -> str:
    return person.name if person is not None else "Someone no longer in Pulse"


@dataclass(frozen=True)
class Row:
    action: Action
    url: str
    team: str
    owner: str
    status: str
    dimension: str | None
    outcome: str | None
    due: str
    overdue: bool


def row(action: Action, names: Mapping[int, str], today: date) -> Row:
    overdue = action.status.is_open and action.due_on is not None and action.due_on < today
    return Row(
        action=action,
        url=url_for("actions.show", action_id=action.id),
        team=names.get(action.team_id, "Team") if action.team_id is not None else ORG_NAME,
        owner=name(action.owner) if action.owner_id is not None else "No owner",
        status=action.status.label,
        dimension=DIMENSIONS[action.dimension].name if action.dimension in DIMENSIONS else None,
        outcome=OUTCOMES.get(action.outcome or ""),
        due=day(action.due_on),
        overdue=overdue,
    )


@dataclass(frozen=True)
class RollupLines:
    """The roll-up's counts with their labels, ready for the tables."""

    by_dimension: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]


def rollup_lines(rollup: queries.Rollup) -> RollupLines:
    def label(names: Mapping[str, str], key: str | None) -> str:
        return names.get(key, NONE_LABEL) if key else NONE_LABEL

    dimension_names = {code: d.name for code, d in DIMENSIONS.items()}
    return RollupLines(
        by_dimension=[(label(dimension_names, c), n) for c, n in rollup.by_dimension],
        by_outcome=[(label(OUTCOMES, k), n) for k, n in rollup.by_outcome],
    )


def finished_actions(summary: impact.ImpactSummary | None) -> str | None:
    """ "3 finished actions" for the impact summary's opening sentence."""
    if summary is None:
        return None
    return plural(summary.total, "finished action", "finished actions")


# --- one action ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    at: str
    author: str
    note: str
    change: str | None  # "Planned → In progress"
    visible: bool


def timeline(action: Action) -> list[Entry]:
    """The action's dated history, oldest first, starting with its logging."""
    entries = [Entry(day(action.created_at.date()), name(action.created_by), "", "Logged", True)]
    for u in action.updates:
        change = None
        if u.status_to is not None:
            change = f"{u.status_from.label if u.status_from else '—'} → {u.status_to.label}"
        entries.append(Entry(day(u.at.date()), name(u.author), u.note, change, u.visible))
    return entries


@dataclass(frozen=True)
class PilotEffectText:
    """A pilot's estimate as the action page words it."""

    pilot_name: str
    label: str | None  # what the estimate measures; None when there is no estimate
    estimate: str | None  # "+3 points"
    interval: str | None  # "95% interval +1 to +5"
    verdict: str


def _signed(value: float) -> str:
    return f"{value:+.0f}"


def pilot_effect_text(effect: impact.PilotEffect | None) -> PilotEffectText | None:
    if effect is None:
        return None
    label = estimate = interval = None
    if effect.estimate is not None:
        label = (
            "Change in pilot teams relative to comparison teams (difference-in-differences)"
            if effect.comparison
            else "Change in the pilot teams (there are no comparison teams)"
        )
        estimate = f"{_signed(effect.estimate)} points"
        if effect.low is not None and effect.high is not None:
            interval = f"95% interval {_signed(effect.low)} to {_signed(effect.high)}"
    return PilotEffectText(effect.pilot_name, label, estimate, interval, effect.verdict)


# --- the CSV export ------------------------------------------------------------------------------


CSV_HEADER = (
    "id",
    "title",
    "team",
    "status",
    "overdue",
    "due_on",
    "completed_on",
    "owner",
    "dimension",
    "outcome",
    "pulse",
    "visible_to_employees",
    "score_at_pulse",
    "later_pulse",
    "score_later",
    "change",
    "change_low",
    "change_high",
    "verdict",
    "hidden_reason",
)


def impact_cells(found: impact.Impact | None) -> tuple[exports.Cell, ...]:
    """Impact figures for the CSV: numbers only where the gate shows them, else the reason."""
    if found is None:
        return (None, None, None, None, None, None, None, None)
    before = charts.shown(found.code, found.before) if found.before else None
    after = charts.shown(found.code, found.after) if found.after else None
    comparison = found.change.comparison if found.change else None
    reasons = [
        r
        for r in (
            found.reason,
            found.before.reason if found.before and not found.before.visible else None,
            found.after.reason if found.after and not found.after.visible else None,
            found.after_reason,
        )
        if r
    ]
    return (
        before.value if before else None,
        found.after_title,
        after.value if after else None,
        comparison.diff if comparison else None,
        comparison.low if comparison else None,
        comparison.high if comparison else None,
        found.verdict,
        "; ".join(dict.fromkeys(reasons)) or None,
    )


def csv_rows(
    actions: Sequence[Action], names: Mapping[int, str], today: date, figures: impact.Figures
) -> list[tuple[exports.Cell, ...]]:
    """One CSV row per action, in CSV_HEADER's order."""
    rows = []
    for action in actions:
        line = row(action, names, today)
        rows.append(
            (
                action.id,
                action.title,
                line.team,
                line.status,
                line.overdue,
                action.due_on.isoformat() if action.due_on else None,
                action.completed_on.isoformat() if action.completed_on else None,
                line.owner,
                line.dimension,
                line.outcome,
                action.pulse.title if action.pulse else None,
                action.visible,
                *impact_cells(impact.impact_for(action, figures)),
            )
        )
    return rows


# --- "You said, we did" --------------------------------------------------------------------------

# The order of the employee page's sections: what is under way first.
SHARED_ORDER = (
    ActionStatus.IN_PROGRESS,
    ActionStatus.PLANNED,
    ActionStatus.DONE,
    ActionStatus.DROPPED,
)


@dataclass(frozen=True)
class SharedUpdate:
    day: str
    note: str
    status: ActionStatus | None


@dataclass(frozen=True)
class SharedAction:
    title: str
    description: str
    scope: str | None  # team name, or None for the whole organisation
    due: str | None
    completed: str | None
    drop_reason: str | None
    updates: list[SharedUpdate]


def _local_day(value: date | None) -> str | None:
    return format_date(value, "long", locale=i18n.current_language()) if value else None


def shared(action: Action) -> SharedAction:
    """What an employee sees: no owner, no author, no hidden update (the page is public)."""
    return SharedAction(
        title=action.title,
        description=action.description,
        scope=action.team.name if action.team is not None else None,
        due=_local_day(action.due_on),
        completed=_local_day(action.completed_on),
        drop_reason=action.drop_reason,
        updates=[
            SharedUpdate(_local_day(u.at.date()) or "", u.note, u.status_to)
            for u in reversed(action.updates)
            if u.visible
        ],
    )


def shared_groups(
    actions: Sequence[Action],
) -> list[tuple[ActionStatus, list[SharedAction]]]:
    """The employee page's sections: every status in SHARED_ORDER, each with its actions."""
    groups: dict[ActionStatus, list[SharedAction]] = {status: [] for status in ActionStatus}
    for action in actions:
        groups[action.status].append(shared(action))
    return [(status, groups[status]) for status in SHARED_ORDER]
