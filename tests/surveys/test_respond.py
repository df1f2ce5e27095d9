"""The answer flow through the test client: links, the form, bad input, faults, info pages."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role
from pulse.surveys import respond, services
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import (
    Answer,
    Comment,
    Invitation,
    Pulse,
    PulseQuestion,
    QuestionSet,
    QuestionSetItem,
    Response,
    UsedLink,
)
from tests.conftest import build_app, login
from tests.factories import make_staff, make_team
from tests.surveys.conftest import OpenedPulse, open_pulse_for

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- Helpers ----------------------------------------------------------------------------------


def _open(app: Flask, *, people: int = 3, set_ref: str = "builtin:core") -> OpenedPulse:
    # Views use the real clock, so the pulse opens now (not at the factories' fixed NOW).
    return open_pulse_for(app, people=people, now=utcnow(), set_ref=set_ref)


def _valid_form(opened: OpenedPulse) -> dict[str, str]:
    """An answer to every question: the middle of each scale, a few hours, a comment."""
    values = {
        ScaleKind.AGREE5: "4",
        ScaleKind.FREQ5: "2",
        ScaleKind.SCORE11: "8",
        ScaleKind.HOURS: "38",
        ScaleKind.TEXT: "More quiet time, please.",
    }
    return {f"q{q.id}": values[ScaleKind(q.scale)] for q in opened.questions}


def _question(opened: OpenedPulse, scale: ScaleKind) -> PulseQuestion:
    return next(q for q in opened.questions if q.scale == scale.value)


def _start(client: FlaskClient, token: str) -> None:
    response = client.get(f"/p/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/answer"


def _responses() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def _answered() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(UsedLink)) or 0


def _nothing_stored() -> None:
    assert _responses() == 0 and _answered() == 0
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def _session_token(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("invitation_token")  # type: ignore[no-any-return]


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


# --- The whole journey ------------------------------------------------------------------------


def test_answering_from_link_to_thanks(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    token = opened.tokens[0]

    link = client.get(f"/p/{token}")
    assert link.status_code == 303
    assert link.headers["Location"] == "/answer"  # the token stays out of every later URL
    assert _session_token(client) == token

    form_page = client.get("/answer")
    html = _text(form_page)
    assert form_page.status_code == 200
    assert token not in html
    assert form_page.headers["Cache-Control"] == "no-store"
    assert '<html lang="en">' in html
    assert "Answering test pulse" in html
    assert "About 2 minutes." in html
    assert (
        "Results are only shown for groups of at least 5 people; "
        "comments for groups of at least 10." in html
    )
    assert 'href="/protection"' in html
    assert "Send my answers" in html
    assert html.count("<fieldset") == len(opened.questions)
    assert html.count("<legend") == len(opened.questions)
    assert "How often do you end the working day feeling completely drained?" in html
    assert 'action="/answer"' in html
    assert 'name="team"' not in html and 'name="pulse"' not in html  # never chosen by hand

    sent = client.post("/answer", data=_valid_form(opened))
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/thanks"
    assert _session_token(client) is None

    thanks = client.get("/thanks")
    assert thanks.status_code == 200
    assert "your answers have been saved" in _text(thanks)
    assert "at least 5 people" in _text(thanks)

    assert _responses() == 1 and _answered() == 1
    response = db.session.scalars(select(Response)).one()
    assert (response.pulse_id, response.team_id) == (opened.pulse_id, opened.team_id)
    stored = dict(db.session.execute(select(Answer.question_id, Answer.value)).all())
    assert stored[_question(opened, ScaleKind.SCORE11).id] == 8
    assert len(stored) == len(opened.questions) - 1  # every question but the comment
    assert db.session.scalars(select(Comment.text)).one() == "More quiet time, please."


def test_skipping_every_optional_question_is_a_valid_answer(
    app: Flask, client: FlaskClient
) -> None:
    opened = _open(app)
    _start(client, opened.tokens[0])
    form = {f"q{q.id}": "skip" for q in opened.questions if q.scale != ScaleKind.TEXT.value}
    assert client.post("/answer", data=form).status_code == 303
    assert _responses() == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_the_form_offers_labelled_choices_skip_and_the_0_to_10_anchors(
    app: Flask, client: FlaskClient
) -> None:
    opened = _open(app, set_ref="builtin:four_day_week")
    _start(client, opened.tokens[0])
    html = _text(client.get("/answer"))
    agree = _question(opened, ScaleKind.AGREE5)
    for value, label in enumerate(
        ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"],
        start=1,
    ):
        assert f'id="q{agree.id}-{value}" value="{value}"' in html
        assert f'<label for="q{agree.id}-{value}">{label}</label>' in html
    assert f'id="q{agree.id}-skip" value="skip"' in html
    assert html.count('value="skip"') == sum(
        1 for q in opened.questions if q.scale not in ("hours", "text")
    )
    score = _question(opened, ScaleKind.SCORE11)
    assert all(f'id="q{score.id}-{v}" value="{v}"' in html for v in range(11))
    assert "Not at all likely" in html and "Extremely likely" in html
    hours = _question(opened, ScaleKind.HOURS)
    assert re.search(rf'type="number"[^>]*min="0" max="100"[^>]*name="q{hours.id}"', html)
    assert (
        f'<textarea class="input input--comment" name="q{_question(opened, ScaleKind.TEXT).id}"'
        in html
    )
    # Four-day-week set: 16 questions, so "about 4 minutes", not a promise of 2.
    assert "About 4 minutes." in html


# --- Links that cannot be answered -----------------------------------------------------------


def test_unknown_link_gets_a_friendly_page(app: Flask, client: FlaskClient) -> None:
    _open(app)
    _start(client, "A" * 43)  # the shape of a token, but nobody's
    page = client.get("/answer")
    assert page.status_code == 404
    assert "This link is not valid" in _text(page)
    assert _session_token(client) is None
    assert client.post("/answer", data={}).status_code == 400  # no link in the session now
    _nothing_stored()


@pytest.mark.parametrize("junk", ["abc", "x" * 200, "%00" * 43, "A" * 42 + "!"])
def test_malformed_link_is_refused_without_touching_the_session(
    app: Flask, client: FlaskClient, junk: str
) -> None:
    page = client.get(f"/p/{junk}")
    assert page.status_code == 404
    assert "This link is not valid" in _text(page)
    assert _session_token(client) is None


def test_used_link_says_already_answered(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    _start(client, opened.tokens[0])
    assert client.post("/answer", data=_valid_form(opened)).status_code == 303

    _start(client, opened.tokens[0])
    again = client.get("/answer")
    assert again.status_code == 409
    assert "already answered" in _text(again)
    assert _responses() == 1


def test_same_link_in_two_tabs_records_one_response(app: Flask) -> None:
    opened = _open(app)
    first, second = app.test_client(), app.test_client()
    for tab in (first, second):
        _start(tab, opened.tokens[0])
        assert tab.get("/answer").status_code == 200
    assert first.post("/answer", data=_valid_form(opened)).status_code == 303
    late = second.post("/answer", data=_valid_form(opened))
    assert late.status_code == 409
    assert "already answered" in _text(late)
    assert _responses() == 1 and _answered() == 1


def test_eight_simultaneous_submissions_of_one_link_record_one(app: Flask) -> None:
    opened = _open(app)
    clients = [app.test_client() for _ in range(8)]
    for c in clients:
        _start(c, opened.tokens[0])
    form = _valid_form(opened)
    statuses: list[int] = []
    barrier = threading.Barrier(len(clients))

    def submit(c: FlaskClient) -> None:
        barrier.wait()
        statuses.append(c.post("/answer", data=form).status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    db.session.commit()  # release the test's own transaction before the threads write
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [303] + [409] * 7
    assert _responses() == 1


def test_race_lost_in_the_conditional_update_shows_already_answered(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request consumed the link between our check and our UPDATE."""
    opened = _open(app)
    _start(client, opened.tokens[0])
    real = services.record_response

    def other_request_first(invitation: Invitation, *args: Any, **kwargs: Any) -> None:
        db.session.execute(
            update(Invitation).where(Invitation.id == invitation.id).values(answered=True)
        )
        real(invitation, *args, **kwargs)

    monkeypatch.setattr(services, "record_response", other_request_first)
    page = client.post("/answer", data=_valid_form(opened))
    assert page.status_code == 409
    assert "already answered" in _text(page)
    assert _responses() == 0  # rolled back, including our half of the work


