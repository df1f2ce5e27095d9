"""Two `flask pulse tick` processes started at the same moment send every email exactly once.

Real processes against one database file (SQLite) or one PostgreSQL database and one SMTP
server: a pulse due to open with 30 invitees, a pulse at its halfway reminder with pending
invitations, a pulse that just closed (its manager's digest), an action due in two days, and a
Monday morning (the weekly digest).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pulse.actions.models import Action, ActionStatus
from pulse.extensions import db
from pulse.notify import tick
from pulse.org.models import Role
from pulse.surveys import mailing, services
from pulse.surveys.models import Pulse
from tests.factories import make_staff, make_team
from tests.notify.helpers import START, answer, people, scheduled, tally
from tests.smtp import SmtpSink
from tests.surveys.conftest import any_app  # noqa: F401  (fixture: SQLite and PostgreSQL)

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 4.0  # enough for both processes to import the application


@pytest.fixture
def server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


def _build_world(app: Flask) -> dict[str, int]:
    secret = app.config["SECRET_KEY"]
    eng, ops, sales = make_team("Acme/Eng"), make_team("Acme/Ops"), make_team("Acme/Sales")
    people(eng, 30, "eng")
    people(ops, 8, "ops")
    sellers = people(sales, 6, "sales")
    manager = make_staff(Role.MANAGER, manages=[sales], email="boss@example.com", team=sales)
    db.session.commit()

    scheduled(eng, opens_at=START - timedelta(minutes=1), days=6, title="Opening")
    halfway = scheduled(ops, opens_at=START - timedelta(days=3.5), days=6.5, title="Halfway")
    services.open_pulse(halfway, now=START - timedelta(days=3.5), secret_key=secret, actor=None)
    closed = scheduled(sales, opens_at=START - timedelta(days=8), days=7, title="Closed")
    services.open_pulse(closed, now=START - timedelta(days=8), secret_key=secret, actor=None)
    db.session.commit()
    answer(closed.id, sellers[:4], now=START - timedelta(days=5), secret=secret)
    db.session.add(
        Action(
            title="Fewer meetings",
            team_id=sales.id,
            owner_id=manager.id,
            due_on=date(2026, 11, 25),
            status=ActionStatus.PLANNED,
            created_at=START - timedelta(days=1),
            updated_at=START - timedelta(days=1),
        )
    )
    manager_id = manager.id
    db.session.commit()
    db.session.close()
    return {"manager": manager_id}


# Each process imports the application first (the slow part, about two seconds), then waits
# for a common moment and runs `flask pulse tick`, so the ticks really run at the same time.
_SYNCHRONISED_TICK = """
import sys, time
import wsgi  # noqa: F401  (the slow imports, before the common start)
from flask.cli import main
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
sys.argv = ["flask", "--app", "wsgi", "pulse", "tick", *sys.argv[2:]]
main()
"""


def _tick_processes(app: Flask, sink: SmtpSink, tmp_path: Path, count: int = 2) -> list[str]:
    """Run `count` ticks at the same moment in separate processes; their output."""
    db.session.close()  # hold no SQLite lock while the processes run
    env = {
        **os.environ,
        "PULSE_ENV": "testing",
        "PULSE_DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]),
        "PULSE_INSTANCE_PATH": str(tmp_path / "tick-instance"),
        "PULSE_SMTP_HOST": "127.0.0.1",
        "PULSE_SMTP_PORT": str(sink.port),
        "PULSE_BASE_URL": "http://localhost",
    }
    start = time.time() + STARTUP_SECONDS
    command = [sys.executable, "-c", _SYNCHRONISED_TICK, str(start)]
    command += ["--now", (START + timedelta(minutes=1)).isoformat()]
    procs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
        outputs.append(out)
    return outputs


def test_two_ticks_at_once_send_each_email_exactly_once(
    any_app: Flask,  # noqa: F811
    server: SmtpSink,
    tmp_path: Path,
) -> None:
    _build_world(any_app)
    _tick_processes(any_app, server, tmp_path)

    sent = tally(server)
    assert sent and set(sent.values()) == {1}, [k for k, n in sent.items() if n > 1]
    by_subject: dict[str, int] = {}
    for _, subject in sent:
        by_subject[subject] = by_subject.get(subject, 0) + 1
    assert by_subject == {
        "Your anonymous pulse: Opening": 30,
        "Your anonymous pulse: Halfway": 8,
        "Reminder: Halfway": 8,
        "Results: Closed": 1,
        "Action due soon: Fewer meetings": 1,
        "Your open actions this week": 1,
    }

    # A third tick afterwards (in this process: quicker) finds nothing left to send.
    any_app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=server.port)
    tick.run(now=START + timedelta(minutes=2), secret_key=any_app.config["SECRET_KEY"])
    assert len(server.messages) == sum(by_subject.values())


def test_two_senders_that_chose_the_same_people_send_once(
    any_app: Flask,  # noqa: F811
    server: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worst interleaving, forced: both senders have read the same candidates before
    either claims them. Only the conditional claim keeps each email to one copy. (SQLite runs
    every command transaction with the write lock, so there the second sender waits instead.)"""
    secret = any_app.config["SECRET_KEY"]
    any_app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=server.port)
    team = make_team("Acme/Ops")
    people(team, 20, "ops")
    pulse = scheduled(team, opens_at=START - timedelta(days=3.5), days=6.5, title="Halfway")
    services.open_pulse(pulse, now=START - timedelta(days=3.5), secret_key=secret, actor=None)
    pulse_id = pulse.id
    db.session.commit()
    db.session.close()

    wait = 0.5 if any_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else 10.0
    barrier = threading.Barrier(2)
    original = mailing.candidate_ids

    def both_read_first(candidates: Any) -> list[int]:
        ids = original(candidates)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=wait)
        return ids

    monkeypatch.setattr(mailing, "candidate_ids", both_read_first)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with any_app.app_context():
                mine = db.session.get(Pulse, pulse_id)
                assert mine is not None
                mailing.send_invitations(mine, secret_key=secret, include_failed=False)
                mailing.send_stage_reminders(mine, stage=1, secret_key=secret)
                db.session.remove()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    sent = tally(server)
    assert set(sent.values()) == {1}, [k for k, n in sent.items() if n > 1]
    assert len(sent) == 40  # 20 invitations and 20 reminders
