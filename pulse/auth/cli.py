"""Account commands: `flask pulse create-user` and `flask pulse set-password`."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from pulse import notify
from pulse.auth import emails, services
from pulse.auth.passwords import PasswordRejected, check_policy
from pulse.cli import echo_error
from pulse.db import utcnow
from pulse.extensions import db
from pulse.notify.mail import MailError
from pulse.org.models import Role, Team
from pulse.org.queries import person_by_email
from pulse.org.services import OrgError, ensure_team_path


def register(group: AppGroup) -> None:
    """Attach the account commands to `flask pulse`."""
    group.add_command(create_user)
    group.add_command(set_password)


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    echo_error(message)
    raise click.exceptions.Exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, as typed: only the line ending is removed, never spaces.
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _team(path: str) -> Team:
    return ensure_team_path([part for part in path.split("/") if part.strip()], now=utcnow())


@click.command("create-user")
@click.option(
    "--role",
    type=click.Choice([r.value for r in services.STAFF_ROLES]),
    required=True,
    help="Staff role.",
)
@click.option("--email", required=True, help="Their email address (also their sign-in name).")
@click.option("--name", required=True, help="Their full name.")
@click.option("--team", "team_path", help="Team path such as 'Acme/Engineering'; created if new.")
@click.option("--manages", multiple=True, help="A team path this manager manages (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
@click.option(
    "--send-link", is_flag=True, help="Email a set-password link instead of setting a password."
)
@with_appcontext
def create_user(
    role: str,
    email: str,
    name: str,
    team_path: str | None,
    manages: tuple[str, ...],
    password_stdin: bool,
    send_link: bool,
) -> None:
    """Create a staff account, or upgrade the person with that email to a staff role."""
    if password_stdin and send_link:
        _fail("Use either --password-stdin or --send-link, not both.")
    password = None
    if not send_link:
        password = _read_password(password_stdin)
        try:
            check_policy(password, email=email)
        except PasswordRejected as exc:
            _fail(f"Password not accepted: {exc}")
    now = utcnow()
    try:
        account = services.create_staff_account(
            email=email,
            name=name,
            role=Role(role),
            team=_team(team_path) if team_path else None,
            manages=[_team(path) for path in manages],
            now=now,
            actor=None,
        )
        person = account.person
        if password is not None:
            method = current_app.config["PASSWORD_HASH_METHOD"]
            services.set_password(person, password, method=method, now=now, actor=None)
        else:
            emails.queue_set_password_email(person, now=now)
    except (services.AuthError, OrgError, PasswordRejected, MailError) as exc:
        _fail(str(exc))
    db.session.commit()
    action = "Created" if account.created else "Updated"
    click.echo(f"{action} {role} account for {person.email}.")
    if send_link:
        report = notify.send_queued()
        services.record_link_outcome(person, sent=report.ok, now=utcnow(), actor=None)
        db.session.commit()
        if not report.ok:
            _fail("The set-password link could not be sent; check the mail settings and retry.")
        click.echo(f"A set-password link was sent to {person.email}.")


@click.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
@with_appcontext
def set_password(email: str, password_stdin: bool) -> None:
    """Set a staff member's password (account recovery); their sessions are signed out."""
    person = person_by_email(email)
    if person is None:
        _fail(f"No one in the directory has the email {email.strip()}.")
    if not person.role.is_staff:
        _fail(f"{person.email} is an employee; only staff accounts have a password.")
    if not person.active:
        _fail(f"{person.email} is deactivated; reactivate them first.")
    password = _read_password(password_stdin)
    try:
        services.set_password(
            person,
            password,
            method=current_app.config["PASSWORD_HASH_METHOD"],
            now=utcnow(),
            actor=None,
        )
    except PasswordRejected as exc:
        _fail(f"Password not accepted: {exc}")
    db.session.commit()
    click.echo(f"Password set for {person.email}; their other sessions are signed out.")