def test_closed_pulse_says_so(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    _start(client, opened.tokens[0])
    assert client.get("/answer").status_code == 200
    pulse = db.session.get(Pulse, opened.pulse_id)
    assert pulse is not None
    services.close_pulse(pulse, now=utcnow(), actor=None)
    db.session.commit()

    page = client.post("/answer", data=_valid_form(opened))
    assert page.status_code == 410
    assert "This pulse has closed" in _text(page)
    _nothing_stored()


def test_expired_link_after_the_closing_time(app: Flask, client: FlaskClient) -> None:
    opened = open_pulse_for(app, people=2, now=utcnow() - timedelta(days=8))  # closed yesterday
    _start(client, opened.tokens[0])
    page = client.get("/answer")
    assert page.status_code == 410
    assert "This pulse has closed" in _text(page)
    _nothing_stored()


def test_pulse_not_open_yet(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    db.session.execute(
        update(Pulse)
        .where(Pulse.id == opened.pulse_id)
        .values(opens_at=utcnow() + timedelta(days=1), closes_at=utcnow() + timedelta(days=2))
    )
    db.session.commit()
    _start(client, opened.tokens[0])
    page = client.get("/answer")
    assert page.status_code == 409
    assert "not open yet" in _text(page)
    _nothing_stored()


def test_answer_page_without_a_link_explains_what_to_do(client: FlaskClient) -> None:
    page = client.get("/answer")
    assert page.status_code == 200
    assert "Open your personal link" in _text(page)
    assert client.post("/answer", data={"q1": "3"}).status_code == 400


# --- Bad input ----------------------------------------------------------------------------------


def _bad_values(opened: OpenedPulse) -> list[tuple[str, str, list[str]]]:
    agree = f"q{_question(opened, ScaleKind.AGREE5).id}"
    score = f"q{_question(opened, ScaleKind.SCORE11).id}"
    comment = f"q{_question(opened, ScaleKind.TEXT).id}"
    return [
        ("out of range", agree, ["6"]),
        ("zero on a 1-5 scale", agree, ["0"]),
        ("negative", agree, ["-1"]),
        ("eleven on 0-10", score, ["11"]),
        ("non-numeric", agree, ["often"]),
        ("decimal", score, ["7.5"]),
        ("non-ASCII digit", agree, ["٣"]),
        ("duplicated", agree, ["2", "4"]),
        ("huge number", score, ["9" * 5000]),
        ("NUL in a number", agree, ["3\x00"]),
        ("NUL in a comment", comment, ["fine\x00then"]),
        ("huge comment", comment, ["x" * 4001]),
    ]


@pytest.mark.parametrize("case", range(12))
def test_bad_values_are_rejected_and_nothing_is_stored(
    app: Flask, client: FlaskClient, case: int
) -> None:
    opened = _open(app)
    label, field, values = _bad_values(opened)[case]
    _start(client, opened.tokens[0])
    form: dict[str, Any] = {**_valid_form(opened), field: values}
    page = client.post("/answer", data=form)
    assert page.status_code == 400, label
    html = _text(page)
    assert 'role="alert"' in html
    assert f'id="{field}-error"' in html
    _nothing_stored()
    assert _session_token(client) == opened.tokens[0]  # the link still works


def test_hours_outside_0_to_100_are_refused(app: Flask, client: FlaskClient) -> None:
    opened = _open(app, set_ref="builtin:four_day_week")
    field = f"q{_question(opened, ScaleKind.HOURS).id}"
    _start(client, opened.tokens[0])
    for bad in ("101", "-5", "forty", "40.5"):
        page = client.post("/answer", data={**_valid_form(opened), field: bad})
        assert page.status_code == 400
        assert "Please enter a whole number between 0 and 100." in _text(page)
    assert client.post("/answer", data={**_valid_form(opened), field: "100"}).status_code == 303
    assert (
        db.session.scalar(select(Answer.value).where(Answer.question_id == int(field[1:]))) == 100
    )


def test_errors_keep_the_choices_and_link_to_each_question(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    first, second = opened.questions[0], opened.questions[1]
    comment = _question(opened, ScaleKind.TEXT)
    _start(client, opened.tokens[0])
    page = client.post(
        "/answer",
        data={f"q{first.id}": "3", f"q{second.id}": "9", f"q{comment.id}": "Keep <b>this</b>"},
    )
    html = _text(page)
    assert page.status_code == 400
    summary = html[
        html.index('class="error-summary"') : html.index(
            "</div>", html.index('class="error-summary"')
        )
    ]
    assert 'role="alert"' in summary
    assert f'href="#q{second.id}-1"' in summary
    assert "Please choose one of the options." in summary
    assert f'id="q{first.id}-3" value="3" checked' in html
    assert "Keep &lt;b&gt;this&lt;/b&gt;</textarea>" in html
    _nothing_stored()


def test_missing_required_answer_is_refused(app: Flask, client: FlaskClient) -> None:
    custom = QuestionSet(
        name="Required eNPS",
        created_at=utcnow(),
        items=[
            QuestionSetItem(position=1, question_key="enps.recommend", required=True),
            QuestionSetItem(position=2, question_key="trust.colleagues"),
        ],
    )
    db.session.add(custom)
    db.session.commit()
    opened = _open(app, set_ref=f"custom:{custom.id}")
    enps, trust = opened.questions
    _start(client, opened.tokens[0])
    html = _text(client.get("/answer"))
    assert "(required)" in html
    assert f'id="q{enps.id}-skip"' not in html  # no skip on a required question
    assert f'id="q{trust.id}-skip"' in html

    for form in ({f"q{trust.id}": "4"}, {f"q{enps.id}": "skip", f"q{trust.id}": "4"}):
        page = client.post("/answer", data=form)
        assert page.status_code == 400
        assert "Please answer this question." in _text(page)
    _nothing_stored()
    assert client.post("/answer", data={f"q{enps.id}": "7"}).status_code == 303


def test_extra_fields_and_forged_team_or_pulse_are_ignored(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    other_team = make_team("Elsewhere/Forged")
    other_pulse = open_pulse_for(app, people=1, now=utcnow(), team_path="Elsewhere/Other")
    db.session.commit()
    _start(client, opened.tokens[0])
    form = {
        **_valid_form(opened),
        "team": str(other_team.id),
        "team_id": str(other_team.id),
        "pulse": str(other_pulse.pulse_id),
        "pulse_id": str(other_pulse.pulse_id),
        f"q{other_pulse.questions[0].id}": "1",  # a question of another pulse
        "q999999": "5",
        "day": "1999-01-01",
    }
    assert client.post("/answer", data=form).status_code == 303
    response = db.session.scalars(select(Response)).one()
    assert (response.pulse_id, response.team_id) == (opened.pulse_id, opened.team_id)
    assert response.day == utcnow().date()
    stored = set(db.session.scalars(select(Answer.question_id)))
    assert stored <= {q.id for q in opened.questions}


def test_html_in_a_comment_is_stored_verbatim(app: Flask, client: FlaskClient) -> None:
    opened = _open(app)
    nasty = '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{7*7}}'
    field = f"q{_question(opened, ScaleKind.TEXT).id}"
    first = f"q{opened.questions[0].id}"
    _start(client, opened.tokens[0])
    # Another answer is out of range, so the comment is shown back in the form: escaped.
    again = client.post("/answer", data={**_valid_form(opened), first: "8", field: nasty})
    assert again.status_code == 400
    html = _text(again)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x" in html
    assert "{{7*7}}</textarea>" in html  # not evaluated by the template engine
    assert client.post("/answer", data={**_valid_form(opened), field: nasty}).status_code == 303
    assert db.session.scalars(select(Comment.text)).one() == nasty


# --- Faults -------------------------------------------------------------------------------------


def _locked() -> OperationalError:
    return OperationalError(
        "UPDATE invitation ...", {}, sqlite3.OperationalError("database is locked")
    )


def test_database_error_during_submit_keeps_the_link_and_a_retry_works(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _open(app)
    _start(client, opened.tokens[0])
    real = services.record_response

    def fails_after_writing(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)  # the writes happen, then the database gives up
        raise _locked()

    monkeypatch.setattr(services, "record_response", fails_after_writing)
    form = _valid_form(opened)
    page = client.post("/answer", data=form)
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    html = _text(page)
    assert "Your answers were not saved, please try again" in html
    first = opened.questions[0]
    assert f'id="q{first.id}-{form[f"q{first.id}"]}" value="{form[f"q{first.id}"]}" checked' in html
    _nothing_stored()
    assert _session_token(client) == opened.tokens[0]

    monkeypatch.setattr(services, "record_response", real)
    assert client.post("/answer", data=form).status_code == 303
    assert _responses() == 1 and _answered() == 1


def test_database_locked_while_loading_the_form_is_a_503_with_retry_after(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _open(app)
    _start(client, opened.tokens[0])

    def locked(token: str) -> None:
        raise _locked()

    monkeypatch.setattr(services, "find_invitation", locked)
    page = client.get("/answer")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == respond.RETRY_AFTER_SECONDS
    assert "please try again" in _text(page)
    assert "Traceback" not in _text(page) and "UPDATE" not in _text(page)


# --- CSRF and rate limit, switched on as in production -----------------------------------------


def _strict_app(tmp_path: Path, **overrides: object) -> Iterator[Flask]:
    app = build_app(f"sqlite:///{tmp_path / 'strict.db'}", tmp_path / "strict", **overrides)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator[Flask]:
    yield from _strict_app(tmp_path, WTF_CSRF_ENABLED=True)


def test_answer_with_csrf_protection_on(csrf_app: Flask) -> None:
    opened = _open(csrf_app, people=2)
    client = csrf_app.test_client()
    _start(client, opened.tokens[0])
    page = _text(client.get("/answer"))
    token = CSRF_RE.search(page)
    assert token
    sent = client.post("/answer", data={**_valid_form(opened), "csrf_token": token.group(1)})
    assert sent.status_code == 303 and sent.headers["Location"] == "/thanks"

    forged = csrf_app.test_client()
    _start(forged, opened.tokens[1])
    refused = forged.post("/answer", data=_valid_form(opened))
    assert refused.status_code == 400
    assert "This page has expired" in _text(refused)
    assert _responses() == 1 and _answered() == 1


def test_csrf_time_limit_is_hours_not_minutes(app: Flask) -> None:
    assert app.config["WTF_CSRF_TIME_LIMIT"] >= 8 * 3600


@pytest.fixture
def limited_app(tmp_path: Path) -> Iterator[Flask]:
    yield from _strict_app(tmp_path, RATELIMIT_ENABLED=True, ANSWER_RATE_LIMIT="3 per minute")


def test_answer_posts_are_rate_limited_per_address(limited_app: Flask) -> None:
    opened = _open(limited_app, people=1)
    client = limited_app.test_client()
    _start(client, opened.tokens[0])
    for _ in range(3):
        assert client.post("/answer", data={"q1": "bad"}).status_code in (400, 200)
    blocked = client.post("/answer", data=_valid_form(opened))
    assert blocked.status_code == 429
    assert "Too many answers from your network" in _text(blocked)
    assert client.get("/answer").status_code == 200  # reading the form is not limited
    assert _responses() == 0


# --- Thanks and protection pages -----------------------------------------------------------------


def test_thanks_page_holds_no_personal_data(app: Flask, client: FlaskClient) -> None:
    opened = open_pulse_for(
        app, people=0, now=utcnow(), extra_people=[{"email": "ada@example.com", "name": "Ada Q"}]
    )
    _start(client, opened.tokens[0])
    client.post("/answer", data=_valid_form(opened))
    html = _text(client.get("/thanks"))
    assert "Ada" not in html and "ada@example.com" not in html
    assert "When the pulse closes, results are shared by team" in html


def test_protection_page_says_exactly_what_is_stored(app: Flask, client: FlaskClient) -> None:
    page = client.get("/protection")
    assert page.status_code == 200
    html = _text(page)
    for promise in (
        "Which pulse you answered.",
        "Your team as it was when you were invited.",
        "The day you answered, but not the time.",
        "Your answers, and your comment if you write one.",
        "that your link has been used",
        "Your name or your email address.",
        "Your IP address, your browser or your device.",
        "Any link between your answers and you.",
        "at least 5 people",
        "at least 10 people, in random order and without dates",
        "Managers never see individual answers",
        "cannot see who answered what",
    ):
        assert promise in html, promise


def test_protection_page_shows_the_pulse_thresholds_once_a_link_is_open(
    app: Flask, client: FlaskClient
) -> None:
    team = make_team("Acme/Big")
    opened = open_pulse_for(app, people=2, now=utcnow(), team_path="Acme/Big")
    db.session.execute(
        update(Pulse).where(Pulse.id == opened.pulse_id).values(min_group=7, min_comment_group=12)
    )
    db.session.commit()
    assert team.id == opened.team_id
    _start(client, opened.tokens[0])
    assert "at least 7 people" in _text(client.get("/answer"))
    html = _text(client.get("/protection"))
    assert "at least 7 people" in html and "at least 12 people" in html
    assert "These are the usual numbers" not in html


@pytest.mark.parametrize("path", ["/protection", "/thanks", "/answer"])
def test_respondent_pages_are_public_for_every_visitor(
    app: Flask, client: FlaskClient, path: str
) -> None:
    assert client.get(path).status_code == 200  # anonymous: no login redirect
    hr = make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    login(client, hr.email)
    assert client.get(path).status_code == 200
    assert hr.id


def test_start_link_is_public_for_every_visitor(app: Flask, client: FlaskClient) -> None:
    make_staff(Role.MANAGER, email="m@example.com")
    db.session.commit()
    _start(client, "B" * 43)
    login(client, "m@example.com")
    _start(client, "C" * 43)


def test_every_parse_message_has_a_translation_marker() -> None:
    from pulse.surveys import answers

    assert {answers.REQUIRED, answers.OUT_OF_RANGE, answers.TWICE} <= set(respond.PARSE_MESSAGES)
