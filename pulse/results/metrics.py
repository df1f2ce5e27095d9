"""The business outcome metrics HR can import per team and period, and how each combines.

A metric describing a small team is people's data too: a group's figure is shown only when the
head count of the teams that reported it passes the same anonymity gate as survey answers, over
the viewer's whole family of groups (see `period_value`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import func, select

from pulse.extensions import db
from pulse.org.models import Person
from pulse.results import gate
from pulse.results.models import OutcomeMetric


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: str
    unit: str
    combine: Literal["sum", "mean"]  # how teams add up: counts sum, ratings average
    higher_is_better: bool
    per_person: bool  # compare groups per head (absence days per person), not in total


METRICS: dict[str, MetricDef] = {
    m.key: m
    for m in (
        MetricDef("absence_days", "Absence days", "days", "sum", False, True),
        MetricDef("leavers", "Leavers", "people", "sum", False, True),
        MetricDef("overtime_hours", "Overtime hours", "hours", "sum", False, True),
        MetricDef("output", "Output", "units", "sum", True, True),
        MetricDef("customer_satisfaction", "Customer satisfaction", "score", "mean", True, False),
    )
}


# --- Stored figures and the dashboard panel -------------------------------------------------------
# Queries read plain rows; `outcome_panel` is pure, so the gating is tested without a database.

OUTCOME_K = 5  # head counts pass the same gate as answers, with the usual k
SMALL_GROUP = (
    f"Shown only for groups of at least {OUTCOME_K} people, so that figures about a few "
    "people stay private"
)
SUBTRACTION = (
    "Hidden so that a smaller team's figures cannot be worked out by subtraction from this one"
)


@dataclass(frozen=True)
class Figure:
    team_id: int
    metric: str
    period_start: date
    period_end: date
    value: float


@dataclass(frozen=True)
class PeriodValue:
    """One period's figure for a group, or why it is hidden (then `total` is None)."""

    start: date
    end: date
    total: float | None  # summed (counts) or averaged (ratings) over the teams that reported
    per_person: float | None  # total divided by the reporting teams' head count (per-person)
    teams: int  # how many teams in the group reported a figure for this period
    head_count: int | None = None  # active people in the reporting teams
    reason: str | None = None

    @property
    def visible(self) -> bool:
        return self.total is not None

    @property
    def shown(self) -> float | None:
        return self.per_person if self.per_person is not None else self.total

    @property
    def shown_text(self) -> str:
        return "" if self.shown is None else number_text(self.shown)


@dataclass(frozen=True)
class OutcomeLine:
    metric: MetricDef
    latest: PeriodValue
    previous: PeriodValue | None

    @property
    def change(self) -> float | None:
        if self.previous is None or self.latest.shown is None or self.previous.shown is None:
            return None
        return self.latest.shown - self.previous.shown

    @property
    def change_text(self) -> str:
        change = self.change
        return "" if change is None else ("+" if change > 0 else "") + number_text(change)

    @property
    def direction(self) -> str | None:
        """ "better", "worse" or "same" compared with the period before (None without one)."""
        change = self.change
        if change is None:
            return None
        if abs(change) < 1e-9:
            return "same"
        return "better" if (change > 0) == self.metric.higher_is_better else "worse"


@dataclass(frozen=True)
class OutcomePanel:
    has_data: bool
    lines: list[OutcomeLine]

    @property
    def visible(self) -> bool:
        return any(line.latest.visible for line in self.lines)

    @property
    def reason(self) -> str | None:
        """Why nothing is shown, when every latest figure is hidden."""
        if not self.has_data or self.visible:
            return None
        return self.lines[0].latest.reason if self.lines else None


