"""Faults while answering and inviting: nothing accepted is lost, nothing is counted twice.

- a commit that fails during submit leaves the link unused and no trace of the response;
- a database lock held past the timeout gives a 503 with Retry-After, then works again;
- an SMTP server that refuses or vanishes: the pulse still opens, HR sees the failures, and a
  retry against a working server sends exactly the missing invitations;
- a submitting process killed at random moments: the file stays sound and the counts agree.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import socketserver
import sqlite3
import threading
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_request_context, request
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role
from pulse.surveys import services
from pulse.surveys.models import (
    Answer,
    Comment,
    Delivery,
    DimensionTally,
    Invitation,
    Pulse,
    QuestionSet,
    QuestionSetItem,
    Response,
    ResponseTally,
    UsedLink,
    ValueTally,
)
from tests.conftest import login
from tests.factories import NOW, make_person, make_staff, make_team
from tests.smtp import SmtpSink, free_port
from tests.surveys.conftest import (
    OpenedPulse,
    answer_form,
    assert_tallies_match_answers,
    count,
    open_pulse_for,
    random_answers,
)

# --- Helpers --------------------------------------------------------------------------------------


def _nothing_recorded() -> None:
    db.session.expire_all()
    assert count(Response) == count(Answer) == count(Comment) == 0
    tallied = (
        db.session.scalar(select(func.coalesce(func.sum(ResponseTally.count), 0))),
        db.session.scalar(select(func.coalesce(func.sum(ValueTally.count), 0))),
        db.session.scalar(select(func.coalesce(func.sum(DimensionTally.n), 0))),
    )
    assert tallied == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(UsedLink)) == 0


def _recorded_once() -> None:
    db.session.expire_all()
    assert count(Response) == 1
    assert db.session.scalar(select(func.count()).select_from(UsedLink)) == 1
    assert_tallies_match_answers()


def _start_answering(client: FlaskClient, token: str) -> None:
    assert client.get(f"/p/{token}").status_code == 303
    assert client.get("/answer").status_code == 200


# --- A commit that fails --------------------------------------------------------------------------


def test_a_failed_commit_leaves_the_link_unused_and_a_retry_succeeds(
    any_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = open_pulse_for(any_app, people=3, now=utcnow())
    client = any_app.test_client()
    _start_answering(client, opened.tokens[0])
    form = answer_form(opened.questions, random.Random(5))
    form[f"q{opened.question_id('comments.anything_else')}"] = "Please keep Fridays free."

    real_commit = Session.commit
    failures = {"left": 1}

    def flaky_commit(self: Session) -> None:
        # Only the submit's own commit fails (not the test's, nor other requests').
        if failures["left"] and has_request_context() and request.method == "POST":
            failures["left"] -= 1
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))
        real_commit(self)

    monkeypatch.setattr(Session, "commit", flaky_commit)

    failed = client.post("/answer", data=form)
    assert failures["left"] == 0, "the submit never reached its commit"
    assert failed.status_code == 503
    assert failed.headers.get("Retry-After")
    html = failed.get_data(as_text=True)
    assert "try again" in html.lower()
    assert "Traceback" not in html and "OperationalError" not in html and "disk I/O" not in html
    assert 'value="Please keep Fridays free."' in html or "Please keep Fridays free." in html
    _nothing_recorded()

    retried = client.post("/answer", data=form)
    assert retried.status_code == 303, retried.get_data(as_text=True)[:500]
    _recorded_once()
    assert count(Comment) == 1


# --- A lock held past the timeout -----------------------------------------------------------------


def _short_lock_wait(engine: Engine, milliseconds: int) -> None:
    """Make this engine's connections give up waiting for a lock after `milliseconds`.

    The production values (SQLite busy_timeout 5 s) would make the test wait that long; what is
    tested is what happens once the wait is over.
    """
    dialect = engine.dialect.name

    @event.listens_for(engine, "connect")
    def shorter_wait(dbapi_connection: Any, record: Any) -> None:
        if dialect == "sqlite":
            dbapi_connection.execute(f"PRAGMA busy_timeout={milliseconds}")
        else:
            # SET is transactional in PostgreSQL: run it outside a transaction so it sticks.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            dbapi_connection.execute(f"SET lock_timeout = '{milliseconds}ms'")
            dbapi_connection.autocommit = autocommit

    engine.dispose()


class _LockHolder:
    """Another connection holding the write lock: SQLite's, or PostgreSQL's on the responses."""

    def __init__(self, app: Flask) -> None:
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.dialect = db.engine.dialect.name
        self._conn: Any = None

    def __enter__(self) -> _LockHolder:
        if self.dialect == "sqlite":
            path = db.engine.url.database
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=5)
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self._conn = psycopg.connect(
                db.engine.url.render_as_string(hide_password=False).replace(
                    "postgresql+psycopg", "postgresql"
                )
            )
            self._conn.execute("LOCK TABLE response IN EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.rollback()
        self._conn.close()


def test_a_lock_held_past_the_timeout_gives_503_and_nothing_is_recorded(
    any_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    opened = open_pulse_for(any_app, people=3, now=utcnow())
    _short_lock_wait(db.engine, 300)
    client = any_app.test_client()
    _start_answering(client, opened.tokens[0])
    form = answer_form(opened.questions, random.Random(6))

    with _LockHolder(any_app):
        started = time.monotonic()
        busy = client.post("/answer", data=form)
        waited = time.monotonic() - started
    assert busy.status_code == 503, busy.get_data(as_text=True)[:500]
    assert busy.headers.get("Retry-After", "").isdigit()
    html = busy.get_data(as_text=True)
    assert "try again" in html.lower()
    for leak in ("Traceback", "OperationalError", "locked", "SELECT", "INSERT", "lock_timeout"):
        assert leak not in html, leak
    assert waited < 5, f"the request waited {waited:.1f} s for the lock"
    for record in caplog.records:
        assert opened.tokens[0] not in record.getMessage()
    _nothing_recorded()

    # The lock is gone: the same form goes through.
    sent = client.post("/answer", data=form)
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    _recorded_once()


def test_the_database_never_waits_forever_for_a_lock(any_app: Flask) -> None:
    """SECURITY.md: SQLite waits at least 5 s (busy_timeout), and a lock held longer ends in
    a 503 instead of a request hanging. On PostgreSQL a row or table lock is waited for
    forever unless lock_timeout (or statement_timeout) is set on the connection."""
    if db.engine.dialect.name == "sqlite":
        busy = db.session.execute(text("PRAGMA busy_timeout")).scalar_one()
        assert 5000 <= busy <= 30_000, busy
    else:
        settings = {
            name: db.session.execute(text(f"SHOW {name}")).scalar_one()
            for name in ("lock_timeout", "statement_timeout")
        }
        assert any(value not in ("0", "0ms") for value in settings.values()), (
            f"PostgreSQL connections wait for locks forever: {settings}"
        )


# --- SMTP that refuses or vanishes ----------------------------------------------------------------


class _RefusingSink(SmtpSink):
    """A mail server that is up but refuses every recipient."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        return "550 5.7.1 Relaying denied"


