"""The results home and the team dashboard: who may see them, and what they show.

The data goes through the real pulse services (create, open, record, close) so the pages read
real tallies. The organisation: Acme with Eng (Platform: 8 people, Tiny: 3 people) and Sales
(7 people). Tiny is below k = 5, so it is hidden, and so is Platform (otherwise Eng minus
Platform would give Tiny away).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role, Team
from pulse.results import charts, stats
from pulse.results.routes import Context
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.models import Invitation, Pulse
from tests.conftest import login
from tests.factories import PASSWORD, make_person, make_staff, make_team

SECRET = "test-secret-key-not-for-production-use-0123456789"
TRUST = "trust.rely_on_management"
HOURS = "workload.hours_last_week"

# Answers to the trust question (1-5) by team, in the first and the second pulse. Tiny's scores
# are 0, 25 and 25: a mean of 16.67, shown nowhere because Tiny has only three people.
FIRST = {"Platform": [5] * 8, "Tiny": [1, 2, 2], "Sales": [1, 2, 2, 2, 1, 2, 2]}
SECOND = {"Platform": [5] * 8, "Tiny": [1, 2, 2], "Sales": [5, 4, 4, 4, 5, 4, 4]}
HOURS_WORKED = {"Platform": 40, "Tiny": 61, "Sales": 45, "Quiet": 38}


@dataclass
class World:
    teams: dict[str, int]
    pulses: list[int]  # oldest first
    emails: dict[str, str]


def _run_pulse(
    title: str,
    audience: list[Team],
    opens: datetime,
    answers: dict[str, list[int]],
    close: bool = True,
) -> Pulse:
    pulse = services.create_pulse(
        title=title, set_ref="builtin:four_day_week", teams=audience, now=opens, actor=None
    )
    services.open_pulse(
        pulse, now=opens, secret_key=SECRET, actor=None, closes_at=opens + timedelta(days=7)
    )
    by_key = {q.question_key: q.id for q in pulse.questions}
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.pulse_id == pulse.id).order_by(Invitation.id)
    ).all()
    names = {t.id: t.name for t in db.session.scalars(select(Team))}
    left = {team: list(values) for team, values in answers.items()}
    for invitation in invitations:
        values = left.get(names[invitation.team_id])
        if not values:
            continue
        parsed = ParsedAnswers(
            values={
                by_key[TRUST]: values.pop(),
                by_key[HOURS]: HOURS_WORKED[names[invitation.team_id]],
            }
        )
        services.record_response(invitation, parsed, now=opens + timedelta(hours=1))
    if close:
        services.close_pulse(pulse, now=opens + timedelta(hours=2), actor=None)
    return pulse


@pytest.fixture
def world(app: Flask) -> World:
    platform = make_team("Acme/Eng/Platform")
    tiny = make_team("Acme/Eng/Tiny")
    sales = make_team("Acme/Sales")
    eng = make_team("Acme/Eng")
    acme = make_team("Acme")
    for team, size in ((platform, 8), (tiny, 3), (sales, 7)):
        for _ in range(size):
            make_person(team=team)
    staff = {
        "hr": make_staff(Role.HR),
        "leader": make_staff(Role.LEADER),
        "eng_manager": make_staff(Role.MANAGER, manages=[eng]),
        "sales_manager": make_staff(Role.MANAGER, manages=[sales]),
    }
    start = utcnow() - timedelta(days=60)
    first = _run_pulse("Spring pulse", [eng, sales], start, FIRST)
    second = _run_pulse("Autumn pulse", [eng, sales], start + timedelta(days=30), SECOND)
    db.session.commit()
    teams = {t.name: t.id for t in (acme, eng, platform, tiny, sales)}
    return World(teams, [first.id, second.id], {k: p.email for k, p in staff.items()})


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _text(page: str) -> str:
    """What a reader sees (tags dropped, entities decoded), to look for numbers in."""
    main = page[page.index("<main") : page.index("</main>")]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


# --- permissions ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, world: World) -> None:
    for url in ("/results/", f"/results/teams/{world.teams['Eng']}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_employees_cannot_sign_in_to_see_results(client: FlaskClient, world: World) -> None:
    make_staff(Role.EMPLOYEE, email="employee@example.com")
    db.session.commit()
    client.post("/login", data={"email": "employee@example.com", "password": PASSWORD})
    for url in ("/results/", f"/results/teams/{world.teams['Eng']}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_manager_gets_404_outside_their_subtree(client: FlaskClient, world: World) -> None:
    login(client, world.emails["sales_manager"])
    for name in ("Acme", "Eng", "Platform", "Tiny"):
        assert client.get(f"/results/teams/{world.teams[name]}").status_code == 404
    assert client.get(f"/results/teams/{world.teams['Sales']}").status_code == 200
    assert client.get("/results/teams/999999").status_code == 404


def test_a_manager_opens_every_team_below_their_own(client: FlaskClient, world: World) -> None:
    login(client, world.emails["eng_manager"])
    for name in ("Eng", "Platform", "Tiny"):
        assert client.get(f"/results/teams/{world.teams[name]}").status_code == 200
    for name in ("Acme", "Sales"):
        assert client.get(f"/results/teams/{world.teams[name]}").status_code == 404


@pytest.mark.parametrize("who", ["hr", "leader"])
def test_hr_and_leaders_open_every_team(client: FlaskClient, world: World, who: str) -> None:
    login(client, world.emails[who])
    for team_id in world.teams.values():
        assert client.get(f"/results/teams/{team_id}").status_code == 200


def test_an_unknown_pulse_is_404(client: FlaskClient, world: World) -> None:
    login(client, world.emails["hr"])
    assert client.get(f"/results/teams/{world.teams['Eng']}?pulse=999999").status_code == 404
    # A malformed id is ignored: the latest closed pulse is shown.
    page = _page(client, f"/results/teams/{world.teams['Eng']}?pulse=abc")
    assert "Autumn pulse" in page


# --- the results home ----------------------------------------------------------------------------


def test_home_lists_pulses_and_only_the_viewers_teams(client: FlaskClient, world: World) -> None:
    login(client, world.emails["eng_manager"])
    page = _page(client, "/results/")
    assert "Spring pulse" in page and "Autumn pulse" in page
    for name in ("Eng", "Platform", "Tiny"):
        assert f'href="/results/teams/{world.teams[name]}"' in page
    for name in ("Acme", "Sales"):
        assert f'href="/results/teams/{world.teams[name]}"' not in page
    assert "Whole organisation" not in page


def test_home_offers_the_whole_organisation_to_hr(client: FlaskClient, world: World) -> None:
    login(client, world.emails["hr"])
    page = _page(client, "/results/")
    assert "Whole organisation" in page
    assert f'href="/results/teams/{world.teams["Acme"]}"' in page


def test_home_says_when_no_pulse_has_results(client: FlaskClient, app: Flask) -> None:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    login(client, "hr@example.com")
    page = _page(client, "/results/")
    assert "No pulse has closed yet" in page
    team = db.session.scalars(select(Team)).first()
    assert team is not None
    assert "No pulse has closed yet" in _page(client, f"/results/teams/{team.id}")


# --- the dashboard -------------------------------------------------------------------------------


def test_dashboard_shows_scores_with_intervals_and_participation(
    client: FlaskClient, world: World
) -> None:
    login(client, world.emails["eng_manager"])
    page = _page(client, f"/results/teams/{world.teams['Eng']}")
    text = _text(page)
    assert "Autumn pulse" in text  # the latest closed pulse by default
    assert "11 answered" in text and "11 invited" in text
    # Trust for Eng: eight 100s, one 0 and two 25s.
    scores = [100.0] * 8 + [0.0, 25.0, 25.0]
    estimate = stats.mean_interval(len(scores), sum(scores), sum(s * s for s in scores))
    assert estimate.mean is not None and estimate.low is not None and estimate.high is not None
    assert f"{round(estimate.mean)} out of 100" in text
    assert (
        f"95% interval {charts.range_text(estimate.low, min(100.0, estimate.high), 'trust')}"
        in (text)
    )
    assert "precision" in text
    # Every chart is an accessible image followed by its numbers.
    assert page.count('role="img"') >= 3
    assert 'aria-labelledby="score-trust-title score-trust-desc"' in page
    assert "<summary>Show the numbers</summary>" in page
    # Hours questions show a mean with its interval: (8 * 40 + 3 * 61) / 11 = 45.7 hours.
    assert "Mean 45.7 hours" in text
    # Answers to the trust question, with bounds if everyone invited had answered.
    assert "If everyone invited had answered" in text
    assert "Neutral" in text


def test_a_small_team_shows_the_reason_and_no_number(client: FlaskClient, world: World) -> None:
    login(client, world.emails["hr"])
    page = _page(client, f"/results/teams/{world.teams['Tiny']}")
    text = _text(page)
    assert "Fewer than 5 answers" in text
    # Tiny's true trust mean is 16.67 (shown as 17), its hours mean 61: neither may appear,
    # nor its number of respondents as an answer count.
    for hidden in ("17", "16.7", "16.67", "61", "61.0"):
        assert not re.search(rf"(?<![\d.]){re.escape(hidden)}(?![\d])", text), hidden
    assert "3 answered" not in text
    assert 'class="chart__point"' not in page.split('id="trends-heading"')[0]


def test_a_sibling_hidden_to_protect_a_small_team_says_why(
    client: FlaskClient, world: World
) -> None:
    login(client, world.emails["hr"])
    text = _text(_page(client, f"/results/teams/{world.teams['Platform']}"))
    assert "cannot be worked out by subtraction" in text
    assert "100 out of 100" not in text


def test_a_clear_change_is_flagged_with_an_arrow_and_words(
    client: FlaskClient, world: World
) -> None:
    login(client, world.emails["sales_manager"])
    page = _page(client, f"/results/teams/{world.teams['Sales']}")
    text = _text(page)
    assert "Since the previous pulse (Spring pulse)" in text
    assert "↑ improved" in text
    assert "Why this is flagged" in text


def test_an_unflagged_change_says_why(client: FlaskClient, world: World) -> None:
    login(client, world.emails["eng_manager"])
    text = _text(_page(client, f"/results/teams/{world.teams['Eng']}"))
    assert "no clear change" in text
    assert "Not flagged: the interval includes no change." in text


def test_the_parent_and_organisation_are_compared(client: FlaskClient, world: World) -> None:
    login(client, world.emails["hr"])
    text = _text(_page(client, f"/results/teams/{world.teams['Sales']}"))
    # Sales's parent is the whole organisation: it is compared once, as the organisation.
    assert "Whole organisation" in text and "Parent team (Acme)" not in text
    eng = _text(_page(client, f"/results/teams/{world.teams['Platform']}"))
    assert "Parent team (Eng)" in eng


def test_an_open_pulse_is_hidden_until_it_closes(client: FlaskClient, world: World) -> None:
    eng = db.session.get(Team, world.teams["Eng"])
    sales = db.session.get(Team, world.teams["Sales"])
    assert eng is not None and sales is not None
    opened = _run_pulse("Winter pulse", [eng, sales], utcnow() - timedelta(days=1), SECOND, False)
    db.session.commit()
    login(client, world.emails["hr"])
    home = _text(_page(client, "/results/"))
    assert "Winter pulse" in home and "results appear when the pulse closes" in home
    # The dashboard still defaults to the latest closed pulse...
    url = f"/results/teams/{world.teams['Sales']}"
    assert "Results · Autumn pulse" in _text(_page(client, url))
    # ...and the open one, chosen on purpose, shows reasons, not numbers.
    text = _text(_page(client, f"{url}?pulse={opened.id}"))
    assert "Results appear when the pulse closes" in text
    assert "out of 100" not in text
    assert "answered" not in text.split("Scores")[0].split("Participation")[1]


def test_the_dashboard_links_to_the_other_results_pages(client: FlaskClient, world: World) -> None:
    login(client, world.emails["hr"])
    page = _page(client, f"/results/teams/{world.teams['Eng']}")
    assert f'action="/results/teams/{world.teams["Eng"]}"' in page
    assert 'name="pulse"' in page
    for pulse_id in world.pulses:
        assert f'value="{pulse_id}"' in page


def test_team_tree_nests_teams_by_depth() -> None:
    from pulse.results.dashboard_routes import team_tree
    from pulse.results.report import Viewer

    tree: dict[int, int | None] = {1: None, 2: 1, 3: 2, 4: 1}
    context = Context(
        tree, {1: "Acme", 2: "Eng", 3: "Data", 4: "Ops"}, Viewer((1,), True), [], {1, 2, 3, 4}
    )
    (root,) = team_tree(context)
    assert root.name == "Acme"
    assert [c.name for c in root.children] == ["Eng", "Ops"]
    assert [c.name for c in root.children[0].children] == ["Data"]


def test_a_low_response_rate_greys_the_numbers(client: FlaskClient, world: World) -> None:
    quiet = make_team("Acme/Quiet")
    for _ in range(12):
        make_person(team=quiet)
    _run_pulse("Quiet pulse", [quiet], utcnow() - timedelta(days=10), {"Quiet": [4] * 5})
    db.session.commit()
    login(client, world.emails["hr"])
    page = _page(client, f"/results/teams/{quiet.id}")
    text = _text(page)
    assert "5 answered" in text and "12 invited" in text and "42%" in text
    assert "low response" in text
    assert "results-section--low" in page
