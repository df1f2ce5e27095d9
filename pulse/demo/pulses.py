"""Demo pulses: a year of quarterly pulses whose stories differ by team, and one open pulse.

Answers are drawn from a simple latent model: each team has a mood (how well things go, 0..1),
each dimension of each team may drift from pulse to pulse, each person varies around that and
each item adds noise. The stories are chosen so that every results page has something to say:

- Customer Support burns out over the year, then recovers once the late shift is staffed;
- Sales (EMEA and Americas) loses trust in management pulse by pulse;
- Mobile slowly improves, Platform and Data stay steady;
- Logistics's workload eases after the team changes how it plans routes;
- HR (5 people) answers at about 80%, so 4 answers per pulse: always suppressed at k = 5, and
  Finance and Data have too few people for comments (k_c = 10).

The closed pulses are written in bulk (rows and tallies at once), which keeps `flask pulse demo`
to a few seconds; `flask pulse verify-tallies` checks those tallies against the raw answers. The
open pulse goes through `record_response`, the path real answers take.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select, update

from pulse.extensions import db
from pulse.org.models import Team
from pulse.results import comments as comment_service
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import SCALES, ScaleKind
from pulse.surveys.models import (
    Answer,
    Comment,
    DimensionTally,
    Invitation,
    Pulse,
    PulseQuestion,
    Response,
    ResponseTally,
    ValueTally,
)
from pulse.surveys.scoring import ScoredItem, dimension_scores, is_at_risk

# Team moods on a 0..1 "how well things go" scale, by team name; others use the default.
TEAM_MOOD: dict[str, float] = {
    "Customer Support": 0.42,
    "Logistics": 0.45,
    "EMEA": 0.64,
    "Americas": 0.66,
    "Platform": 0.70,
    "Mobile": 0.55,
    "Data": 0.74,
    "Finance": 0.55,
    "HR": 0.66,
}
DEFAULT_MOOD = 0.6

# Closed pulses: days before now that each opened, and the share of people who answered.
CLOSED_WAVES: list[tuple[int, float]] = [(364, 0.82), (273, 0.78), (182, 0.84), (91, 0.80)]
OPEN_RATE = 0.45
# How each team's mood moves from wave to wave (the four closed pulses, then the open one), per
# dimension ("*" for every dimension). Negative is worse, for burnout too.
TRENDS: dict[str, dict[str, list[float]]] = {
    "Customer Support": {
        "burnout": [0.0, -0.12, -0.25, -0.08, 0.04],
        "workload": [0.0, -0.10, -0.18, -0.04, 0.04],
        "wellbeing": [0.0, -0.08, -0.15, -0.04, 0.02],
    },
    "EMEA": {
        "trust": [0.0, -0.10, -0.20, -0.30, -0.32],
        "heard": [0.0, -0.04, -0.08, -0.12, -0.14],
    },
    "Americas": {
        "trust": [0.0, -0.09, -0.18, -0.28, -0.30],
        "heard": [0.0, -0.03, -0.07, -0.11, -0.12],
    },
    "Mobile": {"*": [0.0, 0.04, 0.08, 0.12, 0.14]},
    # Logistics reports a heavy workload in the second pulse, plans its routes on Fridays from
    # then on (a demo action, see actions.py), and the third pulse shows the change.
    "Logistics": {"workload": [0.0, -0.04, 0.14, 0.15, 0.16]},
}
WAVES = len(CLOSED_WAVES) + 1
# People recommend their employer a little more readily than their mood alone suggests; without
# this every team's eNPS would sit far below zero.
DIMENSION_SHIFT: dict[str, float] = {"enps": 0.12}

# Comments by team story, in a bad and a good mood; other teams use GENERAL. Some contain
# characters that must stay text on the page.
GENERAL = {
    "bad": [
        "Too many urgent requests land at the end of the day.",
        "Decisions are announced without asking the people who do the work.",
        "I rarely manage a proper lunch break.",
        "Hard to switch off when chat messages arrive all evening.",
        "Meetings eat most of the week; deep work happens after hours.",
    ],
    "good": [
        "The new planning rhythm really helped this quarter.",
        "I appreciate that my manager protects our focus time.",
        "Good team spirit, people help each other out.",
        "Clear priorities this month, thank you.",
        "Retros actually change things here & that shows.",
    ],
}
STORIES: dict[str, dict[str, list[str]]] = {
    "Customer Support": {
        "bad": [
            "We need more people on the late shift; the queue never empties.",
            "The queue target of <2 min is impossible with half the team on leave.",
            "I go home exhausted most days and still think about open tickets.",
            "Nobody covers the phones when we are in training, so we skip training.",
            "Weekend rota changes arrive with a day's notice.",
        ],
        "good": [
            "The two new hires on the late shift made a real difference.",
            "Finally a rota I can plan my week around.",
            "Escalations to second line are much faster now.",
        ],
    },
    "EMEA": {
        "bad": [
            "Q3 targets & the new commission plan came without any explanation.",
            "Leadership says one thing in the all-hands and does another.",
            "I no longer believe the pipeline numbers we are shown.",
            "Territories were reshuffled again without asking the account managers.",
        ],
        "good": ["My direct manager is honest with us, even when the news is bad."],
    },
    "Americas": {
        "bad": [
            "Targets changed twice this quarter; nobody told us why.",
            "Promises about the new CRM were not kept.",
            "It feels like decisions about us are made in a room we never see.",
        ],
        "good": ["The deal desk is quick and helpful."],
    },
}
COMMENT_RATE = 0.35

# Tags a manager put on comments of the last closed pulse, found by a phrase in the text.
DEMO_TAGS: list[tuple[str, str, str]] = [
    ("late shift", "Staffing", "wellbeing"),
    ("queue", "Staffing", "customer_experience"),
    ("rota", "Scheduling", "wellbeing"),
    ("target", "Sales targets", "retention"),
    ("Leadership says", "Trust in leadership", "retention"),
    ("CRM", "Tools", "productivity"),
    ("Territories", "Sales targets", "retention"),
    ("Decisions are announced", "Involvement in decisions", "retention"),
    ("lunch break", "Breaks", "wellbeing"),
    ("Meetings", "Meetings", "productivity"),
    ("urgent requests", "Planning", "productivity"),
]


@dataclass
class DemoPulses:
    baseline: Pulse
    current: Pulse
    answered_baseline: int
    answered_current: int
    closed: list[Pulse] = field(default_factory=list)
    answered_closed: int = 0  # every closed pulse, the baseline included


MoodOf = Callable[[str], float]


def build_demo_pulses(
    *, now: datetime, secret_key: str, rng: random.Random, root: Team
) -> DemoPulses:
    """Four closed pulses a quarter apart over the last year, and an open pulse two days old."""
    teams = {t.id: t.name for t in db.session.scalars(select(Team))}
    closed: list[Pulse] = []
    answered: list[int] = []
    for wave, (days_ago, rate) in enumerate(CLOSED_WAVES):
        start = now - timedelta(days=days_ago)
        title = "Baseline pulse" if wave == 0 else f"{start:%B %Y} pulse"
        pulse = services.create_pulse(
            title=title, set_ref="builtin:core", teams=[root], now=start, actor=None
        )
        services.open_pulse(
            pulse,
            now=start,
            secret_key=secret_key,
            actor=None,
            closes_at=start + timedelta(days=14),
        )
        answered.append(_simulate_closed(pulse, start, rng, teams, wave=wave, rate=rate))
        closed.append(pulse)
    _tag_demo_comments(closed[-1], now)

    opened = now - timedelta(days=2)
    current = services.create_pulse(
        title=f"{opened:%B %Y} pulse",
        set_ref="builtin:core",
        teams=[root],
        now=opened,
        actor=None,
    )
    services.open_pulse(
        current, now=opened, secret_key=secret_key, actor=None, closes_at=now + timedelta(days=5)
    )
    answered_current = _simulate_open(current, opened, rng, teams, span_hours=40)
    # As `flask pulse tick` would: mark the used links' invitations as answered, so the
    # demo's printed links are for people who have not answered yet.
    services.settle_answers(current, secret_key)
    db.session.flush()
    return DemoPulses(
        closed[0], current, answered[0], answered_current, closed, answered_closed=sum(answered)
    )


def _mood(team: str, wave: int) -> MoodOf:
    base = TEAM_MOOD.get(team, DEFAULT_MOOD)
    trend = TRENDS.get(team, {})
    overall = trend.get("*", [0.0] * WAVES)[wave]

    def of(dimension: str) -> float:
        shift = DIMENSION_SHIFT.get(dimension, 0.0)
        return base + overall + shift + trend.get(dimension, [0.0] * WAVES)[wave]

    return of


def _person_mood(mood: MoodOf, rng: random.Random) -> MoodOf:
    """One person's moods: the team's, shifted by how this person is doing overall."""
    shift = rng.gauss(0.0, 0.12)

    def of(dimension: str) -> float:
        return min(0.95, max(0.05, mood(dimension) + shift))

    return of


def _simulate_closed(
    pulse: Pulse,
    opened: datetime,
    rng: random.Random,
    teams: dict[int, str],
    *,
    wave: int,
    rate: float,
) -> int:
    """Answers of a pulse that has closed since, written in bulk with their tallies.

    Each team answers at `rate` rounded to whole people, so small teams land on the same side
    of k in every pulse (HR's 5 people give 4 answers).
    """
    invitations = db.session.execute(
        select(Invitation.id, Invitation.team_id)
        .where(Invitation.pulse_id == pulse.id)
        .order_by(Invitation.id)
    ).all()
    by_team: dict[int, list[int]] = defaultdict(list)
    for invitation_id, team_id in invitations:
        by_team[team_id].append(invitation_id)
    questions = list(pulse.questions)
    answered: list[SimulatedAnswer] = []
    for team_id in sorted(by_team):
        people = by_team[team_id]
        chosen = rng.sample(people, round(len(people) * rate))
        team = teams[team_id]
        for invitation_id in sorted(chosen):
            parsed = _answers(questions, _person_mood(_mood(team, wave), rng), team, rng)
            day = (opened + timedelta(hours=rng.uniform(1, 10 * 24))).date()
            answered.append(SimulatedAnswer(invitation_id, team_id, day, parsed))
    return write_closed_answers(pulse, answered)


@dataclass(frozen=True)
class SimulatedAnswer:
    """One simulated respondent of a closed pulse: whose invitation, which team, which day."""

    invitation_id: int
    team_id: int
    day: date
    parsed: ParsedAnswers


def write_closed_answers(pulse: Pulse, answered: Sequence[SimulatedAnswer]) -> int:
    """Write the responses of a closed pulse and their tallies in bulk, as `record_response`
    would one by one (so `flask pulse verify-tallies` agrees), and mark the invitations used."""
    items = [ScoredItem(q.id, q.dimension, ScaleKind(q.scale), q.reverse) for q in pulse.questions]
    responses: list[dict[str, object]] = []
    answers: list[dict[str, object]] = []
    comments: list[dict[str, object]] = []
    response_tally: dict[int, int] = defaultdict(int)
    value_tally: dict[tuple[int, int, int], int] = defaultdict(int)
    dimension_tally: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    consumed: list[int] = []
    for one in answered:
        team_id, parsed = one.team_id, one.parsed
        response_id = secrets.token_hex(16)
        responses.append(
            {"id": response_id, "pulse_id": pulse.id, "team_id": team_id, "day": one.day}
        )
        answers.extend(
            {"response_id": response_id, "question_id": q, "value": v}
            for q, v in parsed.values.items()
        )
        comments.extend(
            {
                "id": secrets.token_hex(16),
                "response_id": response_id,
                "question_id": q,
                "text": t,
            }
            for q, t in parsed.comments.items()
        )
        response_tally[team_id] += 1
        for question_id, value in parsed.values.items():
            value_tally[(team_id, question_id, value)] += 1
        for dimension, score in dimension_scores(items, parsed.values).items():
            sums = dimension_tally[(team_id, dimension)]
            sums[0] += 1
            sums[1] += score
            sums[2] += score * score
            sums[3] += 1 if is_at_risk(dimension, score) else 0
        consumed.append(one.invitation_id)
    if not responses:
        return 0
    db.session.execute(insert(Response), responses)
    if answers:
        db.session.execute(insert(Answer), answers)
    if comments:
        db.session.execute(insert(Comment), comments)
    db.session.execute(
        insert(ResponseTally),
        [{"pulse_id": pulse.id, "team_id": t, "count": c} for t, c in response_tally.items()],
    )
    if value_tally:
        db.session.execute(
            insert(ValueTally),
            [
                {"pulse_id": pulse.id, "team_id": t, "question_id": q, "value": v, "count": c}
                for (t, q, v), c in value_tally.items()
            ],
        )
    if dimension_tally:
        db.session.execute(
            insert(DimensionTally),
            [
                {
                    "pulse_id": pulse.id,
                    "team_id": t,
                    "dimension": d,
                    "n": int(s[0]),
                    "total": s[1],
                    "total_sq": s[2],
                    "at_risk": int(s[3]),
                }
                for (t, d), s in dimension_tally.items()
            ],
        )
    db.session.execute(
        update(Invitation)
        .where(Invitation.id.in_(consumed))
        .values(answered=True)
        .execution_options(synchronize_session=False)
    )
    return len(responses)


def _simulate_open(
    pulse: Pulse,
    opened: datetime,
    rng: random.Random,
    teams: dict[int, str],
    *,
    span_hours: float,
) -> int:
    """Answers to the open pulse so far, recorded one by one as respondents' answers are."""
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.pulse_id == pulse.id).order_by(Invitation.id)
    ).all()
    answered = 0
    for invitation in invitations:
        if rng.random() > OPEN_RATE:
            continue
        team = teams[invitation.team_id]
        mood = _person_mood(_mood(team, WAVES - 1), rng)
        parsed = _answers(pulse.questions, mood, team, rng)
        moment = opened + timedelta(hours=rng.uniform(1, span_hours))
        services.record_response(invitation, parsed, now=moment)
        answered += 1
    return answered


