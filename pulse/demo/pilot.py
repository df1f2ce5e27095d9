"""The demo's four-day-week pilot: six teams try it, six comparable teams carry on as before.

Answers come from a small panel model so the pilot report has both kinds of verdict to show:

- every unit (a team with its subtree) has its own level on each dimension (a team effect), and
  every person their own level (a person effect that stays with them from pulse to pulse);
- both arms drift a little from pulse to pulse through the same random process;
- in pilot teams only, burnout falls and workload (work-life balance) and wellbeing improve,
  growing over the first pulses of the pilot; trust follows the same process in both arms, so the
  report must find no clear difference there;
- each unit answers at 60-90% per pulse, and every unit has at least 9 people, so it passes
  k = 5 at every pulse.

Closed pulses are written in bulk with their tallies (`pulses.write_closed_answers`), the final
pulse is scheduled in the future, and monthly outcome metrics are imported for every unit.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select

from pulse.demo.pulses import (
    DEFAULT_MOOD,
    DIMENSION_SHIFT,
    TEAM_MOOD,
    SimulatedAnswer,
    write_closed_answers,
)
from pulse.extensions import db
from pulse.org.models import Person, Team
from pulse.pilots.models import Arm, Phase, Pilot, PilotPulse, PilotTeam
from pulse.pilots.services import Wave
from pulse.results.models import OutcomeMetric
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import SCALES, ScaleKind
from pulse.surveys.models import Invitation, Pulse, PulseQuestion

PILOT_NAME = "Four-day week 2026"
HYPOTHESIS = (
    "Working four days a week on full pay lowers burnout and improves work-life balance, "
    "without hurting output or customer satisfaction."
)
SET_REF = "builtin:four_day_week"
# Units by team name: leaf teams of different departments in both arms, none of them small.
PILOT_TEAMS = ("Customer Support", "Logistics", "Platform", "Mobile", "Berlin", "Munich")
COMPARISON_TEAMS = ("EMEA", "Americas", "Data", "Finance", "Hamburg", "Cologne")
BASELINES = 2
DURING = 5
CADENCE_WEEKS = 2
OPEN_DAYS = 7
# The last pulse during the pilot opened this many days ago (so it closed two days ago).
LAST_OPENED_DAYS_AGO = 9
OPENS_AT = time(8, 0)
RESPONSE_RATES = (0.6, 0.9)

# What the four-day week does in pilot teams at full strength, on the 0..1 mood scale (higher is
# better for every dimension here, burnout included), and how it grows over the pulses during.
EFFECT: dict[str, float] = {"burnout": 0.13, "workload": 0.12, "wellbeing": 0.05}
RAMP = (0.55, 0.85, 1.0, 1.0, 1.0)
TEAM_SD = 0.05  # a unit's own level on each dimension
PERSON_SD = 0.10  # a person's own level, the same at every pulse
OCCASION_SD = 0.04  # how a person's week differs from their usual
DRIFT_SD = 0.012  # a unit's random walk per pulse, the same process in both arms
ITEM_SD = 0.14
HOURS = {"usual": 42.0, "pilot": 34.5, "sd": 3.5}
COMMENT_RATE = 0.3

PILOT_COMMENTS = [
    "The extra day off means I actually recover over the weekend.",
    "Fitting five days of work into four is hard in release weeks.",
    "I sleep better since the pilot started.",
    "Handovers on Thursday afternoon need more care than before.",
    "Customers have not noticed a thing, as far as I can tell.",
    "Please keep this going after the pilot.",
]
USUAL_COMMENTS = [
    "Busy weeks, but manageable.",
    "When will we hear how the four-day-week pilot went?",
    "Too many meetings again this month.",
    "Good support from my team lead.",
    "Planning for next quarter is still unclear.",
]


@dataclass
class DemoPilot:
    pilot: Pilot
    baseline: list[Pulse] = field(default_factory=list)
    during: list[Pulse] = field(default_factory=list)
    final: Pulse | None = None
    answered: int = 0
    metrics: int = 0


@dataclass(frozen=True)
class _Schedule:
    starts_on: date
    ends_on: date
    baseline: list[datetime]
    during: list[datetime]
    final: datetime


def schedule(now: datetime) -> _Schedule:
    """Pulse opening times: five during the pilot, every two weeks, the last ending two days
    ago; the pilot starts on the first of a month (so monthly outcome figures fall cleanly
    before or during it) at least a week before the first of them; two baselines before the
    start; the final pulse two weeks after the last, still ahead."""
    last = datetime.combine(now.date() - timedelta(days=LAST_OPENED_DAYS_AGO), OPENS_AT, UTC)
    step = timedelta(weeks=CADENCE_WEEKS)
    during = [last - step * (DURING - 1 - i) for i in range(DURING)]
    latest_start = during[0].date() - timedelta(days=7)
    starts_on = latest_start.replace(day=1)
    start = datetime.combine(starts_on, OPENS_AT, UTC)
    baseline = [start - step * (BASELINES - i) for i in range(BASELINES)]
    final = last + step
    return _Schedule(starts_on, final.date(), baseline, during, final)


def build_demo_pilot(
    *, now: datetime, secret_key: str, seed: int, created_by: Person | None
) -> DemoPilot:
    """Create the pilot, its units, its pulses with simulated answers, and outcome metrics."""
    rng = np.random.default_rng(seed)
    units = _units()
    plan = schedule(now)
    pilot = Pilot(
        name=PILOT_NAME,
        hypothesis=HYPOTHESIS,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        timezone="UTC",
        set_ref=SET_REF,
        cadence_weeks=CADENCE_WEEKS,
        baseline_pulses=BASELINES,
        open_days=OPEN_DAYS,
        created_at=plan.baseline[0] - timedelta(days=10),
        created_by_id=created_by.id if created_by is not None else None,
        teams=[PilotTeam(team_id=team.id, arm=arm) for team, arm in units],
    )
    db.session.add(pilot)
    db.session.flush()
    result = DemoPilot(pilot)
    model = _Model(rng, units)
    teams = [team for team, _ in units]
    opened_at = [*plan.baseline, *plan.during]
    for position, opened in enumerate(opened_at):
        phase = Phase.BASELINE if position < BASELINES else Phase.DURING
        number = position + 1 if phase is Phase.BASELINE else position - BASELINES + 1
        # Titled as pilot set-up titles the pulses it schedules.
        wave = Wave(phase, number, opened.date())
        pulse = services.create_pulse(
            title=f"{PILOT_NAME} \u00b7 {wave.label}",
            set_ref=SET_REF,
            teams=teams,
            now=opened,
            actor=None,
        )
        services.open_pulse(
            pulse,
            now=opened,
            secret_key=secret_key,
            actor=None,
            closes_at=opened + timedelta(days=OPEN_DAYS),
        )
        db.session.add(
            PilotPulse(pulse_id=pulse.id, pilot_id=pilot.id, phase=phase, position=position)
        )
        strength = 0.0 if phase is Phase.BASELINE else RAMP[position - BASELINES]
        result.answered += write_closed_answers(pulse, model.answers(pulse, opened, strength))
        (result.baseline if phase is Phase.BASELINE else result.during).append(pulse)
    final = services.create_pulse(
        title=f"{PILOT_NAME} \u00b7 {Wave(Phase.FINAL, 1, plan.final.date()).label}",
        set_ref=SET_REF,
        teams=teams,
        now=now,
        actor=None,
        opens_at=plan.final,
        closes_at=plan.final + timedelta(days=OPEN_DAYS),
    )
    db.session.add(
        PilotPulse(pulse_id=final.id, pilot_id=pilot.id, phase=Phase.FINAL, position=len(opened_at))
    )
    result.final = final
    result.metrics = _import_metrics(rng, units, plan.starts_on, now)
    db.session.flush()
    return result


def _units() -> list[tuple[Team, Arm]]:
    by_name = {t.name: t for t in db.session.scalars(select(Team))}
    return [(by_name[name], Arm.PILOT) for name in PILOT_TEAMS] + [
        (by_name[name], Arm.COMPARISON) for name in COMPARISON_TEAMS
    ]


class _Model:
    """Team, person and drift effects that persist across the pilot's pulses."""

    def __init__(self, rng: np.random.Generator, units: list[tuple[Team, Arm]]) -> None:
        self.rng = rng
        self.arm = {team.id: arm for team, arm in units}
        self.name = {team.id: team.name for team, _ in units}
        self.team_effect: dict[tuple[int, str], float] = {}
        self.drift: dict[tuple[int, str], float] = defaultdict(float)
        self.person: dict[int, float] = {}
        self.habit: dict[int, float] = {}

    def _team_level(self, team_id: int, dimension: str) -> float:
        key = (team_id, dimension)
        if key not in self.team_effect:
            self.team_effect[key] = float(self.rng.normal(0.0, TEAM_SD))
        base = TEAM_MOOD.get(self.name[team_id], DEFAULT_MOOD) + DIMENSION_SHIFT.get(dimension, 0)
        return base + self.team_effect[key] + self.drift[key]

    def _rate(self, team_id: int) -> float:
        """A unit's response rate: its own habit, varying a little from pulse to pulse."""
        if team_id not in self.habit:
            self.habit[team_id] = float(self.rng.uniform(0.66, 0.84))
        rate = self.habit[team_id] + float(self.rng.normal(0.0, 0.04))
        return min(RESPONSE_RATES[1], max(RESPONSE_RATES[0], rate))

    def answers(self, pulse: Pulse, opened: datetime, strength: float) -> list[SimulatedAnswer]:
        for key in list(self.team_effect):
            self.drift[key] += float(self.rng.normal(0.0, DRIFT_SD))
        invitations = db.session.execute(
            select(Invitation.id, Invitation.team_id, Invitation.person_id)
            .where(Invitation.pulse_id == pulse.id)
            .order_by(Invitation.id)
        ).all()
        by_team: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for invitation_id, team_id, person_id in invitations:
            by_team[team_id].append((invitation_id, person_id))
        questions = list(pulse.questions)
        answered: list[SimulatedAnswer] = []
        for team_id in sorted(by_team):
            people = by_team[team_id]
            rate = self._rate(team_id)
            picked = self.rng.choice(len(people), size=round(len(people) * rate), replace=False)
            effect = strength if self.arm[team_id] is Arm.PILOT else 0.0
            for index in sorted(int(i) for i in picked):
                invitation_id, person_id = people[index]
                if person_id not in self.person:
                    self.person[person_id] = float(self.rng.normal(0.0, PERSON_SD))
                shift = self.person[person_id] + float(self.rng.normal(0.0, OCCASION_SD))
                parsed = self._answer(questions, team_id, shift, effect)
                hours = float(self.rng.uniform(1, OPEN_DAYS * 24 - 1))
                day = (opened + timedelta(hours=hours)).date()
                answered.append(SimulatedAnswer(invitation_id, team_id, day, parsed))
        return answered

    def _answer(
        self, questions: list[PulseQuestion], team_id: int, shift: float, effect: float
    ) -> ParsedAnswers:
        parsed = ParsedAnswers()
        for q in questions:
            scale = SCALES[ScaleKind(q.scale)]
            if scale.kind is ScaleKind.TEXT:
                if self.rng.random() < COMMENT_RATE:
                    pool = PILOT_COMMENTS if effect > 0 else USUAL_COMMENTS
                    parsed.comments[q.id] = pool[int(self.rng.integers(len(pool)))]
                continue
            if self.rng.random() < 0.03:
                continue  # the odd skipped question
            if scale.kind is ScaleKind.HOURS:
                usual = HOURS["usual"] + effect * (HOURS["pilot"] - HOURS["usual"])
                hours = round(float(self.rng.normal(usual, HOURS["sd"])))
                parsed.values[q.id] = min(70, max(20, hours))
                continue
            mood = self._team_level(team_id, q.dimension) + shift
            mood += effect * EFFECT.get(q.dimension, 0.0)
            good = min(0.95, max(0.05, mood))
            # The "good" end of this item: burnout and reverse-keyed items point the other way.
            if q.dimension == "burnout":
                good = 1 - good
            if q.reverse:
                good = 1 - good
            position = min(1.0, max(0.0, float(self.rng.normal(good, ITEM_SD))))
            parsed.values[q.id] = scale.minimum + round(position * (scale.maximum - scale.minimum))
        return parsed


