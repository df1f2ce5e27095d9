"""Fixtures for the answering tests: either database, an open pulse, dumps, recomputed tallies.

The unlinkability, concurrency and fault tests run the same checks on SQLite and PostgreSQL, so
they take `any_app` (the `app` or `pg_app` fixture, chosen by parameter) and build their data
with `open_pulse_for`, which inserts people in bulk so a 2,000-person pulse takes well under a
second to set up.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person, Role
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import SCALES, ScaleKind
from pulse.surveys.models import (
    Answer,
    DimensionTally,
    Invitation,
    Pulse,
    PulseQuestion,
    Response,
    ResponseTally,
    ValueTally,
)
from pulse.surveys.scoring import ScoredItem, dimension_scores, is_at_risk
from tests.conftest import build_app
from tests.factories import NOW, make_person, make_team
from tests.smtp import SmtpSink

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def any_app(request: pytest.FixtureRequest) -> Flask:
    """The `app` fixture (SQLite) or the `pg_app` fixture (PostgreSQL), inside its app context."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")  # type: ignore[no-any-return]


@pytest.fixture(params=BACKENDS)
def wide_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """Like `any_app`, with a connection pool wide enough for 32 threads to hold a connection
    each at the same moment (the default pool of 5 + 10 would queue half of them)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pulse.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = build_app(
        url,
        tmp_path / "instance",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 40, "max_overflow": 0, "pool_timeout": 60},
    )
    with app.app_context():
        if request.param != "sqlite":
            db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


# --- An open pulse --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionInfo:
    """A pulse question as plain values. ORM objects would reload themselves through the
    session that loaded them, from whichever thread touches them, and on SQLite that stray
    transaction (BEGIN IMMEDIATE) would hold the write lock against every other thread."""

    id: int
    question_key: str
    scale: str
    dimension: str
    reverse: bool
    required: bool
    text: str


@dataclass
class OpenedPulse:
    """What a test needs to answer a pulse; plain values, safe to use from any thread."""

    pulse_id: int
    team_id: int
    questions: list[QuestionInfo]
    tokens: list[str] = field(default_factory=list)  # one per invitation, in invitation order

    def question_id(self, key: str) -> int:
        return next(q.id for q in self.questions if q.question_key == key)


def open_pulse_for(
    app: Flask,
    *,
    people: int,
    now: datetime = NOW,
    team_path: str = "Acme/Eng",
    set_ref: str = "builtin:core",
    extra_people: list[dict[str, Any]] | None = None,
) -> OpenedPulse:
    """Create a team of `people` (plus `extra_people`), open a pulse for it at `now`, commit.

    People are inserted with one statement; `extra_people` are Person column values (for a
    person with a distinctive email or name).
    """
    team = make_team(team_path)
    stamp = secrets.token_hex(3)
    rows: list[dict[str, Any]] = [
        {
            "email": f"p{stamp}-{i}@example.com",
            "name": f"Person {i}",
            "team_id": team.id,
            "role": Role.EMPLOYEE,
            "active": True,
            "session_version": 1,
            "created_at": NOW,
        }
        for i in range(people)
    ]
    for extra in extra_people or []:
        rows.append(
            {
                "team_id": team.id,
                "role": Role.EMPLOYEE,
                "active": True,
                "session_version": 1,
                "created_at": NOW,
                **extra,
            }
        )
    if rows:
        db.session.execute(insert(Person), rows)
    pulse = services.create_pulse(
        title="Answering test pulse", set_ref=set_ref, teams=[team], now=now, actor=None
    )
    secret = app.config["SECRET_KEY"]
    services.open_pulse(
        pulse, now=now, secret_key=secret, actor=None, closes_at=now + timedelta(days=7)
    )
    db.session.commit()
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.pulse_id == pulse.id).order_by(Invitation.id)
    ).all()
    opened = OpenedPulse(
        pulse_id=pulse.id,
        team_id=team.id,
        questions=[
            QuestionInfo(q.id, q.question_key, q.scale, q.dimension, q.reverse, q.required, q.text)
            for q in pulse.questions
        ],
        tokens=[services.invitation_token(inv, secret) for inv in invitations],
    )
    db.session.commit()
    return opened


def random_answers(questions: list[QuestionInfo], rng: random.Random) -> ParsedAnswers:
    """A plausible response: every scale question answered or (sometimes) skipped, and now
    and then a comment."""
    parsed = ParsedAnswers()
    for q in questions:
        scale = SCALES[ScaleKind(q.scale)]
        if scale.kind is ScaleKind.TEXT:
            if rng.random() < 0.3:
                parsed.comments[q.id] = f"Comment {rng.randrange(10**6)}"
        elif rng.random() < 0.9:
            parsed.values[q.id] = rng.randint(scale.minimum, scale.maximum)
    return parsed


def answer_form(questions: list[QuestionInfo], rng: random.Random) -> dict[str, str]:
    """The same as `random_answers`, as the fields of the answer form (`q<id>`)."""
    parsed = random_answers(questions, rng)
    form = {f"q{q.id}": "skip" for q in questions}
    form.update({f"q{qid}": str(v) for qid, v in parsed.values.items()})
    form.update({f"q{qid}": text for qid, text in parsed.comments.items()})
    return form


# --- Checking what was stored ---------------------------------------------------------------------


def count(model: type[Any]) -> int:
    return len(db.session.execute(select(model)).all())


def dump_tables() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the application knows, as column -> value dictionaries."""
    return {
        table.name: [dict(row._mapping) for row in db.session.execute(select(table))]
        for table in db.metadata.sorted_tables
    }


