"""Staff accounts page (HR only): create or upgrade accounts and send set-password links."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pulse.audit.models import AuditEvent
from pulse.auth import services
from pulse.extensions import db
from pulse.org.models import Person, Role
from pulse.org.queries import person_by_email
from tests.auth.conftest import link_in, text_body
from tests.conftest import login
from tests.factories import NOW, make_person, make_staff, make_team

Outbox = Callable[[], list[EmailMessage]]
NEW_PASSWORD = "marble kettle orbit 19"


@pytest.fixture
def hr(app: Flask, client: FlaskClient) -> Person:
    person = make_staff(Role.HR, email="hr@example.com", name="Hana HR")
    db.session.commit()
    login(client, "hr@example.com")
    return person


def _actions() -> list[str]:
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    db.session.rollback()
    return actions


# Permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"), [("GET", "/staff"), ("POST", "/staff"), ("POST", "/staff/1/send-link")]
)
def test_staff_pages_send_anonymous_visitors_to_sign_in(
    app: Flask, client: FlaskClient, method: str, url: str
) -> None:
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LEADER])
@pytest.mark.parametrize(
    ("method", "url"), [("GET", "/staff"), ("POST", "/staff"), ("POST", "/staff/{id}/send-link")]
)
def test_staff_pages_are_forbidden_to_managers_and_leaders(
    app: Flask, client: FlaskClient, outbox: Outbox, role: Role, method: str, url: str
) -> None:
    make_staff(role, email="someone@example.com")
    target_id = make_staff(Role.MANAGER, email="target@example.com").id
    db.session.commit()
    login(client, "someone@example.com")
    data = {"email": "new@example.com", "name": "New", "role": "hr"}
    response = client.open(url.format(id=target_id), method=method, data=data)
    assert response.status_code == 403
    assert person_by_email("new@example.com") is None
    assert outbox() == []


# The list ------------------------------------------------------------------------------------


def test_empty_state_when_hr_is_alone(client: FlaskClient, hr: Person) -> None:
    page = client.get("/staff").get_data(as_text=True)
    assert "You are the only staff account so far" in page
    assert "Hana HR" in page


def test_list_shows_staff_status_and_leaves_out_employees(
    app: Flask, client: FlaskClient, hr: Person
) -> None:
    team = make_team("Acme/Sales")
    make_staff(Role.MANAGER, name="Mo Manager", manages=[team])
    make_person(name="Leila NoPassword", role=Role.LEADER)
    make_person(name="Eve Employee")
    make_staff(Role.LEADER, name="Gone Leader", active=False)
    db.session.commit()
    page = client.get("/staff").get_data(as_text=True)
    assert "Mo Manager" in page and "Acme/Sales" in page and "Password set" in page
    assert "Leila NoPassword" in page and "No link sent yet" in page
    assert "Gone Leader" in page and "Deactivated" in page
    assert "Eve Employee" not in page
    assert "You are the only staff account" not in page


def test_create_form_is_accessible(client: FlaskClient, hr: Person) -> None:
    make_team("Acme/Eng")
    db.session.commit()
    page = client.get("/staff").get_data(as_text=True)
    for field_id in ("email", "name", "role", "team", "manages"):
        assert f'<label class="label" for="{field_id}">' in page
    assert "Acme/Eng" in page
    assert "multiple" in page


# Creating accounts ---------------------------------------------------------------------------


def test_create_staff_sends_a_link_that_sets_a_password_and_signs_in(
    app: Flask, client: FlaskClient, hr: Person, outbox: Outbox
) -> None:
    team_id = make_team("Acme/Eng").id
    db.session.commit()
    response = client.post(
        "/staff",
        data={
            "email": "New.Manager@Example.com",
            "name": "Nia Manager",
            "role": "manager",
            "team": str(team_id),
            "manages": [str(team_id)],
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Account created. A set-password link was sent to new.manager@example.com" in page
    assert "Link sent" in page

    person = person_by_email("new.manager@example.com")
    assert person is not None
    assert person.role is Role.MANAGER and person.password_hash is None
    assert [t.id for t in person.managed_teams] == [team_id]
    assert person.team_id == team_id
    db.session.rollback()
    assert _actions() == ["staff.create", "staff.link_sent"]

    (message,) = outbox()
    assert message["To"] == "new.manager@example.com"
    assert message["Subject"] == "Set your Pulse password"
    assert "Nia Manager" in text_body(message)
    link = link_in(message)
    assert link.startswith("http://localhost/set-password/")

    # The new manager follows the link in their own browser.
    browser = app.test_client()
    form = browser.get(link)
    assert form.status_code == 200
    assert 'autocomplete="new-password"' in form.get_data(as_text=True)
    response = browser.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert browser.get("/account/password").status_code == 200

    # Signing in with the new password works too, and the link is spent.
    login(app.test_client(), "new.manager@example.com", NEW_PASSWORD)
    spent = app.test_client().get(link)
    assert spent.status_code == 410
    assert "already been used" in spent.get_data(as_text=True)


def test_creating_an_existing_directory_person_upgrades_them(
    client: FlaskClient, hr: Person, outbox: Outbox
) -> None:
    team_id = make_team("Acme/Ops").id
    employee_id = make_person(email="eve@example.com", name="Eve Directory", team="Acme/Ops").id
    db.session.commit()
    response = client.post(
        "/staff",
        data={
            "email": "EVE@example.com",
            "name": "Another Name",
            "role": "manager",
            "manages": [str(team_id)],
        },
        follow_redirects=True,
    )
    assert "Account updated" in response.get_data(as_text=True)
    person = db.session.get(Person, employee_id)
    assert person is not None
    assert person.role is Role.MANAGER
    assert person.name == "Eve Directory"  # the directory keeps its name
    assert [t.id for t in person.managed_teams] == [team_id]
    db.session.rollback()
    assert _actions() == ["person.role", "staff.upgrade", "staff.link_sent"]
    assert len(outbox()) == 1


def test_upgrading_someone_with_a_password_sends_no_link(
    client: FlaskClient, hr: Person, outbox: Outbox
) -> None:
    make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    response = client.post(
        "/staff",
        data={"email": "m@example.com", "name": "M", "role": "leader"},
        follow_redirects=True,
    )
    assert "already has a password and keeps it" in response.get_data(as_text=True)
    assert outbox() == []
    person = person_by_email("m@example.com")
    assert person is not None and person.role is Role.LEADER and person.managed_teams == []


def test_deactivated_person_is_not_upgraded(
    client: FlaskClient, hr: Person, outbox: Outbox
) -> None:
    make_person(email="gone@example.com", active=False)
    db.session.commit()
    page = client.post(
        "/staff", data={"email": "gone@example.com", "name": "Gone", "role": "hr"}
    ).get_data(as_text=True)
    assert "reactivate them in the directory first" in page
    assert outbox() == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "name": "X", "role": "hr"}, "This field is required."),
        ({"email": "not-an-email", "name": "X", "role": "hr"}, "Enter a valid email address."),
        ({"email": "a@example.com", "name": "", "role": "hr"}, "This field is required."),
        ({"email": "a@example.com", "name": "X", "role": "employee"}, "Not a valid choice"),
        ({"email": "a@example.com", "name": "X", "role": "hr", "team": "abc"}, "Invalid Choice"),
        (
            {"email": "a@example.com", "name": "X", "role": "hr", "team": "999"},
            "Not a valid choice",
        ),
        ({"email": "a@example.com", "name": "X", "role": "manager", "manages": "x"}, "Invalid"),
        ({"email": "a@example.com", "name": "X" * 300, "role": "hr"}, "200 characters"),
        ({"email": "a@" + "b" * 300 + ".com", "name": "X", "role": "hr"}, "254 characters"),
    ],
)
def test_bad_staff_forms_are_explained_and_change_nothing(
    client: FlaskClient, hr: Person, outbox: Outbox, data: dict[str, str], message: str
) -> None:
    response = client.post("/staff", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert person_by_email("a@example.com") is None
    assert outbox() == []


def test_names_with_markup_are_escaped_on_the_page_and_in_the_email(
    client: FlaskClient, hr: Person, outbox: Outbox
) -> None:
    # {{7*7}} evaluated would read "49", which the page's clock can show too ("08:49"); use a
    # product no page prints by chance.
    name = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{7*7*7*7*7*7}}'
    client.post("/staff", data={"email": "x@example.com", "name": name, "role": "leader"})
    page = client.get("/staff").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{7*7*7*7*7*7}}" in page and "117649" not in page
    (message,) = outbox()
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    content = str(html.get_content())
    assert "<script>" not in content and "&lt;script&gt;" in content
    person = person_by_email("x@example.com")
    assert person is not None and person.name == name  # stored verbatim


# Sending links again -------------------------------------------------------------------------


def test_send_link_again(client: FlaskClient, hr: Person, outbox: Outbox) -> None:
    leader_id = make_person(email="l@example.com", role=Role.LEADER, name="Lee").id
    db.session.commit()
    response = client.post(f"/staff/{leader_id}/send-link", follow_redirects=True)
    assert "A set-password link was sent to l@example.com" in response.get_data(as_text=True)
    assert [m["To"] for m in outbox()] == ["l@example.com"]
    assert _actions() == ["staff.link_sent"]


@pytest.mark.parametrize("kind", ["employee", "deactivated"])
def test_send_link_refuses_people_without_a_staff_account(
    client: FlaskClient, hr: Person, outbox: Outbox, kind: str
) -> None:
    if kind == "employee":
        person = make_person(email="e@example.com")
    else:
        person = make_person(email="e@example.com", role=Role.MANAGER, active=False)
    person_id = person.id
    db.session.commit()
    response = client.post(f"/staff/{person_id}/send-link", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "employees never need a password" in page or "is deactivated" in page
    assert outbox() == []


def test_send_link_to_unknown_person_is_404(client: FlaskClient, hr: Person) -> None:
    assert client.post("/staff/9999/send-link").status_code == 404


def test_a_resent_link_lets_an_existing_staff_member_reset(
    app: Flask, client: FlaskClient, hr: Person, outbox: Outbox
) -> None:
    manager_id = make_staff(Role.MANAGER, email="m@example.com").id
    db.session.commit()
    other_device = app.test_client()
    login(other_device, "m@example.com")
    client.post(f"/staff/{manager_id}/send-link")
    link = link_in(outbox()[0])
    browser = app.test_client()
    browser.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    # Setting a password ends every older session of the account.
    assert other_device.get("/account/password").status_code == 302
    login(app.test_client(), "m@example.com", NEW_PASSWORD)


def test_create_staff_account_service_refuses_employee_role(app: Flask) -> None:
    with pytest.raises(services.StaffError):
        services.create_staff_account(
            email="x@example.com",
            name="X",
            role=Role.EMPLOYEE,
            team=None,
            manages=[],
            now=NOW,
            actor=None,
        )