class _VanishingServer(socketserver.ThreadingTCPServer):
    """Speaks just enough SMTP to accept `accept` messages, then drops the next connection in
    the middle of DATA and stops listening, like a server that crashed."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.accepted: list[str] = []
        self.gone = threading.Event()
        super().__init__(("127.0.0.1", free_port()), _VanishingHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _VanishingHandler(socketserver.StreamRequestHandler):
    server: _VanishingServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        if self.server.gone.is_set():
            return  # closed at once: like a refused connection
        self.reply("220 flaky.example ESMTP")
        recipient = ""
        while line := self.rfile.readline().decode(errors="replace").strip():
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 flaky.example")
            elif verb == "MAIL":
                self.reply("250 OK")
            elif verb == "RCPT":
                recipient = line.partition(":")[2].strip("<> ")
                self.reply("250 OK")
            elif verb == "DATA":
                if len(self.server.accepted) >= self.server.accept:
                    self.server.gone.set()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return  # vanished mid-message
                self.reply("354 Go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.server.accepted.append(recipient)
                self.reply("250 Queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def hr_client(app: Flask) -> FlaskClient:
    make_staff(Role.HR, email="hr@example.com", team="People")
    db.session.commit()
    client = app.test_client()
    login(client, "hr@example.com")
    return client


def _draft_pulse(people: int) -> int:
    team = make_team("Acme/Eng")
    for _ in range(people):
        make_person(team=team)
    pulse = services.create_pulse(
        title="Mail fault pulse", set_ref="builtin:core", teams=[team], now=utcnow(), actor=None
    )
    db.session.commit()
    return pulse.id


def _invitations() -> list[Invitation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Invitation).order_by(Invitation.id)))


@pytest.mark.parametrize("fault", ["refuses recipients", "vanishes mid-run"])
def test_a_failing_mail_server_never_stops_a_pulse_and_a_retry_sends_what_is_missing(
    app: Flask, hr_client: FlaskClient, smtp_sink: SmtpSink, fault: str
) -> None:
    pulse_id = _draft_pulse(people=6)
    broken: Any
    if fault == "refuses recipients":
        broken = _RefusingSink().start()
        port, delivered_first = broken.port, 0
    else:
        broken = _VanishingServer(accept=2)
        threading.Thread(target=broken.serve_forever, daemon=True).start()
        port, delivered_first = broken.port, 2
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port)
    closes = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    try:
        opened = hr_client.post(f"/pulses/{pulse_id}/open", data={"closes_at": closes})
    finally:
        if isinstance(broken, SmtpSink):
            broken.stop()
        else:
            broken.shutdown()
            broken.server_close()
    assert opened.status_code in (302, 303)

    # The pulse is open whatever the mail server did, and HR sees what did not go out.
    pulse = db.session.get(Pulse, pulse_id)
    assert pulse is not None and pulse.state(utcnow()).value == "open"
    invitations = _invitations()
    assert len(invitations) == 6
    failed = [i for i in invitations if i.delivery is Delivery.FAILED]
    sent_first = [i for i in invitations if i.delivery is Delivery.SENT]
    assert len(sent_first) == delivered_first and len(failed) == 6 - delivered_first
    for invitation in failed:
        assert invitation.delivery_error and "/p/" not in invitation.delivery_error
    page = hr_client.get(f"/pulses/{pulse_id}").get_data(as_text=True)
    assert "Could not be sent" in page and "Retry failed invitations" in page

    # The server is back: a retry sends the missing invitations, and only those.
    app.config["MAIL_SMTP_PORT"] = smtp_sink.port
    retried = hr_client.post(f"/pulses/{pulse_id}/retry")
    assert retried.status_code in (302, 303)
    invitations = _invitations()
    assert all(i.delivery is Delivery.SENT and i.delivery_error is None for i in invitations)
    assert len(smtp_sink.messages) == 6 - delivered_first
    retried_to = [rcpt for rcpts, _ in smtp_sink.messages for rcpt in rcpts]
    first_to = getattr(broken, "accepted", [])
    everyone = sorted(i.person.email for i in invitations)
    assert sorted(first_to + retried_to) == everyone  # each person mailed exactly once
    # The retried links work.
    secret = app.config["SECRET_KEY"]
    for body in smtp_sink.bodies():
        assert any(services.invitation_token(i, secret) in body for i in invitations)


# --- A submitting process killed at random moments ------------------------------------------------

KILLS = 200


def _tiny_pulse(app: Flask, people: int) -> OpenedPulse:
    """Three questions: one scored, the eNPS and a comment, so every kind of row is written."""
    qset = QuestionSet(
        name="Tiny",
        created_at=NOW,
        items=[
            QuestionSetItem(position=1, question_key="burnout.drained"),
            QuestionSetItem(position=2, question_key="enps.recommend"),
            QuestionSetItem(position=3, question_key="comments.anything_else"),
        ],
    )
    db.session.add(qset)
    db.session.flush()
    return open_pulse_for(app, people=people, now=NOW, set_ref=f"custom:{qset.id}")


def _submit_until_killed(app: Flask, opened: OpenedPulse, ready: int) -> None:
    """The child: submit one response after another, reporting each commit on the pipe."""
    db.engine.dispose(close=False)  # never touch the parent's connections
    rng = random.Random(os.getpid())
    with app.app_context():
        os.write(ready, b"r")
        while True:
            # Settle first, so used links drop out of the choice below (and settling, too,
            # is killed at random moments).
            services.settle_answers(db.session.get(Pulse, opened.pulse_id))  # type: ignore[arg-type]
            db.session.commit()
            invitation = db.session.scalars(
                select(Invitation)
                .where(Invitation.answered.is_(False))
                .order_by(Invitation.id)
                .offset(rng.randrange(20))
                .limit(1)
            ).first()
            if invitation is None:
                os.write(ready, b"x")
                return
            token = services.invitation_token(invitation, app.config["SECRET_KEY"])
            found = services.find_invitation(token)
            assert found is not None
            services.record_response(found, random_answers(opened.questions, rng), now=NOW)
            db.session.commit()
            os.write(ready, b".")


def _fork_submitter(app: Flask, opened: OpenedPulse) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover (the child never returns to pytest)
        code = 0
        try:
            os.close(read_end)
            _submit_until_killed(app, opened, write_end)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _check_file(path: Path) -> tuple[int, int]:
    """Integrity and agreement of the counts, read by a fresh connection (as after a crash)."""
    conn = sqlite3.connect(path, timeout=5)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        responses = conn.execute("SELECT count(*) FROM response").fetchone()[0]
        answered = conn.execute("SELECT count(*) FROM used_link").fetchone()[0]
        tallied = conn.execute("SELECT coalesce(sum(count), 0) FROM tally_response").fetchone()[0]
        assert responses == answered == tallied, (responses, answered, tallied)
        mismatched = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT r.pulse_id, r.team_id, a.question_id, a.value, count(*) AS n
                FROM answer a JOIN response r ON r.id = a.response_id
                GROUP BY 1, 2, 3, 4
            ) raw
            FULL OUTER JOIN (SELECT * FROM tally_value WHERE count > 0) t
              ON (t.pulse_id, t.team_id, t.question_id, t.value)
               = (raw.pulse_id, raw.team_id, raw.question_id, raw.value)
            WHERE raw.n IS NOT t.count
            """
        ).fetchone()[0]
        assert mismatched == 0
        for table in ("answer", "comment"):
            orphans = conn.execute(
                f"SELECT count(*) FROM {table} "  # noqa: S608 (fixed table names)
                "WHERE response_id NOT IN (SELECT id FROM response)"
            ).fetchone()[0]
            assert orphans == 0, table
        invited = conn.execute("SELECT count(*) FROM invitation").fetchone()[0]
        used = conn.execute("SELECT count(*) FROM used_link").fetchone()[0]
        return responses, int(invited - used)
    finally:
        conn.close()


