"""The actions list: overdue first, filters, the leaders' roll-up, pagination and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient

from pulse.actions import routes
from pulse.actions.models import ActionStatus
from pulse.db import utcnow
from tests.actions.conftest import World
from tests.conftest import login


def _titles(page: str) -> list[str]:
    if "table--stack" not in page:
        return []
    table = page[page.index("table--stack") :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [part.split("</a>")[0].split(">")[-1] for part in body.split('<th scope="row"><a ')[1:]]


def test_overdue_actions_come_first_then_by_due_date(client: FlaskClient, world: World) -> None:
    today = utcnow().date()
    world.log("Platform", title="Later", due_on=today + timedelta(days=30), by="eng")
    world.log("Platform", title="Undated", by="eng")
    world.log("Platform", title="Soon", due_on=today + timedelta(days=3), by="eng")
    world.log("Platform", title="Late", due_on=today - timedelta(days=2), by="eng")
    world.log("Platform", title="Very late", due_on=today - timedelta(days=9), by="eng")
    world.log(
        "Platform",
        title="Done long ago",
        due_on=today - timedelta(days=20),
        status=ActionStatus.DONE,
        by="eng",
    )
    login(client, "eng@example.com")
    page = client.get("/actions").get_data(as_text=True)
    assert _titles(page) == ["Very late", "Late", "Done long ago", "Soon", "Later", "Undated"]
    assert page.count("tag--bad") == 2  # "Overdue" only on the open ones past their date
    overdue_only = client.get("/actions?overdue=1").get_data(as_text=True)
    assert _titles(overdue_only) == ["Very late", "Late"]


def test_a_managers_list_holds_their_subtree_their_own_and_organisation_actions(
    client: FlaskClient, world: World
) -> None:
    world.log("Platform", title="Platform action")
    world.log("Sales", title="Sales action")
    world.log("Sales", title="Owned by eng", owner="eng")
    world.log(None, title="Everyone")
    login(client, "eng@example.com")
    titles = _titles(client.get("/actions").get_data(as_text=True))
    assert sorted(titles) == ["Everyone", "Owned by eng", "Platform action"]


def test_filters_narrow_the_list(client: FlaskClient, world: World) -> None:
    world.log("Platform", title="Trust at Platform", dimension="trust", outcome="retention")
    world.log("Sales", title="Burnout at Sales", dimension="burnout", outcome="productivity")
    world.log("Sales", title="Dropped one", status=ActionStatus.DROPPED, drop_reason="No budget")
    world.log(None, title="Org wide", dimension=None)
    login(client, "hr@example.com")
    get = lambda q: sorted(_titles(client.get(f"/actions?{q}").get_data(as_text=True)))  # noqa: E731
    assert get("dimension=burnout") == ["Burnout at Sales"]
    assert get("outcome=retention") == ["Trust at Platform"]
    assert get("status=dropped") == ["Dropped one"]
    assert get(f"team={world.teams['Eng'].id}") == ["Trust at Platform"]
    assert get("team=org") == ["Org wide"]
    assert get(f"owner={world.staff['hr'].id}&dimension=trust") == [
        "Dropped one",
        "Trust at Platform",
    ]
    # Unknown values are ignored, never an error.
    assert client.get("/actions?status=zzz&dimension=<b>&owner=x&page=-3").status_code == 200


def test_the_empty_state_points_to_results(client: FlaskClient, world: World) -> None:
    login(client, "eng@example.com")
    page = client.get("/actions").get_data(as_text=True)
    assert "No actions yet — log one from a result that needs attention" in page
    assert 'href="/results/"' in page


def test_leaders_see_the_roll_up_by_status_dimension_and_outcome(
    client: FlaskClient, world: World
) -> None:
    world.log("Platform", dimension="trust", outcome="retention")
    world.log("Sales", dimension="trust", status=ActionStatus.IN_PROGRESS)
    world.log("Sales", dimension="burnout", status=ActionStatus.DONE)
    login(client, "leader@example.com")
    page = client.get("/actions").get_data(as_text=True)
    assert "Across the organisation" in page
    assert '<tr><th scope="row">Trust</th><td class="num">2</td></tr>' in page
    assert '<tr><th scope="row">Retention</th><td class="num">1</td></tr>' in page
    assert "Did the actions we finished move the scores they targeted?" in page
    client.post("/logout")
    login(client, "eng@example.com")
    assert "Across the organisation" not in client.get("/actions").get_data(as_text=True)


def test_the_list_is_paginated(client: FlaskClient, world: World, monkeypatch) -> None:
    monkeypatch.setattr(routes, "PER_PAGE", 2)
    for i in range(5):
        world.log("Platform", title=f"Action {i}")
    login(client, "hr@example.com")
    first = client.get("/actions?dimension=trust").get_data(as_text=True)
    assert len(_titles(first)) == 2 and 'rel="next"' in first and "dimension=trust" in first
    last = client.get("/actions?dimension=trust&page=3").get_data(as_text=True)
    assert _titles(last) == ["Action 4"]


def test_the_csv_is_the_filtered_list_and_formula_safe(client: FlaskClient, world: World) -> None:
    world.log("Sales", title='=HYPERLINK("http://evil.example")', dimension="trust")
    world.log("Platform", title="Not in the filter", dimension="burnout")
    login(client, "hr@example.com")
    response = client.get("/actions.csv?dimension=trust")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["title"] for r in rows] == ['\'=HYPERLINK("http://evil.example")']
    assert rows[0]["team"] == "Acme/Sales" and rows[0]["owner"] == "Hanna HR"
    assert "@" not in response.get_data(as_text=True)  # no owner emails


def test_a_page_past_the_end_shows_the_last_page(
    client: FlaskClient, world: World, monkeypatch
) -> None:
    monkeypatch.setattr(routes, "PER_PAGE", 2)
    for i in range(5):
        world.log("Platform", title=f"Action {i}")
    login(client, "hr@example.com")
    for page in ("4", "99999", "9" * 20, "99999999999999999999999"):
        response = client.get(f"/actions?dimension=trust&page={page}")
        assert response.status_code == 200, page
        assert _titles(response.get_data(as_text=True)) == ["Action 4"], page


def test_filters_that_match_nothing_offer_to_clear_them(client: FlaskClient, world: World) -> None:
    world.log("Platform", title="Trust at Platform", dimension="trust")
    login(client, "hr@example.com")
    for query in ("dimension=burnout", "dimension=burnout&page=" + "9" * 20):
        page = client.get(f"/actions?{query}").get_data(as_text=True)
        assert "No actions match these filters" in page, query
        assert "No actions yet" not in page
        assert 'href="/actions">clear the filters' in page


def test_without_any_action_a_page_past_the_end_is_the_empty_start(
    client: FlaskClient, world: World
) -> None:
    login(client, "eng@example.com")
    page = client.get("/actions?page=7").get_data(as_text=True)
    assert "No actions yet — log one from a result that needs attention" in page