# Monthly outcome figures per person (absence, overtime, output), or per team (the rest); what
# the four-day week changes in pilot teams, as a factor on the usual level.
METRIC_LEVELS: dict[str, tuple[float, float]] = {
    # metric: (usual level, factor in pilot teams during the pilot)
    "absence_days": (0.85, 0.65),
    "overtime_hours": (7.0, 0.4),
    "leavers": (0.012, 0.75),
    "output": (20.0, 1.0),
    "customer_satisfaction": (4.2, 1.0),
}


def _months(starts_on: date, now: datetime) -> list[tuple[date, date, bool]]:
    """(first day, last day, during the pilot) of six months before the start and every whole
    month since."""
    months: list[tuple[date, date, bool]] = []
    first = starts_on
    for _ in range(6):
        first = (first - timedelta(days=1)).replace(day=1)
    while True:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        if last >= now.date():
            return months
        months.append((first, last, first >= starts_on))
        first = last + timedelta(days=1)


def _import_metrics(
    rng: np.random.Generator, units: list[tuple[Team, Arm]], starts_on: date, now: datetime
) -> int:
    head_counts = dict(
        db.session.execute(
            select(Person.team_id, func.count())
            .where(Person.active.is_(True))
            .group_by(Person.team_id)
        ).all()
    )
    rows: list[OutcomeMetric] = []
    for team, arm in units:
        people = head_counts.get(team.id, 0)
        level = {key: float(rng.uniform(0.85, 1.15)) for key in METRIC_LEVELS}
        for first, last, during in _months(starts_on, now):
            for key, (usual, factor) in METRIC_LEVELS.items():
                expected = usual * level[key]
                if during and arm is Arm.PILOT:
                    expected *= factor
                value = _metric_value(rng, key, expected, people)
                rows.append(
                    OutcomeMetric(
                        team_id=team.id,
                        metric=key,
                        period_start=first,
                        period_end=last,
                        value=value,
                        imported_at=now,
                    )
                )
    db.session.add_all(rows)
    return len(rows)


def _metric_value(rng: np.random.Generator, key: str, expected: float, people: int) -> float:
    if key == "customer_satisfaction":
        return round(min(5.0, float(rng.normal(expected, 0.06))), 2)
    if key == "leavers":
        return float(rng.poisson(expected * people))
    total = expected * people
    return round(max(0.0, float(rng.normal(total, 0.08 * total))), 1)
