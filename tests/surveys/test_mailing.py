"""Invitation and reminder emails: outbox files, a real SMTP server, and one that is down."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

from flask import Flask
from sqlalchemy import select, update

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person
from pulse.surveys import mailing, services, tokens
from pulse.surveys.mailing import DeliveryReport
from pulse.surveys.models import Delivery, Invitation, Pulse
from tests.smtp import SmtpSink, free_port
from tests.surveys.conftest import open_pulse_for

LINK_RE = re.compile(r"http://localhost/p/([A-Za-z0-9_\-]{43})")


# --- Helpers ----------------------------------------------------------------------------------


def _parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))


def _outbox(app: Flask) -> list[EmailMessage]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return [_parse(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def _body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())


def _pulse(app: Flask, people: int = 3, **kwargs: object) -> Pulse:
    opened = open_pulse_for(app, people=people, now=utcnow(), **kwargs)  # type: ignore[arg-type]
    pulse = db.session.get(Pulse, opened.pulse_id)
    assert pulse is not None
    return pulse


def _invitations() -> list[Invitation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Invitation).order_by(Invitation.id)))


def _token_owner(token: str) -> Person:
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.token_hash == tokens.hash_token(token))
    ).one()
    return invitation.person


# --- Invitations to the outbox ------------------------------------------------------------------


def test_each_person_gets_one_personal_invitation(app: Flask) -> None:
    pulse = _pulse(app, people=3)
    secret = app.config["SECRET_KEY"]
    report = mailing.send_invitations(pulse, secret_key=secret)
    db.session.commit()
    assert report == DeliveryReport(sent=3, failed=0)

    messages = _outbox(app)
    assert len(messages) == 3
    people = {p.email: p for p in db.session.scalars(select(Person))}
    for message in messages:
        recipient = people[message["To"]]
        assert message.get_content_type() == "multipart/alternative"
        assert message["Subject"] == "Your anonymous pulse: Answering test pulse"
        text, html = _body(message), _body(message, "html")
        token = LINK_RE.search(text)
        assert token, text
        assert _token_owner(token.group(1)).id == recipient.id  # their own link, and it works
        assert f"http://localhost/p/{token.group(1)}" in html
        assert "http://localhost/protection" in text and "http://localhost/protection" in html
        assert "about 2 minutes" in text
        assert "at least 5 people; comments for groups of at least 10" in text
        assert "It is open until" in text
        assert f"Hello {recipient.name}," in text
        others = [p for p in people.values() if p.id != recipient.id]
        for other in others:  # never anyone else's name or address
            for part in (text, html, str(message["Subject"])):
                assert other.name not in part and other.email not in part

    assert all(i.delivery is Delivery.SENT and i.delivery_error is None for i in _invitations())
    # Sent invitations are not sent again.
    assert mailing.send_invitations(pulse, secret_key=secret) == DeliveryReport(0, 0)
    assert len(_outbox(app)) == 3


def test_invitation_in_the_persons_language(app: Flask) -> None:
    pulse = _pulse(
        app, people=0, extra_people=[{"email": "jo@example.com", "name": "Jo", "language": "de"}]
    )
    assert mailing.send_invitations(pulse, secret_key=app.config["SECRET_KEY"]).sent == 1
    (message,) = _outbox(app)
    assert message["Subject"] == "Ihre anonyme Umfrage: Answering test pulse"
    text, html = _body(message), _body(message, "html")
    assert "Guten Tag Jo," in text
    assert "Sie sind eingeladen" in text and "etwa 2 Minuten" in text
    assert "Ergebnisse werden nur für Gruppen ab 5 Personen angezeigt" in text
    assert '<html lang="de">' in html and "Jetzt antworten" in html
    assert "You are invited" not in text


def test_html_in_names_and_titles_is_escaped_in_the_html_body(app: Flask) -> None:
    pulse = _pulse(app, people=0, extra_people=[{"email": "x@example.com", "name": "<b>Bo</b>"}])
    pulse.title = 'Q4 <script>alert("x")</script>'
    db.session.commit()
    mailing.send_invitations(pulse, secret_key=app.config["SECRET_KEY"])
    (message,) = _outbox(app)
    html = _body(message, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Bo</b>" not in html and "&lt;b&gt;Bo&lt;/b&gt;" in html
    assert "Hello <b>Bo</b>," in _body(message)  # plain text stays plain


def test_deactivated_people_are_not_mailed(app: Flask) -> None:
    pulse = _pulse(app, people=2)
    first = _invitations()[0]
    first.person.active = False
    db.session.commit()
    assert mailing.send_invitations(pulse, secret_key=app.config["SECRET_KEY"]).sent == 1
    assert _invitations()[0].delivery is Delivery.PENDING


def test_without_a_base_url_outside_a_request_the_failure_is_recorded(app: Flask) -> None:
    app.config["BASE_URL"] = None
    pulse = _pulse(app, people=2)
    report = mailing.send_invitations(pulse, secret_key=app.config["SECRET_KEY"])
    assert report == DeliveryReport(sent=0, failed=2)
    assert all(i.delivery is Delivery.FAILED for i in _invitations())
    assert "PULSE_BASE_URL" in (_invitations()[0].delivery_error or "")
    assert _outbox(app) == []


# --- A real SMTP server, and one that is down -----------------------------------------------


def test_invitations_over_smtp_are_multipart_with_a_working_link(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    collector = smtp_sink
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp_sink.port)
    pulse = _pulse(app, people=2)
    report = mailing.send_invitations(pulse, secret_key=app.config["SECRET_KEY"])
    db.session.commit()
    assert report == DeliveryReport(sent=2, failed=0)
    assert len(collector.messages) == 2
    recipients, raw = collector.messages[0]
    message = _parse(raw)
    assert recipients == [message["To"]]  # one recipient per message: no shared lists
    assert message.get_content_type() == "multipart/alternative"
    link = LINK_RE.search(_body(message))
    assert link and link.group(0) in _body(message, "html")

    client = app.test_client()
    opened = client.get(f"/p/{link.group(1)}")
    assert opened.status_code == 303
    assert client.get("/answer").status_code == 200


def test_smtp_down_records_failures_and_a_retry_sends_them(app: Flask, smtp_sink: SmtpSink) -> None:
    collector = smtp_sink
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=free_port())  # nobody there
    pulse = _pulse(app, people=7)
    secret = app.config["SECRET_KEY"]
    report = mailing.send_invitations(pulse, secret_key=secret)
    db.session.commit()
    assert report == DeliveryReport(sent=0, failed=7)
    invitations = _invitations()
    assert all(i.delivery is Delivery.FAILED for i in invitations)
    for invitation in invitations:
        error = invitation.delivery_error or ""
        assert error and len(error) <= 300
        assert "/p/" not in error and services.invitation_token(invitation, secret) not in error
    # After a few failures in a row the rest are not even tried (no timeout per person).
    assert (
        sum("before it" in (i.delivery_error or "") for i in invitations)
        == 7 - mailing.GIVE_UP_AFTER
    )

    app.config["MAIL_SMTP_PORT"] = smtp_sink.port  # the server is back
    retry = mailing.send_invitations(pulse, secret_key=secret)
    db.session.commit()
    assert retry == DeliveryReport(sent=7, failed=0)
    assert len(collector.messages) == 7
    assert all(i.delivery is Delivery.SENT and i.delivery_error is None for i in _invitations())


# --- Reminders ------------------------------------------------------------------------------


def test_reminders_go_only_to_people_who_have_not_answered(app: Flask) -> None:
    pulse = _pulse(app, people=3)
    secret = app.config["SECRET_KEY"]
    mailing.send_invitations(pulse, secret_key=secret)
    answered = _invitations()[0]
    db.session.execute(update(Invitation).where(Invitation.id == answered.id).values(answered=True))
    db.session.commit()
    invitation_links = {m["To"]: LINK_RE.search(_body(m)).group(0) for m in _outbox(app)}  # type: ignore[union-attr]
    for path in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"):
        path.unlink()

    report = mailing.send_reminders(pulse, secret_key=secret, now=utcnow())
    db.session.commit()
    assert report == DeliveryReport(sent=2, failed=0)
    reminders = _outbox(app)
    assert answered.person.email not in {m["To"] for m in reminders}
    for message in reminders:
        assert message["Subject"] == "Reminder: Answering test pulse"
        text = _body(message)
        assert "If you have already answered" in text
        assert LINK_RE.search(text).group(0) == invitation_links[message["To"]]  # type: ignore[union-attr]
    assert [i.reminders_sent for i in _invitations()] == [0, 1, 1]


def test_no_reminders_for_a_closed_pulse(app: Flask) -> None:
    pulse = _pulse(app, people=2)
    services.close_pulse(pulse, now=utcnow(), actor=None)
    db.session.commit()
    assert mailing.send_reminders(
        pulse, secret_key=app.config["SECRET_KEY"], now=utcnow()
    ) == DeliveryReport(0, 0)
    assert _outbox(app) == []


def test_estimated_minutes() -> None:
    assert mailing.estimated_minutes(1) == 2
    assert mailing.estimated_minutes(10) == 2
    assert mailing.estimated_minutes(16) == 4


def test_reminders_skip_people_who_turned_them_off(app: Flask) -> None:
    pulse = _pulse(app, people=3)
    secret = app.config["SECRET_KEY"]
    mailing.send_invitations(pulse, secret_key=secret)
    quiet = _invitations()[0].person
    quiet.no_reminders = True
    db.session.commit()
    for path in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"):
        path.unlink()

    report = mailing.send_reminders(pulse, secret_key=secret, now=utcnow())
    assert report == DeliveryReport(sent=2, failed=0)
    reminders = _outbox(app)
    assert quiet.email not in {m["To"] for m in reminders}
    for message in reminders:
        assert "/reminders/stop/" in message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