def number_text(value: float) -> str:
    """At most two decimals, without trailing zeros: 14, 2.5, 0.33."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def active_head_counts() -> dict[int, int]:
    """Active people directly in each team."""
    rows = db.session.execute(
        select(Person.team_id, func.count())
        .where(Person.active.is_(True), Person.team_id.is_not(None))
        .group_by(Person.team_id)
    ).all()
    return {int(team): int(n) for team, n in rows if team is not None}


def _figures(stmt: Any) -> list[Figure]:
    rows = db.session.execute(stmt).all()
    return [Figure(r[0], r[1], r[2], r[3], float(r[4])) for r in rows]


_COLUMNS = (
    OutcomeMetric.team_id,
    OutcomeMetric.metric,
    OutcomeMetric.period_start,
    OutcomeMetric.period_end,
    OutcomeMetric.value,
)


def figures_for(team_ids: Sequence[int]) -> list[Figure]:
    """Stored figures of these teams (a subtree), any period."""
    if not team_ids:
        return []
    return _figures(select(*_COLUMNS).where(OutcomeMetric.team_id.in_(list(team_ids))))


def figures_of_periods(pairs: Iterable[tuple[str, date]]) -> list[Figure]:
    """Every team's figures for these (metric, period start) pairs: the gate decides on all
    teams that reported a figure, wherever they are, so every page decides alike."""
    found: list[Figure] = []
    for metric, start in sorted(set(pairs)):
        found += _figures(
            select(*_COLUMNS).where(
                OutcomeMetric.metric == metric, OutcomeMetric.period_start == start
            )
        )
    return found


def combine(metric: MetricDef, values: Sequence[float]) -> float:
    return sum(values) if metric.combine == "sum" else sum(values) / len(values)


def latest_periods(figures: Sequence[Figure], count: int = 2) -> list[tuple[str, date]]:
    """The newest `count` period starts of each metric among these figures."""
    starts: dict[str, set[date]] = {}
    for figure in figures:
        starts.setdefault(figure.metric, set()).add(figure.period_start)
    return [(m, d) for m, days in starts.items() for d in sorted(days, reverse=True)[:count]]


def period_value(
    forest: gate.Forest,
    metric: MetricDef,
    start: date,
    team_id: int,
    subtree: frozenset[int],
    head_counts: Mapping[int, int],
    figures: Sequence[Figure],
) -> PeriodValue:
    """One group's figure for one metric and period, through the gate.

    The gate decides on the head counts of the teams that reported this metric for this period
    (a team without a figure counts 0), over the viewer's whole family. Deciding on whole
    subtrees instead would let a parent's figure, which only sums the teams that reported, minus
    a visible child's give away a small team's figure.
    """
    reported = [f for f in figures if f.metric == metric.key and f.period_start == start]
    mine = [f for f in reported if f.team_id in subtree]
    end = max((f.period_end for f in mine), default=start)
    counts = {f.team_id: head_counts.get(f.team_id, 0) for f in reported}
    counts = {t: n for t, n in counts.items() if t in forest.tree_teams}
    decision = forest.decide(counts, OUTCOME_K).get(gate.team_key(team_id))
    if decision is None or not decision.visible or not decision.count:
        reason = SUBTRACTION if decision and decision.reason == gate.COMPLEMENTARY else SMALL_GROUP
        return PeriodValue(start, end, None, None, len(mine), None, reason)
    total = combine(metric, [f.value for f in mine])
    per_person = total / decision.count if metric.per_person else None
    return PeriodValue(start, end, total, per_person, len(mine), decision.count)


def outcome_panel(
    forest: gate.Forest,
    team_id: int,
    subtree: frozenset[int],
    head_counts: Mapping[int, int],
    figures: Sequence[Figure],
) -> OutcomePanel:
    """A team's latest two periods per metric, each through the gate (see `period_value`).

    `figures` holds every team's figures for the periods concerned, not only this subtree's.
    """
    mine = [f for f in figures if f.team_id in subtree]
    if not mine:
        return OutcomePanel(False, [])
    lines: list[OutcomeLine] = []
    periods = latest_periods(mine)
    for key, metric in METRICS.items():
        starts = sorted((d for m, d in periods if m == key), reverse=True)
        if not starts:
            continue
        values = [
            period_value(forest, metric, d, team_id, subtree, head_counts, figures) for d in starts
        ]
        lines.append(OutcomeLine(metric, values[0], values[1] if len(values) > 1 else None))
    return OutcomePanel(True, lines)


def team_outcomes(
    forest: gate.Forest, tree: Mapping[int, int | None], team_id: int
) -> OutcomePanel:
    """The dashboard's "Business outcomes" panel for a team and every team inside it."""
    subtree = gate.subtree(tree, team_id)
    periods = latest_periods(figures_for(sorted(subtree)))
    return outcome_panel(
        forest, team_id, subtree, active_head_counts(), figures_of_periods(periods)
    )


# --- The HR list of stored figures ----------------------------------------------------------------


def stored_page(*, metric: str, page: int, per_page: int) -> Any:
    """Stored figures, newest period first, as a Flask-SQLAlchemy page of rows."""
    stmt = select(OutcomeMetric).order_by(
        OutcomeMetric.metric, OutcomeMetric.period_start.desc(), OutcomeMetric.team_id
    )
    if metric in METRICS:
        stmt = stmt.where(OutcomeMetric.metric == metric)
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)
