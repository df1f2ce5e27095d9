"""The pilot report: each arm's gated figures per pulse and dimension, and what they say.

A unit is a pilot team with its whole subtree, as assigned. It contributes to a pulse's figures
for a dimension only when its group ("team:<id>") is visible in the organisation-wide family of
the anonymity gate, so every arm figure is a sum of figures HR can already see on the results
pages, and nothing below k reaches the analysis (pulse/pilots/analysis.py), the page or the CSV.
Rows for single units are added only for teams the viewer may open, and only where the viewer's
own family of groups shows that team too (a manager of two branches sees "all my teams"; a unit
figure hidden in their family could otherwise be subtracted from it).

eNPS is left out of the effects: it is a difference of two shares on -100..100, hidden below
10 answers per group, and at pilot team sizes its team values swing by tens of points, so a
difference-in-differences of it would mostly measure noise. Hours-only dimensions have no
0-100 score and are left out too.

Outcome metrics (absence, leavers ...) are compared per arm before and during the pilot. A
unit's metrics count only when its active head count passes the gate with k = 5 in the same
organisation-wide family, so an arm figure is again a sum over groups that may be shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pulse.pilots import analysis
from pulse.pilots.models import Arm, Phase, Pilot, PilotPulse
from pulse.results import gate, metrics, queries
from pulse.results import report as results_report
from pulse.results.metrics import METRICS
from pulse.results.queries import PulseTallies
from pulse.surveys.library import DIMENSIONS, ScaleKind
from pulse.surveys.models import Pulse, PulseState

Tree = Mapping[int, int | None]

METRIC_K = 5  # head counts below this are people's data: never shown (common.md, "Anonymity")
SCORED = {ScaleKind.AGREE5, ScaleKind.FREQ5, ScaleKind.SCORE11}
LEFT_OUT = {
    "enps": (
        "eNPS is not compared: it runs from \u2212100 to +100, is hidden below 10 answers, and "
        "at pilot team sizes it swings by tens of points, so a difference of differences would "
        "mostly measure noise."
    ),
}
PHASE_WORDS = {Phase.BASELINE: "Baseline", Phase.DURING: "During", Phase.FINAL: "Final"}


@dataclass(frozen=True)
class UnitInfo:
    team_id: int
    name: str
    arm: Arm
    teams: frozenset[int]  # the team and every team below it


@dataclass(frozen=True)
class ArmCount:
    teams: int
    respondents: int


@dataclass(frozen=True)
class PulseLine:
    """One of the pilot's pulses, and how many teams and people each arm had in it."""

    pulse_id: int
    title: str
    phase: Phase
    phase_label: str
    opens_at: datetime | None
    closes_at: datetime | None
    state: PulseState
    weeks_from_start: int | None  # whole weeks from the pilot's start to the opening
    hidden_while_open: bool
    pilot: ArmCount
    comparison: ArmCount
    missing: tuple[str, ...]  # units without a visible response count at this pulse

    @property
    def has_results(self) -> bool:
        return self.pilot.teams + self.comparison.teams > 0


@dataclass(frozen=True)
class UnitRow:
    """One unit's pooled baseline, its figure at the effect's pulse, and the change."""

    team_id: int
    name: str
    arm: Arm
    baseline: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.after is None:
            return None
        return self.after - self.baseline


@dataclass(frozen=True)
class DimensionReport:
    code: str
    name: str
    higher_is_better: bool
    result: analysis.Analysis
    units: tuple[UnitRow, ...] = ()  # only the viewer's teams


@dataclass(frozen=True)
class MetricFigure:
    value: float | None
    periods: int
    reason: str | None  # why there is no value


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    unit: str
    per_person: bool
    higher_is_better: bool
    pilot_before: MetricFigure
    pilot_during: MetricFigure
    comparison_before: MetricFigure
    comparison_during: MetricFigure


@dataclass(frozen=True)
class DimensionEffect:
    """One dimension's effect for other pages (the actions impact view).

    `comparison` is False when the pilot has no comparison teams with results: `estimate` is
    then the pilot arm's before/after change, there is no interval, and the verdict says that
    this cannot separate the pilot from everything else that changed.
    """

    code: str
    name: str
    estimate: float
    low: float | None
    high: float | None
    verdict: str
    weak: bool
    comparison: bool
    after_pulse_id: int

    @property
    def interval(self) -> tuple[float | None, float | None]:
        """(low, high); a side is None where no finite bound is supported."""
        return (self.low, self.high)


