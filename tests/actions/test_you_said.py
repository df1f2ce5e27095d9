"""The public "You said, we did" page: only visible actions and updates of the team, its
ancestors and the organisation; no emails or names; a bad token is a 404; the employee's
language."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pulse.actions import services
from pulse.actions.models import ActionStatus
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.links import team_token
from tests.actions.conftest import World


def _url(app: Flask, team_id: int) -> str:
    return f"/you-said-we-did/{team_token(team_id, app.config['SECRET_KEY'])}"


def _page(client: FlaskClient, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_lists_visible_actions_of_the_team_its_ancestors_and_the_organisation(
    app: Flask, client: FlaskClient, world: World
) -> None:
    shown = world.log("Platform", title="Quiet hours", status=ActionStatus.IN_PROGRESS)
    world.log("Eng", title="Eng planning day")
    world.log(None, title="Company survey follow-up", status=ActionStatus.DONE)
    world.log(
        "Platform", title="Dropped rota", status=ActionStatus.DROPPED, drop_reason="No budget"
    )
    world.log("Sales", title="Sales bonus review")
    world.log("Platform", title="Secret reorganisation", visible=False)
    hr = world.staff["hr"]
    for note, visible in (("We booked the rooms", True), ("Internal: costs 5k", False)):
        services.add_update(
            shown,
            note=note,
            status=None,
            drop_reason=None,
            visible=visible,
            actor=hr,
            now=utcnow(),
        )
    db.session.commit()
    page = _page(client, _url(app, world.teams["Platform"].id))
    for text in ("Quiet hours", "Eng planning day", "Company survey follow-up", "Dropped rota"):
        assert text in page
    assert "No budget" in page and "We booked the rooms" in page
    for text in ("Sales bonus review", "Secret reorganisation", "Internal: costs 5k"):
        assert text not in page
    # No emails and no names: the link is public and may be forwarded.
    assert "@" not in page.replace("@example", "")
    assert "example.com" not in page and "Hanna HR" not in page
    assert page.index("Under way") < page.index("Planned") < page.index("Done recently")


def test_a_sibling_team_does_not_see_another_teams_actions(
    app: Flask, client: FlaskClient, world: World
) -> None:
    world.log("Platform", title="Quiet hours")
    page = _page(client, _url(app, world.teams["Sales"].id))
    assert "Quiet hours" not in page
    assert "No actions have been shared with your team yet" in page


def test_bad_tokens_are_404(app: Flask, client: FlaskClient, world: World) -> None:
    good = team_token(world.teams["Platform"].id, app.config["SECRET_KEY"])
    for token in (
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        team_token(world.teams["Platform"].id, "another-secret-key"),
        team_token(987654, app.config["SECRET_KEY"]),
        "nonsense",
        "1-",
    ):
        assert client.get(f"/you-said-we-did/{token}").status_code == 404, token


def test_the_page_follows_the_employees_language(
    app: Flask, client: FlaskClient, world: World
) -> None:
    url = _url(app, world.teams["Platform"].id)
    german = _page(client, url, **{"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in german and "Zum Hauptinhalt springen" in german
    english = _page(app.test_client(), url)
    assert '<html lang="en">' in english
    chosen = _page(app.test_client(), url + "?lang=de")
    assert '<html lang="de">' in chosen