def _answers(
    questions: list[PulseQuestion], mood: MoodOf, team: str, rng: random.Random
) -> ParsedAnswers:
    parsed = ParsedAnswers()
    for q in questions:
        scale = SCALES[ScaleKind(q.scale)]
        if scale.kind is ScaleKind.TEXT:
            if rng.random() < COMMENT_RATE:
                parsed.comments[q.id] = _comment(mood, team, rng)
            continue
        if rng.random() < 0.03:
            continue  # the odd skipped question
        # "Good" position on this item: burnout items and reverse-keyed items point the other way.
        good = mood(q.dimension)
        if q.dimension == "burnout":
            good = 1 - good
        if q.reverse:
            good = 1 - good
        position = min(1.0, max(0.0, rng.gauss(good, 0.18)))
        value = scale.minimum + round(position * (scale.maximum - scale.minimum))
        parsed.values[q.id] = value
    return parsed


def _comment(mood: MoodOf, team: str, rng: random.Random) -> str:
    pools = STORIES.get(team, GENERAL)
    story_dimension = {"Customer Support": "burnout", "EMEA": "trust", "Americas": "trust"}
    feeling = mood(story_dimension.get(team, "wellbeing"))
    pool = pools["good"] if feeling > 0.55 else pools["bad"]
    if rng.random() < 0.25:
        pool = GENERAL["good"] if feeling > 0.55 else GENERAL["bad"]
    return rng.choice(pool)