def test_a_submitting_process_killed_at_random_moments_loses_and_doubles_nothing(
    app: Flask,
) -> None:
    opened = _tiny_pulse(app, people=1200)
    path = Path(db.engine.url.database or "")
    assert path.exists()
    # One submission here first, so every child starts with SQLAlchemy's statement caches warm
    # (inherited through fork) and reaches its first commit within a few milliseconds.
    first = services.find_invitation(opened.tokens[0])
    assert first is not None
    services.record_response(first, random_answers(opened.questions, random.Random(1)), now=NOW)
    db.session.commit()
    db.session.close()
    db.engine.dispose()  # the parent holds no connection while children write

    rng = random.Random(2026)
    started = time.perf_counter()
    before, _ = _check_file(path)
    per_submission = 0.01  # seconds; learnt from the children as they run
    for kill in range(KILLS):
        pid, pipe = _fork_submitter(app, opened)
        assert os.read(pipe, 1) == b"r", "the submitter did not start"
        # Let it commit 0-2 responses, then kill it at a random point of the next one (or of
        # its start-up): a fixed delay would land in the same phase on every machine.
        seen = b""
        for _ in range(rng.randrange(3)):
            t0 = time.perf_counter()
            seen += os.read(pipe, 1)
            assert seen.endswith(b"."), f"the submitter stopped: {seen!r}"
            per_submission = 0.8 * per_submission + 0.2 * (time.perf_counter() - t0)
        time.sleep(rng.uniform(0, per_submission * 1.2))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        seen += os.read(pipe, 1 << 16)
        os.close(pipe)
        assert b"x" not in seen, "ran out of invitations: raise the number of people"
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            "the submitter failed before it was killed"
        )
        responses, unanswered = _check_file(path)
        committed = seen.count(b".")
        # Every commit the child saw is there; at most one more (committed, not yet reported).
        assert committed <= responses - before <= committed + 1
        before = responses
        if kill % 10 == 9:  # the dimension tallies too, recomputed with the scoring code
            assert_tallies_match_answers()
            db.session.close()
            db.engine.dispose()
    elapsed = time.perf_counter() - started
    print(
        f"{KILLS} kills in {elapsed:.1f} s: {before} responses recorded, "
        f"{unanswered} invitations left, {per_submission * 1000:.0f} ms per submission"
    )
    assert before > KILLS / 4, "the children hardly ever got to submit: the test is not testing"
    assert_tallies_match_answers()
