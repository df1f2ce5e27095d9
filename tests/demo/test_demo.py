"""The demo organisation."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pulse.extensions import db
from pulse.org import queries
from pulse.org.models import Person, Role, Team


def test_demo_builds_a_realistic_organisation(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["pulse", "demo"])
    assert result.exit_code == 0, result.output
    assert "Loaded 188 people in 19 teams" in result.output
    assert result.output.count("http://localhost/p/") == 2
    assert "pulse-demo-2026" in result.output
    people = db.session.scalar(select(func.count()).select_from(Person))
    teams = db.session.scalars(select(Team)).all()
    assert people == 188
    assert {t.depth for t in teams} == {0, 1, 2}
    roles = dict(db.session.execute(select(Person.role, func.count()).group_by(Person.role)).all())
    assert roles[Role.HR] == 1 and roles[Role.LEADER] == 1 and roles[Role.MANAGER] >= 12
    # Every team has a manager, and every manager can see their subtree.
    for team in teams:
        if team.parent_id is not None:
            assert team.managers, team.name
    engineering = db.session.scalar(select(Team).where(Team.name == "Engineering"))
    assert engineering is not None
    manager = engineering.managers[0]
    visible = queries.visible_team_ids(manager)
    assert visible is not None and len(visible) == 4


def test_demo_refuses_a_populated_database_unless_if_empty(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["pulse", "demo"]).exit_code == 0
    again = runner.invoke(args=["pulse", "demo"])
    assert again.exit_code != 0 and "already has people" in again.output
    kept = runner.invoke(args=["pulse", "demo", "--if-empty"])
    assert kept.exit_code == 0 and "already loaded" in kept.output


def test_demo_is_refused_in_production(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["pulse", "demo"])
    assert result.exit_code != 0 and "refused in production" in result.output


def test_demo_pulses_have_simulated_answers_that_differ_by_team(
    app: Flask, runner: FlaskCliRunner
) -> None:
    from pulse.db import utcnow
    from pulse.pilots.models import PilotPulse
    from pulse.surveys.models import DimensionTally, Pulse, PulseState, ResponseTally

    assert runner.invoke(args=["pulse", "demo"]).exit_code == 0
    # The organisation's own pulses; the pilot's are tested in test_demo_pilot.py.
    pulses = db.session.scalars(
        select(Pulse).where(Pulse.id.not_in(select(PilotPulse.pulse_id))).order_by(Pulse.opens_at)
    ).all()
    now = utcnow()
    assert [p.state(now) for p in pulses] == [PulseState.CLOSED] * 4 + [PulseState.OPEN]
    assert pulses[0].title == "Baseline pulse"
    baseline = pulses[0].id
    responses = db.session.scalar(
        select(func.sum(ResponseTally.count)).where(ResponseTally.pulse_id == baseline)
    )
    assert responses is not None and 135 <= responses <= 175  # about 80% of 188

    def mean(pulse_id: int, dimension: str, *teams: str) -> float:
        n, total = db.session.execute(
            select(func.sum(DimensionTally.n), func.sum(DimensionTally.total))
            .join(Team, Team.id == DimensionTally.team_id)
            .where(
                DimensionTally.pulse_id == pulse_id,
                DimensionTally.dimension == dimension,
                Team.name.in_(teams),
            )
        ).one()
        return float(total / n)

    closed = [p.id for p in pulses[:4]]
    # Customer Support burns out, then recovers; Sales loses trust pulse by pulse.
    support = [mean(p, "burnout", "Customer Support") for p in closed]
    assert support[2] > support[0] + 8 and support[3] < support[2] - 5
    assert support[0] > mean(baseline, "burnout", "Data") + 20
    sales = [mean(p, "trust", "EMEA", "Americas") for p in closed]
    assert sales[3] < sales[0] - 15
    # HR's 5 people give 4 answers to every closed pulse: always below k = 5.
    hr = db.session.scalars(
        select(ResponseTally.count)
        .join(Team, Team.id == ResponseTally.team_id)
        .where(Team.name == "HR", ResponseTally.pulse_id.in_(closed))
    ).all()
    assert hr == [4, 4, 4, 4]


def test_demo_has_tagged_comments(app: Flask, runner: FlaskCliRunner) -> None:
    from pulse.results.models import CommentTag
    from pulse.surveys.models import Comment

    assert runner.invoke(args=["pulse", "demo"]).exit_code == 0
    assert (db.session.scalar(select(func.count()).select_from(Comment)) or 0) > 100
    assert (db.session.scalar(select(func.count()).select_from(CommentTag)) or 0) >= 5
