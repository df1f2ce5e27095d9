"""`flask pulse tick`: opening, invitations and scheduled reminders, through a real SMTP server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.notify import tick
from pulse.org.links import team_token
from pulse.org.models import Person
from pulse.surveys import services
from pulse.surveys.models import Delivery, Invitation
from tests.factories import make_team
from tests.notify.helpers import (
    START,
    answer,
    body,
    parsed,
    people,
    recipients,
    scheduled,
    tally,
)
from tests.smtp import SmtpSink
from tests.surveys.conftest import outbox_files, tick_pulse

SECRET = "test-secret-key-not-for-production-use-0123456789"


def at(days: float) -> datetime:
    return START + timedelta(days=days)


# --- The reminder schedule (pure) ----------------------------------------------------------------


def test_reminders_at_halfway_and_a_day_before_closing() -> None:
    opens, closes = at(0), at(6)
    assert tick.reminder_points(opens, closes) == [at(3), at(5)]
    assert [tick.reminder_stage(opens, closes, at(d)) for d in (0, 2.9, 3, 4.9, 5, 5.9, 6)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        0,
    ]


def test_a_short_pulse_gets_the_halfway_reminder_only() -> None:
    opens, closes = at(0), at(1.5)
    assert tick.reminder_points(opens, closes) == [at(0.75)]
    assert tick.reminder_stage(opens, closes, at(1.4)) == 1


# --- A pulse's life through the tick -------------------------------------------------------------


def test_invitations_then_reminders_only_to_non_respondents_who_want_them(
    app: Flask, sink: SmtpSink
) -> None:
    team = make_team("Acme/Eng")
    ids = people(team, 6, "eng")
    opted_out = db.session.get(Person, ids[5])
    assert opted_out is not None
    opted_out.no_reminders = True
    pulse = scheduled(team, opens_at=at(0), days=6)

    tick.run(now=at(0.01), secret_key=SECRET)
    invited = recipients(sink, "Your anonymous pulse: Tick pulse")
    assert invited == {f"eng{i}@example.com" for i in range(6)}

    answer(pulse.id, ids[:2], now=at(1), secret=SECRET)
    tick.run(now=at(3.1), secret_key=SECRET)  # halfway
    reminded = recipients(sink, "Reminder: Tick pulse")
    assert reminded == {"eng2@example.com", "eng3@example.com", "eng4@example.com"}

    tick.run(now=at(5.1), secret_key=SECRET)  # a day before closing
    assert tally(sink)[("eng3@example.com", "Reminder: Tick pulse")] == 2
    assert max(tally(sink).values()) == 2
    # Every reminder can turn reminders off, also in one click from the mail program.
    reminder = next(m for m in parsed(sink) if m["Subject"] == "Reminder: Tick pulse")
    assert reminder["List-Unsubscribe"].strip().startswith("<http://localhost/reminders/stop/")
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_tick_twice_sends_nothing_new(app: Flask, sink: SmtpSink) -> None:
    team = make_team("Acme/Eng")
    people(team, 4, "eng")
    scheduled(team, opens_at=at(0), days=6)
    tick.run(now=at(0.01), secret_key=SECRET)
    tick.run(now=at(0.02), secret_key=SECRET)
    assert len(sink.messages) == 4
    tick.run(now=at(3.1), secret_key=SECRET)
    tick.run(now=at(3.2), secret_key=SECRET)
    assert len(sink.messages) == 8
    assert set(tally(sink).values()) == {1}


def test_a_late_tick_sends_one_reminder_not_two(app: Flask, sink: SmtpSink) -> None:
    team = make_team("Acme/Eng")
    people(team, 3, "eng")
    pulse = scheduled(team, opens_at=at(0), days=6)
    tick.run(now=at(0.01), secret_key=SECRET)
    tick.run(now=at(5.5), secret_key=SECRET)  # missed halfway: both points have passed
    assert len(recipients(sink, "Reminder: Tick pulse")) == 3
    assert sum(n for (_, s), n in tally(sink).items() if s.startswith("Reminder")) == 3
    stages = db.session.scalars(
        select(Invitation.reminders_sent).where(Invitation.pulse_id == pulse.id)
    ).all()
    assert stages == [2, 2, 2]
    tick.run(now=at(5.6), secret_key=SECRET)
    assert len(sink.messages) == 6


def test_a_reminder_that_fails_is_retried_by_a_later_tick(app: Flask, sink: SmtpSink) -> None:
    team = make_team("Acme/Eng")
    people(team, 2, "eng")
    scheduled(team, opens_at=at(0), days=6)
    tick.run(now=at(0.01), secret_key=SECRET)
    app.config["MAIL_SMTP_PORT"] = 1  # nobody listens there
    result = tick.run(now=at(3.1), secret_key=SECRET)
    assert (result.reminders_sent, result.reminders_failed) == (0, 2)
    app.config["MAIL_SMTP_PORT"] = sink.port
    tick.run(now=at(3.2), secret_key=SECRET)
    assert len(recipients(sink, "Reminder: Tick pulse")) == 2


def test_the_command_with_an_explicit_time(
    app: Flask, runner: FlaskCliRunner, sink: SmtpSink
) -> None:
    team = make_team("Acme/Eng")
    people(team, 3, "eng")
    pulse = scheduled(team, opens_at=at(0), days=6)
    result = runner.invoke(args=["pulse", "tick", "--now", at(0.01).isoformat()])
    assert result.exit_code == 0, result.output
    assert f"Opened pulse {pulse.id} (Tick pulse): 3 invitations emailed." in result.output
    result = runner.invoke(args=["pulse", "tick", "--now", at(3.1).isoformat()])
    assert "3 reminders emailed." in result.output
    bad = runner.invoke(args=["pulse", "tick", "--now", "yesterday"])
    assert bad.exit_code != 0
    assert "--now" not in runner.invoke(args=["pulse", "tick", "--help"]).output


# --- Moved from tests/surveys/test_cli.py with the command: real time, outbox files ---------------


def test_tick_opens_due_pulses_sends_invitations_and_is_idempotent(
    app: Flask, runner: FlaskCliRunner
) -> None:
    due = tick_pulse(opens_in=-timedelta(minutes=1))
    later = services.create_pulse(
        title="Later",
        set_ref="builtin:core",
        teams=list(due.teams),
        now=utcnow(),
        actor=None,
        opens_at=utcnow() + timedelta(days=1),
        closes_at=utcnow() + timedelta(days=2),
    )
    db.session.commit()

    result = runner.invoke(args=["pulse", "tick"])
    assert result.exit_code == 0, result.output
    assert f"Opened pulse {due.id} (Tick pulse): 4 invitations emailed." in result.output
    assert len(outbox_files(app)) == 4
    db.session.rollback()
    assert due.is_frozen and not later.is_frozen
    deliveries = db.session.scalars(select(Invitation.delivery)).all()
    assert deliveries == [Delivery.SENT] * 4

    again = runner.invoke(args=["pulse", "tick"])
    assert again.exit_code == 0, again.output
    assert "No pulses due to open." in again.output
    assert len(outbox_files(app)) == 4


def test_tick_reports_failed_invitations(app: Flask, runner: FlaskCliRunner) -> None:
    tick_pulse(opens_in=-timedelta(minutes=1))
    app.config["BASE_URL"] = None  # no address to build links with: every email fails
    result = runner.invoke(args=["pulse", "tick"])
    assert result.exit_code == 0, result.output
    assert "0 invitations emailed, 4 failed (retry from the pulse page)." in result.output


def test_invitations_carry_the_team_page_and_the_stop_link(app: Flask, sink: SmtpSink) -> None:
    if "actions.you_said" not in app.view_functions:
        pytest.skip("the actions feature is not installed")
    team = make_team("Acme/Eng")
    people(team, 1, "eng")
    scheduled(team, opens_at=at(0), days=6)
    tick.run(now=at(0.01), secret_key=SECRET)
    (message,) = parsed(sink)
    expected = team_token(team.id, SECRET)
    for kind in ("plain", "html"):
        text = body(message, kind)
        assert f"http://localhost/you-said-we-did/{expected}" in text
        assert "http://localhost/reminders/stop/" in text
