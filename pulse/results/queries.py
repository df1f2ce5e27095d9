"""Read tallies and the team tree as plain data for the statistics core and the gate.

Results never read raw answers: everything here is a handful of grouped reads over tally tables,
so a dashboard costs the same at 100 or 100,000 employees.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from flask import current_app
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
    audience_team_id: int | None = None  # asked only in this team's subtree (None: everyone)


class TeamSums(Mapping[int, DimensionSums]):
    """One dimension's tallies by team, held as arrays: a heatmap sums 2,000 teams for every
    dimension at once. It reads like a dict of DimensionSums, made one at a time on access."""

    def __init__(
        self,
        teams: np.ndarray,
        n: np.ndarray,
        total: np.ndarray,
        total_sq: np.ndarray,
        at_risk: np.ndarray,
    ) -> None:
        self.teams, self.n, self.total, self.total_sq, self.at_risk = (
            teams,
            n,
            total,
            total_sq,
            at_risk,
        )
        self._index: dict[int, int] | None = None

    @classmethod
    def of(cls, by_team: Mapping[int, DimensionSums]) -> TeamSums:
        """The arrays of any mapping of team to sums (itself when it already is one)."""
        if isinstance(by_team, TeamSums):
            return by_team
        items = list(by_team.items())
        return cls(
            np.array([t for t, _ in items], dtype=np.int64),
            np.array([s.n for _, s in items], dtype=np.int64),
            np.array([s.total for _, s in items], dtype=float),
            np.array([s.total_sq for _, s in items], dtype=float),
            np.array([s.at_risk for _, s in items], dtype=np.int64),
        )

    def position(self) -> dict[int, int]:
        if self._index is None:
            self._index = {team: i for i, team in enumerate(self.teams.tolist())}
        return self._index

    def __getitem__(self, team: int) -> DimensionSums:
        i = self.position()[team]
        return DimensionSums(
            int(self.n[i]), float(self.total[i]), float(self.total_sq[i]), int(self.at_risk[i])
        )

    def __contains__(self, team: object) -> bool:
        return team in self.position()

    def __iter__(self) -> Iterator[int]:
        return iter(self.teams.tolist())

    def __len__(self) -> int:
        return len(self.teams)

    def counts(self) -> dict[int, int]:
        """Respondents per team: what the gate decides on."""
        return dict(zip(self.teams.tolist(), self.n.tolist(), strict=True))


@dataclass
class PulseTallies:
    """One pulse's tallies by team, as the viewer may be shown them (released copies while open).

    Treat it as read-only: tallies of a pulse closed long ago are shared between requests.
    `values_loaded` is False when the per-value counts (question distributions) were not asked
    for; pages that show questions must load them.
    """

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
    dimensions: dict[str, Mapping[int, DimensionSums]] = field(default_factory=dict)
    values: dict[int, dict[int, dict[int, int]]] = field(default_factory=dict)  # q -> team -> v
    values_loaded: bool = True

    @property
    def hidden_while_open(self) -> bool:
        return self.state is PulseState.OPEN and self.release is ReleaseMode.AFTER_CLOSE


def team_parents() -> dict[int, int | None]:
    """Every team's parent: the tree the gate and subtree sums work on."""
    return _pairs(select(Team.id, Team.parent_id))


def team_tree_and_names() -> tuple[dict[int, int | None], dict[int, str]]:
    """Every team's parent and name in one plain read (no ORM rows: at 2,000 teams the ORM's
    bookkeeping cost more than the query)."""
    table = Team.__table__
    rows = (
        db.session.connection().execute(select(table.c.id, table.c.parent_id, table.c.name)).all()
    )
    return {row[0]: row[1] for row in rows}, {row[0]: row[2] for row in rows}


def _pairs(stmt: Select[Any, Any]) -> dict[Any, Any]:
    """A two-column query as a dict from the first column to the second."""
    return {row[0]: row[1] for row in db.session.execute(stmt).all()}


def load_pulse_tallies(
    pulse: Pulse, now: datetime, *, with_values: bool = True, with_invited: bool = True
) -> PulseTallies:
    """The numbers a results page may start from: final tallies once closed, released step
    copies while open in step mode, nothing (only invitations) while open until close.

    `with_values=False` leaves out the per-value counts, which only question distributions
    need (a heatmap does not): at 2,000 teams they are most of what there is to read.
    `with_invited=False` leaves out invitations (counted from one row per person invited)
    when no participation or non-response bound is shown, as for the pulse a page compares with.
    """
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
                q.id,
                q.question_key,
                q.dimension,
                ScaleKind(q.scale),
                q.reverse,
                q.text,
                q.builtin,
                q.audience_team_id,
            )
            for q in pulse.questions
        ],
        values_loaded=with_values,
    )
    if state is PulseState.OPEN and pulse.release is ReleaseMode.AFTER_CLOSE:
        data.invited = _invited(pulse.id) if with_invited else {}
        return data
    released = state is PulseState.OPEN
    settled = _settled(pulse, now)
    if settled is not None:
        invited, data.responses, data.dimensions = settled
        data.invited = invited if with_invited else {}
    else:
        data.invited = _invited(pulse.id) if with_invited else {}
        data.responses, data.dimensions = _counts_and_sums(pulse.id, released)
    if with_values:
        data.values = _values(pulse.id, released)
    return data


