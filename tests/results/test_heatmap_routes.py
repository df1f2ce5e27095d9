"""The heatmap page and the CSV exports: who may see what, suppression, sorting, levels, CSV."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role, Team
from pulse.results import exports, heatmap_routes, queries, report, routes
from pulse.surveys.library import QUESTIONS
from pulse.surveys.models import (
    DimensionTally,
    Invitation,
    Pulse,
    PulseQuestion,
    ReleaseMode,
    ResponseTally,
)
from tests.conftest import login
from tests.factories import make_person, make_staff, make_team

# One question per reported dimension, as the core set asks them.
KEYS = [
    "burnout.drained",
    "trust.rely_on_management",
    "psych_safety.raise_problems",
    "empowerment.autonomy",
    "wellbeing.good_spirits",
    "workload.manageable",
    "heard.changes_seen",
    "enps.recommend",
]
DIMENSIONS = [QUESTIONS[key].dimension for key in KEYS]

# Tiny's three people all score 17.3 on everything: the number no page or export may show.
SECRET = 17.3


@dataclass
class World:
    root: Team
    eng: Team
    tiny: Team
    sales: Team
    spring: Pulse
    summer: Pulse


def make_pulse(
    title: str, opens: datetime, days: int = 7, keys: list[str] = KEYS, set_name: str = "Core pulse"
) -> Pulse:
    """A closed (frozen) pulse asking `keys`, written directly: tallies are added by the test."""
    pulse = Pulse(
        title=title,
        set_name=set_name,
        created_at=opens,
        opens_at=opens,
        closes_at=opens + timedelta(days=days),
        frozen_at=opens,
        min_group=5,
        min_comment_group=10,
        release=ReleaseMode.AFTER_CLOSE,
        questions=[
            PulseQuestion(
                position=i,
                question_key=key,
                builtin=True,
                dimension=QUESTIONS[key].dimension,
                scale=QUESTIONS[key].scale.value,
                text=QUESTIONS[key].text,
                reverse=QUESTIONS[key].reverse,
            )
            for i, key in enumerate(keys, start=1)
        ],
    )
    db.session.add(pulse)
    db.session.flush()
    return pulse


def invite(pulse: Pulse, team: Team, people: int) -> None:
    for _ in range(people):
        person = make_person(team=team)
        db.session.execute(
            insert(Invitation).values(
                pulse_id=pulse.id,
                person_id=person.id,
                team_id=team.id,
                token_hash=secrets.token_hex(32),
                nonce=secrets.token_hex(16),
                answered=False,
                reminders_sent=0,
            )
        )


def tally(pulse: Pulse, team: Team, scores: list[float], enps: list[float] | None = None) -> None:
    """Every respondent of `team` gives `scores[i]` on every dimension (eNPS: `enps[i]`)."""
    db.session.add(ResponseTally(pulse_id=pulse.id, team_id=team.id, count=len(scores)))
    for code in DIMENSIONS:
        values = (enps or [0.0] * len(scores)) if code == "enps" else scores
        at_risk = sum(1 for v in values if v >= 50) if code == "burnout" else 0
        db.session.add(
            DimensionTally(
                pulse_id=pulse.id,
                team_id=team.id,
                dimension=code,
                n=len(values),
                total=sum(values),
                total_sq=sum(v * v for v in values),
                at_risk=at_risk,
            )
        )


@pytest.fixture
def world(app: Flask) -> World:
    root = make_team("Acme")
    eng = make_team("Acme/Engineering")
    tiny = make_team("Acme/Engineering/Tiny")
    sales = make_team("Acme/Sales")
    now = utcnow()
    spring = make_pulse("Spring pulse", now - timedelta(days=60))
    summer = make_pulse("Summer pulse", now - timedelta(days=20))
    for pulse in (spring, summer):
        invite(pulse, eng, 8)
        invite(pulse, tiny, 4)
        invite(pulse, sales, 12)
        tally(pulse, tiny, [SECRET] * 3, [100.0] * 3)
    # Engineering is steady; Sales' trust (and everything else) jumps from ~30 to ~80.
    steady = [60.0, 62.0, 58.0, 61.0, 59.0, 60.0]
    tally(spring, eng, steady, [0.0] * 6)
    tally(summer, eng, steady, [0.0] * 6)
    tally(
        spring, sales, [25.0, 30.0, 35.0, 30.0, 25.0, 35.0, 30.0, 28.0, 32.0, 30.0], [-100.0] * 10
    )
    tally(
        summer,
        sales,
        [78.0, 82.0, 80.0, 85.0, 75.0, 80.0, 79.0, 81.0, 80.0, 80.0],
        [-100.0] * 6 + [100.0] * 2 + [0.0] * 2,
    )
    db.session.commit()
    return World(root, eng, tiny, sales, spring, summer)


def staff(role: Role, manages: list[Team] | None = None) -> str:
    person = make_staff(role, manages=manages)
    db.session.commit()
    return person.email


def row_html(html: str, name: str) -> str:
    """The <tr> of the team called `name`."""
    match = re.search(
        rf"<tr class=\"heat-row[^\"]*\">\s*<th[^>]*>\s*<a [^>]*>{name}</a>.*?</tr>", html, re.S
    )
    assert match, f"no row for {name}"
    return match.group(0)


def team_names(html: str) -> list[str]:
    return re.findall(r"<th scope=\"row\"[^>]*>\s*<a [^>]*>([^<]+)</a>", html)


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/results/heatmap", "/results/heatmap.csv", "/results/teams/1.csv"]
)
def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, world: World, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.HR, Role.LEADER])
def test_hr_and_leaders_see_the_whole_organisation(
    client: FlaskClient, world: World, role: Role
) -> None:
    login(client, staff(role))
    response = client.get("/results/heatmap")
    assert response.status_code == 200
    assert team_names(response.get_data(as_text=True)) == ["Acme", "Engineering", "Tiny", "Sales"]


def test_a_manager_sees_only_their_subtree(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.MANAGER, manages=[world.eng]))
    html = client.get("/results/heatmap").get_data(as_text=True)
    assert team_names(html) == ["Engineering", "Tiny"]
    assert "Sales" not in html and "Acme" not in html

    rows = read_csv(client.get("/results/heatmap.csv").data)
    assert {r["team"] for r in rows} == {"Engineering", "Tiny"}


def test_a_manager_gets_404_for_a_team_outside_their_subtree(
    client: FlaskClient, world: World
) -> None:
    login(client, staff(Role.MANAGER, manages=[world.eng]))
    assert client.get(f"/results/teams/{world.sales.id}.csv").status_code == 404
    assert client.get(f"/results/teams/{world.root.id}.csv").status_code == 404
    assert client.get("/results/teams/99999.csv").status_code == 404
    assert client.get(f"/results/teams/{world.tiny.id}.csv").status_code == 200
    assert client.get(f"/results/teams/{world.eng.id}.csv").status_code == 200


def test_a_manager_without_teams_sees_an_empty_state(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.MANAGER))
    response = client.get("/results/heatmap")
    assert response.status_code == 200
    assert "No teams to show" in response.get_data(as_text=True)


def test_without_pulses_the_page_says_so_and_the_export_is_404(
    client: FlaskClient, app: Flask
) -> None:
    make_team("Acme")
    login(client, staff(Role.HR))
    assert "No results yet" in client.get("/results/heatmap").get_data(as_text=True)
    assert client.get("/results/heatmap.csv").status_code == 404


# --- what the page shows -------------------------------------------------------------------------


def test_suppressed_cells_show_a_dash_and_a_reason_never_the_number(
    client: FlaskClient, world: World
) -> None:
    login(client, staff(Role.HR))
    html = client.get("/results/heatmap").get_data(as_text=True)
    tiny = row_html(html, "Tiny")
    assert tiny.count("heat-cell--hidden") == len(DIMENSIONS)
    assert "Hidden: Fewer than 5 answers" in tiny
    assert "17" not in re.sub(r"of 4|heat-level-\d", "", tiny)  # nothing but the 4 invited
    assert str(SECRET) not in html
    assert "Fewer than 5 answers." in html  # the legend explains the dash


def test_cells_show_number_band_cue_and_flagged_changes(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    html = client.get("/results/heatmap").get_data(as_text=True)
    sales = row_html(html, "Sales")
    # Trust went from 30 to 80: shown as a number, in the top band, with a word and an arrow.
    assert re.search(r'heat-band-4">\s*<span class="heat-value">80</span>', sales)
    assert ", very good" in sales
    assert "improved: up 50 points since Spring pulse" in sales
    # Burnout rose just as much: the same arrow, but worse.
    assert "worsened: up 50 points since Spring pulse" in sales
    assert "10 of 12" in sales and "(83%)" in sales
    eng = row_html(html, "Engineering")
    assert "improved" not in eng and "worsened" not in eng
    assert "<caption" in html and 'scope="col"' in html


def test_sorting_by_a_dimension_orders_rows_and_says_so(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    html = client.get("/results/heatmap?sort=trust&dir=asc").get_data(as_text=True)
    assert team_names(html) == ["Engineering", "Acme", "Sales", "Tiny"]  # hidden rows last
    assert 'aria-sort="ascending"' in html
    assert "regression to the mean" in html
    assert "sort=trust&amp;dir=desc" in html  # the header link now reverses the order

    html = client.get("/results/heatmap?sort=trust&dir=desc").get_data(as_text=True)
    assert team_names(html) == ["Sales", "Acme", "Engineering", "Tiny"]
    assert 'aria-sort="descending"' in html


@pytest.mark.parametrize(
    "query",
    [
        "?sort=nonsense",
        "?dir=sideways",
        "?depth=-1",
        "?depth=0",
        "?depth=abc",
        "?depth=%C2%B2",
        "?depth=99999999999999999999",
        "?pulse=abc",
        "?pulse=&sort=",
    ],
)
def test_odd_options_fall_back_to_the_defaults(
    client: FlaskClient, world: World, query: str
) -> None:
    login(client, staff(Role.HR))
    response = client.get("/results/heatmap" + query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert team_names(html) == ["Acme", "Engineering", "Tiny", "Sales"]
    assert "regression to the mean" not in html


def test_an_unknown_pulse_is_404(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    assert client.get("/results/heatmap?pulse=99999").status_code == 404
    assert client.get("/results/heatmap.csv?pulse=99999").status_code == 404


def test_levels_fold_away_teams_below(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    html = client.get("/results/heatmap?depth=1").get_data(as_text=True)
    assert team_names(html) == ["Acme"]
    assert "+3 teams below" in html
    html = client.get("/results/heatmap?depth=2").get_data(as_text=True)
    assert team_names(html) == ["Acme", "Engineering", "Sales"]
    assert "+1 team below" in row_html(html, "Engineering")
    html = client.get("/results/heatmap?depth=all").get_data(as_text=True)
    assert team_names(html) == ["Acme", "Engineering", "Tiny", "Sales"]
    assert re.search(r'<a href="[^"]*depth=all" aria-current="true">all levels', html)


def test_a_managers_teams_start_at_the_top_level(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.MANAGER, manages=[world.eng]))
    html = client.get("/results/heatmap?depth=1").get_data(as_text=True)
    assert team_names(html) == ["Engineering"]


def test_team_names_link_to_their_dashboards(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    html = client.get(f"/results/heatmap?pulse={world.spring.id}").get_data(as_text=True)
    assert f'/results/teams/{world.sales.id}?pulse={world.spring.id}"' in html
    assert "There is no earlier pulse to compare with" in html


def test_an_open_pulse_hides_everything_until_it_closes(client: FlaskClient, world: World) -> None:
    opened = make_pulse("Autumn pulse", utcnow() - timedelta(days=1))
    tally(opened, world.sales, [90.0] * 10, [100.0] * 10)
    db.session.commit()
    login(client, staff(Role.HR))
    # By default the page opens on the newest pulse with something to show.
    assert "Results · Summer pulse" in client.get("/results/heatmap").get_data(as_text=True)
    html = client.get(f"/results/heatmap?pulse={opened.id}").get_data(as_text=True)
    assert "Results appear when the pulse closes" in html
    assert "heat-band-" not in html.split("How to read")[0]


def test_names_are_escaped(client: FlaskClient, world: World) -> None:
    world.sales.name = '<script>alert(1)</script>"><img onerror=x>'
    db.session.commit()
    login(client, staff(Role.HR))
    html = client.get("/results/heatmap").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


# --- CSV -----------------------------------------------------------------------------------------


def test_heatmap_csv_headers_and_content(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    response = client.get("/results/heatmap.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="heatmap-summer-pulse.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response.data)
    assert [r["team"] for r in rows if r["measure"] == "respondents"] == [
        "Acme",
        "Engineering",
        "Tiny",
        "Sales",
    ]
    sales_trust = next(
        r for r in rows if r["team"] == "Sales" and r["item"] == "Trust" and r["measure"] == "score"
    )
    assert sales_trust["value"] == "80.0" and sales_trust["reason"] == ""
    tiny = [r for r in rows if r["team"] == "Tiny" and r["measure"] != "invited"]
    assert all(r["value"] == "" for r in tiny)
    assert {r["reason"] for r in tiny if r["measure"] == "score"} == {"Fewer than 5 answers"}
    assert str(SECRET) not in response.data.decode("utf-8-sig")


def test_csv_escapes_formula_names_and_keeps_numbers_numeric(
    client: FlaskClient, world: World
) -> None:
    email = staff(Role.HR)  # before the renames, or the factory would add a new "Acme"
    world.root.name = '=HYPERLINK("http://evil.example","click")'
    world.eng.name = "+1"
    world.tiny.name = "-2"
    world.sales.name = "@x"
    db.session.commit()
    login(client, email)
    rows = read_csv(client.get("/results/heatmap.csv").data)
    names = [r["team"] for r in rows if r["measure"] == "respondents"]
    assert names == ['\'=HYPERLINK("http://evil.example","click")', "'+1", "'-2", "'@x"]
    assert {r["parent_team"] for r in rows if r["team"] == "'-2"} == {"'+1"}
    # Sales' eNPS is -40: a negative number, written as a number and never escaped.
    enps = next(r for r in rows if r["team"] == "'@x" and r["item"] == "eNPS")
    assert enps["value"] == "-40.0"
    for row in rows:
        for key in ("value", "low", "high"):
            if row[key]:
                float(row[key])  # every figure parses as a number


def test_dashboard_csv_for_a_team(client: FlaskClient, world: World) -> None:
    email = staff(Role.MANAGER, manages=[world.sales])
    world.sales.name = "=cmd|' /C calc'!A0"
    db.session.commit()
    login(client, email)
    response = client.get(f"/results/teams/{world.sales.id}.csv?pulse={world.summer.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="cmd-c-calc-a0-results-summer-pulse.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response.data)
    assert {r["team"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    trend = [r for r in rows if r["section"] == "trend" and r["item"] == "Trust"]
    assert [(r["pulse"], r["value"]) for r in trend] == [
        ("Spring pulse", "30.0"),
        ("Summer pulse", "80.0"),
    ]
    change = next(r for r in rows if r["measure"] == "change since the previous pulse")
    assert change["note"].startswith("worsened") or change["note"].startswith("improved")


def test_dashboard_csv_of_the_small_team_has_no_numbers(client: FlaskClient, world: World) -> None:
    login(client, staff(Role.HR))
    response = client.get(f"/results/teams/{world.tiny.id}.csv")
    rows = read_csv(response.data)
    own = [r for r in rows if r["section"] in {"dimension", "trend"}]
    assert own and all(r["value"] == "" and r["reason"] for r in own)
    assert str(SECRET) not in response.data.decode("utf-8-sig")


# --- reading tallies -----------------------------------------------------------------------------


@pytest.fixture
def cached(app: Flask) -> Iterator[None]:
    """The per-process store of settled pulses, on (tests run with it off), emptied after."""
    app.config["RESULTS_CACHE_SETTLED"] = True
    yield
    queries._settled_cache.clear()


def test_a_settled_pulse_is_read_once_and_a_recent_one_every_time(
    world: World, cached: None
) -> None:
    now = utcnow()
    first = queries.load_pulse_tallies(world.spring, now)
    again = queries.load_pulse_tallies(world.spring, now, with_values=False)
    assert again.dimensions is first.dimensions and again.invited is first.invited
    assert again.values == {} and not again.values_loaded

    recent = make_pulse("Just closed", now - timedelta(days=7, minutes=5))
    tally(recent, world.sales, [50.0] * 6)
    db.session.commit()
    one = queries.load_pulse_tallies(recent, now)
    two = queries.load_pulse_tallies(recent, now)
    assert one.dimensions is not two.dimensions  # closed 5 minutes ago: not settled yet


def test_the_page_is_the_same_with_settled_pulses_kept(
    client: FlaskClient, app: Flask, world: World
) -> None:
    login(client, staff(Role.HR))

    def page() -> str:
        html = client.get("/results/heatmap").get_data(as_text=True)
        # The sign-out form's CSRF token carries a timestamp; nothing else may differ.
        return re.sub(r'name="csrf_token" value="[^"]*"', "", html)

    fresh = page()
    app.config["RESULTS_CACHE_SETTLED"] = True
    try:
        assert page() == fresh
        assert page() == fresh
    finally:
        queries._settled_cache.clear()


def test_without_invitations_or_values_nothing_is_made_up(world: World) -> None:
    now = utcnow()
    tallies = queries.load_pulse_tallies(world.spring, now, with_values=False, with_invited=False)
    assert tallies.invited == {} and tallies.dimensions
    tree = queries.team_parents()
    groups = report.family(tree, report.Viewer((world.root.id,), whole_org=True))
    gated = report.view(tree, tallies, groups).gated
    with pytest.raises(RuntimeError, match="per-value tallies"):
        gated.question(tallies.questions[0].id, f"team:{world.eng.id}")


def test_the_dashboard_export_reads_less_but_says_the_same(world: World) -> None:
    hr = make_staff(Role.HR)
    context = routes.load_context(hr)
    pulses = routes.pulses_with_results()
    pulse = pulses[-1]
    for team in (world.sales, world.tiny, world.root):
        full = report.dashboard(
            context.tree,
            context.names,
            context.groups,
            team.id,
            routes.history_until(context, pulses, pulse),
        )
        lean = report.dashboard(
            context.tree,
            context.names,
            context.groups,
            team.id,
            heatmap_routes.dashboard_history(context, pulses, pulse),
        )
        assert exports.dashboard_rows(lean, team.id) == exports.dashboard_rows(full, team.id)


# --- the per-process store for settled pulses ------------------------------------------------


def test_kept_heatmaps_are_per_viewer_and_follow_directory_changes(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """With the store on (as in production), a manager never gets the heatmap kept for HR, and
    renaming or adding a team shows at once."""
    app.config["RESULTS_CACHE_SETTLED"] = True
    hr_email = staff(Role.HR)
    manager_email = staff(Role.MANAGER, manages=[world.eng])
    login(client, hr_email)
    first = client.get("/results/heatmap").get_data(as_text=True)
    assert team_names(first) == ["Acme", "Engineering", "Tiny", "Sales"]
    assert client.get("/results/heatmap").get_data(as_text=True) == first  # kept, same page

    other = app.test_client()
    login(other, manager_email)
    assert team_names(other.get("/results/heatmap").get_data(as_text=True)) == [
        "Engineering",
        "Tiny",
    ]

    world.sales.name = "Revenue"
    make_team("Acme/Support")
    db.session.commit()
    names = team_names(client.get("/results/heatmap").get_data(as_text=True))
    assert names == ["Acme", "Engineering", "Tiny", "Revenue", "Support"]
