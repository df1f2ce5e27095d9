"""Role x route matrix (SECURITY.md): every route in app.url_map, tried as every kind of visitor.

The test fails when a route is added without an entry here, so no page ships unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from pulse.actions.services import ActionFields, ActionLink, log_action
from pulse.auth.services import make_set_password_token
from pulse.db import utcnow
from pulse.extensions import db
from pulse.notify.mail import stop_reminders_token
from pulse.org.links import team_token
from pulse.org.models import Person, Role
from pulse.pilots.services import create_pilot
from pulse.surveys.services import create_pulse, open_pulse
from tests.conftest import build_app, login
from tests.factories import PASSWORD, make_person, make_staff, make_team

OK, DENY, LOGIN = "ok", "deny", "login"
VISITORS = ["anonymous", "employee", "deactivated", "manager_a", "manager_b", "leader", "hr"]


@dataclass
class World:
    team_a: int
    team_a1: int
    team_b: int
    people: dict[str, Person]
    pulse_id: int
    pilot_id: int
    pilot_pulse_id: int  # a scheduled (unopened) pulse of the pilot
    action_id: int

    @property
    def employee_id(self) -> int:
        return self.people["employee"].id


@dataclass(frozen=True)
class Route:
    method: str
    url: Callable[[World], str]
    expect: dict[str, str]
    data: Callable[[World], dict[str, object]] | None = None


def _visitors(**overrides: str) -> dict[str, str]:
    expect = {"anonymous": LOGIN, "employee": LOGIN, "deactivated": LOGIN}
    expect.update(overrides)
    return expect


def public() -> dict[str, str]:
    return dict.fromkeys(VISITORS, OK)


def hr_only() -> dict[str, str]:
    return _visitors(manager_a=DENY, manager_b=DENY, leader=DENY, hr=OK)


def staff() -> dict[str, str]:
    return _visitors(manager_a=OK, manager_b=OK, leader=OK, hr=OK)


def team_a_scoped() -> dict[str, str]:
    """A page about a team inside manager A's subtree."""
    return _visitors(manager_a=OK, manager_b=DENY, leader=OK, hr=OK)


def anonymous_only() -> dict[str, str]:
    """Pages for signed-out visitors; signed-in staff are sent on (a redirect counts as OK)."""
    return public()


