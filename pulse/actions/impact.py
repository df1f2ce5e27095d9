"""Did an action move the score it targeted? Figures beside each action, through the gate.

An action linked to a team, a pulse and a dimension is shown with the team's (whole subtree's)
score at that pulse and at the latest closed pulse after it, with intervals, the change and
SCIENCE.md's flag rule. Every figure comes from pulse.results.report with the viewer's own family
of groups (the one their dashboard uses), so nothing appears here that their dashboard would
hide; a hidden figure carries only the gate's reason. The verdict logic is pure (`verdict`,
`summarise`); the rest reads tallies.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pulse.actions.models import Action
from pulse.extensions import db
from pulse.pilots.models import PilotPulse
from pulse.pilots.report import effect_for
from pulse.results import gate, queries, report
from pulse.results.gate import Group
from pulse.results.routes import Context
from pulse.surveys.library import DIMENSIONS, ScaleKind
from pulse.surveys.models import Pulse, PulseState

log = logging.getLogger(__name__)

IMPROVED = "improved"
DECLINED = "declined"
NO_CLEAR_CHANGE = "no clear change"
CANNOT_JUDGE = "cannot judge"

OUTSIDE = "Outside the teams whose results you can see"
NO_LATER = "No later pulse has closed yet"
NOT_ASKED_LATER = "No later closed pulse asked about this dimension"
CHANGE_LABEL = "since the pulse that prompted it"


@dataclass(frozen=True)
class PilotEffect:
    """The pilot's difference-in-differences for the action's dimension (pulse.pilots.report)."""

    pilot_name: str
    estimate: float | None
    low: float | None
    high: float | None
    verdict: str
    comparison: bool = True  # False: a before/after change of the pilot teams only


@dataclass(frozen=True)
class Impact:
    code: str
    name: str
    reason: str | None  # why no figures at all (outside the viewer's teams)
    before_title: str | None = None
    before: report.Score | None = None
    after_title: str | None = None
    after: report.Score | None = None
    after_reason: str | None = None  # why there is no later figure
    change: report.Change | None = None
    pilot: PilotEffect | None = None

    @property
    def verdict(self) -> str:
        return verdict(self.change)


def verdict(change: report.Change | None) -> str:
    """improved, declined or no clear change by the flag rule; cannot judge without figures."""
    if change is None or change.comparison is None or change.flag is None:
        return CANNOT_JUDGE
    if not change.flag.flagged:
        return NO_CLEAR_CHANGE
    return IMPROVED if change.improved else DECLINED


@dataclass(frozen=True)
class ImpactSummary:
    """How the finished actions' targeted scores moved: counts per verdict."""

    improved: int = 0
    no_clear_change: int = 0
    declined: int = 0
    cannot_judge: int = 0

    @property
    def total(self) -> int:
        return self.improved + self.no_clear_change + self.declined + self.cannot_judge


def summarise(verdicts: Sequence[str]) -> ImpactSummary:
    return ImpactSummary(
        improved=verdicts.count(IMPROVED),
        no_clear_change=verdicts.count(NO_CLEAR_CHANGE),
        declined=verdicts.count(DECLINED),
        cannot_judge=verdicts.count(CANNOT_JUDGE),
    )


# --- reading figures ----------------------------------------------------------------------------


@dataclass
class Figures:
    """Gated pulse views for one viewer, each pulse read once per request."""

    context: Context
    now: datetime
    views: dict[tuple[int, bool], report.PulseView] = field(default_factory=dict)
    _pulses: list[Pulse] | None = None

    def view(self, pulse: Pulse, with_values: bool = False) -> report.PulseView:
        key = (pulse.id, with_values)
        if key not in self.views:
            tallies = queries.load_pulse_tallies(
                pulse, self.now, with_values=with_values, with_invited=with_values
            )
            self.views[key] = report.view(
                self.context.tree, tallies, self.context.groups, self.context.prepared()
            )
        return self.views[key]

    def pulses(self) -> list[Pulse]:
        """Opened pulses, newest first."""
        if self._pulses is None:
            self._pulses = queries.result_pulses(self.now)
        return self._pulses

    def group(self, action: Action) -> Group | None:
        """The action's group in the viewer's family: its team's subtree, or the organisation."""
        key = gate.ORG_KEY if action.team_id is None else gate.team_key(action.team_id)
        if action.team_id is not None and action.team_id not in self.context.visible:
            return None
        return next((g for g in self.context.groups if g.key == key), None)


