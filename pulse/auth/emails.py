"""The set-password email: build the link, render both bodies, queue it for after the commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from pulse.auth import services
from pulse.notify import mail
from pulse.org.models import Person

SUBJECT = "Set your Pulse password"


def link_max_age() -> timedelta:
    """SET_PASSWORD_LINK_MAX_AGE as a timedelta (a number of seconds is accepted too)."""
    value = current_app.config["SET_PASSWORD_LINK_MAX_AGE"]
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def describe_duration(delta: timedelta) -> str:
    """72 hours -> "3 days"; 12 hours -> "12 hours"; 30 minutes -> "30 minutes"."""
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def set_password_link(person: Person, *, now: datetime) -> str:
    token = services.make_set_password_token(
        person, secret_key=current_app.config["SECRET_KEY"], now=now
    )
    return mail.external_url("auth.set_password", token=token)


def queue_set_password_email(person: Person, *, now: datetime) -> None:
    """Queue the email; the caller commits, then calls `notify.send_queued()`."""
    context = {
        "name": person.name,
        "link": set_password_link(person, now=now),
        "valid_for": describe_duration(link_max_age()),
    }
    # Rendered straight from the Jinja environment: an email has no page navigation or
    # signed-in user, so the web context processors must not run.
    env = current_app.jinja_env
    mail.queue(
        mail.Message(
            to=person.email,
            subject=SUBJECT,
            text=env.get_template("email/set_password.txt").render(context),
            html=env.get_template("email/set_password.html").render(context),
        )
    )