@dataclass
class PilotReport:
    pilot: Pilot
    units: list[UnitInfo]
    pulses: list[PulseLine]
    dimensions: list[DimensionReport]
    left_out: list[tuple[str, str]]  # (dimension name, why it is not compared)
    metrics: list[MetricRow]
    next_opening: datetime | None  # the first pilot pulse still to open, for the empty state
    min_group: int
    notes: list[str] = field(default_factory=list)
    outside: int = 0  # pilot teams outside a manager's teams, left out of their report

    @property
    def has_results(self) -> bool:
        return any(p.has_results for p in self.pulses)

    def arm_names(self, arm: Arm) -> list[str]:
        return [u.name for u in self.units if u.arm is arm]

    @property
    def pilot_names(self) -> list[str]:
        return self.arm_names(Arm.PILOT)

    @property
    def comparison_names(self) -> list[str]:
        return self.arm_names(Arm.COMPARISON)

    @property
    def has_comparison(self) -> bool:
        return any(u.arm is Arm.COMPARISON for u in self.units)

    def dimension(self, code: str | None) -> DimensionReport | None:
        return next((d for d in self.dimensions if d.code == code), None)


# --- loading -------------------------------------------------------------------------------------


@dataclass
class _Loaded:
    link: PilotPulse
    tallies: PulseTallies
    gated: results_report.Gated


def opened_links(pilot: Pilot, now: datetime) -> list[PilotPulse]:
    """The pilot's pulses that have opened, in their order."""
    return [
        link
        for link in sorted(pilot.pulses, key=lambda p: p.position)
        if link.pulse.frozen_at is not None
        and link.pulse.opens_at is not None
        and link.pulse.opens_at <= now
    ]


def units_of(pilot: Pilot, tree: Tree, names: Mapping[int, str]) -> list[UnitInfo]:
    """The assigned teams, pilot arm first, each by name."""
    order = {Arm.PILOT: 0, Arm.COMPARISON: 1}
    links = sorted(pilot.teams, key=lambda t: (order[t.arm], names.get(t.team_id, "").lower()))
    below = gate.subtrees(tree, (link.team_id for link in links))
    return [
        UnitInfo(
            link.team_id,
            names.get(link.team_id, "Team"),
            link.arm,
            below.get(link.team_id, frozenset()),
        )
        for link in links
    ]


def org_family(tree: Tree) -> list[gate.Group]:
    return results_report.family(tree, results_report.Viewer(tuple(gate.roots(tree)), True))


def _load(pilot: Pilot, now: datetime, tree: Tree, groups: Sequence[gate.Group]) -> list[_Loaded]:
    forest = gate.prepare(tree, groups)
    loaded = []
    for link in opened_links(pilot, now):
        tallies = queries.load_pulse_tallies(link.pulse, now, with_values=False, with_invited=False)
        loaded.append(
            _Loaded(link, tallies, results_report.run_gate(tree, tallies, groups, forest))
        )
    return loaded


def scored_dimensions(pulses: Sequence[PulseTallies]) -> list[str]:
    """Dimensions with a 0-100 score asked in any of the pulses, in the results pages' order."""
    asked = {q.dimension for tallies in pulses for q in tallies.questions if q.scale in SCORED} - {
        "comments"
    }
    return [code for code in results_report.REPORTED if code in asked]


def _cell(loaded: _Loaded, code: str, unit: UnitInfo) -> analysis.Cell | None:
    key = gate.team_key(unit.team_id)
    if not loaded.gated.dimension(code, key).visible:
        return None
    sums = results_report.group_sums(loaded.tallies, code, unit.teams)
    if sums.n <= 0:
        return None
    return analysis.Cell(sums.n, sums.total / sums.n)


_PHASES: dict[Phase, analysis.Phase] = {
    Phase.BASELINE: "baseline",
    Phase.DURING: "during",
    Phase.FINAL: "final",
}


def _info(link: PilotPulse) -> analysis.PulseInfo:
    return analysis.PulseInfo(link.pulse_id, link.pulse.title, _PHASES[link.phase])


def _weeks(pilot: Pilot, pulse: Pulse) -> int | None:
    """Whole weeks from the pilot's start to the pulse's opening (negative before it)."""
    if pulse.opens_at is None:
        return None
    return (pulse.opens_at.date() - pilot.starts_on).days // 7


def _units_for(
    code: str, loaded: Sequence[_Loaded], units: Sequence[UnitInfo]
) -> list[analysis.Unit]:
    result = []
    for unit in units:
        cells = {}
        for item in loaded:
            cell = _cell(item, code, unit)
            if cell is not None:
                cells[item.link.pulse_id] = cell
        result.append(analysis.Unit(unit.team_id, unit.name, unit.arm is Arm.PILOT, cells))
    return result