def _asks(pulse_view: report.PulseView, code: str) -> bool:
    return any(
        q.dimension == code and q.scale is not ScaleKind.TEXT for q in pulse_view.tallies.questions
    )


def _later_closed(figures: Figures, prompting: Pulse, code: str) -> tuple[Pulse | None, str]:
    """The newest closed pulse opened after the prompting one that asked about `code`."""
    later = [
        p
        for p in figures.pulses()
        if p.id != prompting.id
        and p.state(figures.now) is PulseState.CLOSED
        and p.opens_at is not None
        and prompting.opens_at is not None
        and p.opens_at > prompting.opens_at
    ]
    if not later:
        return None, NO_LATER
    for pulse in later:  # newest first
        if _asks(figures.view(pulse), code):
            return pulse, ""
    return None, NOT_ASKED_LATER


def impact_for(action: Action, figures: Figures) -> Impact | None:
    """The action's impact figures, or None when it is not linked to a pulse and dimension."""
    code = action.dimension
    if code is None or code not in DIMENSIONS or action.pulse is None:
        return None
    name = DIMENSIONS[code].name
    group = figures.group(action)
    if group is None:
        return Impact(code, name, OUTSIDE)
    prompting = action.pulse
    if not prompting.is_frozen:
        return Impact(code, name, "The pulse that prompted it has not opened")
    first = figures.view(prompting)
    before = report.score(first.tallies, first.gated, code, group)
    later, why = _later_closed(figures, prompting, code)
    pilot = pilot_effect(action, figures)
    if later is None:
        return Impact(code, name, None, prompting.title, before, after_reason=why, pilot=pilot)
    second = figures.view(later)
    after = report.score(second.tallies, second.gated, code, group)
    (change,) = report.flag_changes([(code, CHANGE_LABEL, prompting.title, before, after)])
    return Impact(
        code, name, None, prompting.title, before, later.title, after, None, change, pilot
    )


def rollup(actions: Sequence[Action], figures: Figures) -> ImpactSummary:
    """For finished actions with a linked dimension: how many scores moved which way."""
    verdicts = []
    for action in actions:
        impact = impact_for(action, figures)
        verdicts.append(impact.verdict if impact is not None else CANNOT_JUDGE)
    return summarise(verdicts)


# --- pilots ------------------------------------------------------------------------------------


def pilot_effect(action: Action, figures: Figures) -> PilotEffect | None:
    """The pilot's estimate for the action's dimension, when its team is (inside) a pilot or
    comparison unit of a pilot that ran the action's pulse. The figures come from the pilot
    report with the viewer's gate, exactly as their pilot report page shows them."""
    if action.pulse_id is None or action.dimension is None or action.team is None:
        return None
    link = db.session.get(PilotPulse, action.pulse_id)
    if link is None:
        return None
    pilot = link.pilot
    if not set(action.team.ancestor_ids()) & {unit.team_id for unit in pilot.teams}:
        return None
    context = figures.context
    effect = effect_for(
        pilot, action.dimension, figures.now, viewer=context.viewer, visible=context.visible
    )
    if effect is None:
        return None
    return PilotEffect(
        pilot.name, effect.estimate, effect.low, effect.high, effect.verdict, effect.comparison
    )


# --- employee ratings of the action ------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """One pulse's answers to "this action has helped us", for the action's group, or why not."""

    pulse_title: str
    row: report.QuestionRow | None
    reason: str | None


def ratings_for(action: Action, questions: Sequence[Any], figures: Figures) -> list[Rating]:
    """The rating questions' distributions, each gated on answer counts in the viewer's family
    (report.question_row -> gated.question -> forest.decide)."""
    group = figures.group(action)
    ratings = []
    for question in questions:
        pulse = question.pulse
        if not pulse.is_frozen:
            ratings.append(Rating(pulse.title, None, "Asked when the pulse opens"))
            continue
        if group is None:
            ratings.append(Rating(pulse.title, None, OUTSIDE))
            continue
        pulse_view = figures.view(pulse, with_values=True)
        info = next((q for q in pulse_view.tallies.questions if q.id == question.id), None)
        if info is None:
            continue
        row = report.question_row(pulse_view.tallies, pulse_view.gated, info, group)
        ratings.append(Rating(pulse.title, row, None if row.visible else row.reason))
    return ratings
