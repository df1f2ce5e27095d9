"""With CSRF protection on (as in production), every account form refuses a forged post."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from pulse.audit.models import AuditEvent
from pulse.auth import services
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person, Role
from pulse.org.queries import person_by_email
from tests.auth.conftest import csrf_token, read_outbox
from tests.conftest import build_app
from tests.factories import PASSWORD, make_person, make_staff

NEW_PASSWORD = "quartz meadow signal 8"


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(
        f"sqlite:///{tmp_path / 'csrf.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _sign_in(client: FlaskClient, email: str) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def _state() -> tuple[object, ...]:
    people = db.session.execute(
        select(Person.email, Person.password_hash, Person.session_version, Person.role).order_by(
            Person.id
        )
    ).all()
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    db.session.rollback()
    return (tuple(people), events)


def _assert_refused(response: TestResponse) -> None:
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_login_without_token_is_refused(csrf_app: Flask) -> None:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    client = csrf_app.test_client()
    _assert_refused(client.post("/login", data={"email": "hr@example.com", "password": PASSWORD}))
    assert client.get("/account/password").status_code == 302


def test_signed_in_forms_without_token_change_nothing(csrf_app: Flask) -> None:
    make_staff(Role.HR, email="hr@example.com")
    target_id = make_person(email="lead@example.com", role=Role.LEADER).id
    db.session.commit()
    client = csrf_app.test_client()
    _sign_in(client, "hr@example.com")
    before = _state()

    attempts = [
        (
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ),
        ("/staff", {"email": "new@example.com", "name": "New", "role": "hr"}),
        (f"/staff/{target_id}/send-link", {}),
        ("/account/sign-out-everywhere", {}),
        ("/logout", {}),
    ]
    for url, data in attempts:
        _assert_refused(client.post(url, data=data))
        assert client.get("/account/password").status_code == 200, f"{url} signed us out"
    # A token from another session does not help either.
    stranger = csrf_app.test_client()
    foreign = csrf_token(stranger.get("/login").get_data(as_text=True))
    _assert_refused(client.post("/logout", data={"csrf_token": foreign}))

    assert _state() == before
    assert person_by_email("new@example.com") is None
    assert read_outbox(csrf_app) == []


def test_set_password_without_token_is_refused(csrf_app: Flask) -> None:
    person = make_person(email="m@example.com", role=Role.MANAGER)
    link = "/set-password/" + services.make_set_password_token(
        person, secret_key=csrf_app.config["SECRET_KEY"], now=utcnow()
    )
    db.session.commit()
    client = csrf_app.test_client()
    before = _state()
    _assert_refused(client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}))
    assert _state() == before
    # With the page's token the same post works.
    token = csrf_token(client.get(link).get_data(as_text=True))
    response = client.post(
        link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_forms_with_their_token_work(csrf_app: Flask) -> None:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    client = csrf_app.test_client()
    _sign_in(client, "hr@example.com")
    token = csrf_token(client.get("/staff").get_data(as_text=True))
    response = client.post(
        "/staff",
        data={"email": "new@example.com", "name": "New", "role": "leader", "csrf_token": token},
    )
    assert response.status_code == 302
    assert len(read_outbox(csrf_app)) == 1
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/login"
    assert client.get("/account/password").status_code == 302