ROUTES: dict[str, Route] = {
    "static": Route("GET", lambda w: "/static/pulse.css", public()),
    "core.healthz": Route("GET", lambda w: "/healthz", public()),
    "core.index": Route("GET", lambda w: "/", staff()),
    "auth.login": Route("GET", lambda w: "/login", anonymous_only()),
    "auth.logout": Route("POST", lambda w: "/logout", staff()),
    "auth.change_password": Route("GET", lambda w: "/account/password", staff()),
    "auth.sign_out_everywhere": Route("POST", lambda w: "/account/sign-out-everywhere", staff()),
    "auth.staff": Route("GET", lambda w: "/staff", hr_only()),
    "auth.send_link": Route(
        "POST", lambda w: f"/staff/{w.people['leader'].id}/send-link", hr_only()
    ),
    "auth.set_password": Route("GET", lambda w: f"/set-password/{_link_token(w)}", public()),
    "org.home": Route("GET", lambda w: "/home", staff()),
    "respond.start": Route("GET", lambda w: "/p/" + "x" * 43, public()),
    "respond.answer": Route("GET", lambda w: "/answer", public()),
    "respond.thanks": Route("GET", lambda w: "/thanks", public()),
    "respond.protection": Route("GET", lambda w: "/protection", public()),
    "results.index": Route("GET", lambda w: "/results/", staff()),
    "results.dashboard": Route("GET", lambda w: f"/results/teams/{w.team_a1}", team_a_scoped()),
    "results.dashboard_csv": Route(
        "GET", lambda w: f"/results/teams/{w.team_a1}.csv", team_a_scoped()
    ),
    "results.comments": Route(
        "GET", lambda w: f"/results/teams/{w.team_a1}/comments", team_a_scoped()
    ),
    # No comment with this id exists: every signed-in visitor gets 404 (tests/results/
    # test_comments.py covers tagging a real comment inside and outside one's subtree).
    "results.tag_comment": Route(
        "POST",
        lambda w: "/results/comments/" + "a" * 32 + "/tag",
        _visitors(manager_a=DENY, manager_b=DENY, leader=DENY, hr=DENY),
    ),
    "results.heatmap": Route("GET", lambda w: "/results/heatmap", staff()),
    # Manager B's team was asked in no pulse, so there is nothing to export: 404.
    "results.heatmap_csv": Route("GET", lambda w: "/results/heatmap.csv", team_a_scoped()),
    "surveys.library": Route("GET", lambda w: "/questions", hr_only()),
    "surveys.new_question": Route("GET", lambda w: "/questions/new", hr_only()),
    "surveys.new_set": Route("GET", lambda w: "/questions/sets/new", hr_only()),
    "surveys.import_set": Route("GET", lambda w: "/questions/sets/import", hr_only()),
    "surveys.pulses": Route("GET", lambda w: "/pulses", hr_only()),
    "surveys.new_pulse": Route("GET", lambda w: "/pulses/new", hr_only()),
    "surveys.pulse": Route("GET", lambda w: f"/pulses/{w.pulse_id}", hr_only()),
    "surveys.open_pulse": Route("POST", lambda w: f"/pulses/{w.pulse_id}/open", hr_only()),
    "surveys.close_pulse": Route("POST", lambda w: f"/pulses/{w.pulse_id}/close", hr_only()),
    "surveys.extend_pulse": Route("POST", lambda w: f"/pulses/{w.pulse_id}/extend", hr_only()),
    "surveys.schedule_pulse": Route("POST", lambda w: f"/pulses/{w.pulse_id}/schedule", hr_only()),
    "surveys.retry_invitations": Route("POST", lambda w: f"/pulses/{w.pulse_id}/retry", hr_only()),
    "surveys.send_reminders": Route("POST", lambda w: f"/pulses/{w.pulse_id}/remind", hr_only()),
    "surveys.links_csv": Route("GET", lambda w: f"/pulses/{w.pulse_id}/links.csv", hr_only()),
    "org.directory": Route("GET", lambda w: "/directory", hr_only()),
    "org.people": Route("GET", lambda w: "/directory/people?q=a", hr_only()),
    "org.team": Route("GET", lambda w: f"/directory/teams/{w.team_a1}", team_a_scoped()),
    "org.person": Route("GET", lambda w: f"/directory/people/{w.employee_id}", hr_only()),
    "org.deactivate": Route(
        "POST", lambda w: f"/directory/people/{w.employee_id}/deactivate", hr_only()
    ),
    "org.reactivate": Route(
        "POST", lambda w: f"/directory/people/{w.employee_id}/reactivate", hr_only()
    ),
    # An unknown upload token sends HR back to the upload page (a redirect counts as OK).
    "org.import_upload": Route("GET", lambda w: "/directory/import", hr_only()),
    "org.import_preview": Route("GET", lambda w: "/directory/import/" + "A" * 32, hr_only()),
    "org.import_apply": Route(
        "POST", lambda w: "/directory/import/" + "A" * 32 + "/apply", hr_only()
    ),
    # Outcome metrics (HR); an unknown upload token sends HR back to the upload page.
    "results.metrics": Route("GET", lambda w: "/results/metrics", hr_only()),
    "results.metrics_import": Route("GET", lambda w: "/results/metrics/import", hr_only()),
    "results.metrics_import_apply": Route(
        "POST", lambda w: "/results/metrics/import/" + "A" * 32 + "/apply", hr_only()
    ),
    # Pilots: manager A manages a pilot team; manager B manages no team in the pilot.
    "pilots.index": Route("GET", lambda w: "/pilots/", staff()),
    "pilots.new": Route("GET", lambda w: "/pilots/new", hr_only()),
    "pilots.show": Route("GET", lambda w: f"/pilots/{w.pilot_id}", team_a_scoped()),
    "pilots.report": Route("GET", lambda w: f"/pilots/{w.pilot_id}/report", team_a_scoped()),
    "pilots.report_csv": Route(
        "GET", lambda w: f"/pilots/{w.pilot_id}/report.csv", team_a_scoped()
    ),
    "pilots.move_pulse": Route(
        "POST", lambda w: f"/pilots/{w.pilot_id}/pulses/{w.pilot_pulse_id}/move", hr_only()
    ),
    "pilots.skip_pulse": Route(
        "POST", lambda w: f"/pilots/{w.pilot_id}/pulses/{w.pilot_pulse_id}/skip", hr_only()
    ),
    "pilots.add_pulse": Route("POST", lambda w: f"/pilots/{w.pilot_id}/pulses", hr_only()),
    # Follow-up actions: the action belongs to team A1, inside manager A's subtree.
    "actions.index": Route("GET", lambda w: "/actions", staff()),
    "actions.export": Route("GET", lambda w: "/actions.csv", staff()),
    "actions.new": Route("GET", lambda w: "/actions/new", staff()),
    "actions.show": Route("GET", lambda w: f"/actions/{w.action_id}", team_a_scoped()),
    "actions.edit": Route("GET", lambda w: f"/actions/{w.action_id}/edit", team_a_scoped()),
    "actions.add_update": Route(
        "POST",
        lambda w: f"/actions/{w.action_id}/update",
        team_a_scoped(),
        data=lambda w: {"note": "Booked the room for the retro."},
    ),
    "actions.ask_in_pulse": Route(
        "POST", lambda w: f"/actions/pulses/{w.pilot_pulse_id}/ask", hr_only()
    ),
    "actions.you_said": Route("GET", lambda w: f"/you-said-we-did/{_team_link(w)}", public()),
    # Employees stop reminders from the link in a reminder email: no sign-in, the token is the key.
    "notify.stop_reminders": Route("GET", lambda w: f"/reminders/stop/{_stop_token(w)}", public()),
    "notify.stop_reminders_confirm": Route(
        "POST", lambda w: f"/reminders/stop/{_stop_token(w)}", public()
    ),
}


