"""The stop-reminders link: a page without login, a POST (or RFC 8058 one-click) that turns
reminders off, and no reminder afterwards."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.notify import mail, tick
from pulse.org.models import Person
from tests.factories import make_person, make_team
from tests.notify.helpers import START, body, parsed, people, recipients, scheduled
from tests.smtp import SmtpSink

STOP_RE = re.compile(r"http://localhost(/reminders/stop/[A-Za-z0-9_.\-]+)")


def test_unsubscribe_end_to_end(app: Flask, client: FlaskClient, sink: SmtpSink) -> None:
    secret = app.config["SECRET_KEY"]
    team = make_team("Acme/Eng")
    people(team, 3, "eng")
    scheduled(team, opens_at=START, days=6)
    tick.run(now=START + timedelta(minutes=1), secret_key=secret)
    invitation = next(m for m in parsed(sink) if m["To"] == "eng0@example.com")
    match = STOP_RE.search(body(invitation))
    assert match is not None
    path = match.group(1)

    page = client.get(path)
    assert page.status_code == 200
    assert "Turn off reminders" in page.get_data(as_text=True)
    db.session.expire_all()
    assert (
        not db.session.scalars(select(Person).where(Person.email == "eng0@example.com"))
        .one()
        .no_reminders
    )  # a GET changes nothing

    done = client.post(path)
    assert done.status_code == 200
    assert "Reminders are off" in done.get_data(as_text=True)
    db.session.expire_all()
    person = db.session.scalars(select(Person).where(Person.email == "eng0@example.com")).one()
    assert person.no_reminders
    # No dated trace of the choice: it was made from a reminder, which only non-respondents get.
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.target == f"person:{person.id}")
    ).all()

    tick.run(now=START + timedelta(days=3.1), secret_key=secret)
    assert recipients(sink, "Reminder: Tick pulse") == {"eng1@example.com", "eng2@example.com"}


def test_one_click_post_without_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True  # as in production
    person = make_person(team=make_team("Acme"))
    db.session.commit()
    token = mail.stop_reminders_token(person.id, app.config["SECRET_KEY"])
    response = app.test_client().post(
        f"/reminders/stop/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Person, person.id).no_reminders  # type: ignore[union-attr]


def test_forged_or_unknown_tokens_are_refused(app: Flask, client: FlaskClient) -> None:
    person = make_person(team=make_team("Acme"))
    db.session.commit()
    other_key = mail.stop_reminders_token(person.id, "another-secret-key-entirely-0123456789")
    unknown = mail.stop_reminders_token(999_999, app.config["SECRET_KEY"])
    for token in (other_key, unknown, "nonsense"):
        assert client.get(f"/reminders/stop/{token}").status_code == 404
        assert client.post(f"/reminders/stop/{token}").status_code == 404
    db.session.expire_all()
    assert not db.session.get(Person, person.id).no_reminders  # type: ignore[union-attr]


def test_the_page_speaks_the_persons_language(app: Flask, client: FlaskClient) -> None:
    person = make_person(team=make_team("Acme"))
    person.language = "de"
    db.session.commit()
    token = mail.stop_reminders_token(person.id, app.config["SECRET_KEY"])
    page = client.get(f"/reminders/stop/{token}").get_data(as_text=True)
    assert 'lang="de"' in page
