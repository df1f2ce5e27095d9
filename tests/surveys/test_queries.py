"""HR survey reads: participation suppression, pulse status, link exports and counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from pulse.extensions import db
from pulse.surveys import queries, services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.models import Delivery, Invitation, PulseState
from pulse.surveys.queries import (
    COMBINED_LABEL,
    LinkRow,
    TeamParticipation,
    links_csv,
    participation_groups,
    pulse_status,
    spreadsheet_safe,
)
from tests.factories import NOW, make_person, make_team

SECRET = "test-secret-key-not-for-production-use-0123456789"


def team(team_id: int, invited: int, answered: int = 0) -> TeamParticipation:
    return TeamParticipation(team_id, f"Team {team_id:02d}", invited, answered)


# --- Participation suppression (pure) ----------------------------------------------------------


def test_large_teams_are_listed_and_small_ones_combined() -> None:
    groups = participation_groups([team(1, 8, 6), team(2, 3, 1), team(3, 4, 4), team(4, 5, 0)])
    assert [(g.name, g.invited, g.answered, g.combined) for g in groups] == [
        ("Team 01", 8, 6, False),
        ("Team 04", 5, 0, False),
        (COMBINED_LABEL, 7, 5, True),
    ]
    assert groups[-1].team_ids == (2, 3)


def test_a_combined_group_below_five_takes_in_the_smallest_listed_team() -> None:
    # Alone, the small team (2 invited) could be recovered as total minus the listed teams.
    groups = participation_groups([team(1, 9, 9), team(2, 2, 2), team(3, 6, 1), team(4, 7, 3)])
    assert [(g.name, g.invited) for g in groups] == [
        ("Team 01", 9),
        ("Team 04", 7),
        (COMBINED_LABEL, 8),
    ]
    assert groups[-1].team_ids == (2, 3)
    assert groups[-1].answered == 3


def test_nothing_is_listed_when_everyone_together_is_too_few() -> None:
    assert participation_groups([team(1, 2, 1), team(2, 2, 2)]) == []
    assert participation_groups([]) == []
    assert participation_groups([team(1, 0, 0)]) == []


def test_all_large_teams_need_no_combined_group() -> None:
    groups = participation_groups([team(2, 5, 5), team(1, 12, 3)])
    assert [g.name for g in groups] == ["Team 01", "Team 02"]
    assert not any(g.combined for g in groups)
    assert groups[0].rate == 25


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda t: (t[0], min(t[0], t[1]))),
        max_size=25,
    )
)
def test_no_group_ever_shows_one_to_four_people(sizes: list[tuple[int, int]]) -> None:
    teams = [team(i, invited, answered) for i, (invited, answered) in enumerate(sizes)]
    groups = participation_groups(teams)
    for group in groups:
        assert group.invited >= 5
    # Every team appears at most once; a listed team is shown exactly as it is.
    seen = [tid for g in groups for tid in g.team_ids]
    assert len(seen) == len(set(seen))
    by_id = {t.team_id: t for t in teams}
    for group in groups:
        if not group.combined:
            (tid,) = group.team_ids
            assert (group.invited, group.answered) == (by_id[tid].invited, by_id[tid].answered)
    # Hidden teams are either all in the combined group or nothing is shown at all: the total
    # minus the listed teams is always a group of at least five (or zero).
    total = sum(t.invited for t in teams)
    listed = sum(g.invited for g in groups if not g.combined)
    assert total - listed == 0 or total - listed >= 5 or not groups
    if groups:
        assert sum(g.invited for g in groups) == total


# --- Status ------------------------------------------------------------------------------------


def test_status_tells_opening_and_never_opened_apart() -> None:
    assert pulse_status(PulseState.DRAFT, False).code == "draft"
    assert pulse_status(PulseState.SCHEDULED, False).code == "scheduled"
    opening = pulse_status(PulseState.OPEN, False)
    assert opening.code == "opening" and opening.can_open
    open_ = pulse_status(PulseState.OPEN, True)
    assert open_.code == "open" and open_.can_extend and open_.can_close and not open_.can_open
    lapsed = pulse_status(PulseState.CLOSED, False)
    assert lapsed.code == "lapsed" and lapsed.can_schedule and not lapsed.can_open
    closed = pulse_status(PulseState.CLOSED, True)
    assert closed.code == "closed"
    assert not (closed.can_open or closed.can_schedule or closed.can_extend or closed.can_close)


# --- CSV ---------------------------------------------------------------------------------------


def test_cells_that_could_be_formulas_are_escaped() -> None:
    for value in ("=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx", "\0x"):
        assert spreadsheet_safe(value) == "'" + value
    for value in ("Ada", "ada@example.com", "https://x/p/abc", "", "a=b"):
        assert spreadsheet_safe(value) == value


def test_links_csv_has_a_header_and_escaped_rows() -> None:
    text = links_csv(
        [
            LinkRow("ada@example.com", "Ada, Countess", "Acme/Eng", "http://x/p/1"),
            LinkRow("-x@example.com", '=HYPERLINK("http://evil")', "@Team", "http://x/p/2"),
        ]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["email", "name", "team", "link"],
        ["ada@example.com", "Ada, Countess", "Acme/Eng", "http://x/p/1"],
        ["'-x@example.com", '\'=HYPERLINK("http://evil")', "'@Team", "http://x/p/2"],
    ]


# --- Database reads ----------------------------------------------------------------------------


def _open_pulse(people_by_team: dict[str, int]):  # type: ignore[no-untyped-def]
    root = make_team("Acme")
    for path, n in people_by_team.items():
        t = make_team(path)
        for _ in range(n):
            make_person(team=t)
    pulse = services.create_pulse(
        title="Counts", set_ref="builtin:core", teams=[root], now=NOW, actor=None
    )
    services.open_pulse(
        pulse, now=NOW, secret_key=SECRET, actor=None, closes_at=NOW + timedelta(days=7)
    )
    db.session.commit()
    return pulse


def test_counts_participation_and_deliveries(app: Flask) -> None:
    pulse = _open_pulse({"Acme/Eng": 6, "Acme/Sales": 2, "Acme/Ops": 5})
    invitations = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    for inv in invitations[:4]:  # the first four are in Acme/Eng
        services.record_response(inv, ParsedAnswers(), now=NOW)
    invitations[0].delivery = Delivery.SENT
    invitations[1].delivery = Delivery.FAILED
    invitations[1].delivery_error = "refused"
    invitations[2].reminders_sent = 2
    invitations[3].reminders_sent = 1
    db.session.commit()

    assert queries.invitation_counts()[pulse.id] == queries.Counts(13, 4)
    detail = queries.pulse_detail(pulse, NOW)
    assert detail.status.code == "open"
    assert detail.audience == ["Acme"]
    assert [(g.name, g.invited, g.answered) for g in detail.groups] == [
        ("Acme/Eng", 6, 4),
        (COMBINED_LABEL, 7, 0),  # Sales (2) is too small alone; Ops joins it
    ]
    assert detail.delivery == queries.DeliverySummary(
        sent=1, failed=1, pending=11, reminder_rounds=2, reminder_emails=3
    )
    assert [(f.email, f.error) for f in detail.failed] == [(invitations[1].person.email, "refused")]
    rows = queries.pulse_rows(NOW)
    assert [(r.title, r.status.code, r.counts.invited) for r in rows] == [("Counts", "open", 13)]


def test_invitation_links_cover_everyone_answered_or_not(app: Flask) -> None:
    pulse = _open_pulse({"Acme/Eng": 3})
    db.session.execute(update(Invitation).values(answered=True).where(Invitation.id == 1))
    rows = queries.invitation_links(pulse, lambda inv: f"link-{inv.person_id}")
    assert len(rows) == 3
    assert {r.team for r in rows} == {"Acme/Eng"}
    assert all(r.link.startswith("link-") for r in rows)


def test_library_groups_builtin_and_custom_questions(app: Flask) -> None:
    from pulse.surveys import set_import
    from pulse.surveys.library import ScaleKind

    set_import.create_question(
        set_import.NewQuestion("team.goals", "Goals are clear.", "empowerment", ScaleKind.AGREE5),
        now=NOW,
        actor=None,
    )
    questions = queries.library_questions()
    groups = queries.library_by_dimension(questions)
    assert [g.dimension.code for g in groups][:2] == ["burnout", "trust"]
    empowerment = next(g for g in groups if g.dimension.code == "empowerment")
    assert empowerment.questions[-1].key == "team.goals"
    assert not empowerment.questions[-1].builtin
    sets = queries.question_sets(questions)
    assert [s.ref for s in sets] == [
        "builtin:core",
        "builtin:four_day_week",
        "builtin:burnout_deep_dive",
    ]
    assert queries.set_choices()[0] == ("builtin:core", "Core pulse (10 questions)")
    assert "team.goals" in queries.library_snapshot().questions
