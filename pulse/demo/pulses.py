"""Demo pulses: a closed baseline with simulated answers that differ by team, and an open pulse.

Answers are drawn from a simple latent model: each team has a mood per dimension (some teams
are stretched, some thrive), each person varies around it, and each item adds noise. That gives
results with realistic spread, different stories per team, and small teams that later pages
must suppress.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from pulse.extensions import db
from pulse.org.models import Team
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import SCALES, ScaleKind
from pulse.surveys.models import Invitation, Pulse, PulseQuestion

# Team moods on a 0..1 "how well things go" scale, by team name; others use the default.
TEAM_MOOD: dict[str, float] = {
    "Customer Support": 0.30,  # stretched: high burnout, low workload balance
    "Logistics": 0.42,
    "EMEA": 0.50,
    "Americas": 0.58,
    "Platform": 0.70,
    "Mobile": 0.62,
    "Data": 0.74,
    "Finance": 0.55,
    "HR": 0.66,
}
DEFAULT_MOOD = 0.6

COMMENTS_GOOD = [
    "The new planning rhythm really helped this quarter.",
    "I appreciate that my manager protects our focus time.",
    "Good team spirit, people help each other out.",
    "Clear priorities this month, thank you.",
]
COMMENTS_BAD = [
    "Too many urgent requests land at the end of the day.",
    "We need more people on the late shift; the queue never empties.",
    "Decisions are announced without asking the people who do the work.",
    "I rarely manage a proper lunch break.",
    "Hard to switch off when chat messages arrive all evening.",
]


@dataclass
class DemoPulses:
    baseline: Pulse
    current: Pulse
    answered_baseline: int
    answered_current: int


def build_demo_pulses(
    *, now: datetime, secret_key: str, rng: random.Random, root: Team
) -> DemoPulses:
    """A baseline pulse that ran five weeks ago and an open pulse that started two days ago."""
    start = now - timedelta(days=35)
    baseline = services.create_pulse(
        title="Baseline pulse",
        set_ref="builtin:core",
        teams=[root],
        now=start,
        actor=None,
    )
    services.open_pulse(
        baseline, now=start, secret_key=secret_key, actor=None, closes_at=start + timedelta(days=7)
    )
    answered_baseline = _simulate(baseline, start, rng, rate=0.8, drift=0.0, span_hours=5 * 24)

    opened = now - timedelta(days=2)
    current = services.create_pulse(
        title="November pulse",
        set_ref="builtin:core",
        teams=[root],
        now=opened,
        actor=None,
    )
    services.open_pulse(
        current, now=opened, secret_key=secret_key, actor=None, closes_at=now + timedelta(days=5)
    )
    answered_current = _simulate(current, opened, rng, rate=0.45, drift=0.04, span_hours=40)
    db.session.flush()
    return DemoPulses(baseline, current, answered_baseline, answered_current)


def _simulate(
    pulse: Pulse,
    opened: datetime,
    rng: random.Random,
    *,
    rate: float,
    drift: float,
    span_hours: float,
) -> int:
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.pulse_id == pulse.id).order_by(Invitation.id)
    ).all()
    teams = {t.id: t.name for t in db.session.scalars(select(Team))}
    answered = 0
    for invitation in invitations:
        if rng.random() > rate:
            continue
        mood = TEAM_MOOD.get(teams[invitation.team_id], DEFAULT_MOOD) + drift
        person_mood = min(0.95, max(0.05, rng.gauss(mood, 0.12)))
        parsed = _answers(pulse.questions, person_mood, rng)
        day = opened + timedelta(hours=rng.uniform(1, span_hours))
        services.record_response(invitation, parsed, now=day)
        answered += 1
    return answered


def _answers(questions: list[PulseQuestion], mood: float, rng: random.Random) -> ParsedAnswers:
    parsed = ParsedAnswers()
    for q in questions:
        scale = SCALES[ScaleKind(q.scale)]
        if scale.kind is ScaleKind.TEXT:
            if rng.random() < 0.3:
                pool = COMMENTS_GOOD if mood > 0.55 else COMMENTS_BAD
                parsed.comments[q.id] = rng.choice(pool)
            continue
        if rng.random() < 0.03:
            continue  # the odd skipped question
        # "Good" position on this item: burnout items and reverse-keyed items point the other way.
        good = mood
        if q.dimension == "burnout":
            good = 1 - good
        if q.reverse:
            good = 1 - good
        position = min(1.0, max(0.0, rng.gauss(good, 0.18)))
        value = scale.minimum + round(position * (scale.maximum - scale.minimum))
        parsed.values[q.id] = value
    return parsed


def demo_links(base_url: str, secret_key: str, count: int = 2) -> list[str]:
    """Links of people who have not answered the open demo pulse yet, for a newcomer to try."""
    rows = db.session.scalars(
        select(Invitation)
        .join(Pulse, Invitation.pulse_id == Pulse.id)
        .where(Invitation.answered.is_(False), Pulse.title == "November pulse")
        .order_by(Invitation.id)
        .limit(count)
    ).all()
    return [
        f"{base_url.rstrip('/')}/p/{services.invitation_token(inv, secret_key)}" for inv in rows
    ]