def _team_link(world: World) -> str:
    return team_token(world.team_a1, current_app.config["SECRET_KEY"])


def _stop_token(world: World) -> str:
    return stop_reminders_token(world.employee_id, current_app.config["SECRET_KEY"])


def _link_token(world: World) -> str:
    return make_set_password_token(
        world.people["manager_b"], secret_key=current_app.config["SECRET_KEY"], now=utcnow()
    )


def build_world() -> World:
    team_a = make_team("Acme/A")
    team_a1 = make_team("Acme/A/A1")
    team_b = make_team("Acme/B")
    people = {
        "employee": make_person(team=team_a1, email="employee@example.com"),
        "deactivated": make_staff(Role.HR, email="gone@example.com"),
        "manager_a": make_staff(Role.MANAGER, manages=[team_a], email="ma@example.com"),
        "manager_b": make_staff(Role.MANAGER, manages=[team_b], email="mb@example.com"),
        "leader": make_staff(Role.LEADER, email="leader@example.com"),
        "hr": make_staff(Role.HR, email="hr@example.com"),
    }
    for _ in range(5):
        make_person(team=team_a1)
    pulse = create_pulse(
        title="Matrix pulse", set_ref="builtin:core", teams=[team_a], now=utcnow(), actor=None
    )
    open_pulse(
        pulse,
        now=utcnow(),
        secret_key=current_app.config["SECRET_KEY"],
        actor=None,
        closes_at=utcnow() + timedelta(days=7),
    )
    pilot = create_pilot(
        name="Matrix pilot",
        hypothesis="A four-day week lowers burnout.",
        starts_on=utcnow().date() + timedelta(days=60),
        ends_on=utcnow().date() + timedelta(days=120),
        pilot_teams=[team_a1],
        comparison_teams=[make_team("Acme/C")],
        now=utcnow(),
        actor=None,
    )
    action = log_action(
        ActionLink(team=team_a1, pulse=pulse, dimension="burnout", source="dashboard"),
        ActionFields(title="Protect focus time", owner=people["manager_a"]),
        actor=people["manager_a"],
        now=utcnow(),
    )
    db.session.commit()
    return World(
        team_a.id,
        team_a1.id,
        team_b.id,
        people,
        pulse.id,
        pilot.id,
        pilot.pulses[0].pulse_id,
        action.id,
    )


