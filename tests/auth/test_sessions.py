"""Session versions: sign-out-everywhere, password change, deactivation and role change end
every older session, remember-me cookies included."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pulse.auth import services
from pulse.extensions import db
from pulse.org import services as org_services
from pulse.org.models import Person, Role
from tests.conftest import login
from tests.factories import NOW, PASSWORD, make_staff

NEW_PASSWORD = "a brand new passphrase 42"


def _remember_login(client: FlaskClient, email: str) -> str:
    response = client.post("/login", data={"email": email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookie = client.get_cookie("pulse_remember")
    assert cookie is not None
    return cookie.value


def _client_with_only(app: Flask, remember_value: str) -> FlaskClient:
    """A new browser holding nothing but a copied remember-me cookie."""
    other = app.test_client()
    other.set_cookie("pulse_remember", remember_value)
    return other


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account/password").status_code == 200


def test_bump_session_version_changes_the_login_id(app: Flask) -> None:
    person = make_staff(Role.HR)
    before = person.get_id()
    services.bump_session_version(person)
    assert person.get_id() != before
    assert person.get_id().endswith(":2")


def test_remember_cookie_alone_signs_in_until_password_change(
    app: Flask, client: FlaskClient
) -> None:
    make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    remembered = _remember_login(client, "m@example.com")
    assert _signed_in(_client_with_only(app, remembered))

    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302

    # The browser that changed the password stays signed in ...
    assert _signed_in(client)
    # ... but the old remember-me cookie no longer opens anything.
    stale = _client_with_only(app, remembered)
    response = stale.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_keeps_remember_me_for_this_browser(
    app: Flask, client: FlaskClient
) -> None:
    make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    old = _remember_login(client, "m@example.com")
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    renewed = client.get_cookie("pulse_remember")
    assert renewed is not None and renewed.value != old
    assert _signed_in(_client_with_only(app, renewed.value))


def test_sign_out_everywhere_ends_every_session(app: Flask, client: FlaskClient) -> None:
    person = make_staff(Role.LEADER, email="l@example.com")
    db.session.commit()
    remembered = _remember_login(client, "l@example.com")
    laptop = app.test_client()
    login(laptop, "l@example.com")

    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not _signed_in(client)
    assert not _signed_in(laptop)
    assert not _signed_in(_client_with_only(app, remembered))
    db.session.expire_all()
    refreshed = db.session.get(Person, person.id)
    assert refreshed is not None and refreshed.session_version == 2
    db.session.rollback()  # release the test's read transaction before the next request
    # Signing in again works normally.
    login(laptop, "l@example.com")
    assert _signed_in(laptop)


def test_sign_out_everywhere_is_audited(app: Flask, client: FlaskClient) -> None:
    from pulse.audit.models import AuditEvent

    person = make_staff(Role.LEADER, email="l@example.com")
    db.session.commit()
    login(client, "l@example.com")
    client.post("/account/sign-out-everywhere")
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert "auth.sign_out_everywhere" in actions
    assert person.id


def test_deactivation_ends_sessions_and_remember_cookies(app: Flask, client: FlaskClient) -> None:
    person = make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    remembered = _remember_login(client, "m@example.com")
    org_services.deactivate_person(person, now=NOW, actor=None)
    db.session.commit()
    assert not _signed_in(client)
    assert not _signed_in(_client_with_only(app, remembered))


def test_role_change_ends_sessions_and_remember_cookies(app: Flask, client: FlaskClient) -> None:
    person = make_staff(Role.HR, email="h@example.com")
    db.session.commit()
    remembered = _remember_login(client, "h@example.com")
    org_services.set_role(person, Role.MANAGER, now=NOW, actor=None)
    db.session.commit()
    assert client.get("/staff").status_code == 302
    assert not _signed_in(_client_with_only(app, remembered))


def test_logout_clears_the_session(app: Flask, client: FlaskClient) -> None:
    make_staff(Role.HR, email="h@example.com")
    db.session.commit()
    _remember_login(client, "h@example.com")
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert not _signed_in(client)
    assert client.get_cookie("pulse_remember") is None
