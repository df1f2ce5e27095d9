"""Results digests (gated figures only), action reminders and the weekly action digest."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import update

from pulse.actions.models import Action, ActionStatus
from pulse.extensions import db
from pulse.notify import digests, tick
from pulse.org.models import Person, Role
from pulse.surveys import services
from tests.factories import make_staff, make_team
from tests.notify.helpers import START, answer, body, parsed, people, scheduled, tally
from tests.smtp import SmtpSink


def _closed_pulse(app: Flask) -> Person:
    """Sales (4 of 6 answered), Support (2 of 5) and Eng (5 of 5), closed a day ago; one manager
    for Sales, one for Support, and one for Ops, which was not asked."""
    secret = app.config["SECRET_KEY"]
    sales, support, eng = make_team("Acme/Sales"), make_team("Acme/Support"), make_team("Acme/Eng")
    sellers = people(sales, 6, "sales")
    helpers = people(support, 5, "support")
    engineers = people(eng, 5, "eng")
    manager = make_staff(Role.MANAGER, manages=[sales], email="boss@example.com")
    make_staff(Role.MANAGER, manages=[support], email="helpdesk@example.com")
    make_staff(Role.MANAGER, manages=[make_team("Acme/Ops")], email="other@example.com")
    teams = [sales, support, eng]
    pulse = scheduled(teams, opens_at=START - timedelta(days=8), days=7, title="Closed")
    services.open_pulse(pulse, now=START - timedelta(days=8), secret_key=secret, actor=None)
    db.session.commit()
    answered = sellers[:4] + helpers[:2] + engineers
    answer(pulse.id, answered, now=START - timedelta(days=5), secret=secret)
    return manager


def test_digest_shows_only_what_the_gate_allows(app: Flask, sink: SmtpSink) -> None:
    _closed_pulse(app)
    tick.run(now=START, secret_key=app.config["SECRET_KEY"])
    sent = {m["To"]: body(m) for m in parsed(sink) if m["Subject"] == "Results: Closed"}
    assert set(sent) == {"boss@example.com", "helpdesk@example.com"}  # not the Ops manager
    sales = sent["boss@example.com"]
    assert "Answered: 4 (67% of those invited)" in sales
    assert "/ 100" in sales
    assert "http://localhost/results/teams/" in sales
    # Two answered in Support: below k, so only the reason, never a number.
    support = sent["helpdesk@example.com"].split("== Support ==")[1].split("http")[0]
    assert "Answered: Fewer than 3 answers" in support
    # The only digit left is k itself (the threshold), never a count or a score.
    assert not any(ch.isdigit() for ch in support.replace("Fewer than 3", "")), support


def test_digest_is_multipart_and_in_the_managers_language(app: Flask, sink: SmtpSink) -> None:
    manager = _closed_pulse(app)
    manager.language = "de"
    db.session.commit()
    tick.run(now=START, secret_key=app.config["SECRET_KEY"])
    message = next(m for m in parsed(sink) if m["To"] == "boss@example.com")
    assert message.is_multipart()
    assert '<html lang="de">' in body(message, "html")


def test_digest_goes_once_and_a_failure_is_retried(app: Flask, sink: SmtpSink) -> None:
    _closed_pulse(app)
    secret = app.config["SECRET_KEY"]
    app.config["MAIL_SMTP_PORT"] = 1  # the mail server is down
    assert digests.send_results_digests(now=START) == 0
    app.config["MAIL_SMTP_PORT"] = sink.port
    assert digests.send_results_digests(now=START + timedelta(minutes=5)) == 2
    tick.run(now=START + timedelta(minutes=10), secret_key=secret)
    assert tally(sink)[("boss@example.com", "Results: Closed")] == 1
    # A week after closing there is no digest any more.
    assert digests.digest_pulses(START + timedelta(days=7)) == []


def _action(owner: Person, due_on: date, **kwargs: object) -> Action:
    action = Action(
        title=str(kwargs.pop("title", "Fewer meetings")),
        team_id=owner.managed_teams[0].id if owner.managed_teams else None,
        owner_id=owner.id,
        due_on=due_on,
        status=kwargs.pop("status", ActionStatus.PLANNED),
        created_at=START,
        updated_at=START,
    )
    db.session.add(action)
    db.session.commit()
    return action


def test_action_reminders_once_each_and_again_when_the_date_moves(
    app: Flask, sink: SmtpSink
) -> None:
    owner = make_staff(Role.MANAGER, manages=[make_team("Acme/Eng")], email="owner@example.com")
    action = _action(owner, date(2026, 11, 26))  # START is 2026-11-23
    done = _action(owner, date(2026, 11, 24), title="Done already", status=ActionStatus.DONE)
    later = _action(owner, date(2026, 12, 20), title="Later")
    assert digests.send_action_reminders(now=START) == 1
    assert digests.send_action_reminders(now=START + timedelta(hours=1)) == 0
    assert digests.send_action_reminders(now=START + timedelta(days=4)) == 1  # overdue now
    assert digests.send_action_reminders(now=START + timedelta(days=5)) == 0
    db.session.execute(
        update(Action).where(Action.id == action.id).values(due_on=date(2026, 12, 1))
    )
    db.session.commit()
    assert digests.send_action_reminders(now=START + timedelta(days=5)) == 1  # re-armed
    subjects = [m["Subject"] for m in parsed(sink)]
    assert subjects == [
        "Action due soon: Fewer meetings",
        "Overdue action: Fewer meetings",
        "Action due soon: Fewer meetings",
    ]
    assert done.id and later.id


def test_weekly_digest_on_monday_mornings_overdue_first(app: Flask, sink: SmtpSink) -> None:
    owner = make_staff(Role.MANAGER, manages=[make_team("Acme/Eng")], email="owner@example.com")
    make_staff(Role.MANAGER, manages=[make_team("Acme/Ops")], email="idle@example.com")
    _action(owner, date(2026, 12, 20), title="Later")
    _action(owner, date(2026, 11, 20), title="Late")
    sunday = START - timedelta(days=1)
    early_monday = START.replace(hour=6)
    assert digests.send_weekly_digests(now=sunday) == 0
    assert digests.send_weekly_digests(now=early_monday) == 0
    assert digests.send_weekly_digests(now=START) == 1
    assert digests.send_weekly_digests(now=START + timedelta(hours=3)) == 0
    (message,) = parsed(sink)
    assert message["To"] == "owner@example.com"  # the idle manager has nothing to list
    text = body(message)
    assert "1 overdue" in text
    assert text.index("Late") < text.index("Later")
    if "actions.show" in app.view_functions:
        assert "http://localhost/actions/" in text
    assert digests.send_weekly_digests(now=START + timedelta(days=7)) == 1  # next week
