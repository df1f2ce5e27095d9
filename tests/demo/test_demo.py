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
    assert "Loaded 149 people in 14 teams" in result.output
    assert result.output.count("http://localhost/p/") == 2
    assert "pulse-demo-2026" in result.output
    people = db.session.scalar(select(func.count()).select_from(Person))
    teams = db.session.scalars(select(Team)).all()
    assert people == 149
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
    from pulse.surveys.models import DimensionTally, Pulse, PulseState, ResponseTally

    assert runner.invoke(args=["pulse", "demo"]).exit_code == 0
    pulses = {p.title: p for p in db.session.scalars(select(Pulse))}
    now = utcnow()
    assert pulses["Baseline pulse"].state(now) is PulseState.CLOSED
    assert pulses["November pulse"].state(now) is PulseState.OPEN
    baseline = pulses["Baseline pulse"].id
    responses = db.session.scalar(
        select(func.sum(ResponseTally.count)).where(ResponseTally.pulse_id == baseline)
    )
    assert responses is not None and 100 <= responses <= 140  # about 80% of 149
    burnout = {
        name: total / n
        for name, total, n in db.session.execute(
            select(Team.name, DimensionTally.total, DimensionTally.n)
            .join(Team, Team.id == DimensionTally.team_id)
            .where(DimensionTally.pulse_id == baseline, DimensionTally.dimension == "burnout")
        ).all()
    }
    assert burnout["Customer Support"] > burnout["Data"] + 20
