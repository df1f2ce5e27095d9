"""The account page: changing one's password, and the password policy behind it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash, generate_password_hash

from config import ProductionConfig
from pulse.audit.models import AuditEvent
from pulse.auth import passwords
from pulse.auth.passwords import PasswordRejected, check_policy
from pulse.extensions import db
from pulse.org.models import Person, Role
from tests.conftest import login
from tests.factories import PASSWORD, make_staff

NEW_PASSWORD = "river otter lantern 7"


# Policy (pure) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password123", "too common"),
        ("PassWord123", "too common"),
        ("ana.lopez@example.com", "email address"),
        ("ANA.LOPEZ", "email address"),
        ("tab\there and there", "control characters"),
        ("\x00" * 10, "control characters"),
    ],
)
def test_policy_rejects_with_a_reason(password: str, message: str) -> None:
    with pytest.raises(PasswordRejected, match=message):
        check_policy(password, email="ana.lopez@example.com")


@pytest.mark.parametrize(
    "password", ["12345678x", "x" * 128, "пароль-дляPulse", "🔑🔑🔑🔑🔑🔑🔑🔑", "  spaced out  "]
)
def test_policy_accepts_any_unicode_between_8_and_128(password: str) -> None:
    check_policy(password, email="ana@example.com")


def test_equivalent_unicode_forms_verify() -> None:
    method = "scrypt:1024:8:1"
    stored = passwords.hash_password("Caf\u00e9 au lait!", method)  # precomposed é
    assert passwords.verify_password(stored, "Cafe\u0301 au lait!", method)  # e + combining accent


def test_production_hash_method_is_scrypt_n_2_17() -> None:
    """The one test that pays the production scrypt cost."""
    method = ProductionConfig.PASSWORD_HASH_METHOD
    assert method == "scrypt:131072:8:1"
    stored = generate_password_hash("a production-strength pass", method=method)
    assert stored.startswith("scrypt:131072:8:1$")
    assert check_password_hash(stored, "a production-strength pass")
    assert not check_password_hash(stored, "a production-strength pasS")


# The page ------------------------------------------------------------------------------------


def _change(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> str:
    response = client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
    )
    assert response.status_code in {200, 302}
    return response.get_data(as_text=True)


@pytest.fixture
def manager(app: Flask, client: FlaskClient) -> Person:
    person = make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    login(client, "m@example.com")
    return person


def test_account_page_has_labelled_fields_with_autocomplete(
    client: FlaskClient, manager: Person
) -> None:
    page = client.get("/account/password").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page
    assert page.count('autocomplete="new-password"') == 2
    assert 'autocomplete="username"' in page
    assert '<label class="label" for="current_password">' in page


def test_change_password_then_sign_in_with_the_new_one(
    app: Flask, client: FlaskClient, manager: Person
) -> None:
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert "Your password is changed" in response.get_data(as_text=True)
    events = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert events == ["auth.password_change"]
    db.session.rollback()

    other = app.test_client()
    assert (
        other.post("/login", data={"email": "m@example.com", "password": PASSWORD}).status_code
        == 200
    )
    login(other, "m@example.com", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong current password", NEW_PASSWORD, None, "That is not your current password."),
        (PASSWORD, "short", None, "Use at least 8 characters."),
        (PASSWORD, "qwerty123", None, "too common"),
        (PASSWORD, "m@example.com", None, "Do not use your email address"),
        (PASSWORD, NEW_PASSWORD, "something else", "The passwords differ."),
        (PASSWORD, PASSWORD, None, "different from your current one"),
        (PASSWORD, "", None, "This field is required."),
    ],
)
def test_change_password_refusals_are_explained_at_the_field(
    client: FlaskClient, manager: Person, current: str, new: str, confirm: str | None, message: str
) -> None:
    page = _change(client, current, new, confirm)
    assert message in page
    assert 'aria-invalid="true"' in page
    db.session.expire_all()
    assert passwords.verify_password(manager.password_hash, PASSWORD, "scrypt:1024:8:1")
    assert manager.session_version == 1


def test_huge_and_odd_inputs_do_not_fail(client: FlaskClient, manager: Person) -> None:
    for data in (
        {"current_password": "x" * 5000, "new_password": "y" * 5000, "confirm": "y" * 5000},
        {"current_password": PASSWORD, "new_password": "\x00" * 10, "confirm": "\x00" * 10},
        {"current_password": PASSWORD},
        {},
    ):
        response = client.post("/account/password", data=data)
        assert response.status_code == 200


def test_account_page_requires_sign_in(client: FlaskClient) -> None:
    for method, url in (
        ("GET", "/account/password"),
        ("POST", "/account/password"),
        ("POST", "/account/sign-out-everywhere"),
    ):
        response = client.open(url, method=method)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
