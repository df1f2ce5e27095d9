"""Set-password links: signed, single-use, expiring, and friendly when they cannot be used."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from pulse.auth import services
from pulse.auth.emails import describe_duration
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org import services as org_services
from pulse.org.models import Person, Role
from pulse.org.queries import person_by_email
from tests.conftest import login
from tests.factories import NOW, make_person, make_staff

SECRET = "test-secret-key-not-for-production-use-0123456789"
MAX_AGE = timedelta(hours=72)
NEW_PASSWORD = "willow parcel crane 31"


def _token(person: Person, now: datetime = NOW) -> str:
    return services.make_set_password_token(person, secret_key=SECRET, now=now)


def _resolve(token: str, now: datetime = NOW, secret: str = SECRET) -> Person:
    return services.person_for_set_password_token(
        token, secret_key=secret, max_age=MAX_AGE, now=now
    )


# Service -------------------------------------------------------------------------------------


def test_token_resolves_to_its_person_until_it_expires(app: Flask) -> None:
    person = make_person(role=Role.MANAGER)
    token = _token(person)
    assert _resolve(token, now=NOW + MAX_AGE) is person
    with pytest.raises(services.LinkExpired):
        _resolve(token, now=NOW + MAX_AGE + timedelta(seconds=1))


def test_token_from_the_future_is_refused(app: Flask) -> None:
    person = make_person(role=Role.MANAGER)
    with pytest.raises(services.InvalidLink):
        _resolve(_token(person, now=NOW + timedelta(hours=1)), now=NOW)


def test_token_is_spent_by_setting_a_password(app: Flask) -> None:
    person = make_person(role=Role.HR)
    token = _token(person)
    services.set_password(person, NEW_PASSWORD, method="scrypt:1024:8:1", now=NOW, actor=person)
    with pytest.raises(services.LinkAlreadyUsed):
        _resolve(token)


def test_token_dies_with_a_session_version_bump(app: Flask) -> None:
    person = make_staff(Role.HR)
    token = _token(person)
    services.bump_session_version(person)
    with pytest.raises(services.LinkAlreadyUsed):
        _resolve(token)


@pytest.mark.parametrize("change", ["deactivate", "demote"])
def test_token_refused_for_people_who_may_not_sign_in(app: Flask, change: str) -> None:
    person = make_person(role=Role.MANAGER)
    token = _token(person)
    if change == "deactivate":
        org_services.deactivate_person(person, now=NOW, actor=None)
    else:
        person.role = Role.EMPLOYEE
    with pytest.raises(services.InvalidLink):
        _resolve(token)


def test_tampered_or_foreign_tokens_are_invalid(app: Flask) -> None:
    person = make_person(role=Role.MANAGER)
    token = _token(person)
    with pytest.raises(services.InvalidLink):
        _resolve(token, secret="another-secret-key-0123456789-abcdefghijkl")
    with pytest.raises(services.InvalidLink):
        _resolve(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(services.InvalidLink):
        _resolve("")
    # A token signed for another purpose (a different salt) is refused too.
    other = URLSafeTimedSerializer(SECRET, salt="something-else").dumps([person.id, "x"])
    with pytest.raises(services.InvalidLink):
        _resolve(other)


def test_describe_duration() -> None:
    assert describe_duration(timedelta(hours=72)) == "3 days"
    assert describe_duration(timedelta(hours=1)) == "1 hour"
    assert describe_duration(timedelta(minutes=90)) == "90 minutes"
    assert describe_duration(timedelta(seconds=5)) == "5 seconds"


# Pages ---------------------------------------------------------------------------------------


def _link_for(app: Flask, email: str) -> str:
    person = person_by_email(email)
    assert person is not None
    token = services.make_set_password_token(
        person, secret_key=app.config["SECRET_KEY"], now=utcnow()
    )
    db.session.rollback()
    return f"/set-password/{token}"


@pytest.mark.parametrize(
    "token", ["nonsense", "a" * 500, "..", "eyJhbGciOiJub25lIn0.e30.", "%00", "x.y.z"]
)
def test_bad_links_get_a_friendly_page(client: FlaskClient, token: str) -> None:
    for method in ("GET", "POST"):
        response = client.open(
            f"/set-password/{token}",
            method=method,
            data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "This link is not valid" in page
        assert "ask HR to send you a new link" in page


def test_expired_link_page_says_what_to_do(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_person(email="m@example.com", role=Role.MANAGER)
    db.session.commit()
    link = _link_for(app, "m@example.com")
    monkeypatch.setitem(app.config, "SET_PASSWORD_LINK_MAX_AGE", timedelta(seconds=-1))
    response = client.get(link)
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This link has expired" in page and "Ask HR to send you a new link" in page


def test_set_password_page_enforces_the_policy(app: Flask, client: FlaskClient) -> None:
    make_person(email="m@example.com", role=Role.MANAGER)
    db.session.commit()
    link = _link_for(app, "m@example.com")
    for new, confirm, message in (
        ("short", "short", "Use at least 8 characters."),
        ("m@example.com", "m@example.com", "Do not use your email address"),
        (NEW_PASSWORD, "different words", "The passwords differ."),
        ("", "", "This field is required."),
    ):
        response = client.post(link, data={"new_password": new, "confirm": confirm})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    person = person_by_email("m@example.com")
    assert person is not None and person.password_hash is None


def test_link_signs_in_and_cannot_be_used_twice(app: Flask, client: FlaskClient) -> None:
    make_person(email="m@example.com", role=Role.MANAGER)
    db.session.commit()
    link = _link_for(app, "m@example.com")
    page = client.get(link).get_data(as_text=True)
    assert 'autocomplete="username"' in page and "m@example.com" in page
    response = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with client.session_transaction() as sess:
        assert sess.permanent and sess["_user_id"].endswith(":2")

    again = app.test_client().post(link, data={"new_password": "x" * 20, "confirm": "x" * 20})
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    login(app.test_client(), "m@example.com", NEW_PASSWORD)
