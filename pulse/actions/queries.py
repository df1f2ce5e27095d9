"""Reading follow-up actions: lists with filters, the employee page, and choices for forms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from pulse.actions.models import Action, ActionQuestion, ActionStatus
from pulse.actions.permissions import acts_for_organisation
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.org.queries import in_any_subtree, in_subtree
from pulse.surveys.models import Pulse, PulseQuestion, PulseTeam

OPEN_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
# "Done recently" and "dropped recently" on the employee page, and actions worth rating.
RECENT_DAYS = 180
ASK_DONE_WITHIN_DAYS = 90
ORG = "org"  # the team filter's value for organisation-wide actions
LINKABLE_LIMIT = 50  # pulses offered in the action form's "prompted by" list


@dataclass(frozen=True)
class Filters:
    status: ActionStatus | None = None
    team: Team | None = None  # the team and every team below it
    org_only: bool = False  # only organisation-wide actions
    dimension: str | None = None
    outcome: str | None = None
    owner_id: int | None = None
    overdue: bool = False

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for pagination and the CSV link)."""
        values = {
            "status": self.status.value if self.status else "",
            "team": ORG if self.org_only else (str(self.team.id) if self.team else ""),
            "dimension": self.dimension or "",
            "outcome": self.outcome or "",
            "owner": str(self.owner_id) if self.owner_id else "",
            "overdue": "1" if self.overdue else "",
        }
        return {k: v for k, v in values.items() if v}


def is_overdue(today: date) -> ColumnElement[bool]:
    return and_(Action.status.in_(OPEN_STATUSES), Action.due_on < today)


def _team_ids_under(teams: Sequence[Team]) -> Select[int]:
    return select(Team.id).where(in_any_subtree(teams))


def in_scope(person: Person) -> ColumnElement[bool] | None:
    """Actions a person's list holds: all for leaders and HR (None); for a manager those of
    teams in their subtree, organisation-wide ones and the ones they own."""
    if acts_for_organisation(person):
        return None
    return or_(
        Action.team_id.is_(None),
        Action.team_id.in_(_team_ids_under(person.managed_teams)),
        Action.owner_id == person.id,
    )


def actions_stmt(person: Person, filters: Filters, today: date) -> Select[Action]:
    """The filtered list: overdue first, then by due date (undated last), then oldest first."""
    stmt = select(Action)
    scope = in_scope(person)
    if scope is not None:
        stmt = stmt.where(scope)
    if filters.status is not None:
        stmt = stmt.where(Action.status == filters.status)
    if filters.org_only:
        stmt = stmt.where(Action.team_id.is_(None))
    elif filters.team is not None:
        stmt = stmt.where(Action.team_id.in_(select(Team.id).where(in_subtree(filters.team))))
    if filters.dimension:
        stmt = stmt.where(Action.dimension == filters.dimension)
    if filters.outcome:
        stmt = stmt.where(Action.outcome == filters.outcome)
    if filters.owner_id is not None:
        stmt = stmt.where(Action.owner_id == filters.owner_id)
    if filters.overdue:
        stmt = stmt.where(is_overdue(today))
    overdue_first = case((is_overdue(today), 0), else_=1)
    return stmt.order_by(overdue_first, Action.due_on.is_(None), Action.due_on, Action.id)


@dataclass(frozen=True)
class Rollup:
    """Counts across the filtered list, for leaders and HR."""

    total: int
    by_status: list[tuple[ActionStatus, int]]
    by_dimension: list[tuple[str | None, int]]
    by_outcome: list[tuple[str | None, int]]
    overdue: int


def rollup(stmt: Select[Action], today: date) -> Rollup:
    rows = db.session.execute(
        stmt.with_only_columns(
            Action.status, Action.dimension, Action.outcome, Action.due_on
        ).order_by(None)
    ).all()
    statuses = Counter(row[0] for row in rows)
    dimensions = Counter(row[1] for row in rows)
    outcomes = Counter(row[2] for row in rows)
    overdue = sum(1 for row in rows if row[0].is_open and row[3] is not None and row[3] < today)
    return Rollup(
        total=len(rows),
        by_status=[(status, statuses[status]) for status in ActionStatus if statuses[status]],
        by_dimension=sorted(dimensions.items(), key=lambda item: (-item[1], item[0] or "~")),
        by_outcome=sorted(outcomes.items(), key=lambda item: (-item[1], item[0] or "~")),
        overdue=overdue,
    )


def with_details(stmt: Select[Action]) -> Select[Action]:
    return stmt.options(
        selectinload(Action.team), selectinload(Action.owner), selectinload(Action.pulse)
    )


def done_with_dimension(person: Person) -> list[Action]:
    """Finished actions linked to a pulse and a dimension: the ones whose impact can be judged."""
    stmt = select(Action).where(
        Action.status == ActionStatus.DONE,
        Action.dimension.is_not(None),
        Action.pulse_id.is_not(None),
    )
    scope = in_scope(person)
    if scope is not None:
        stmt = stmt.where(scope)
    return list(db.session.scalars(with_details(stmt).order_by(Action.id)))


