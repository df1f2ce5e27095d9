"""Asking about actions in a pulse: questions are added only before it opens, a rating is
asked only in its action's team subtree, answers are tallied per question, and the action page
shows the ratings only through the gate."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pulse.actions.models import ActionQuestion, ActionStatus
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.links import team_token
from pulse.results.report import REPORTED
from pulse.surveys import services as pulse_services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import ACTION_RATING, ScaleKind
from pulse.surveys.models import Invitation, Pulse, PulseQuestion, ValueTally
from pulse.surveys.scoring import ScoredItem, dimension_scores
from tests.actions.conftest import World
from tests.conftest import login


def _draft(world: World, *teams: str) -> Pulse:
    pulse = pulse_services.create_pulse(
        title="Winter pulse",
        set_ref="builtin:core",
        teams=[world.teams[t] for t in teams],
        now=utcnow(),
        actor=None,
    )
    db.session.commit()
    return pulse


def _ratings(pulse: Pulse) -> dict[int, int | None]:
    """Action id -> the team its rating question is asked in."""
    rows = db.session.execute(
        select(ActionQuestion.action_id, PulseQuestion.audience_team_id)
        .join(PulseQuestion, PulseQuestion.id == ActionQuestion.question_id)
        .where(PulseQuestion.pulse_id == pulse.id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _keys(pulse: Pulse) -> list[str]:
    return list(
        db.session.scalars(
            select(PulseQuestion.question_key).where(PulseQuestion.pulse_id == pulse.id)
        )
    )


def test_hr_adds_the_seen_changes_question_and_one_rating_per_shared_action(
    client: FlaskClient, world: World
) -> None:
    platform = world.log("Platform", status=ActionStatus.IN_PROGRESS)
    sales = world.log("Sales")
    org = world.log(None, status=ActionStatus.DONE)
    world.log("Platform", title="Hidden", visible=False)
    world.log("Platform", title="Dropped", status=ActionStatus.DROPPED, drop_reason="No")
    old = world.log("Platform", title="Done long ago", status=ActionStatus.DONE)
    old.completed_on = utcnow().date() - timedelta(days=120)
    db.session.commit()
    pulse = _draft(world, "Eng", "Sales")
    login(client, "hr@example.com")
    response = client.post(f"/actions/pulses/{pulse.id}/ask")
    assert response.status_code == 303 and f"/pulses/{pulse.id}" in response.headers["Location"]
    db.session.expire_all()
    assert _ratings(pulse) == {
        platform.id: world.teams["Platform"].id,
        sales.id: world.teams["Sales"].id,
        org.id: None,
    }
    assert _keys(pulse).count("heard.seen_changes") == 1
    questions = db.session.scalars(
        select(PulseQuestion).where(PulseQuestion.pulse_id == pulse.id)
    ).all()
    rating = next(q for q in questions if q.audience_team_id == world.teams["Sales"].id)
    assert rating.dimension == ACTION_RATING and rating.text.endswith("Fix the rota")
    # Asking again adds nothing twice.
    client.post(f"/actions/pulses/{pulse.id}/ask")
    db.session.expire_all()
    assert len(_keys(pulse)) == len(questions)


def test_only_actions_of_teams_in_the_audience_are_asked_about(
    client: FlaskClient, world: World
) -> None:
    world.log("Platform")
    sales = world.log("Sales")
    pulse = _draft(world, "Sales")
    login(client, "hr@example.com")
    client.post(f"/actions/pulses/{pulse.id}/ask")
    db.session.expire_all()
    assert _ratings(pulse) == {sales.id: world.teams["Sales"].id}


def test_questions_are_added_only_before_the_pulse_opens(client: FlaskClient, world: World) -> None:
    world.log("Sales")
    closed = world.pulses[0]
    before = _keys(closed)
    login(client, "hr@example.com")
    response = client.post(f"/actions/pulses/{closed.id}/ask", follow_redirects=True)
    assert "already opened" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _keys(closed) == before
    assert client.post("/actions/pulses/999999/ask").status_code == 404


def _open(app: Flask, pulse: Pulse) -> None:
    pulse_services.open_pulse(
        pulse,
        now=utcnow() - timedelta(hours=1),
        secret_key=app.config["SECRET_KEY"],
        actor=None,
        closes_at=utcnow() + timedelta(days=7),
    )
    db.session.commit()


def _token(app: Flask, world: World, pulse: Pulse, team: str) -> str:
    invitation = db.session.scalars(
        select(Invitation)
        .where(Invitation.pulse_id == pulse.id, Invitation.team_id == world.teams[team].id)
        .order_by(Invitation.id)
    ).first()
    assert invitation is not None
    return pulse_services.invitation_token(invitation, app.config["SECRET_KEY"])


def test_respondents_see_only_ratings_for_their_teams_and_tallies_count_them(
    app: Flask, client: FlaskClient, world: World
) -> None:
    eng_action = world.log("Eng", title="Eng planning day")
    sales_action = world.log("Sales", title="Sales bonus review")
    org_action = world.log(None, title="Company follow-up")
    pulse = _draft(world, "Eng", "Sales")
    login(client, "hr@example.com")
    client.post(f"/actions/pulses/{pulse.id}/ask")
    client.post("/logout")
    db.session.expire_all()
    ids = {
        action_id: question_id
        for question_id, action_id in db.session.execute(
            select(ActionQuestion.question_id, ActionQuestion.action_id)
        ).all()
    }
    _open(app, pulse)

    respondent = app.test_client()
    respondent.get(f"/p/{_token(app, world, pulse, 'Platform')}")
    page = respondent.get("/answer").get_data(as_text=True)
    assert "Eng planning day" in page and "Company follow-up" in page
    assert "Sales bonus review" not in page
    # A value sent for a question this person was not shown is ignored, not stored.
    response = respondent.post(
        "/answer",
        data={
            f"q{ids[eng_action.id]}": "4",
            f"q{ids[sales_action.id]}": "1",
            f"q{ids[org_action.id]}": "5",
        },
    )
    assert response.status_code == 303
    thanks = respondent.get("/thanks").get_data(as_text=True)
    token = team_token(world.teams["Platform"].id, app.config["SECRET_KEY"])
    assert f"/you-said-we-did/{token}" in thanks

    counts = {
        (question_id, team_id, value): count
        for question_id, team_id, value, count in db.session.execute(
            select(
                ValueTally.question_id, ValueTally.team_id, ValueTally.value, ValueTally.count
            ).where(ValueTally.pulse_id == pulse.id, ValueTally.question_id.in_(ids.values()))
        ).all()
    }
    platform = world.teams["Platform"].id
    assert counts == {
        (ids[eng_action.id], platform, 4): 1,
        (ids[org_action.id], platform, 5): 1,
    }


def test_ratings_never_move_a_reported_dimension_score() -> None:
    items = [
        ScoredItem(1, "trust", ScaleKind.AGREE5, False),
        ScoredItem(
            2,
            ACTION_RATING,
            ScaleKind.AGREE5,
            False,
        ),
    ]
    scores = dimension_scores(items, {1: 5, 2: 1})
    assert scores["trust"] == 100.0
    assert ACTION_RATING not in REPORTED


def _answer_all(
    app: Flask, world: World, pulse: Pulse, question_id: int, team: str, value: int
) -> None:
    invitations = db.session.scalars(
        select(Invitation).where(
            Invitation.pulse_id == pulse.id, Invitation.team_id == world.teams[team].id
        )
    ).all()
    for invitation in invitations:
        pulse_services.record_response(
            invitation, ParsedAnswers(values={question_id: value}), now=utcnow()
        )
    db.session.commit()


def test_the_action_page_shows_ratings_only_through_the_gate(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sales_action = world.log("Sales", title="Sales bonus review")
    tiny_action = world.log("Tiny", title="Tiny desk move")
    pulse = _draft(world, "Eng", "Sales")
    login(client, "hr@example.com")
    client.post(f"/actions/pulses/{pulse.id}/ask")
    db.session.expire_all()
    question = {
        action_id: question_id
        for question_id, action_id in db.session.execute(
            select(ActionQuestion.question_id, ActionQuestion.action_id)
        ).all()
    }
    _open(app, pulse)
    pulse = db.session.get(Pulse, pulse.id)
    _answer_all(app, world, pulse, question[sales_action.id], "Sales", 4)
    _answer_all(app, world, pulse, question[tiny_action.id], "Tiny", 2)
    pulse_services.close_pulse(pulse, now=utcnow(), actor=None)
    db.session.commit()

    page = client.get(f"/actions/{sales_action.id}").get_data(as_text=True)
    section = page[page.index('id="ratings-heading"') :]
    section = re.sub(r"<[^>]+>", " ", section[: section.index("</section>")])
    assert "100% agree" in section and "(8 answers)" in section  # 7 people and their manager

    page = client.get(f"/actions/{tiny_action.id}").get_data(as_text=True)
    section = page[page.index('id="ratings-heading"') :]
    section = re.sub(r"<[^>]+>", " ", section[: section.index("</section>")])
    assert "Fewer than 5 answers" in section and "%" not in section