def sign_in_as(client: FlaskClient, world: World, visitor: str) -> None:
    if visitor == "anonymous":
        return
    person = world.people[visitor]
    if visitor == "employee":
        # Employees have no password: the login form must refuse them.
        response = client.post("/login", data={"email": person.email, "password": "x" * 12})
        assert response.status_code == 200, "an employee must not be able to sign in"
        return
    login(client, person.email)
    if visitor == "deactivated":
        person.active = False
        person.session_version += 1
        db.session.commit()


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ROUTES.keys())
    assert not missing, f"add these routes to the role x route matrix: {missing}"
    stale = sorted(ROUTES.keys() - endpoints)
    assert not stale, f"the matrix lists routes that no longer exist: {stale}"


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_permissions(app: Flask, client: FlaskClient, endpoint: str, visitor: str) -> None:
    route = ROUTES[endpoint]
    world = build_world()
    sign_in_as(client, world, visitor)
    url = route.url(world)
    data = route.data(world) if route.data else {}
    response = client.open(url, method=route.method, data=data)
    response.close()
    location = response.headers.get("Location", "")
    expected = route.expect[visitor]
    got = f"{response.status_code} {location}".strip()
    if expected == LOGIN:
        assert response.status_code == 302 and "/login" in location, got
    elif expected == DENY:
        assert response.status_code in {403, 404}, got
    else:
        assert response.status_code < 400, got
        assert not (response.status_code == 302 and "/login?" in location), got


# Pages whose form posts back to the same URL (GET shows the form, POST submits it).
FORM_PAGES = [
    "surveys.new_question",
    "surveys.new_set",
    "surveys.import_set",
    "surveys.new_pulse",
    "auth.change_password",
    "pilots.new",
    "actions.new",
    "results.metrics_import",
]
# One-click unsubscribe (RFC 8058): mail programs POST without a CSRF token; the signed token in
# the URL is the credential, and all it can do is stop reminders to its own person
# (tests/notify/test_unsubscribe.py).
CSRF_EXEMPT = {"notify.stop_reminders_confirm"}
POST_ROUTES = sorted(
    ({name for name, route in ROUTES.items() if route.method == "POST"} | set(FORM_PAGES))
    - CSRF_EXEMPT
)


@pytest.mark.parametrize("endpoint", POST_ROUTES)
def test_every_state_changing_route_requires_a_csrf_token(tmp_path: Path, endpoint: str) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'csrf.db'}", tmp_path / "inst", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        world = build_world()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "the login form must carry a CSRF token"
        signed_in = client.post(
            "/login",
            data={"email": "hr@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert signed_in.status_code == 302
        route = ROUTES[endpoint]
        before = _snapshot()
        response = client.open(route.url(world), method="POST", data={})
        assert response.status_code == 400, endpoint
        assert _snapshot() == before, f"{endpoint} changed data without a CSRF token"
        db.session.remove()
        db.engine.dispose()


def _snapshot() -> list[tuple[object, ...]]:
    """Every person's mutable state, to prove a refused request changed nothing."""
    db.session.expire_all()
    rows = db.session.execute(
        select(
            Person.id, Person.active, Person.role, Person.password_hash, Person.session_version
        ).order_by(Person.id)
    ).all()
    return [tuple(row) for row in rows]
