"""Who may use each actions route: managers inside their subtree, leaders and HR everywhere;
a manager gets 404 for anything outside (never 403); employees and visitors go to login."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pulse.actions.models import Action, ActionStatus, ActionUpdate
from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org.models import Role
from tests.actions.conftest import World
from tests.conftest import login
from tests.factories import PASSWORD, make_staff


def _form(world: World, team: str = "Platform", **extra: str) -> dict[str, str]:
    data = {
        "team": str(world.teams[team].id) if team in world.teams else team,
        "title": "Protect focus time",
        "description": "No meetings on Friday mornings",
        "outcome": "productivity",
        "pulse": str(world.pulses[0].id),
        "dimension": "trust",
        "owner": str(world.staff["eng"].id),
        "due_on": "2027-01-15",
        "status": "planned",
        "drop_reason": "",
        "visible": "y",
    }
    data.update(extra)
    return data


def _urls(action_id: int) -> list[str]:
    return [
        f"/actions/{action_id}",
        f"/actions/{action_id}/edit",
    ]


# --- anonymous and employees ---


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, world: World) -> None:
    action = world.log("Platform")
    gets = ["/actions", "/actions.csv", "/actions/new", *_urls(action.id)]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url in (f"/actions/{action.id}/update", f"/actions/pulses/{world.pulses[0].id}/ask"):
        response = client.post(url, data={})
        assert response.status_code in (302, 400), url
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_employees_cannot_sign_in_to_actions(client: FlaskClient, world: World) -> None:
    make_staff(Role.EMPLOYEE, email="employee@example.com")
    action = world.log("Platform")
    client.post("/login", data={"email": "employee@example.com", "password": PASSWORD})
    for url in ["/actions", "/actions/new", *_urls(action.id)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


# --- managers ---


def test_a_manager_sees_edits_and_updates_actions_inside_their_subtree(
    client: FlaskClient, world: World
) -> None:
    action = world.log("Platform")
    login(client, "eng@example.com")
    for url in ["/actions", "/actions/new", *_urls(action.id), "/actions.csv"]:
        assert client.get(url).status_code == 200, url
    assert "Fix the rota" in client.get("/actions").get_data(as_text=True)
    response = client.post(
        f"/actions/{action.id}/update",
        data={"note": "Started", "status": "in_progress", "visible": "y"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Action, action.id).status is ActionStatus.IN_PROGRESS


def test_a_manager_gets_404_for_actions_outside_their_subtree(
    client: FlaskClient, world: World
) -> None:
    action = world.log("Sales", title="Sales only")
    login(client, "eng@example.com")
    for url in _urls(action.id):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/actions/{action.id}/update", data={"note": "x"}).status_code == 404
    assert client.post(f"/actions/{action.id}/edit", data=_form(world)).status_code == 404
    assert client.get(f"/actions/{action.id + 999}").status_code == 404
    assert "Sales only" not in client.get("/actions").get_data(as_text=True)
    assert "Sales only" not in client.get("/actions.csv").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Action, action.id).updates == []


def test_a_manager_cannot_link_an_action_to_a_team_outside(
    client: FlaskClient, world: World
) -> None:
    login(client, "eng@example.com")
    sales = world.teams["Sales"].id
    assert client.get(f"/actions/new?team={sales}").status_code == 404
    assert client.get("/actions/new?team=999999").status_code == 404
    assert client.get("/actions/new?team=org").status_code == 404
    assert client.get(f"/actions?team={sales}").status_code == 404
    assert client.post(f"/actions/new?team={sales}", data=_form(world)).status_code == 404
    # Through the form's own team field: refused, nothing written.
    response = client.post("/actions/new", data=_form(world, team="Sales"))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_a_manager_cannot_move_an_action_outside_their_subtree(
    client: FlaskClient, world: World
) -> None:
    action = world.log("Platform")
    login(client, "eng@example.com")
    response = client.post(f"/actions/{action.id}/edit", data=_form(world, team="Sales"))
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Action, action.id).team_id == world.teams["Platform"].id


def test_organisation_wide_actions_are_read_only_for_managers(
    client: FlaskClient, world: World
) -> None:
    action = world.log(None, title="Company-wide review")
    login(client, "eng@example.com")
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "Company-wide review" in page and "Add an update" not in page
    assert client.get(f"/actions/{action.id}/edit").status_code == 404
    assert client.post(f"/actions/{action.id}/update", data={"note": "x"}).status_code == 404


def test_a_manager_logs_an_action_from_the_dashboard(client: FlaskClient, world: World) -> None:
    login(client, "eng@example.com")
    platform, pulse = world.teams["Platform"].id, world.pulses[0].id
    url = f"/actions/new?team={platform}&pulse={pulse}&dimension=trust&source=dashboard"
    page = client.get(url).get_data(as_text=True)
    assert f'<option selected value="{platform}">' in page, page[page.index("<select") :][:600]
    response = client.post(url, data=_form(world))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    action = db.session.scalars(select(Action)).one()
    assert (action.team_id, action.pulse_id, action.dimension, action.source) == (
        platform,
        pulse,
        "trust",
        "dashboard",
    )
    assert action.owner_id == world.staff["eng"].id
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "action.create" in events


def test_bad_prefill_and_form_values_are_messages_not_errors(
    client: FlaskClient, world: World
) -> None:
    login(client, "hr@example.com")
    page = client.get("/actions/new?pulse=999999&dimension=nonsense&outcome=zzz&source=evil")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "That pulse does not exist." in text
    assert "That is not a dimension Pulse reports." in text
    for bad in (
        {"due_on": "31/31/2026"},
        {"due_on": "9999-01-01"},
        {"pulse": "abc"},
        {"dimension": "comments"},
        {"owner": "999999"},
        {"status": "dropped"},
        {"title": ""},
        {"title": "x" * 5000},
        {"team": "not-a-team"},
        {"outcome": "<script>"},
    ):
        response = client.post("/actions/new", data=_form(world, **bad))
        assert response.status_code == 400, bad
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_a_manager_may_only_pick_owners_in_their_teams(client: FlaskClient, world: World) -> None:
    login(client, "eng@example.com")
    response = client.post("/actions/new", data=_form(world, owner=str(world.staff["sales"].id)))
    assert response.status_code == 400
    assert "Choose an owner from the list." in response.get_data(as_text=True)


# --- leaders and HR -----------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["hr@example.com", "leader@example.com"])
def test_leaders_and_hr_may_do_everything(client: FlaskClient, world: World, email: str) -> None:
    action = world.log("Sales")
    login(client, email)
    for url in [
        "/actions",
        "/actions/new",
        "/actions/new?team=org",
        *_urls(action.id),
        "/actions.csv",
    ]:
        assert client.get(url).status_code == 200, url
    # The world's pulses asked Eng and Sales, not the top of the organisation, so an
    # organisation-wide action cannot point back to them.
    org_form = _form(world, team="org", owner=str(world.staff["sales"].id), pulse="")
    response = client.post("/actions/new?team=org", data=org_form)
    assert response.status_code == 303
    response = client.post(
        f"/actions/{action.id}/edit", data=_form(world, team="Sales", title="Renamed")
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Action, action.id).title == "Renamed"


def test_only_hr_may_ask_about_actions_in_a_pulse(client: FlaskClient, world: World) -> None:
    login(client, "leader@example.com")
    assert client.post(f"/actions/pulses/{world.pulses[0].id}/ask").status_code == 403
    client.post("/logout")
    login(client, "eng@example.com")
    assert client.post(f"/actions/pulses/{world.pulses[0].id}/ask").status_code == 403


def test_an_update_needs_a_note_or_a_status(client: FlaskClient, world: World) -> None:
    action = world.log("Platform")
    login(client, "eng@example.com")
    response = client.post(f"/actions/{action.id}/update", data={"note": " ", "status": ""})
    assert response.status_code == 400
    assert "Write a note or choose a new status." in response.get_data(as_text=True)
    response = client.post(f"/actions/{action.id}/update", data={"status": "dropped"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ActionUpdate)) == 0
