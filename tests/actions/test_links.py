""" "Log an action" links on results pages carry the team, pulse, dimension or outcome and the
source, and the owner of an action outside a manager's subtree may follow it up."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlparse

from flask.testing import FlaskClient

from pulse.actions.models import ActionStatus
from pulse.extensions import db
from tests.actions.conftest import World
from tests.conftest import login


def _log_links(page: str) -> list[dict[str, list[str]]]:
    links = []
    for part in page.split('href="')[1:]:
        url = html.unescape(part.split('"', 1)[0])
        if urlparse(url).path == "/actions/new":
            links.append(parse_qs(urlparse(url).query))
    return links


def test_the_dashboard_links_each_dimension(client: FlaskClient, world: World) -> None:
    sales, pulse = world.teams["Sales"].id, world.pulses[1].id
    login(client, "sales@example.com")
    page = client.get(f"/results/teams/{sales}?pulse={pulse}").get_data(as_text=True)
    links = _log_links(page)
    trust = [link for link in links if link.get("dimension") == ["trust"]]
    assert trust == [
        {
            "team": [str(sales)],
            "pulse": [str(pulse)],
            "dimension": ["trust"],
            "source": ["dashboard"],
        }
    ]
    assert 'Log an action<span class="visually-hidden"> about Trust</span>' in page


def test_the_heatmap_links_each_row(client: FlaskClient, world: World) -> None:
    login(client, "eng@example.com")
    page = client.get(f"/results/heatmap?pulse={world.pulses[1].id}").get_data(as_text=True)
    teams = sorted(link["team"][0] for link in _log_links(page))
    expected = sorted(str(world.teams[t].id) for t in ("Eng", "Platform", "Tiny"))
    assert teams == expected
    assert all(link["source"] == ["heatmap"] for link in _log_links(page))


def test_an_owner_outside_the_subtree_may_update_but_not_edit(
    client: FlaskClient, world: World
) -> None:
    action = world.log("Sales", owner="eng", title="Cross-team help")
    login(client, "eng@example.com")
    assert client.get(f"/actions/{action.id}").status_code == 200
    response = client.post(
        f"/actions/{action.id}/update", data={"note": "Done my part", "status": "done"}
    )
    assert response.status_code == 303
    assert client.get(f"/actions/{action.id}/edit").status_code == 404
    db.session.expire_all()
    assert action.status is ActionStatus.DONE


def test_comment_tags_link_with_their_outcome(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from pulse.results.comment_routes import _log_action_urls

    team, pulse = world.teams["Sales"].id, world.pulses[0]
    with app.test_request_context():
        urls = _log_action_urls(team, pulse)
        assert _log_action_urls(team, None) == {}
    query = parse_qs(urlparse(urls["retention"]).query)
    assert query == {
        "team": [str(team)],
        "pulse": [str(pulse.id)],
        "source": ["comments"],
        "outcome": ["retention"],
    }
    assert "outcome" not in parse_qs(urlparse(urls[""]).query)
