"""Invitations and reminders carry the same List-Unsubscribe headers (RFC 8058 one-click).

Found in review: only reminders carried them.

mailing._message puts the stop link in invitations too, "so that using it says nothing about who
had not answered", but the mail program's one-click Unsubscribe button (a bare POST, no GET
before it) only exists on reminders, which go only to people who had not answered. A one-click
POST in the access log (its token decodes to the person id without the key) or the
person.stop_reminders audit event right after a reminder run therefore says "this person had
not answered yet". Both kinds of email should carry the same headers.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from pulse.notify import tick
from tests.factories import make_team
from tests.notify.helpers import START, parsed, people, scheduled
from tests.smtp import SmtpSink


def test_invitations_and_reminders_carry_the_same_unsubscribe_headers(
    app: Flask, sink: SmtpSink
) -> None:
    secret = app.config["SECRET_KEY"]
    team = make_team("Acme/Eng")
    people(team, 3, "eng")
    scheduled(team, opens_at=START, days=6)
    tick.run(now=START + timedelta(minutes=1), secret_key=secret)
    tick.run(now=START + timedelta(days=3.1), secret_key=secret)
    messages = [m for m in parsed(sink) if m["To"] == "eng0@example.com"]
    reminder = next(m for m in messages if str(m["Subject"]).startswith("Reminder"))
    invitation = next(m for m in messages if not str(m["Subject"]).startswith("Reminder"))
    assert reminder["List-Unsubscribe"] is not None
    assert invitation["List-Unsubscribe"] == reminder["List-Unsubscribe"], (
        "only reminders offer one-click unsubscribe: using it reveals a non-respondent"
    )
