"""HR pages for the question library and pulses: permissions, the whole flow, and bad input."""

from __future__ import annotations

import csv
import io
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from pulse.audit.models import AuditEvent
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.models import (
    CustomQuestion,
    Delivery,
    Invitation,
    Pulse,
    PulseQuestion,
    QuestionSet,
)
from tests.auth.conftest import csrf_token
from tests.conftest import build_app, login
from tests.factories import PASSWORD, make_person, make_staff, make_team

INPUT = "%Y-%m-%dT%H:%M"


def local(moment: datetime) -> str:
    """A UTC time as typed into a datetime-local input (the test organisation uses UTC)."""
    return moment.strftime(INPUT)


def count(model: type) -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def flashes(response: TestResponse, client: FlaskClient) -> str:
    """The page the action redirected to, where its flash message is shown."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def outbox(app: Flask) -> list[str]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    parser = BytesParser(policy=policy.default)
    return (
        [str(parser.parsebytes(p.read_bytes())["To"]) for p in sorted(folder.glob("*.eml"))]
        if folder.exists()
        else []
    )


@dataclass
class Org:
    root: int
    eng: int
    sales: int
    hr: Person


@pytest.fixture
def org(app: Flask) -> Org:
    """Acme with Eng (6 people, one of them inactive) and Sales (3), an HR account, a manager
    and a leader."""
    root = make_team("Acme")
    eng = make_team("Acme/Eng")
    sales = make_team("Acme/Sales")
    for i in range(5):
        make_person(team=eng, email=f"eng{i}@example.com", name=f"Engineer {i}")
    make_person(team=eng, email="gone@example.com", active=False)
    for i in range(3):
        make_person(team=sales, email=f"sales{i}@example.com", name=f"Seller {i}")
    hr = make_staff(Role.HR, email="hr@example.com", team=None)
    make_staff(Role.MANAGER, email="manager@example.com", manages=[eng], team=None)
    make_staff(Role.LEADER, email="leader@example.com", team=None)
    db.session.commit()
    return Org(root.id, eng.id, sales.id, hr)


@pytest.fixture
def hr(client: FlaskClient, org: Org) -> Org:
    login(client, "hr@example.com")
    return org


def new_pulse_form(org: Org, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "title": "November pulse",
        "question_set": "builtin:core",
        "teams": [str(org.eng)],
        "min_group": "5",
        "min_comment_group": "10",
        "release": "after_close",
        "action": "draft",
    }
    form.update(overrides)
    return form


def create_pulse(client: FlaskClient, org: Org, **overrides: object) -> int:
    response = client.post("/pulses/new", data=new_pulse_form(org, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    match = re.search(r"/pulses/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def open_now(client: FlaskClient, pulse_id: int, days: int = 7) -> TestResponse:
    closes = utcnow() + timedelta(days=days)
    return client.post(f"/pulses/{pulse_id}/open", data={"closes_at": local(closes)})


def pulse_row(pulse_id: int) -> Pulse:
    db.session.rollback()
    pulse = db.session.get(Pulse, pulse_id)
    assert pulse is not None
    return pulse


# --- Permissions -----------------------------------------------------------------------------

ROUTES = [
    ("GET", "/questions"),
    ("GET", "/questions/new"),
    ("POST", "/questions/new"),
    ("GET", "/questions/sets/new"),
    ("POST", "/questions/sets/new"),
    ("GET", "/questions/sets/import"),
    ("POST", "/questions/sets/import"),
    ("GET", "/pulses"),
    ("GET", "/pulses/new"),
    ("POST", "/pulses/new"),
    ("GET", "/pulses/{id}"),
    ("POST", "/pulses/{id}/open"),
    ("POST", "/pulses/{id}/close"),
    ("POST", "/pulses/{id}/extend"),
    ("POST", "/pulses/{id}/schedule"),
    ("POST", "/pulses/{id}/retry"),
    ("POST", "/pulses/{id}/remind"),
    ("GET", "/pulses/{id}/links.csv"),
]


def _open_pulse_in_db(org: Org) -> int:
    team = db.session.get(Team, org.eng)
    assert team is not None
    pulse = services.create_pulse(
        title="Open", set_ref="builtin:core", teams=[team], now=utcnow(), actor=None
    )
    services.open_pulse(
        pulse,
        now=utcnow(),
        secret_key="test-secret-key-not-for-production-use-0123456789",
        actor=None,
        closes_at=utcnow() + timedelta(days=3),
    )
    db.session.commit()
    return pulse.id


@pytest.mark.parametrize("visitor", ["anonymous", "manager", "leader"])
def test_only_hr_may_use_the_survey_pages(client: FlaskClient, org: Org, visitor: str) -> None:
    pulse_id = _open_pulse_in_db(org)
    if visitor != "anonymous":
        login(client, f"{visitor}@example.com")
    audit_before = count(AuditEvent)
    for method, url in ROUTES:
        response = client.open(url.format(id=pulse_id), method=method, data={})
        if visitor == "anonymous":
            assert response.status_code == 302, (method, url)
            assert "/login" in response.headers["Location"], (method, url)
        else:
            assert response.status_code == 403, (method, url, response.status_code)
    assert count(AuditEvent) == audit_before
    assert pulse_row(pulse_id).closes_at is not None
    assert pulse_row(pulse_id).state(utcnow()).value == "open"


def test_hr_can_reach_every_page(client: FlaskClient, hr: Org) -> None:
    pulse_id = _open_pulse_in_db(hr)
    for method, url in ROUTES:
        if method == "GET":
            response = client.get(url.format(id=pulse_id))
            assert response.status_code == 200, (url, response.status_code)
    nav = client.get("/pulses").get_data(as_text=True)
    assert 'href="/pulses"' in nav and 'href="/questions"' in nav


# --- The question library --------------------------------------------------------------------


def test_library_lists_questions_by_dimension_and_the_sets(client: FlaskClient, hr: Org) -> None:
    html = client.get("/questions").get_data(as_text=True)
    for text in (
        "Psychological safety",
        "If you make a mistake in this team, it tends to be held against you.",
        "Edmondson (1999) team psychological safety",
        "psychological safety (reverse-keyed)",
        "Agreement, 1 to 5",
        "Score, 0 to 10",
        "Core pulse",
        "Four-day week pilot",
        "Burnout deep-dive",
        'id="dimension-burnout"',
    ):
        assert text in html, text


def test_hr_adds_a_custom_question(client: FlaskClient, hr: Org) -> None:
    response = client.post(
        "/questions/new",
        data={
            "text": "  Our team's goals are   clear to me. ",
            "dimension": "empowerment",
            "scale": "agree5",
            "construct": "role clarity",
            "modelled_on": "Own wording",
            "licence_note": "",
            "key": "",
        },
    )
    page = flashes(response, client)
    assert "Added the question &#39;empowerment.our_team_s_goals_are_clear&#39;" in page
    question = db.session.scalars(select(CustomQuestion)).one()
    assert question.text == "Our team's goals are clear to me."
    assert (question.scale, question.reverse, question.construct) == (
        "agree5",
        False,
        "role clarity",
    )
    library = client.get("/questions").get_data(as_text=True)
    assert "Our team&#39;s goals are clear to me." in library and "Custom" in library
    assert db.session.scalars(select(AuditEvent.action)).all() == ["question.create"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": ""}, "Write the question."),
        ({"text": "x" * 501}, "Keep the question under 500 characters."),
        ({"dimension": "happiness"}, "Choose one of the dimensions."),
        ({"scale": "likert7"}, "Choose one of the scales."),
        ({"key": "Bad Key"}, "Use lower-case letters"),
        ({"key": "burnout.drained"}, "already in the library"),
        ({"text": "I can rely on what management tells us."}, "trust.rely_on_management"),
        ({"construct": "c" * 201}, "Keep this under 200 characters."),
    ],
)
def test_bad_question_values_are_explained(
    client: FlaskClient, hr: Org, fields: dict[str, str], message: str
) -> None:
    data = {"text": "A fine new question?", "dimension": "trust", "scale": "agree5"}
    data.update(fields)
    response = client.post("/questions/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(CustomQuestion) == 0


def test_hr_composes_a_set_with_order_and_required_flags(client: FlaskClient, hr: Org) -> None:
    page = client.get("/questions/sets/new").get_data(as_text=True)
    assert 'name="pick" value="enps.recommend"' in page
    response = client.post(
        "/questions/sets/new",
        data={
            "name": "Quick check",
            "description": "Three questions.",
            "pick": ["burnout.drained", "enps.recommend", "trust.colleagues"],
            "order-enps.recommend": "1",
            "order-burnout.drained": "",
            "required-enps.recommend": "y",
            "required-heard.changes_seen": "y",  # not picked: ignored
        },
    )
    flashes(response, client)
    qset = db.session.scalars(select(QuestionSet)).one()
    assert [(i.question_key, i.required) for i in qset.items] == [
        ("enps.recommend", True),
        ("burnout.drained", False),
        ("trust.colleagues", False),
    ]
    assert "Quick check" in client.get("/questions").get_data(as_text=True)
    choices = client.get("/pulses/new").get_data(as_text=True)
    assert f'value="custom:{qset.id}"' in choices


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Empty"}, "A set needs at least one question."),
        ({"name": "", "pick": ["burnout.drained"]}, "Give the set a name."),
        ({"name": "Core pulse", "pick": ["burnout.drained"]}, "already exists"),
        ({"name": "X", "pick": ["no.such"]}, "no longer in the library"),
        ({"name": "X", "pick": ["burnout.drained"], "order-burnout.drained": "abc"}, "1 to 999"),
        (
            {"name": "X", "pick": ["burnout.drained"], "order-burnout.drained": ["1", "2"]},
            "1 to 999",
        ),
        ({"name": "X" * 121, "pick": ["burnout.drained"]}, "under 120 characters"),
    ],
)
def test_bad_sets_are_explained(
    client: FlaskClient, hr: Org, data: dict[str, object], message: str
) -> None:
    response = client.post("/questions/sets/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(QuestionSet) == 0


def upload(client: FlaskClient, data: bytes, filename: str = "set.yaml") -> TestResponse:
    return client.post(
        "/questions/sets/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_import_page_documents_the_format(client: FlaskClient, hr: Org) -> None:
    html = client.get("/questions/sets/import").get_data(as_text=True)
    for text in ("climate.clear_goals", "psych_safety", "agree5", "score11", "reverse", "60"):
        assert text in html


def test_importing_a_set_file(client: FlaskClient, hr: Org) -> None:
    data = b"""name: Team climate