def _pulse_line(pilot: Pilot, item: _Loaded, units: Sequence[UnitInfo], now: datetime) -> PulseLine:
    counts = {Arm.PILOT: [0, 0], Arm.COMPARISON: [0, 0]}
    missing = []
    for unit in units:
        key = gate.team_key(unit.team_id)
        decision = item.gated.responses.get(key)
        if decision is None or not decision.visible or not decision.count:
            missing.append(unit.name)
            continue
        counts[unit.arm][0] += 1
        counts[unit.arm][1] += decision.count
    pulse = item.link.pulse
    return PulseLine(
        pulse.id,
        pulse.title,
        item.link.phase,
        PHASE_WORDS[item.link.phase],
        pulse.opens_at,
        pulse.closes_at,
        pulse.state(now),
        _weeks(pilot, pulse),
        item.tallies.hidden_while_open,
        ArmCount(*counts[Arm.PILOT]),
        ArmCount(*counts[Arm.COMPARISON]),
        tuple(missing),
    )


def _next_opening(pilot: Pilot, now: datetime) -> datetime | None:
    upcoming = [
        link.pulse.opens_at
        for link in pilot.pulses
        if link.pulse.frozen_at is None
        and link.pulse.opens_at is not None
        and link.pulse.opens_at > now
    ]
    return min(upcoming) if upcoming else None


# --- per-viewer unit rows ------------------------------------------------------------------------


def _unit_rows(
    code: str,
    result: analysis.Analysis,
    loaded: Sequence[_Loaded],
    units: Sequence[UnitInfo],
    per_unit: Sequence[analysis.Unit],
    shown: Mapping[int, set[int]],  # pulse id -> teams whose figure this viewer may see
) -> tuple[UnitRow, ...]:
    baselines = [item.link.pulse_id for item in loaded if item.link.phase is Phase.BASELINE]
    after = result.after.key if result.after is not None else None
    rows = []
    for unit, figures in zip(units, per_unit, strict=True):
        if not any(unit.team_id in teams for teams in shown.values()):
            continue
        cells = {
            pulse: cell
            for pulse, cell in figures.cells.items()
            if unit.team_id in shown.get(pulse, set())
        }
        base = [cells[p] for p in baselines if p in cells]
        n = sum(c.n for c in base)
        baseline = sum(c.n * c.mean for c in base) / n if n else None
        later = cells.get(after) if after is not None else None
        rows.append(
            UnitRow(unit.team_id, unit.name, unit.arm, baseline, later.mean if later else None)
        )
    return tuple(rows)


def _viewer_shows(
    code: str, loaded: Sequence[_Loaded], units: Sequence[UnitInfo], visible: set[int]
) -> dict[int, set[int]]:
    """Per pulse, the units whose own figure this viewer may see for `code`: teams they may
    open whose group the report's gate shows."""
    mine = [u for u in units if u.team_id in visible]
    return {
        item.link.pulse_id: {
            u.team_id for u in mine if item.gated.dimension(code, gate.team_key(u.team_id)).visible
        }
        for item in loaded
    }


# --- outcome metrics -----------------------------------------------------------------------------


def metric_rows(
    pilot: Pilot, units: Sequence[UnitInfo], tree: Tree, groups: Sequence[gate.Group]
) -> list[MetricRow]:
    """Outcome metrics per arm, before the pilot and during it, averaged per period (the two
    spans may differ in length).

    For each metric and period a unit counts only when its group passes the gate on the head
    counts of the teams that reported that figure (as on the dashboards, metrics.period_value),
    so an arm's figure is a sum of figures that could be shown on their own.
    """
    team_ids = set().union(*(u.teams for u in units)) if units else set()
    if not team_ids:
        return []
    own = metrics.figures_for(sorted(team_ids))
    if not own:
        return []
    everyone = metrics.figures_of_periods({(f.metric, f.period_start) for f in own})
    heads = metrics.active_head_counts()
    forest = gate.prepare(tree, groups)
    result = []
    for key, definition in METRICS.items():
        reported = [f for f in everyone if f.metric == key]
        if not any(f.metric == key for f in own):
            continue
        figures = {
            (arm, during): _arm_figure(
                pilot, definition, forest, arm, during, units, reported, heads
            )
            for arm in (Arm.PILOT, Arm.COMPARISON)
            for during in (False, True)
        }
        result.append(
            MetricRow(
                key,
                definition.label,
                definition.unit,
                definition.per_person,
                definition.higher_is_better,
                figures[(Arm.PILOT, False)],
                figures[(Arm.PILOT, True)],
                figures[(Arm.COMPARISON, False)],
                figures[(Arm.COMPARISON, True)],
            )
        )
    return result


def _during(pilot: Pilot, start: date, end: date) -> bool | None:
    """True for a period inside the pilot, False for one wholly before it, None otherwise."""
    if end < pilot.starts_on:
        return False
    if pilot.starts_on <= start <= pilot.ends_on:
        return True
    return None


