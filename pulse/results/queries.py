"""Read tallies and the team tree as plain data for the statistics core and the gate.

Results never read raw answers: everything here is a handful of grouped reads over tally tables,
so a dashboard costs the same at 100 or 100,000 employees.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from pulse.extensions import db
from pulse.org.models import Team
from pulse.results.stats import DimensionSums
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import (
    DimensionTally,
    Invitation,
    Pulse,
    PulseState,
    ReleasedDimensionTally,
    ReleasedResponseTally,
    ReleasedValueTally,
    ReleaseMode,
    ResponseTally,
    ValueTally,
)


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    key: str
    dimension: str
    scale: ScaleKind
    reverse: bool
    text: str
    builtin: bool


@dataclass
class PulseTallies:
    """One pulse's tallies by team, as the viewer may be shown them (released copies while open)."""

    pulse_id: int
    title: str
    closes_at: datetime | None
    state: PulseState
    min_group: int
    min_comment_group: int
    release: ReleaseMode
    questions: list[QuestionInfo] = field(default_factory=list)
    responses: dict[int, int] = field(default_factory=dict)  # team -> respondents
    invited: dict[int, int] = field(default_factory=dict)  # team -> invitations
    dimensions: dict[str, dict[int, DimensionSums]] = field(default_factory=dict)
    values: dict[int, dict[int, dict[int, int]]] = field(default_factory=dict)  # q -> team -> v

    @property
    def hidden_while_open(self) -> bool:
        return self.state is PulseState.OPEN and self.release is ReleaseMode.AFTER_CLOSE


def team_parents() -> dict[int, int | None]:
    """Every team's parent: the tree the gate and subtree sums work on."""
    return _pairs(select(Team.id, Team.parent_id))


def _pairs(stmt: Select[Any, Any]) -> dict[Any, Any]:
    """A two-column query as a dict from the first column to the second."""
    return {row[0]: row[1] for row in db.session.execute(stmt).all()}


def load_pulse_tallies(pulse: Pulse, now: datetime) -> PulseTallies:
    """The numbers a results page may start from: final tallies once closed, released step
    copies while open in step mode, nothing (only invitations) while open until close."""
    state = pulse.state(now)
    data = PulseTallies(
        pulse.id,
        pulse.title,
        pulse.closes_at,
        state,
        pulse.min_group,
        pulse.min_comment_group,
        pulse.release,
        questions=[
            QuestionInfo(
                q.id, q.question_key, q.dimension, ScaleKind(q.scale), q.reverse, q.text, q.builtin
            )
            for q in pulse.questions
        ],
    )
    data.invited = _pairs(
        select(Invitation.team_id, func.count())
        .where(Invitation.pulse_id == pulse.id)
        .group_by(Invitation.team_id)
    )
    if state is PulseState.OPEN and pulse.release is ReleaseMode.AFTER_CLOSE:
        return data
    released = state is PulseState.OPEN
    response_t = ReleasedResponseTally if released else ResponseTally
    value_t = ReleasedValueTally if released else ValueTally
    dimension_t = ReleasedDimensionTally if released else DimensionTally

    data.responses = _pairs(
        select(response_t.team_id, response_t.count).where(response_t.pulse_id == pulse.id)
    )
    dims: dict[str, dict[int, DimensionSums]] = defaultdict(dict)
    for team_id, dimension, n, total, total_sq, at_risk in db.session.execute(
        select(
            dimension_t.team_id,
            dimension_t.dimension,
            dimension_t.n,
            dimension_t.total,
            dimension_t.total_sq,
            dimension_t.at_risk,
        ).where(dimension_t.pulse_id == pulse.id)
    ):
        dims[dimension][team_id] = DimensionSums(n, total, total_sq, at_risk)
    data.dimensions = dict(dims)
    values: dict[int, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for team_id, question_id, value, count in db.session.execute(
        select(value_t.team_id, value_t.question_id, value_t.value, value_t.count).where(
            value_t.pulse_id == pulse.id
        )
    ):
        values[question_id][team_id][value] = count
    data.values = {q: dict(by_team) for q, by_team in values.items()}
    return data


def result_pulses_stmt(now: datetime) -> Select[Pulse]:
    """Pulses that have opened, newest first: the ones results pages can offer."""
    return (
        select(Pulse)
        .where(Pulse.frozen_at.is_not(None), Pulse.opens_at <= now)
        .order_by(Pulse.opens_at.desc(), Pulse.id.desc())
    )


def result_pulses(now: datetime) -> list[Pulse]:
    return list(db.session.scalars(result_pulses_stmt(now)))
