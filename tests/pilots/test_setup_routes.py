"""Pilot pages: who may open each one, the set-up form, and the schedule buttons."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role, Team
from pulse.pilots import services
from pulse.pilots.models import Phase, Pilot
from pulse.surveys.models import Pulse
from tests.conftest import login
from tests.factories import make_person, make_staff, make_team


def _start() -> date:
    return utcnow().date() + timedelta(weeks=8)


def _world() -> dict[str, Team]:
    teams = {
        "north": make_team("Acme/Ops/North"),
        "south": make_team("Acme/Ops/South"),
        "sales": make_team("Acme/Sales"),
        "other": make_team("Acme/Other"),
    }
    for team in teams.values():
        make_person(team=team)
    return teams


def _pilot(teams: dict[str, Team]) -> Pilot:
    pilot = services.create_pilot(
        name="Four-day week",
        hypothesis="Less burnout.",
        starts_on=_start(),
        ends_on=_start() + timedelta(weeks=12),
        pilot_teams=[teams["north"]],
        comparison_teams=[teams["sales"]],
        now=utcnow(),
        actor=None,
    )
    db.session.commit()
    return pilot


def _as(client: FlaskClient, role: Role, manages: list[Team] | None = None) -> None:
    person = make_staff(role, manages=manages)
    db.session.commit()
    login(client, person.email)


def _form(teams: dict[str, Team], **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Hybrid pilot",
        "hypothesis": "Two office days help.",
        "starts_on": _start().isoformat(),
        "ends_on": (_start() + timedelta(weeks=10)).isoformat(),
        "pilot_teams": [str(teams["north"].id), str(teams["south"].id)],
        "comparison_teams": [str(teams["sales"].id)],
        "question_set": "builtin:four_day_week",
        "baseline_pulses": "2",
        "cadence_weeks": "2",
        "open_days": "7",
        "timezone": "Europe/Berlin",
        "min_group": "5",
        "min_comment_group": "10",
    }
    data.update(overrides)
    return data


# --- Permissions --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    pilot = _pilot(_world())
    first = pilot.pulses[0].pulse_id
    for method, url in [
        ("get", "/pilots/"),
        ("get", "/pilots/new"),
        ("post", "/pilots/new"),
        ("get", f"/pilots/{pilot.id}"),
        ("post", f"/pilots/{pilot.id}/pulses/{first}/move"),
        ("post", f"/pilots/{pilot.id}/pulses/{first}/skip"),
        ("post", f"/pilots/{pilot.id}/pulses"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_hr_sees_everything(app: Flask, client: FlaskClient) -> None:
    pilot = _pilot(_world())
    _as(client, Role.HR)
    assert client.get("/pilots/").status_code == 200
    assert client.get("/pilots/new").status_code == 200
    page = client.get(f"/pilots/{pilot.id}").get_data(as_text=True)
    assert "Four-day week \u00b7 Baseline 1" in page
    assert "Add a pulse" in page and "Skip" in page


def test_leader_sees_pilots_but_cannot_edit(app: Flask, client: FlaskClient) -> None:
    pilot = _pilot(_world())
    first = pilot.pulses[0].pulse_id
    _as(client, Role.LEADER)
    assert "Four-day week" in client.get("/pilots/").get_data(as_text=True)
    page = client.get(f"/pilots/{pilot.id}").get_data(as_text=True)
    assert "Add a pulse" not in page
    assert client.get("/pilots/new").status_code == 403
    assert client.post("/pilots/new", data={}).status_code == 403
    assert client.post(f"/pilots/{pilot.id}/pulses/{first}/skip").status_code == 403
    assert client.post(f"/pilots/{pilot.id}/pulses/{first}/move").status_code == 403
    assert client.post(f"/pilots/{pilot.id}/pulses").status_code == 403


@pytest.mark.parametrize(("managed", "visible"), [("north", True), ("ops", True), ("other", False)])
def test_managers_see_only_pilots_involving_their_teams(
    app: Flask, client: FlaskClient, managed: str, visible: bool
) -> None:
    teams = _world()
    teams["ops"] = make_team("Acme/Ops")  # contains the pilot team North
    pilot = _pilot(teams)
    _as(client, Role.MANAGER, manages=[teams[managed]])
    listing = client.get("/pilots/").get_data(as_text=True)
    assert ("Four-day week" in listing) is visible
    assert client.get(f"/pilots/{pilot.id}").status_code == (200 if visible else 404)
    assert client.get("/pilots/new").status_code == 403
    assert client.post(f"/pilots/{pilot.id}/pulses").status_code == 403


def test_empty_state_invites_hr_to_create(app: Flask, client: FlaskClient) -> None:
    _as(client, Role.HR)
    page = client.get("/pilots/").get_data(as_text=True)
    assert "No pilots yet" in page and "/pilots/new" in page


def test_unknown_pilot_is_404(app: Flask, client: FlaskClient) -> None:
    _as(client, Role.HR)
    assert client.get("/pilots/999").status_code == 404
    assert client.post("/pilots/999/pulses", data={}).status_code == 404


# --- Set-up form --------------------------------------------------------------------------------


def test_hr_creates_a_pilot(app: Flask, client: FlaskClient) -> None:
    teams = _world()
    _as(client, Role.HR)
    response = client.post("/pilots/new", data=_form(teams))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    pilot = db.session.scalar(select(Pilot))
    assert pilot is not None and pilot.timezone == "Europe/Berlin"
    assert response.headers["Location"].endswith(f"/pilots/{pilot.id}")
    assert len(pilot.pulses) == db.session.scalar(select(func.count()).select_from(Pulse))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_on": "2020-01-01"}, "The end date must be after the start date."),
        ({"starts_on": "not a date"}, "Enter a date"),
        ({"baseline_pulses": "many"}, "Enter a whole number."),
        ({"baseline_pulses": "0"}, "Choose a number from 1"),
        ({"cadence_weeks": "3"}, "every 2 weeks"),
        ({"timezone": "Nowhere/Land"}, "is not a time zone"),
        ({"pilot_teams": []}, "Choose at least one pilot team."),
        ({"pilot_teams": ["abc", "99999"]}, "no longer exist"),
        ({"question_set": "builtin:nope"}, "Choose one of the question sets."),
        ({"open_days": "99"}, "Choose a number from 1 to 28."),
        ({"min_group": "1"}, "Choose a number from 3"),
        ({"name": "x" * 500}, "Keep the name under 120 characters."),
    ],
)
def test_bad_input_is_explained_never_a_500(
    app: Flask, client: FlaskClient, overrides: dict[str, object], message: str
) -> None:
    teams = _world()
    _as(client, Role.HR)
    response = client.post("/pilots/new", data=_form(teams, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Pilot)) == 0


def test_overlapping_arms_are_explained(app: Flask, client: FlaskClient) -> None:
    teams = _world()
    ops = make_team("Acme/Ops")
    _as(client, Role.HR)
    data = _form(teams, comparison_teams=[str(ops.id), str(teams["north"].id)])
    page = client.post("/pilots/new", data=data).get_data(as_text=True)
    assert "both a pilot and a comparison team" in page
    assert "lies inside" in page


def test_too_early_start_names_the_earliest_date(app: Flask, client: FlaskClient) -> None:
    teams = _world()
    _as(client, Role.HR)
    soon = utcnow().date() + timedelta(days=3)
    data = _form(teams, starts_on=soon.isoformat())
    page = client.post("/pilots/new", data=data).get_data(as_text=True)
    assert "The earliest start date that works is" in page


# --- Schedule buttons ---------------------------------------------------------------------------


def test_hr_moves_skips_and_adds(app: Flask, client: FlaskClient) -> None:
    pilot = _pilot(_world())
    pilot_id = pilot.id
    baseline = next(p.pulse_id for p in pilot.pulses if p.phase is Phase.BASELINE)
    during = next(p.pulse_id for p in pilot.pulses if p.phase is Phase.DURING)
    _as(client, Role.HR)
    new_open = (_start() - timedelta(days=20)).isoformat() + "T09:00"
    response = client.post(
        f"/pilots/{pilot_id}/pulses/{baseline}/move", data={"opens_at": new_open}
    )
    assert response.status_code == 302
    moved = db.session.get(Pulse, baseline)
    assert moved is not None and moved.opens_at is not None
    assert moved.opens_at.date() == _start() - timedelta(days=20)
    assert client.post(f"/pilots/{pilot_id}/pulses/{during}/skip").status_code == 302
    db.session.expire_all()
    assert db.session.get(Pulse, during) is None
    day = (_start() + timedelta(days=3)).isoformat()
    response = client.post(f"/pilots/{pilot_id}/pulses", data={"phase": "during", "day": day})
    assert response.status_code == 302
    page = client.get(f"/pilots/{pilot_id}").get_data(as_text=True)
    assert "was added to the schedule" in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"opens_at": "garbage"},
        {"opens_at": "2020-01-01T09:00"},
        {"opens_at": "9999-12-31T23:59"},
        {"opens_at": "2030-01-01T09:00", "closes_at": "2029-01-01T09:00"},
    ],
)
def test_garbage_moves_are_flashed_never_a_500(
    app: Flask, client: FlaskClient, data: dict[str, str]
) -> None:
    pilot = _pilot(_world())
    first = pilot.pulses[0].pulse_id
    _as(client, Role.HR)
    response = client.post(f"/pilots/{pilot.id}/pulses/{first}/move", data=data)
    assert response.status_code == 302
    page = client.get(f"/pilots/{pilot.id}").get_data(as_text=True)
    assert "flash--error" in page


@pytest.mark.parametrize(
    "data", [{}, {"phase": "nonsense", "day": "2030-01-01"}, {"phase": "final", "day": "x"}]
)
def test_garbage_additions_are_flashed(
    app: Flask, client: FlaskClient, data: dict[str, str]
) -> None:
    pilot = _pilot(_world())
    _as(client, Role.HR)
    assert client.post(f"/pilots/{pilot.id}/pulses", data=data).status_code == 302
    assert "flash--error" in client.get(f"/pilots/{pilot.id}").get_data(as_text=True)


def test_skipping_a_pulse_of_another_pilot_is_refused(app: Flask, client: FlaskClient) -> None:
    pilot = _pilot(_world())
    _as(client, Role.HR)
    assert client.post(f"/pilots/{pilot.id}/pulses/424242/skip").status_code == 302
    assert "not part of this pilot" in client.get(f"/pilots/{pilot.id}").get_data(as_text=True)
