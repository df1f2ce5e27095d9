"""Which pulses an action may point back to: ones that asked its team, within the viewer's reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from pulse.actions import queries
from pulse.db import utcnow
from pulse.extensions import db
from pulse.surveys import services as pulse_services
from pulse.surveys.models import Pulse
from tests.actions.conftest import World, run_pulse
from tests.conftest import login


@pytest.fixture
def pulses(world: World) -> dict[str, Pulse]:
    """Besides the world's two Eng+Sales pulses: whole-company, Sales-only and Platform-only
    pulses (newer, in that order), and one that has not opened."""
    start = utcnow() - timedelta(days=20)
    teams = world.teams
    made = {
        "spring": world.pulses[0],
        "autumn": world.pulses[1],
        "company": run_pulse("Company pulse", [teams["Acme"]], start, {}),
        "sales": run_pulse("Sales pulse", [teams["Sales"]], start + timedelta(days=1), {}),
        "platform": run_pulse("Platform pulse", [teams["Platform"]], start + timedelta(days=2), {}),
        "draft": pulse_services.create_pulse(
            title="Draft", set_ref="builtin:core", teams=[teams["Acme"]], now=start, actor=None
        ),
    }
    db.session.commit()
    return made


def _titles(found: list[Pulse]) -> list[str]:
    return [p.title for p in found]


def test_a_team_is_offered_pulses_that_asked_it_or_a_team_above_it_newest_first(
    world: World, pulses: dict[str, Pulse]
) -> None:
    hr = world.staff["hr"]
    platform = queries.linkable_pulses(hr, world.teams["Platform"])
    assert _titles(platform) == ["Platform pulse", "Company pulse", "Autumn pulse", "Spring pulse"]
    sales = queries.linkable_pulses(hr, world.teams["Sales"])
    assert _titles(sales) == ["Sales pulse", "Company pulse", "Autumn pulse", "Spring pulse"]
    # Acme itself was asked only by the whole-company pulse, not by pulses to its parts.
    assert _titles(queries.linkable_pulses(hr, world.teams["Acme"])) == ["Company pulse"]


def test_an_organisation_wide_action_is_offered_pulses_that_asked_the_top(
    world: World, pulses: dict[str, Pulse]
) -> None:
    found = queries.linkable_pulses(world.staff["leader"], None, whole_org=True)
    assert _titles(found) == ["Company pulse"]


def test_a_manager_is_offered_only_pulses_that_asked_a_team_they_manage(
    world: World, pulses: dict[str, Pulse]
) -> None:
    eng = queries.linkable_pulses(world.staff["eng"], None)
    assert _titles(eng) == ["Platform pulse", "Company pulse", "Autumn pulse", "Spring pulse"]
    sales = queries.linkable_pulses(world.staff["sales"], None)
    assert _titles(sales) == ["Sales pulse", "Company pulse", "Autumn pulse", "Spring pulse"]
    # Leaders and HR, before choosing a team, see every opened pulse (never the draft).
    everyone = _titles(queries.linkable_pulses(world.staff["hr"], None))
    assert len(everyone) == 5 and "Draft" not in everyone


def test_at_most_the_newest_fifty_are_offered(
    world: World, pulses: dict[str, Pulse], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "LINKABLE_LIMIT", 2)
    found = queries.linkable_pulses(world.staff["hr"], None)
    assert _titles(found) == ["Platform pulse", "Sales pulse"]


def _pulse_options(page: str) -> list[str]:
    select = page[page.index('name="pulse"') :]
    select = select[: select.index("</select>")]
    return [part.split("</option>")[0].split(">")[-1] for part in select.split("<option")[1:]]


def test_the_form_offers_a_manager_only_pulses_that_asked_the_chosen_team(
    client: FlaskClient, world: World, pulses: dict[str, Pulse]
) -> None:
    login(client, "eng@example.com")
    page = client.get(f"/actions/new?team={world.teams['Platform'].id}").get_data(as_text=True)
    assert _pulse_options(page) == [
        "None",
        "Platform pulse",
        "Company pulse",
        "Autumn pulse",
        "Spring pulse",
    ]
    tiny = client.get(f"/actions/new?team={world.teams['Tiny'].id}").get_data(as_text=True)
    assert "Platform pulse" not in _pulse_options(tiny)


def test_a_pulse_that_did_not_ask_the_team_is_a_message_and_cannot_be_saved(
    client: FlaskClient, world: World, pulses: dict[str, Pulse]
) -> None:
    login(client, "hr@example.com")
    platform, sales_pulse = world.teams["Platform"].id, pulses["sales"].id
    url = f"/actions/new?team={platform}&pulse={sales_pulse}"
    page = client.get(url)
    assert page.status_code == 200
    assert "That pulse did not ask this team" in page.get_data(as_text=True)
    form = {
        "team": str(platform),
        "title": "Protect focus time",
        "description": "",
        "outcome": "",
        "pulse": str(sales_pulse),
        "dimension": "trust",
        "owner": str(world.staff["hr"].id),
        "due_on": "",
        "status": "planned",
        "drop_reason": "",
    }
    assert client.post(url, data=form).status_code == 400
    form["pulse"] = str(pulses["platform"].id)
    assert client.post(url, data=form).status_code == 303


def test_editing_keeps_the_pulse_an_action_already_points_back_to(
    client: FlaskClient, world: World, pulses: dict[str, Pulse]
) -> None:
    action = world.log(None, title="Everyone", pulse=0)  # logged before the rule applied
    login(client, "hr@example.com")
    form = {
        "team": "org",
        "title": "Everyone, renamed",
        "description": "",
        "outcome": "",
        "pulse": str(world.pulses[0].id),
        "dimension": "trust",
        "owner": str(world.staff["hr"].id),
        "due_on": "",
        "status": "planned",
        "drop_reason": "",
    }
    assert client.post(f"/actions/{action.id}/edit", data=form).status_code == 303
