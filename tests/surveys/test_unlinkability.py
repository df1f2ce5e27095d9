"""Nothing stored or logged ties a response to the person who gave it (DESIGN.md, rule 1).

Three layers, each on SQLite and PostgreSQL:
- the schema: the response, answer and comment tables hold only allow-listed columns, with no
  type or name that could carry a person, an invitation, a session, an address or a time of day;
- the ids and the storage: random ids, not in submission order, and only the day;
- a leak scan: a person with a distinctive email, name, address and browser answers through
  HTTP, then every table and every captured log line is searched for them and for the token.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import random
import re
import threading
from datetime import date
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.types import Date, DateTime, Interval, Time
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person
from pulse.surveys import services, tokens
from pulse.surveys.models import Answer, Comment, Invitation, Response
from tests.factories import NOW
from tests.surveys.conftest import (
    answer_form,
    count,
    dump_tables,
    open_pulse_for,
    random_answers,
)

ALLOWED_COLUMNS = {
    "response": {"id", "pulse_id", "team_id", "day"},
    "answer": {"response_id", "question_id", "value"},
    "comment": {"id", "response_id", "question_id", "text"},
}
ALLOWED_REFERENCES = {"pulse", "team", "pulse_question", "response"}

# A column name containing any of these (or made of one of the short words) could identify
# someone or pin down when they answered, whatever the allow-list says.
SUSPICIOUS_FRAGMENTS = (
    "person",
    "people",
    "user",
    "employee",
    "member",
    "email",
    "mail",
    "name",
    "invit",
    "token",
    "hash",
    "nonce",
    "session",
    "cookie",
    "addr",
    "agent",
    "browser",
    "device",
    "time",
    "created",
    "updated",
    "submitted",
    "hour",
    "minute",
    "second",
    "seq",
    "rowid",
)
SUSPICIOUS_WORDS = {"ip", "ua", "at", "ts", "host", "order"}


def _suspicious(name: str) -> bool:
    lowered = name.lower()
    words = set(re.split(r"[^a-z0-9]+", lowered))
    return any(f in lowered for f in SUSPICIOUS_FRAGMENTS) or bool(words & SUSPICIOUS_WORDS)


def test_the_name_check_catches_identifying_columns() -> None:
    for name in (
        "person_id",
        "invitation_id",
        "created_at",
        "ip",
        "client_ip",
        "user_agent",
        "session_key",
        "submitted",
        "ts",
        "token_hash",
        "email",
    ):
        assert _suspicious(name), name
    for names in ALLOWED_COLUMNS.values():
        for name in names:
            assert not _suspicious(name), name


def test_response_tables_hold_only_allowed_columns(any_app: Flask) -> None:
    inspector = inspect(db.engine)
    for table, allowed in ALLOWED_COLUMNS.items():
        columns = inspector.get_columns(table)
        names = {c["name"] for c in columns}
        assert names - allowed == set(), f"{table} has columns outside the allow-list"
        for column in columns:
            assert not _suspicious(column["name"]), f"{table}.{column['name']}"
            kind = column["type"]
            assert not isinstance(kind, DateTime | Time | Interval), (
                f"{table}.{column['name']} can hold a time of day ({kind})"
            )
            assert not re.search(r"TIME|INTERVAL", str(kind).upper()), f"{table}: {kind}"
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] in ALLOWED_REFERENCES, (
                f"{table} references {fk['referred_table']}"
            )
    day = next(c for c in inspector.get_columns("response") if c["name"] == "day")
    assert isinstance(day["type"], Date) and not isinstance(day["type"], DateTime)


def test_sqlite_keeps_no_rowid_for_responses(app: Flask) -> None:
    for table in ALLOWED_COLUMNS:
        sql = db.session.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        ).scalar_one()
        assert "WITHOUT ROWID" in sql.upper(), table
        # Not even a hidden rowid to read the insertion order from.
        with pytest.raises(Exception, match="rowid"):
            db.session.execute(text(f"SELECT rowid FROM {table}"))  # noqa: S608 (fixed names)
        db.session.rollback()


def _submit_in_order(app: Flask, n: int, *, seed: int = 7) -> list[str]:
    """Record `n` responses one by one (one commit each) and return their ids in that order."""
    opened = open_pulse_for(app, people=n)
    rng = random.Random(seed)
    seen: set[str] = set()
    order: list[str] = []
    for token in opened.tokens:
        invitation = services.find_invitation(token)
        assert invitation is not None
        services.record_response(invitation, random_answers(opened.questions, rng), now=NOW)
        db.session.commit()
        ids = set(db.session.scalars(select(Response.id)))
        (new,) = ids - seen
        seen = ids
        order.append(new)
    return order


def test_response_ids_are_random_and_only_the_day_is_kept(any_app: Flask) -> None:
    order = _submit_in_order(any_app, 200)

    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in order)
    assert len(set(order)) == 200
    # Not monotonic: sorting the ids does not give the submission order back, and about half of
    # consecutive pairs go up (a sequence or a time-based id would go up every time).
    assert order != sorted(order) and order != sorted(order, reverse=True)
    ups = sum(a < b for a, b in itertools.pairwise(order))
    assert 0.35 < ups / (len(order) - 1) < 0.65, ups

    # Only the day: the stored value is a date, with no time part at all.
    raw = db.session.execute(text("SELECT DISTINCT day FROM response")).scalars().all()
    assert len(raw) == 1
    value = raw[0]
    if isinstance(value, str):  # SQLite stores dates as ISO text
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
    else:
        assert type(value) is date, type(value)
    assert db.session.scalars(select(Response.day)).first() == NOW.date()


def test_a_plain_scan_does_not_return_responses_in_submission_order(app: Flask) -> None:
    """On SQLite the table is WITHOUT ROWID, keyed by the random id: a plain scan comes back in
    id order, not in the order the responses came."""
    order = _submit_in_order(app, 60, seed=11)
    natural = list(db.session.scalars(select(Response.id)))
    assert natural != order, "a plain scan returns responses in submission order"


def test_the_order_links_were_used_is_recorded_nowhere(any_app: Flask) -> None:
    """Ranking responses by arrival (PostgreSQL keeps new rows at the end of its heap, and
    their xmin rises) could pair them with people only if something recorded *when each
    person's link was used*. Nothing does: submissions never touch invitation rows, the used
    links are keyed hashes no reader can join to an invitation without the secret key, and
    settling marks every used invitation in one statement."""
    opened_order = _submit_in_order(any_app, 30, seed=17)
    assert len(opened_order) == 30
    postgres = db.session.get_bind().dialect.name == "postgresql"
    before = db.session.execute(
        text("SELECT id, answered" + (", xmin::text" if postgres else "") + " FROM invitation")  # noqa: S608
    ).all()
    assert not any(row[1] for row in before), "a submission wrote to an invitation row"
    if postgres:
        assert len({row[2] for row in before}) == 1  # all still as the opening wrote them
    token_hashes = {row[0] for row in db.session.execute(text("SELECT token_hash FROM invitation"))}
    markers = [row[0] for row in db.session.execute(text("SELECT marker FROM used_link"))]
    assert len(markers) == 30 and not token_hashes & set(markers)

    pulse = db.session.scalars(select(Response.pulse_id)).first()
    assert pulse is not None
    from pulse.surveys.models import Pulse

    assert services.settle_answers(db.session.get(Pulse, pulse)) == 30  # type: ignore[arg-type]
    db.session.commit()
    if postgres:
        settled = db.session.execute(
            text("SELECT DISTINCT xmin::text FROM invitation WHERE answered")
        ).all()
        assert len(settled) == 1  # one transaction marked them all: no order among them


@pytest.mark.postgres
def test_postgres_rows_keep_no_trace_of_the_submitting_transaction(pg_app: Flask) -> None:
    """Every PostgreSQL row carries a hidden system column, xmin: the id of the transaction
    that wrote it, readable by anyone allowed to SELECT. The consuming UPDATE of the invitation
    and the INSERT of the response must not leave the same xmin on both rows, or
    `invitation.xmin = response.xmin` names the author of every response.
    (The physical order, ctid, is what the plain-scan test above sees.)"""
    order = _submit_in_order(pg_app, 60, seed=13)
    response_xids = sorted(
        set(db.session.execute(text("SELECT xmin::text FROM response")).scalars())
    )
    linked = db.session.execute(
        text("SELECT person_id FROM invitation WHERE answered AND xmin::text = ANY(:xids)"),
        {"xids": response_xids},
    ).all()
    assert linked == [], (
        f"{len(linked)} of {len(order)} responses share their transaction id (xmin) with the "
        "invitation row of the person who sent them"
    )


# --- Leak scan ---------------------------------------------------------------------------------

LEAK_EMAIL = "zq-leak-7731@example.com"
LEAK_NAME = "Zebulon Quixote-Leakprobe"
LEAK_IP = "203.0.113.77"
LEAK_AGENT = "LeakProbe/9.9"
RESPONSE_TABLES = set(ALLOWED_COLUMNS)


def _contains(value: Any, needle: str) -> bool:
    return needle.lower() in str(value).lower()


class _Browser:
    """A tiny HTTP client for a live server: keeps cookies, sends the leak probe's headers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "User-Agent": LEAK_AGENT,
            "X-Forwarded-For": LEAK_IP,
            "Referer": "https://mail.example/inbox",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.body = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response