questions:
  - key: climate.blame
    text: When something goes wrong here, people look for someone to blame.
    dimension: psych_safety
    scale: agree5
    reverse: true
  - burnout.drained
"""
    page = flashes(upload(client, data), client)
    assert "Imported the question set &#39;Team climate&#39;: 2 questions, 1 of them new" in page
    assert count(QuestionSet) == 1 and count(CustomQuestion) == 1
    assert "question_set.import" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_bad_file_lists_every_problem_and_writes_nothing(client: FlaskClient, hr: Org) -> None:
    data = b"""name: Broken
questions:
  - {key: a.one, text: 'One', dimension: trust, scale: likert7}
  - {key: burnout.drained, scale: agree5}
  - {key: a.one, text: 'Again', dimension: mood, scale: agree5}
"""
    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported: the file has 4 problems" in html
    for where in ("questions[1].scale", "questions[2].scale", "questions[3].dimension"):
        assert where in html
    assert count(QuestionSet) == 0 and count(CustomQuestion) == 0
    missing = client.post("/questions/sets/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert "Choose a YAML or JSON file" in missing.get_data(as_text=True)
    huge = upload(client, b"name: x\n" + b"#" * 300_000)
    assert huge.status_code == 400 and "larger than 256 KB" in huge.get_data(as_text=True)


# --- Pulses: creating --------------------------------------------------------------------------


def test_pulse_list_starts_empty(client: FlaskClient, hr: Org) -> None:
    html = client.get("/pulses").get_data(as_text=True)
    assert "No pulses yet" in html and "Create your first pulse" in html


def test_new_pulse_form_shows_the_team_tree(client: FlaskClient, hr: Org) -> None:
    html = client.get("/pulses/new").get_data(as_text=True)
    assert f'name="teams" value="{hr.eng}"' in html
    assert "Choosing a team includes every team below it" in html
    assert 'value="builtin:four_day_week"' in html
    assert 'name="min_group"' in html and 'value="5"' in html


def test_saving_a_draft_and_scheduling(client: FlaskClient, hr: Org) -> None:
    draft_id = create_pulse(client, hr, teams=[str(hr.eng), str(hr.eng)])  # duplicate ignored
    draft = pulse_row(draft_id)
    assert draft.opens_at is None and [t.id for t in draft.teams] == [hr.eng]
    opens = utcnow() + timedelta(days=1)
    scheduled_id = create_pulse(
        client,
        hr,
        action="schedule",
        opens_at=local(opens),
        closes_at=local(opens + timedelta(days=5)),
        min_group="6",
        min_comment_group="6",
        release="steps",
    )
    scheduled = pulse_row(scheduled_id)
    assert scheduled.state(utcnow()).value == "scheduled"
    assert (scheduled.min_group, scheduled.min_comment_group, scheduled.release.value) == (
        6,
        6,
        "steps",
    )
    listing = client.get("/pulses").get_data(as_text=True)
    assert "Draft" in listing and "Scheduled" in listing
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("pulse.create") == 2


def test_times_are_read_in_the_organisation_time_zone(
    app: Flask, client: FlaskClient, hr: Org
) -> None:
    app.config["TIMEZONE"] = "Europe/Berlin"
    opens = (utcnow() + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    pulse_id = create_pulse(
        client,
        hr,
        action="schedule",
        opens_at=opens.strftime("%Y-%m-%dT09:00"),
        closes_at=(opens + timedelta(days=2)).strftime("%Y-%m-%dT17:30"),
    )
    pulse = pulse_row(pulse_id)
    assert pulse.opens_at is not None
    local_opening = pulse.opens_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local_opening.hour, local_opening.minute) == (9, 0)
    assert pulse.opens_at.utcoffset() == timedelta(0)
    assert "09:00 CET" in client.get("/pulses").get_data(as_text=True) or "09:00 CEST" in (
        client.get("/pulses").get_data(as_text=True)
    )


def _bad_pulse_forms(org: Org) -> list[tuple[dict[str, object], str]]:
    now = utcnow()
    soon, later = now + timedelta(hours=1), now + timedelta(days=2)
    schedule = {"action": "schedule", "opens_at": local(soon), "closes_at": local(later)}
    return [
        ({"title": ""}, "Give the pulse a title."),
        ({"title": "x" * 5000}, "under 200 characters"),
        ({"min_group": "abc"}, "Enter a whole number."),
        ({"min_group": "5.5"}, "Enter a whole number."),
        ({"min_group": "2"}, "Choose a number from 3 to 1000."),
        ({"min_group": "9" * 40}, "Choose a number from 3 to 1000."),
        ({"min_group": ""}, "Enter the minimum group size."),
        ({"min_group": "8", "min_comment_group": "6"}, "cannot be smaller"),
        ({"question_set": "builtin:nope"}, "Choose one of the question sets."),
        ({"question_set": "custom:999"}, "Choose one of the question sets."),
        ({"question_set": ""}, "Choose one of the question sets."),
        ({"teams": []}, "Choose at least one team to invite."),
        ({"teams": ["999999"]}, "no longer exist"),
        ({"teams": ["abc", str(org.eng)]}, "no longer exist"),
        ({"teams": ["9" * 30]}, "no longer exist"),
        ({"release": "sometimes"}, "Choose when team results appear."),
        ({**schedule, "opens_at": ""}, "Enter the opening date and time."),
        ({**schedule, "closes_at": "tomorrow"}, "Enter a date and time"),
        ({**schedule, "opens_at": "9999-12-31T23:59"}, "before 2100"),
        ({**schedule, "opens_at": "0001-01-01T00:00"}, "has passed"),
        ({**schedule, "closes_at": local(soon - timedelta(minutes=5))}, "after the opening"),
        (
            {**schedule, "opens_at": local(now - timedelta(days=3)), "closes_at": local(now)},
            "has passed",
        ),
        ({**schedule, "opens_at": [local(soon), local(later)]}, "Enter a date and time"),
        ({"action": "", "closes_at": local(later)}, "Enter the opening date and time."),
    ]


def test_bad_pulse_values_never_fail(client: FlaskClient, hr: Org) -> None:
    for overrides, message in _bad_pulse_forms(hr):
        response = client.post("/pulses/new", data=new_pulse_form(hr, **overrides))
        html = response.get_data(as_text=True)
        assert response.status_code == 400, (overrides, response.status_code)
        assert message in html, (overrides, message)
        assert "The pulse was not saved" in html
    assert count(Pulse) == 0


def test_a_question_set_emptied_since_is_reported(client: FlaskClient, hr: Org) -> None:
    qset = QuestionSet(name="Empty", description="", created_at=utcnow(), items=[])
    db.session.add(qset)
    db.session.commit()
    response = client.post("/pulses/new", data=new_pulse_form(hr, question_set=f"custom:{qset.id}"))
    assert response.status_code == 400
    assert "That question set has no questions." in response.get_data(as_text=True)


# --- Pulses: the whole life ----------------------------------------------------------------------


def test_create_open_answer_and_close(app: Flask, client: FlaskClient, hr: Org) -> None:
    pulse_id = create_pulse(client, hr, teams=[str(hr.root)])
    page = client.get(f"/pulses/{pulse_id}").get_data(as_text=True)
    assert "This pulse is a draft" in page and "Open now and send invitations" in page

    page = flashes(open_now(client, pulse_id), client)
    assert "The pulse is open: 8 people invited. 8 invitations emailed." in page
    recipients = outbox(app)
    assert len(recipients) == 8 and "gone@example.com" not in recipients
    pulse = pulse_row(pulse_id)
    assert pulse.is_frozen and pulse.state(utcnow()).value == "open"

    # Five Eng people answer (through the service, as the answer form would).
    for invitation in db.session.scalars(
        select(Invitation).where(Invitation.team_id == hr.eng).order_by(Invitation.id)
    ).all()[:4]:
        services.record_response(invitation, ParsedAnswers(), now=utcnow())
    db.session.commit()
    page = client.get(f"/pulses/{pulse_id}").get_data(as_text=True)
    assert "Participation by team" in page
    # Eng has 5 invited: listed. Sales has 3: too small alone, and the combined group would be
    # just Sales, so Eng joins it and no team is listed on its own.
    assert "Acme/Eng" not in page.split("Participation by team")[1].split("Set-up")[0]
    assert "Smaller teams (combined)" in page
    assert "Emailed</dt><dd>8" in page

    page = flashes(client.post(f"/pulses/{pulse_id}/close"), client)
    assert "The pulse is closed" in page and "Closed" in page
    assert pulse_row(pulse_id).state(utcnow()).value == "closed"

    # A closed pulse never reopens, nor is it extended, rescheduled or reminded.
    for url, data in (
        ("open", {"closes_at": local(utcnow() + timedelta(days=3))}),
        ("extend", {"closes_at": local(utcnow() + timedelta(days=3))}),
        (
            "schedule",
            {
                "opens_at": local(utcnow() + timedelta(days=1)),
                "closes_at": local(utcnow() + timedelta(days=3)),
            },
        ),
        ("remind", {}),
        ("retry", {}),
        ("close", {}),
    ):
        response = client.post(f"/pulses/{pulse_id}/{url}", data=data)
        assert response.status_code == 302, url
        assert "flash--error" in flashes(response, client), url
        assert pulse_row(pulse_id).state(utcnow()).value == "closed", url
    assert client.get(f"/pulses/{pulse_id}/links.csv").status_code == 302

    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["pulse.create", "pulse.open", "pulse.close"]


def test_extend_only_while_open(client: FlaskClient, hr: Org) -> None:
    pulse_id = create_pulse(client, hr)
    later = local(utcnow() + timedelta(days=9))
    page = flashes(client.post(f"/pulses/{pulse_id}/extend", data={"closes_at": later}), client)
    assert "Only an open pulse can be extended" in page
    flashes(open_now(client, pulse_id, days=3), client)
    page = flashes(client.post(f"/pulses/{pulse_id}/extend", data={"closes_at": later}), client)
    assert "The pulse now closes" in page
    closes = pulse_row(pulse_id).closes_at
    assert closes is not None and closes > utcnow() + timedelta(days=8)
    earlier = local(utcnow() + timedelta(days=1))
    page = flashes(client.post(f"/pulses/{pulse_id}/extend", data={"closes_at": earlier}), client)
    assert "must be later than the current one" in page
    for junk in ("", "soon", "9999-12-31T23:59"):
        response = client.post(f"/pulses/{pulse_id}/extend", data={"closes_at": junk})
        assert "flash--error" in flashes(response, client), junk
    assert pulse_row(pulse_id).closes_at == closes


def test_schedule_open_and_their_bad_values(client: FlaskClient, hr: Org) -> None:
    pulse_id = create_pulse(client, hr)
    soon, later = utcnow() + timedelta(hours=2), utcnow() + timedelta(days=4)
    for data in (
        {},
        {"opens_at": local(soon)},
        {"opens_at": local(later), "closes_at": local(soon)},
        {"opens_at": "x", "closes_at": "y"},
    ):
        response = client.post(f"/pulses/{pulse_id}/schedule", data=data)
        assert "flash--error" in flashes(response, client), data
    assert pulse_row(pulse_id).opens_at is None
    page = flashes(
        client.post(
            f"/pulses/{pulse_id}/schedule",
            data={"opens_at": local(soon), "closes_at": local(later)},
        ),
        client,
    )
    assert "The pulse opens" in page and "Scheduled" in page
    # Opening a scheduled pulse early keeps its closing time unless a new one is given.
    for data in ({"closes_at": "nonsense"}, {"closes_at": local(utcnow() - timedelta(days=1))}):
        assert "flash--error" in flashes(client.post(f"/pulses/{pulse_id}/open", data=data), client)
    page = flashes(client.post(f"/pulses/{pulse_id}/open", data={"closes_at": ""}), client)
    assert "The pulse is open: 5 people invited" in page
    assert pulse_row(pulse_id).closes_at == later.replace(second=0, microsecond=0)
    page = flashes(open_now(client, pulse_id), client)
    assert "already opened" in page
    assert count(Invitation) == 5


def test_a_draft_needs_a_closing_time_to_open(client: FlaskClient, hr: Org) -> None:
    pulse_id = create_pulse(client, hr)
    page = flashes(client.post(f"/pulses/{pulse_id}/open", data={}), client)
    assert "Choose when the pulse closes." in page
    assert not pulse_row(pulse_id).is_frozen


def test_unknown_pulses_are_404(client: FlaskClient, hr: Org) -> None:
    assert client.get("/pulses/999").status_code == 404
    assert client.post("/pulses/999/open", data={}).status_code == 404
    assert client.get("/pulses/999/links.csv").status_code == 404


# --- Invitations: a lost mail server, retries and reminders ----------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_opening_works_when_smtp_is_down_and_retry_sends_later(
    app: Flask, client: FlaskClient, hr: Org
) -> None:
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=_closed_port())
    pulse_id = create_pulse(client, hr)
    page = flashes(open_now(client, pulse_id), client)
    assert "The pulse is open: 5 people invited. 0 invitations emailed. 5 could not be sent" in page
    assert pulse_row(pulse_id).is_frozen
    assert "Invitations that could not be sent" in page
    assert "eng0@example.com" in page
    assert "Retry failed invitations" in page

    app.config["MAIL_SMTP_HOST"] = None  # the server is back (the outbox stands in for it)
    page = flashes(client.post(f"/pulses/{pulse_id}/retry"), client)
    assert "5 invitations emailed." in page
    assert "Retry failed invitations" not in page
    assert len(outbox(app)) == 5
    db.session.rollback()
    deliveries = db.session.scalars(select(Invitation.delivery)).all()
    assert deliveries == [Delivery.SENT] * 5
    assert "pulse.retry_invitations" in db.session.scalars(select(AuditEvent.action)).all()


def test_reminders_go_only_to_people_who_have_not_answered(
    app: Flask, client: FlaskClient, hr: Org
) -> None:
    pulse_id = create_pulse(client, hr)
    flashes(open_now(client, pulse_id), client)
    invitations = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    for invitation in invitations[:2]:
        services.record_response(invitation, ParsedAnswers(), now=utcnow())
    db.session.commit()
    before = len(outbox(app))
    page = flashes(client.post(f"/pulses/{pulse_id}/remind"), client)
    assert "Reminder sent to 3 people who have not answered yet." in page
    assert len(outbox(app)) == before + 3
    assert "sent 1 time (3 emails)" in page
    # The page never says who was reminded.
    for invitation in invitations:
        assert invitation.person.email not in page


def test_remind_and_retry_need_an_open_pulse(client: FlaskClient, hr: Org) -> None:
    pulse_id = create_pulse(client, hr)
    for action in ("remind", "retry"):
        page = flashes(client.post(f"/pulses/{pulse_id}/{action}"), client)
        assert "only be sent while the pulse is open" in page


# --- Links for printing --------------------------------------------------------------------------


def test_links_csv_holds_a_working_link_for_everyone(
    app: Flask, client: FlaskClient, hr: Org
) -> None:
    person = make_person(
        team=db.session.get(Team, hr.eng),
        name='=HYPERLINK("http://evil.example")',
        email="-trick@example.com",
    )
    db.session.commit()
    pulse_id = create_pulse(client, hr)
    draft = client.get(f"/pulses/{pulse_id}/links.csv")
    assert "only be exported while the pulse is open" in flashes(draft, client)
    flashes(open_now(client, pulse_id), client)

    response = client.get(f"/pulses/{pulse_id}/links.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    linked: set[int] = set()
    assert len(rows) == 6
    assert list(rows[0]) == ["email", "name", "team", "link"]
    tricky = next(r for r in rows if "trick" in r["email"])
    assert tricky["email"] == "'-trick@example.com"
    assert tricky["name"] == '\'=HYPERLINK("http://evil.example")'
    for row in rows:
        assert row["team"] == "Acme/Eng"
        token = row["link"].rsplit("/p/", 1)[1]
        invitation = services.find_invitation(token)
        assert invitation is not None and invitation.pulse_id == pulse_id
        linked.add(invitation.person_id)
    assert person.id in linked
    assert "pulse.export_links" in db.session.scalars(select(AuditEvent.action)).all()


def test_pulse_page_lists_questions_audience_and_thresholds(client: FlaskClient, hr: Org) -> None:
    pulse_id = create_pulse(client, hr, teams=[str(hr.eng), str(hr.sales)], min_group="4")
    html = client.get(f"/pulses/{pulse_id}").get_data(as_text=True)
    for text in (
        "Acme/Eng, Acme/Sales",
        "each with every team below it",
        "How often do you end the working day feeling completely drained?",
        "Frequency, 1 to 5",
        "Minimum group for numbers (k)</dt><dd>4",
        "when the pulse closes",
    ):
        assert text in html, text
    assert db.session.scalar(select(func.count()).select_from(PulseQuestion)) == 10


def test_the_pages_carry_working_csrf_tokens(tmp_path: Path) -> None:
    """With CSRF on, the tokens in the forms work, and a post without one changes nothing."""
    app = build_app(f"sqlite:///{tmp_path / 'csrf.db'}", tmp_path / "inst", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        eng = make_team("Acme/Eng")
        make_person(team=eng)
        make_staff(Role.HR, email="hr@example.com", team=None)
        db.session.commit()
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        client.post(
            "/login", data={"email": "hr@example.com", "password": PASSWORD, "csrf_token": token}
        )
        form = client.get("/pulses/new").get_data(as_text=True)
        data = {
            "title": "CSRF pulse",
            "question_set": "builtin:core",
            "teams": [str(eng.id)],
            "min_group": "5",
            "min_comment_group": "10",
            "release": "after_close",
            "action": "draft",
        }
        assert client.post("/pulses/new", data=data).status_code == 400
        assert count(Pulse) == 0
        created = client.post("/pulses/new", data={**data, "csrf_token": csrf_token(form)})
        assert created.status_code == 302
        page = client.get(created.headers["Location"]).get_data(as_text=True)
        closes = local(utcnow() + timedelta(days=2))
        url = created.headers["Location"] + "/open"
        assert client.post(url, data={"closes_at": closes}).status_code == 400
        opened = client.post(url, data={"closes_at": closes, "csrf_token": csrf_token(page)})
        assert opened.status_code == 302
        db.session.rollback()
        assert db.session.scalars(select(Pulse)).one().is_frozen
        for url in ("/questions/new", "/questions/sets/new", "/questions/sets/import"):
            assert 'name="csrf_token"' in client.get(url).get_data(as_text=True), url
        db.session.remove()
        db.engine.dispose()


def test_the_organisation_time_zone_comes_from_the_environment(tmp_path: Path) -> None:
    from pulse import ConfigError, create_app

    base = {"PULSE_INSTANCE_PATH": str(tmp_path)}
    app = create_app({"ENV_NAME": "testing"}, environ={**base, "PULSE_TIMEZONE": "Europe/Madrid"})
    assert app.config["TIMEZONE"] == "Europe/Madrid"
    assert create_app({"ENV_NAME": "testing"}, environ=base).config["TIMEZONE"] == "UTC"
    with pytest.raises(ConfigError, match="PULSE_TIMEZONE"):
        create_app({"ENV_NAME": "testing"}, environ={**base, "PULSE_TIMEZONE": "Mars/Olympus"})
