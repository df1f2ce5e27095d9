"""Results pages start on, and compare with, pulses that asked the whole team in view.

A pilot's pulses ask only its teams. Before this, the newest pulse of all was the default, so
every other team's dashboard, the heatmap and the comments page opened on a pulse that had not
asked them ("No answers"), and their trends and "change since" compared with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role, Team
from pulse.results import routes
from pulse.surveys.models import Pulse
from tests.conftest import login
from tests.factories import make_person, make_staff, make_team
from tests.results.test_heatmap_routes import make_pulse, tally


@dataclass
class World:
    eng: Team
    sales: Team
    spring: Pulse  # asked the whole organisation
    pilot_wave: Pulse  # newer, asked Sales only


@pytest.fixture
def world(app: Flask) -> World:
    root = make_team("Acme")
    eng, sales = make_team("Acme/Eng"), make_team("Acme/Sales")
    for team in (eng, sales):
        for _ in range(8):
            make_person(team=team)
    now = utcnow()
    spring = make_pulse("Spring everyone", now - timedelta(days=40))
    spring.teams = [root]
    pilot_wave = make_pulse("Pilot wave", now - timedelta(days=12))
    pilot_wave.teams = [sales]
    for team in (eng, sales):
        tally(spring, team, [60.0] * 8)
    tally(pilot_wave, sales, [70.0] * 8)
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    return World(eng, sales, spring, pilot_wave)


def test_a_pulse_that_asked_some_teams_covers_only_them(world: World) -> None:
    login_context = routes.load_context(make_staff(Role.HR))
    eng = routes.scoped_pulses(login_context, [world.eng.id])
    assert eng.listed == eng.covering == [world.spring]
    sales = routes.scoped_pulses(login_context, [world.sales.id])
    assert sales.covering == [world.spring, world.pilot_wave]
    whole = routes.scoped_pulses(login_context, list(login_context.viewer.roots))
    assert whole.listed == [world.spring, world.pilot_wave]
    assert whole.covering == [world.spring]
    assert whole.history(world.pilot_wave) == [world.spring, world.pilot_wave]


def test_a_team_the_pilot_did_not_ask_opens_on_the_pulse_that_asked_it(
    client: FlaskClient, world: World
) -> None:
    login(client, "hr@example.com")
    page = client.get(f"/results/teams/{world.eng.id}").get_data(as_text=True)
    assert "Spring everyone" in page and "Pilot wave" not in page
    assert (
        client.get(f"/results/teams/{world.eng.id}?pulse={world.pilot_wave.id}").status_code == 404
    )
    comments = client.get(f"/results/teams/{world.eng.id}/comments").get_data(as_text=True)
    assert "Pilot wave" not in comments


def test_a_pilot_team_opens_on_its_newest_pulse(client: FlaskClient, world: World) -> None:
    login(client, "hr@example.com")
    page = client.get(f"/results/teams/{world.sales.id}").get_data(as_text=True)
    assert "Pilot wave" in page and "Spring everyone" in page  # shown, compared with spring


def test_the_heatmap_opens_on_the_pulse_that_asked_everyone(
    client: FlaskClient, world: World
) -> None:
    login(client, "hr@example.com")
    response = client.get("/results/heatmap.csv")
    assert "heatmap-spring-everyone.csv" in response.headers["Content-Disposition"]
    chosen = client.get(f"/results/heatmap?pulse={world.pilot_wave.id}")
    assert chosen.status_code == 200 and "Pilot wave" in chosen.get_data(as_text=True)