def _tag_demo_comments(pulse: Pulse, now: datetime) -> None:
    """Tags the head of each department put on the last closed pulse's comments."""
    rows = db.session.execute(
        select(Comment, Response.team_id)
        .join(Response, Response.id == Comment.response_id)
        .where(Response.pulse_id == pulse.id)
        .order_by(Comment.id)
    ).all()
    for comment, team_id in rows:
        tag = next((t for t in DEMO_TAGS if t[0].lower() in comment.text.lower()), None)
        if tag is None:
            continue
        team = db.session.get(Team, team_id)
        head = team.parent if team is not None and team.parent is not None else team
        tagger = head.managers[0] if head is not None and head.managers else None
        comment_service.tag_comment(comment, topic=tag[1], outcome=tag[2], actor=tagger, now=now)


def demo_links(base_url: str, secret_key: str, count: int = 2) -> list[str]:
    """Links of people who have not answered the open demo pulse yet, for a newcomer to try."""
    # Opened pulses only: a scheduled one (the pilot's final pulse) has no invitations yet.
    latest = db.session.scalar(
        select(Pulse)
        .where(Pulse.frozen_at.is_not(None))
        .order_by(Pulse.opens_at.desc(), Pulse.id.desc())
    )
    if latest is None:
        return []
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.answered.is_(False), Invitation.pulse_id == latest.id)
        .order_by(Invitation.id)
        .limit(count)
    ).all()
    return [
        f"{base_url.rstrip('/')}/p/{services.invitation_token(inv, secret_key)}" for inv in rows
    ]