def _arm_figure(
    pilot: Pilot,
    definition: metrics.MetricDef,
    forest: gate.Forest,
    arm: Arm,
    during: bool,
    units: Sequence[UnitInfo],
    reported: Sequence[metrics.Figure],
    heads: Mapping[int, int],
) -> MetricFigure:
    arm_units = [u for u in units if u.arm is arm]
    if not arm_units:
        return MetricFigure(None, 0, "No teams in this arm")
    in_arm = set().union(*(u.teams for u in arm_units))
    starts = sorted(
        {
            f.period_start
            for f in reported
            if f.team_id in in_arm and _during(pilot, f.period_start, f.period_end) is during
        }
    )
    if not starts:
        return MetricFigure(None, 0, "No figures for this period")
    per_period: list[float] = []
    for start in starts:
        values, people = [], 0
        for unit in arm_units:
            value = metrics.period_value(
                forest, definition, start, unit.team_id, unit.teams, heads, reported
            )
            if value.total is not None and value.head_count:
                values.append(value.total)
                people += value.head_count
        if not values:
            continue
        total = metrics.combine(definition, values)
        per_period.append(total / people if definition.per_person else total)
    if not per_period:
        return MetricFigure(None, 0, f"Shown only for groups of at least {METRIC_K} people")
    return MetricFigure(sum(per_period) / len(per_period), len(per_period), None)


# --- the report ----------------------------------------------------------------------------------


def build(
    pilot: Pilot,
    now: datetime,
    *,
    viewer: results_report.Viewer | None = None,
    visible: set[int] | None = None,
    codes: Sequence[str] | None = None,
    with_metrics: bool = True,
    with_events: bool = True,
) -> PilotReport:
    """The report for one pilot. Unit rows are added for `visible` teams (as the viewer's own
    family of groups shows them); `codes` limits the dimensions analysed (None: all)."""
    tree, names = queries.team_tree_and_names()
    units = units_of(pilot, tree, names)
    outside = 0
    if viewer is None or viewer.whole_org:
        groups = org_family(tree)
    else:
        # A manager's report is built from their own family of groups, the one their dashboards
        # use, and only from the pilot's teams that family holds. Mixing in figures gated for
        # the whole organisation would let them subtract one family's numbers from the other's.
        groups = results_report.family(tree, viewer)
        keys = {group.key for group in groups}
        inside = [u for u in units if gate.team_key(u.team_id) in keys]
        outside, units = len(units) - len(inside), inside
    loaded = _load(pilot, now, tree, groups)
    pulses = [_pulse_line(pilot, item, units, now) for item in loaded]
    infos = [_info(item.link) for item in loaded]
    asked = scored_dimensions([item.tallies for item in loaded])
    left_out = [(DIMENSIONS[c].name, LEFT_OUT[c]) for c in asked if c in LEFT_OUT]
    dimensions = []
    for code in asked:
        if code in LEFT_OUT or (codes is not None and code not in codes):
            continue
        dim = DIMENSIONS[code]
        per_unit = _units_for(code, loaded, units)
        result = analysis.analyse(
            code, dim.name, dim.higher_is_better, infos, per_unit, with_events=with_events
        )
        rows: tuple[UnitRow, ...] = ()
        if viewer is not None and visible:
            shows = _viewer_shows(code, loaded, units, visible)
            rows = _unit_rows(code, result, loaded, units, per_unit, shows)
        dimensions.append(DimensionReport(code, dim.name, dim.higher_is_better, result, rows))
    min_group = max((item.tallies.min_group for item in loaded), default=5)
    return PilotReport(
        pilot,
        units,
        pulses,
        dimensions,
        left_out,
        metric_rows(pilot, units, tree, groups) if with_metrics else [],
        _next_opening(pilot, now),
        min_group,
        outside=outside,
    )


def effect_for(
    pilot: Pilot,
    code: str,
    now: datetime,
    *,
    viewer: results_report.Viewer | None = None,
    visible: set[int] | None = None,
) -> DimensionEffect | None:
    """One dimension's effect with the organisation-wide gate: the DiD estimate, its interval
    and verdict, or the pilot arm's before/after change without comparison teams (see
    DimensionEffect); None when the dimension was not asked or nothing can be computed yet."""
    if code not in DIMENSIONS or code in LEFT_OUT:
        return None
    built = build(
        pilot,
        now,
        viewer=viewer,
        visible=visible,
        codes=[code],
        with_metrics=False,
        with_events=False,
    )
    found = built.dimension(code)
    if found is None or found.result.after is None:
        return None
    result = found.result
    after = found.result.after
    if result.effect is not None:
        interval = result.effect.interval
        return DimensionEffect(
            code,
            found.name,
            result.effect.estimate,
            interval.low,
            interval.high,
            result.verdict,
            result.weak,
            True,
            after.key,
        )
    if result.before_after is not None:
        return DimensionEffect(
            code,
            found.name,
            result.before_after.change,
            None,
            None,
            result.verdict,
            True,
            False,
            after.key,
        )
    return None