def _invited(pulse_id: int) -> dict[int, int]:
    return _pairs(
        select(Invitation.team_id, func.count())
        .where(Invitation.pulse_id == pulse_id)
        .group_by(Invitation.team_id)
    )


def _counts_and_sums(
    pulse_id: int, released: bool
) -> tuple[dict[int, int], dict[str, Mapping[int, DimensionSums]]]:
    response_t = ReleasedResponseTally if released else ResponseTally
    dimension_t = ReleasedDimensionTally if released else DimensionTally
    responses = _pairs(
        select(response_t.team_id, response_t.count).where(response_t.pulse_id == pulse_id)
    )
    rows = db.session.execute(
        select(
            dimension_t.dimension,
            dimension_t.team_id,
            dimension_t.n,
            dimension_t.total,
            dimension_t.total_sq,
            dimension_t.at_risk,
        )
        .where(dimension_t.pulse_id == pulse_id)
        .order_by(dimension_t.dimension, dimension_t.team_id)
    ).all()
    dimensions: dict[str, Mapping[int, DimensionSums]] = {}
    start = 0
    while start < len(rows):
        code = rows[start][0]
        end = start
        while end < len(rows) and rows[end][0] == code:
            end += 1
        _code, teams, n, total, total_sq, at_risk = zip(*rows[start:end], strict=True)
        dimensions[code] = TeamSums(
            np.array(teams, dtype=np.int64),
            np.array(n, dtype=np.int64),
            np.array(total, dtype=float),
            np.array(total_sq, dtype=float),
            np.array(at_risk, dtype=np.int64),
        )
        start = end
    return responses, dimensions


def _values(pulse_id: int, released: bool) -> dict[int, dict[int, dict[int, int]]]:
    value_t = ReleasedValueTally if released else ValueTally
    values: dict[int, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for team_id, question_id, value, count in db.session.execute(
        select(value_t.team_id, value_t.question_id, value_t.value, value_t.count).where(
            value_t.pulse_id == pulse_id
        )
    ):
        values[question_id][team_id][value] = count
    return {q: dict(by_team) for q, by_team in values.items()}


# --- pulses that closed long ago -----------------------------------------------------------------
#
# Once a pulse has closed, nothing changes its invitations or tallies: answers are refused after
# the close, and a submission that started before it has long committed after SETTLE_AFTER. So
# each process keeps the counts and sums of a few such pulses (a few hundred kB each at 2,000
# teams) instead of reading tens of thousands of rows for every heatmap and dashboard; reading
# them costs more than all the arithmetic on them. Tests turn this off (TESTING) unless they set
# RESULTS_CACHE_SETTLED, since they may rewrite a closed pulse's tallies between two requests.

SETTLE_AFTER = timedelta(minutes=15)
SETTLED_PULSES_KEPT = 64
_Settled = tuple[dict[int, int], dict[int, int], dict[str, Mapping[int, DimensionSums]]]
_settled_cache: OrderedDict[tuple[object, ...], _Settled] = OrderedDict()


def is_settled(pulse: Pulse, now: datetime) -> bool:
    """Closed over SETTLE_AFTER ago: its tallies can no longer change."""
    return pulse.closes_at is not None and now - pulse.closes_at >= SETTLE_AFTER


def _settled(pulse: Pulse, now: datetime) -> _Settled | None:
    """The invitations, responses and sums of a pulse closed over SETTLE_AFTER ago, kept."""
    enabled = current_app.config.get("RESULTS_CACHE_SETTLED", not current_app.testing)
    if not enabled or pulse.closes_at is None or now - pulse.closes_at < SETTLE_AFTER:
        return None
    key = (str(db.engine.url), pulse.id, pulse.frozen_at, pulse.opens_at, pulse.closes_at)
    found = _settled_cache.get(key)
    if found is not None:
        _settled_cache.move_to_end(key)
        return found
    responses, dimensions = _counts_and_sums(pulse.id, released=False)
    found = (_invited(pulse.id), responses, dimensions)
    _settled_cache[key] = found
    while len(_settled_cache) > SETTLED_PULSES_KEPT:
        _settled_cache.popitem(last=False)
    return found


def result_pulses_stmt(now: datetime) -> Select[Pulse]:
    """Pulses that have opened, newest first: the ones results pages can offer."""
    return (
        select(Pulse)
        .where(Pulse.frozen_at.is_not(None), Pulse.opens_at <= now)
        .order_by(Pulse.opens_at.desc(), Pulse.id.desc())
    )


def result_pulses(now: datetime) -> list[Pulse]:
    return list(db.session.scalars(result_pulses_stmt(now)))