# --- the employee page ---------------------------------------------------------------------------


def shared_with_team(team: Team, today: date) -> list[Action]:
    """Visible actions for a team, its ancestors and the whole organisation; done or dropped
    ones only while recent."""
    since = today - timedelta(days=RECENT_DAYS)
    recent = or_(
        Action.status.in_(OPEN_STATUSES),
        and_(Action.status == ActionStatus.DONE, Action.completed_on >= since),
        and_(
            Action.status == ActionStatus.DROPPED,
            Action.updated_at >= datetime.combine(since, time(), tzinfo=UTC),
        ),
    )
    stmt = (
        select(Action)
        .where(
            Action.visible.is_(True),
            or_(Action.team_id.is_(None), Action.team_id.in_(team.ancestor_ids())),
            recent,
        )
        .options(selectinload(Action.updates), selectinload(Action.team))
        .order_by(Action.due_on.is_(None), Action.due_on, Action.id)
    )
    return list(db.session.scalars(stmt))


# --- asking about actions in a pulse -------------------------------------------------------------


def actions_to_ask_about(pulse: Pulse, today: date) -> list[Action]:
    """Visible actions worth rating in `pulse`: planned, in progress, or done within 90 days,
    whose team overlaps the pulse's audience (organisation-wide ones always)."""
    since = today - timedelta(days=ASK_DONE_WITHIN_DAYS)
    stmt = (
        select(Action)
        .where(
            Action.visible.is_(True),
            or_(
                Action.status.in_(OPEN_STATUSES),
                and_(Action.status == ActionStatus.DONE, Action.completed_on >= since),
            ),
        )
        .options(selectinload(Action.team))
        .order_by(Action.id)
    )
    paths = [t.path for t in pulse.teams]
    chosen = []
    for action in db.session.scalars(stmt):
        team = action.team
        if team is None or any(team.path.startswith(p) or p.startswith(team.path) for p in paths):
            chosen.append(action)
    return chosen


def rating_questions(action: Action) -> list[PulseQuestion]:
    """The pulse questions that asked the action's team to rate it, oldest pulse first."""
    stmt = (
        select(PulseQuestion)
        .join(ActionQuestion, ActionQuestion.question_id == PulseQuestion.id)
        .where(ActionQuestion.action_id == action.id)
        .options(selectinload(PulseQuestion.pulse))
        .order_by(PulseQuestion.pulse_id)
    )
    return list(db.session.scalars(stmt))


# --- choices for forms ---------------------------------------------------------------------------


def possible_owners(person: Person) -> list[Person]:
    """Active staff `person` may make responsible: anyone for leaders and HR; a manager
    themselves and staff in their teams."""
    stmt = select(Person).where(Person.active.is_(True), Person.role != Role.EMPLOYEE)
    if not acts_for_organisation(person):
        in_teams = Person.team_id.in_(_team_ids_under(person.managed_teams))
        stmt = stmt.where(or_(Person.id == person.id, in_teams))
    return list(db.session.scalars(stmt.order_by(func.lower(Person.name), Person.id)))


def _asked(audience: ColumnElement[bool]) -> ColumnElement[bool]:
    """Condition on Pulse: one of its audience teams meets `audience` (a condition on PulseTeam)."""
    return select(PulseTeam.pulse_id).where(PulseTeam.pulse_id == Pulse.id, audience).exists()


def linkable_pulses(person: Person, team: Team | None, *, whole_org: bool = False) -> list[Pulse]:
    """Opened pulses an action can point back to, newest first, at most LINKABLE_LIMIT.

    For a team: pulses that asked it (their audience holds the team or a team above it). For an
    organisation-wide action: pulses that asked a top-level team. With neither chosen yet, any
    opened pulse. A manager is offered only pulses that asked a team in their subtree: ones whose
    audience lies inside a team they manage or above one (an audience asks its whole subtree).
    """
    stmt = select(Pulse).where(Pulse.frozen_at.is_not(None))
    if team is not None:
        stmt = stmt.where(_asked(PulseTeam.team_id.in_(team.ancestor_ids())))
    elif whole_org:
        roots = select(Team.id).where(Team.parent_id.is_(None))
        stmt = stmt.where(_asked(PulseTeam.team_id.in_(roots)))
    if not acts_for_organisation(person):
        managed = person.managed_teams
        above = {i for t in managed for i in t.ancestor_ids()}
        stmt = stmt.where(
            _asked(
                or_(
                    PulseTeam.team_id.in_(_team_ids_under(managed)),
                    PulseTeam.team_id.in_(above),
                )
            )
        )
    stmt = stmt.order_by(Pulse.opens_at.desc(), Pulse.id.desc()).limit(LINKABLE_LIMIT)
    return list(db.session.scalars(stmt))
