"""`flask pulse create-user` and `flask pulse set-password`."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from pulse.auth import passwords
from pulse.extensions import db
from pulse.org.models import Person, Role
from pulse.org.queries import full_team_names, person_by_email
from tests.auth.conftest import link_in
from tests.conftest import login
from tests.factories import PASSWORD, make_person, make_staff

Outbox = Callable[[], list[EmailMessage]]
GOOD = "tangerine harbour quilt 5"
METHOD = "scrypt:1024:8:1"


def _person(email: str) -> Person:
    person = person_by_email(email)
    assert person is not None
    return person


def _create(runner: FlaskCliRunner, *args: str, input: str | None = None) -> Result:
    return runner.invoke(
        args=["pulse", "create-user", "--email", "ana@example.com", "--name", "Ana", *args],
        input=input,
    )


def test_create_hr_user_with_prompted_password(app: Flask, runner: FlaskCliRunner) -> None:
    result = _create(runner, "--role", "hr", "--team", "Acme/People", input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Created hr account for ana@example.com" in result.output
    assert GOOD not in result.output  # hidden input is not echoed
    person = _person("ana@example.com")
    assert person.role is Role.HR and person.is_active
    assert passwords.verify_password(person.password_hash, GOOD, METHOD)
    assert person.team_id is not None
    assert full_team_names()[person.team_id] == "Acme/People"
    db.session.rollback()
    login(app.test_client(), "ana@example.com", GOOD)


def test_create_user_reads_password_from_stdin(app: Flask, runner: FlaskCliRunner) -> None:
    result = _create(runner, "--role", "leader", "--password-stdin", input=f"  {GOOD}  \n")
    assert result.exit_code == 0, result.output
    # Spaces are part of the password; only the line ending is removed.
    assert passwords.verify_password(
        _person("ana@example.com").password_hash, f"  {GOOD}  ", METHOD
    )


def test_create_manager_with_managed_teams(app: Flask, runner: FlaskCliRunner) -> None:
    result = _create(
        runner,
        "--role", "manager", "--manages", "Acme/Eng", "--manages", "Acme/Ops", "--password-stdin",
        input=f"{GOOD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = full_team_names()
    assert sorted(names[t.id] for t in _person("ana@example.com").managed_teams) == [
        "Acme/Eng",
        "Acme/Ops",
    ]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use at least 8 characters."),
        ("password123", "too common"),
        ("ana@example.com", "email address"),
    ],
)
def test_create_user_policy_errors_exit_1_and_create_nothing(
    app: Flask, runner: FlaskCliRunner, password: str, message: str
) -> None:
    result = _create(runner, "--role", "hr", "--password-stdin", input=f"{password}\n")
    assert result.exit_code == 1
    assert message in result.output
    assert person_by_email("ana@example.com") is None


def test_mismatched_prompt_confirmation_creates_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    result = _create(runner, "--role", "hr", input=f"{GOOD}\nsomething else\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert person_by_email("ana@example.com") is None


def test_create_user_upgrades_an_existing_employee(app: Flask, runner: FlaskCliRunner) -> None:
    make_person(email="ana@example.com", name="Ana Directory")
    db.session.commit()
    result = _create(runner, "--role", "hr", "--password-stdin", input=f"{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Updated hr account" in result.output
    person = _person("ana@example.com")
    assert person.role is Role.HR and person.name == "Ana Directory"


def test_create_user_with_send_link_emails_a_working_link(
    app: Flask, runner: FlaskCliRunner, outbox: Outbox
) -> None:
    result = _create(runner, "--role", "leader", "--send-link")
    assert result.exit_code == 0, result.output
    assert "A set-password link was sent to ana@example.com" in result.output
    assert _person("ana@example.com").password_hash is None
    db.session.rollback()
    (message,) = outbox()
    link = link_in(message)
    assert link.startswith("http://localhost/set-password/")  # BASE_URL, as there is no request
    browser = app.test_client()
    response = browser.post(link, data={"new_password": GOOD, "confirm": GOOD})
    assert response.status_code == 302


def test_send_link_without_base_url_fails_clearly(
    app: Flask, runner: FlaskCliRunner, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "BASE_URL", None)
    result = _create(runner, "--role", "leader", "--send-link")
    assert result.exit_code == 1
    assert "PULSE_BASE_URL" in result.output
    assert person_by_email("ana@example.com") is None
    assert outbox() == []


def test_create_user_rejects_bad_input(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["pulse", "create-user", "--role", "hr", "--email", "nope", "--name", "N",
              "--password-stdin"],
        input=f"{GOOD}\n",
    )  # fmt: skip
    assert result.exit_code == 1 and "not valid" in result.output
    result = _create(runner, "--role", "employee", "--password-stdin", input=f"{GOOD}\n")
    assert result.exit_code == 2  # click refuses the choice
    result = _create(runner, "--role", "hr", "--password-stdin", "--send-link")
    assert result.exit_code == 1 and "not both" in result.output


def test_set_password_command_resets_and_signs_out(app: Flask, runner: FlaskCliRunner) -> None:
    make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    browser = app.test_client()
    login(browser, "m@example.com")
    result = runner.invoke(
        args=["pulse", "set-password", "M@example.com"], input=f"{GOOD}\n{GOOD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password set for m@example.com" in result.output
    assert browser.get("/account/password").status_code == 302
    login(app.test_client(), "m@example.com", GOOD)
    response = app.test_client().post(
        "/login", data={"email": "m@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("none", "No one in the directory"),
        ("employee", "only staff accounts have a password"),
        ("deactivated", "is deactivated"),
        ("weak", "Password not accepted"),
    ],
)
def test_set_password_command_errors(
    app: Flask, runner: FlaskCliRunner, setup: str, message: str
) -> None:
    if setup == "employee":
        make_person(email="m@example.com")
    elif setup == "deactivated":
        make_staff(Role.MANAGER, email="m@example.com", active=False)
    elif setup == "weak":
        make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    result = runner.invoke(
        args=["pulse", "set-password", "m@example.com", "--password-stdin"], input="qwerty\n"
    )
    assert result.exit_code == 1
    assert message in result.output
