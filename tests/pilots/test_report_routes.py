"""The pilot report page and its CSV: who may open them, what they show, what they never show."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role
from pulse.pilots.models import Arm, Phase, PilotTeam
from tests.conftest import login
from tests.factories import make_staff, make_team
from tests.pilots.test_report import World, build_world, link, make_pilot, make_pulse

TELLTALE = "97"  # Tiny's burnout and trust, below k: never on a page or in a file


@pytest.fixture
def world(app: Flask) -> World:
    return build_world()


def staff(role: Role, *teams: str, world: World | None = None) -> str:
    manages = [world.teams[t] for t in teams] if world else None
    person = make_staff(role, manages=manages)
    db.session.commit()
    return person.email


def _text(page: str) -> str:
    main = page[page.index("<main") : page.index("</main>")]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def _url(world: World, suffix: str = "") -> str:
    return f"/pilots/{world.pilot.id}/report{suffix}"


# --- who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HR, Role.LEADER])
def test_hr_and_leaders_open_any_report(client: FlaskClient, world: World, role: Role) -> None:
    login(client, staff(role))
    assert client.get(_url(world)).status_code == 200
    assert client.get(_url(world, ".csv")).status_code == 200


@pytest.mark.parametrize("team", ["P1", "Acme", "Ops"])
def test_a_manager_of_an_arm_team_or_above_one_opens_it(
    client: FlaskClient, world: World, team: str
) -> None:
    login(client, staff(Role.MANAGER, team, world=world))
    assert client.get(_url(world)).status_code == 200
    assert client.get(_url(world, ".csv")).status_code == 200


def test_a_manager_elsewhere_gets_404(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.MANAGER, "Elsewhere", world=world))
    assert client.get(_url(world)).status_code == 404
    assert client.get(_url(world, ".csv")).status_code == 404


def test_an_unknown_pilot_is_404(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    assert client.get("/pilots/999999/report").status_code == 404
    assert client.get("/pilots/999999/report.csv").status_code == 404


def test_anonymous_visitors_and_employees_are_sent_to_login(
    client: FlaskClient, world: World
) -> None:
    for url in (_url(world), _url(world, ".csv")):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    make_staff(Role.EMPLOYEE, email="employee@example.com")
    db.session.commit()
    client.post("/login", data={"email": "employee@example.com", "password": "x"})
    for url in (_url(world), _url(world, ".csv")):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the page ------------------------------------------------------------------------------------


def test_the_report_shows_effect_interval_verdict_and_chart(
    client: FlaskClient, world: World
) -> None:
    login(client, staff(Role.HR))
    page = client.get(_url(world)).get_data(as_text=True)
    text = _text(page)
    assert "Pilot report: Four-day week" in text
    assert "A four-day week lowers burnout" in text
    assert "Burnout fell about 12 points more in pilot teams" in text
    assert "\u221212 points" in text  # the difference in differences, with a real minus sign
    assert "Trends were parallel before the pilot." in text
    assert "No clear difference" in text  # trust
    assert "eNPS is not compared" in text
    assert '<svg class="chart chart--event"' in page and "Pilot starts" in page
    assert "Show the numbers" in text
    assert "fixed seed" in text
    assert "% who improved" not in text


def test_a_unit_below_k_appears_in_no_number(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    for code in ("burnout", "trust"):
        text = _text(client.get(_url(world, f"?dimension={code}")).get_data(as_text=True))
        assert TELLTALE not in text
        assert "43" not in text  # pilot respondents with Tiny's 3
        assert "40" in text  # without them
        assert "Tiny" in text  # named among the teams without results, with no figures
    body = client.get(_url(world, ".csv")).get_data(as_text=True)
    assert TELLTALE not in body
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert not any(row[2] == "Tiny" for row in rows[1:])
    respondents = [row for row in rows if row[0] == "participation" and row[4] == "respondents"]
    assert {row[5] for row in respondents if row[2] == "pilot"} == {"40"}


def test_unit_rows_only_for_the_managers_own_teams(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.MANAGER, "P1", world=world))
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Per team" in page
    table = page[page.index("Per team") :]
    table = table[: table.index("</table>")]
    assert ">P1<" in table and ">P2<" not in table and ">C1<" not in table
    body = client.get(_url(world, ".csv")).get_data(as_text=True)
    teams = {row[2] for row in csv.reader(io.StringIO(body)) if row and row[0] == "team"}
    assert teams == {"P1"}


def test_hr_sees_every_visible_unit_row(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    body = client.get(_url(world, ".csv")).get_data(as_text=True)
    teams = {row[2] for row in csv.reader(io.StringIO(body)) if row and row[0] == "team"}
    assert teams == {f"P{i}" for i in range(1, 6)} | {f"C{i}" for i in range(1, 6)}


def test_an_unknown_dimension_falls_back_to_burnout(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    page = client.get(_url(world, "?dimension=<script>")).get_data(as_text=True)
    assert "Burnout in detail" in page and "<script>" not in page
    assert "Trust in detail" in client.get(_url(world, "?dimension=trust")).get_data(as_text=True)


def test_the_empty_state_names_the_first_opening(client: FlaskClient, app: Flask) -> None:
    now = utcnow()
    team = make_team("Acme/Solo")
    pilot = make_pilot(
        "Later", (now + timedelta(days=30)).date(), (now + timedelta(days=90)).date()
    )
    db.session.add(PilotTeam(pilot_id=pilot.id, team_id=team.id, arm=Arm.PILOT))
    pulse = make_pulse("Baseline 1", now + timedelta(days=3))
    pulse.frozen_at = None
    link(pilot, pulse, Phase.BASELINE, 1)
    db.session.commit()
    login(client, staff(Role.HR))
    text = _text(client.get(f"/pilots/{pilot.id}/report").get_data(as_text=True))
    assert "No results yet" in text and "The first baseline opens on" in text
    assert "no comparison teams" in text


def test_log_an_action_link_only_when_actions_exist(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    page = client.get(_url(world)).get_data(as_text=True)
    app = client.application
    if "actions.new" in app.view_functions:
        assert "Log an action" in page
        assert "source=pilot" in page and "dimension=burnout" in page
    else:
        assert "Log an action" not in page


# --- the CSV -------------------------------------------------------------------------------------


def test_the_csv_is_safe_against_formulas(client: FlaskClient, app: Flask) -> None:
    world = build_world()
    world.teams["C1"].name = "=HYPERLINK(1)"
    db.session.commit()
    login(client, staff(Role.HR))
    response = client.get(_url(world, ".csv"))
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body
    assert not re.search(r"(^|,)=HYPERLINK", body, re.MULTILINE)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    [effect] = [r for r in rows if r[0] == "effect" and r[1] == "Burnout"]
    assert float(effect[5]) == pytest.approx(-11.7, abs=0.05)
    assert float(effect[7]) < 0  # the interval's upper end is below zero


def test_without_comparison_teams_the_page_shows_before_and_after_only(
    client: FlaskClient, app: Flask
) -> None:
    world = build_world(with_comparison=False)
    login(client, staff(Role.HR))
    text = _text(client.get(_url(world)).get_data(as_text=True))
    assert "\u221211 points (pilot teams only)" in text  # 63 -> 51.6, no comparison to subtract
    assert "cannot separate the pilot from everything else that changed" in text
    assert "needs comparison teams" in text  # no event-study chart