def _answer_over_http(app: Flask, token: str, form: dict[str, str]) -> None:
    """Answer through a real (werkzeug) server, behind one trusted proxy, so the access log
    runs and the client address the app sees is the probe's."""
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser = _Browser(server.server_port)
        link = browser.request("GET", f"/p/{token}")
        assert link.status == 303, link.status
        location = urlsplit(link.headers["Location"])
        assert token not in link.headers["Location"]
        page = browser.request("GET", location.path)
        assert page.status == 200, page.status
        sent = browser.request("POST", location.path, form)
        assert sent.status in (302, 303), sent.body[:1000]
        thanks = browser.request("GET", urlsplit(sent.headers["Location"]).path)
        assert thanks.status == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_nothing_stored_or_logged_ties_the_response_to_its_author(
    any_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # SQL echo is a debugging switch that prints every statement with its parameters (the
    # token hash among them) by design; it is off in every configuration Pulse ships.
    # (caplog.set_level also sets its handler's level, so the DEBUG calls come last.)
    caplog.set_level(logging.WARNING, logger="sqlalchemy.engine")
    caplog.set_level(logging.DEBUG, logger="werkzeug")  # the server's access log
    caplog.set_level(logging.DEBUG)
    opened = open_pulse_for(
        any_app,
        people=5,
        now=utcnow(),
        extra_people=[{"email": LEAK_EMAIL, "name": LEAK_NAME}],
    )
    leaker = db.session.scalars(select(Person).where(Person.email == LEAK_EMAIL)).one()
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.person_id == leaker.id)
    ).one()
    token = opened.tokens[-1]
    token_hash = tokens.hash_token(token)
    assert invitation.token_hash == token_hash
    db.session.commit()

    form = answer_form(opened.questions, random.Random(3))
    comment_id = opened.question_id("comments.anything_else")
    form[f"q{comment_id}"] = "The coffee machine deserves a raise."
    _answer_over_http(any_app, token, form)

    db.session.expire_all()
    assert count(Response) == 1 and count(Comment) == 1 and count(Answer) >= 1
    response_id = db.session.scalars(select(Response.id)).one()
    secrets_ = {
        "email": LEAK_EMAIL,
        "name": LEAK_NAME,
        "ip": LEAK_IP,
        "user agent": LEAK_AGENT,
        "token": token,
        "token hash": token_hash,
        "person id": f"person:{leaker.id}",
    }
    tables = dump_tables()
    for table in RESPONSE_TABLES:
        for row in tables[table]:
            for label, needle in secrets_.items():
                assert not any(_contains(v, needle) for v in row.values()), (
                    f"{table} row holds the respondent's {label}"
                )
    # The person and the invitation exist; the link is used, but only a keyed hash says so
    # (the invitation row is marked later, with others, when answers are settled) ...
    assert any(row["email"] == LEAK_EMAIL for row in tables["person"])
    invitation_rows = [r for r in tables["invitation"] if r["person_id"] == leaker.id]
    assert len(invitation_rows) == 1 and invitation_rows[0]["answered"] is False
    assert len(tables["used_link"]) == 1
    assert not any(_contains(v, token_hash) for v in tables["used_link"][0].values())
    # ... but the response id appears in no other table: not in person, invitation, audit ...
    for table, rows in tables.items():
        if table in RESPONSE_TABLES:
            continue
        for row in rows:
            assert not any(_contains(v, response_id) for v in row.values()), (
                f"the response id appears in {table}"
            )
    # The link token itself is stored nowhere, only its hash in the invitation.
    for table, rows in tables.items():
        for row in rows:
            assert not any(_contains(v, token) for v in row.values()), f"token in {table}"

    # Logs: no line names the token or its hash, nor the response id next to the person.
    lines = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    # The scan saw the server's access log, including the line for the link itself.
    assert any(line.startswith("werkzeug:") and "/p/" in line for line in lines), lines
    for line in lines:
        assert token not in line, f"token in log: {line[:200]}"
        assert token_hash not in line, f"token hash in log: {line[:200]}"
        if response_id in line:
            for needle in (LEAK_EMAIL, LEAK_NAME, LEAK_IP, LEAK_AGENT):
                assert needle not in line, f"log line ties the response to {needle}"