@dataclass(frozen=True)
class TallySnapshot:
    responses: dict[tuple[int, int], int]
    values: dict[tuple[int, int, int, int], int]
    dimensions: dict[tuple[int, int, str], tuple[int, float, float, int]]


def stored_tallies() -> TallySnapshot:
    """The tallies as the submit path maintained them (zero rows left out)."""
    return TallySnapshot(
        responses={
            (t.pulse_id, t.team_id): t.count
            for t in db.session.scalars(select(ResponseTally))
            if t.count
        },
        values={
            (t.pulse_id, t.team_id, t.question_id, t.value): t.count
            for t in db.session.scalars(select(ValueTally))
            if t.count
        },
        dimensions={
            (t.pulse_id, t.team_id, t.dimension): (t.n, t.total, t.total_sq, t.at_risk)
            for t in db.session.scalars(select(DimensionTally))
            if t.n
        },
    )


def recomputed_tallies() -> TallySnapshot:
    """The tallies computed again from the raw responses and answers, as `flask pulse` would."""
    responses: Counter[tuple[int, int]] = Counter()
    team_of: dict[str, tuple[int, int]] = {}
    for rid, pulse_id, team_id in db.session.execute(
        select(Response.id, Response.pulse_id, Response.team_id)
    ):
        responses[(pulse_id, team_id)] += 1
        team_of[rid] = (pulse_id, team_id)
    values: Counter[tuple[int, int, int, int]] = Counter()
    by_response: dict[str, dict[int, int]] = {rid: {} for rid in team_of}
    for rid, qid, value in db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value)
    ):
        values[(*team_of[rid], qid, value)] += 1
        by_response[rid][qid] = value
    items = {
        q.id: ScoredItem(q.id, q.dimension, ScaleKind(q.scale), q.reverse)
        for q in db.session.scalars(select(PulseQuestion))
    }
    sums: dict[tuple[int, int, str], list[float]] = {}
    for rid, answers in by_response.items():
        scored = [items[qid] for qid in answers]
        for dimension, score in dimension_scores(scored, answers).items():
            acc = sums.setdefault((*team_of[rid], dimension), [0, 0.0, 0.0, 0])
            acc[0] += 1
            acc[1] += score
            acc[2] += score * score
            acc[3] += 1 if is_at_risk(dimension, score) else 0
    return TallySnapshot(
        responses=dict(responses),
        values=dict(values),
        dimensions={
            key: (int(n), total, total_sq, int(at_risk))
            for key, (n, total, total_sq, at_risk) in sums.items()
        },
    )


def assert_tallies_match_answers() -> None:
    stored, recomputed = stored_tallies(), recomputed_tallies()
    assert stored.responses == recomputed.responses
    assert stored.values == recomputed.values
    assert stored.dimensions.keys() == recomputed.dimensions.keys()
    for key, (n, total, total_sq, at_risk) in stored.dimensions.items():
        n2, total2, total_sq2, at_risk2 = recomputed.dimensions[key]
        # Sums of floats added in a different order: equal up to rounding.
        assert (n, at_risk) == (n2, at_risk2), key
        assert math.isclose(total, total2, rel_tol=1e-9, abs_tol=1e-6), key
        assert math.isclose(total_sq, total_sq2, rel_tol=1e-9, abs_tol=1e-6), key


# --- A real SMTP server on loopback (tests/smtp.py) ---------------------------------------------


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


def tick_pulse(*, opens_in: timedelta | None = None, people: int = 3) -> Pulse:
    """A "Tick pulse" for Acme/Eng (three engineers and a formula-like name), opening
    `opens_in` from now for three days, or a draft."""
    team = make_team("Acme/Eng")
    for i in range(people):
        make_person(team=team, name=f"Engineer {i}")
    make_person(team=team, name="@SUM(1+1)")
    now = utcnow()
    opens = None if opens_in is None else now + opens_in
    pulse = services.create_pulse(
        title="Tick pulse",
        set_ref="builtin:core",
        teams=[team],
        now=now - timedelta(minutes=10),
        actor=None,
        opens_at=opens,
        closes_at=None if opens is None else now + timedelta(days=3),
    )
    db.session.commit()
    return pulse


def outbox_files(app: Flask) -> list[Path]:
    """The .eml files written to the outbox so far, oldest name first."""
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []
