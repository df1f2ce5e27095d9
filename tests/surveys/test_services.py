"""Pulse lifecycle and recording responses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from pulse.extensions import db
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.models import (
    Answer,
    DimensionTally,
    Invitation,
    PulseState,
    Response,
    ResponseTally,
    ValueTally,
)
from tests.factories import NOW, make_person, make_team

SECRET = "test-secret-key-not-for-production-use-0123456789"


def _open_core_pulse(team_path: str = "Acme/Eng", people: int = 6):
    team = make_team(team_path)
    for _ in range(people):
        make_person(team=team)
    make_person(team="Acme/Sales")  # outside the audience
    make_person(team=team, active=False)  # deactivated: not invited
    pulse = services.create_pulse(
        title="November pulse", set_ref="builtin:core", teams=[team], now=NOW, actor=None
    )
    created = services.open_pulse(
        pulse, now=NOW, secret_key=SECRET, actor=None, closes_at=NOW + timedelta(days=7)
    )
    return pulse, created


def test_opening_freezes_and_invites_active_people_in_the_subtree(app: Flask) -> None:
    pulse, created = _open_core_pulse()
    assert created == 6
    assert pulse.state(NOW) is PulseState.OPEN
    assert pulse.frozen_at == NOW
    assert [q.question_key for q in pulse.questions][:2] == [
        "burnout.drained",
        "burnout.energy_to_spare",
    ]
    # Opening again is a no-op.
    assert services.open_pulse(pulse, now=NOW, secret_key=SECRET, actor=None) == 0


def test_thresholds_are_validated(app: Flask) -> None:
    team = make_team("Acme")
    with pytest.raises(services.InvalidThresholds):
        services.create_pulse(
            title="x", set_ref="builtin:core", teams=[team], now=NOW, actor=None, min_group=2
        )
    with pytest.raises(services.InvalidThresholds):
        services.create_pulse(
            title="x",
            set_ref="builtin:core",
            teams=[team],
            now=NOW,
            actor=None,
            min_group=6,
            min_comment_group=5,
        )


def test_recording_a_response_consumes_the_link_and_updates_tallies(app: Flask) -> None:
    pulse, _ = _open_core_pulse()
    invitation = db.session.scalars(select(Invitation)).first()
    assert invitation is not None
    token = services.invitation_token(invitation, SECRET)
    assert services.find_invitation(token) is invitation
    by_key = {q.question_key: q for q in pulse.questions}
    parsed = ParsedAnswers(
        values={
            by_key["burnout.drained"].id: 5,  # always drained: 100
            by_key["burnout.energy_to_spare"].id: 1,  # never energy (reverse): 100
            by_key["enps.recommend"].id: 9,
        },
        comments={by_key["comments.anything_else"].id: "More focus time, please."},
    )
    services.record_response(invitation, parsed, now=NOW)
    db.session.commit()
    # The link is used at once; the invitation row itself is only marked when answers settle.
    assert services.is_used(invitation) and invitation.answered is False
    assert services.settle_answers(pulse) == 1
    db.session.refresh(invitation)
    assert invitation.answered is True
    response = db.session.scalars(select(Response)).one()
    assert response.team_id == invitation.team_id and response.day == NOW.date()
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 3
    assert db.session.scalar(select(ResponseTally.count)) == 1
    burnout = db.session.get(DimensionTally, (pulse.id, invitation.team_id, "burnout"))
    assert burnout is not None
    assert (burnout.n, burnout.total, burnout.at_risk) == (1, 100.0, 1)
    enps = db.session.get(DimensionTally, (pulse.id, invitation.team_id, "enps"))
    assert enps is not None and enps.total == 100.0
    assert db.session.scalar(select(func.sum(ValueTally.count))) == 3

    with pytest.raises(services.TokenAlreadyUsed):
        services.record_response(invitation, parsed, now=NOW)


def test_closed_pulse_refuses_answers_and_cannot_be_extended(app: Flask) -> None:
    pulse, _ = _open_core_pulse()
    invitation = db.session.scalars(select(Invitation)).first()
    later = NOW + timedelta(days=8)
    assert pulse.state(later) is PulseState.CLOSED
    with pytest.raises(services.PulseClosed):
        services.record_response(invitation, ParsedAnswers(), now=later)  # type: ignore[arg-type]
    with pytest.raises(services.PulseClosed):
        services.extend_pulse(pulse, closes_at=later + timedelta(days=1), now=later, actor=None)


def test_unknown_tokens_are_not_found(app: Flask) -> None:
    _open_core_pulse()
    assert services.find_invitation("x" * 43) is None
    assert services.find_invitation("short") is None


@pytest.mark.postgres
def test_no_row_pairs_a_response_with_its_invitation_on_postgresql(pg_app: Flask) -> None:
    """PostgreSQL stamps each row with the id of the transaction that wrote it (xmin). A
    submission writes no invitation row, so no invitation shares a response's xmin; settling
    later marks the used invitations and rewrites responses and used links in one transaction."""
    from sqlalchemy import text

    _pulse, _ = _open_core_pulse()
    first, second = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()[:2]
    db.session.commit()
    for invitation in (first, second):
        services.record_response(invitation, ParsedAnswers(), now=NOW)
        db.session.commit()

    def xmins(sql: str) -> set[str]:
        return {str(x) for x in db.session.execute(text(sql)).scalars()}

    responses = xmins("SELECT xmin FROM response")
    assert len(responses) == 2  # two submissions, two transactions
    assert not responses & xmins("SELECT xmin FROM invitation")
    assert services.settle_answers(first.pulse) == 2
    db.session.commit()
    settled = xmins("SELECT xmin FROM invitation WHERE answered")
    assert len(settled) == 1
    assert xmins("SELECT xmin FROM response") == settled == xmins("SELECT xmin FROM used_link")


def test_step_release_copies_a_team_only_at_multiples_of_k(app: Flask) -> None:
    from pulse.surveys.models import ReleasedResponseTally, ReleaseMode

    team = make_team("Acme/Eng")
    for _ in range(12):
        make_person(team=team)
    pulse = services.create_pulse(
        title="Steps",
        set_ref="builtin:core",
        teams=[team],
        now=NOW,
        actor=None,
        release=ReleaseMode.STEPS,
    )
    services.open_pulse(
        pulse, now=NOW, secret_key=SECRET, actor=None, closes_at=NOW + timedelta(days=7)
    )
    invitations = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    released = []
    for invitation in invitations[:11]:
        services.record_response(invitation, ParsedAnswers(), now=NOW)
        released.append(db.session.scalar(select(ReleasedResponseTally.count)))
    assert released == [None] * 4 + [5] * 5 + [10] * 2
