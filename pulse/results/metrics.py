"""The business outcome metrics HR can import per team and period, and how each combines.

A metric describing a small team is people's data too: pages show a group's figure only when
the group's head count passes the same anonymity gate as survey answers (see the importer and
the pages that show them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    start: date
    end: date
    total: float  # summed (counts) or averaged (ratings) over the teams that reported
    per_person: float | None  # total divided by the group's head count, for per-person metrics
    teams: int  # how many teams reported a figure for this period

    @property
    def shown(self) -> float:
        return self.per_person if self.per_person is not None else self.total

    @property
    def shown_text(self) -> str:
        return number_text(self.shown)


@dataclass(frozen=True)
class OutcomeLine:
    metric: MetricDef
    latest: PeriodValue
    previous: PeriodValue | None

    @property
    def change(self) -> float | None:
        return None if self.previous is None else self.latest.shown - self.previous.shown

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
    visible: bool
    reason: str | None
    head_count: int | None
    lines: list[OutcomeLine]


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


def figures_for(team_ids: Sequence[int]) -> list[Figure]:
    """Stored figures of these teams (a subtree), any period."""
    if not team_ids:
        return []
    rows = db.session.execute(
        select(
            OutcomeMetric.team_id,
            OutcomeMetric.metric,
            OutcomeMetric.period_start,
            OutcomeMetric.period_end,
            OutcomeMetric.value,
        ).where(OutcomeMetric.team_id.in_(list(team_ids)))
    ).all()
    return [Figure(r[0], r[1], r[2], r[3], float(r[4])) for r in rows]


def combine(metric: MetricDef, values: Sequence[float]) -> float:
    return sum(values) if metric.combine == "sum" else sum(values) / len(values)


def outcome_lines(figures: Sequence[Figure], head_count: int) -> list[OutcomeLine]:
    """The latest period and the one before for each metric with data, in METRICS order."""
    lines: list[OutcomeLine] = []
    for key, metric in METRICS.items():
        by_period: dict[date, list[Figure]] = {}
        for figure in figures:
            if figure.metric == key:
                by_period.setdefault(figure.period_start, []).append(figure)
        if not by_period:
            continue
        values: list[PeriodValue] = []
        for start in sorted(by_period, reverse=True)[:2]:
            rows = by_period[start]
            total = combine(metric, [f.value for f in rows])
            per_person = total / head_count if metric.per_person and head_count else None
            end = max(f.period_end for f in rows)
            values.append(PeriodValue(start, end, total, per_person, len(rows)))
        lines.append(OutcomeLine(metric, values[0], values[1] if len(values) > 1 else None))
    return lines


def outcome_panel(
    forest: gate.Forest,
    team_id: int,
    subtree: frozenset[int],
    head_counts: Mapping[int, int],
    figures: Sequence[Figure],
) -> OutcomePanel:
    """A team's outcome figures if its subtree's head count passes the gate for the viewer's
    whole family (so no small team's figure follows by subtraction); otherwise the reason."""
    mine = [f for f in figures if f.team_id in subtree]
    if not mine:
        return OutcomePanel(False, False, None, None, [])
    counts = {t: n for t, n in head_counts.items() if t in forest.tree_teams}
    decision = forest.decide(counts, OUTCOME_K).get(gate.team_key(team_id))
    if decision is None or not decision.visible or decision.count is None:
        reason = SUBTRACTION if decision and decision.reason == gate.COMPLEMENTARY else SMALL_GROUP
        return OutcomePanel(True, False, reason, None, [])
    return OutcomePanel(True, True, None, decision.count, outcome_lines(mine, decision.count))


def team_outcomes(
    forest: gate.Forest, tree: Mapping[int, int | None], team_id: int
) -> OutcomePanel:
    """The dashboard's "Business outcomes" panel for a team and every team inside it."""
    subtree = gate.subtree(tree, team_id)
    return outcome_panel(
        forest, team_id, subtree, active_head_counts(), figures_for(sorted(subtree))
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
