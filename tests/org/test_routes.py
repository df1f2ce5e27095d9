"""Directory pages and the manager home page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pulse.extensions import db
from pulse.org.models import Person, Role
from tests.conftest import login
from tests.factories import make_person, make_staff, make_team


def test_directory_shows_tree_with_head_counts(client: FlaskClient) -> None:
    make_staff(Role.HR, email="hr@example.com", team=None)
    for _ in range(3):
        make_person(team="Acme/Eng/Platform")
    make_person(team="Acme/Sales")
    login(client, "hr@example.com")
    body = client.get("/directory").get_data(as_text=True)
    assert "Platform" in body and "Sales" in body
    assert "5 active people in 4 teams" in body  # HR included
    assert "3 people" in body  # Eng's subtree


def test_people_search_filters_and_paginates(app: Flask, client: FlaskClient) -> None:
    app.config["PAGE_SIZE"] = 5
    make_staff(Role.HR, email="hr@example.com", name="Harriet HR", team=None)
    for i in range(12):
        make_person(name=f"Engineer {i:02d}", team="Acme/Eng")
    make_person(name="Seller One", team="Acme/Sales")
    login(client, "hr@example.com")
    first = client.get("/directory/people?q=engineer").get_data(as_text=True)
    assert "Showing 1–5 of 12" in first
    assert "Engineer 00" in first and "Engineer 05" not in first
    third = client.get("/directory/people?q=engineer&page=3").get_data(as_text=True)
    assert "Engineer 10" in third and "Engineer 11" in third
    sales = make_team("Acme/Sales")
    db.session.commit()
    only_sales = client.get(f"/directory/people?team={sales.id}").get_data(as_text=True)
    assert "Seller One" in only_sales and "Engineer" not in only_sales
    nothing = client.get("/directory/people?q=zzz").get_data(as_text=True)
    assert "No one matches" in nothing


def test_people_page_survives_junk_parameters(client: FlaskClient) -> None:
    make_staff(Role.HR, email="hr@example.com")
    login(client, "hr@example.com")
    for query in ("page=-1", "page=abc", "team=999999", "team=x", "role=boss", "q=%00%25_"):
        response = client.get(f"/directory/people?{query}")
        assert response.status_code in {200, 404}, query


def test_manager_gets_404_for_a_team_outside_their_subtree(client: FlaskClient) -> None:
    eng = make_team("Acme/Eng")
    platform = make_team("Acme/Eng/Platform")
    sales = make_team("Acme/Sales")
    make_staff(Role.MANAGER, manages=[eng], email="m@example.com")
    db.session.commit()
    login(client, "m@example.com")
    assert client.get(f"/directory/teams/{platform.id}").status_code == 200
    assert client.get(f"/directory/teams/{sales.id}").status_code == 404
    assert client.get("/directory/teams/999999").status_code == 404


def test_manager_home_lists_only_their_teams(client: FlaskClient) -> None:
    eng = make_team("Acme/Eng")
    make_person(team="Acme/Eng/Platform")
    make_person(team="Acme/Sales")
    make_staff(Role.MANAGER, manages=[eng], email="m@example.com", team=eng)
    login(client, "m@example.com")
    body = client.get("/home").get_data(as_text=True)
    assert "My teams" in body and "Platform" in body
    assert "Sales" not in body


def test_manager_without_teams_gets_a_helpful_empty_state(client: FlaskClient) -> None:
    make_staff(Role.MANAGER, email="m@example.com")
    login(client, "m@example.com")
    body = client.get("/home").get_data(as_text=True)
    assert "No teams yet" in body and "manages" in body


def test_leader_home_shows_the_whole_organisation(client: FlaskClient) -> None:
    make_person(team="Acme/Eng")
    make_person(team="Acme/Sales")
    make_staff(Role.LEADER, email="l@example.com", team=None)
    login(client, "l@example.com")
    body = client.get("/home").get_data(as_text=True)
    assert "Organisation" in body and "Eng" in body and "Sales" in body


def test_hr_deactivates_and_reactivates_a_person(client: FlaskClient) -> None:
    make_staff(Role.HR, email="hr@example.com")
    manager = make_staff(Role.MANAGER, email="m@example.com")
    login(client, "hr@example.com")
    response = client.post(f"/directory/people/{manager.id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, manager.id).active is False  # type: ignore[union-attr]
    # A deactivated manager can no longer sign in.
    other = client.application.test_client()
    refused = other.post("/login", data={"email": "m@example.com", "password": "x" * 10})
    assert refused.status_code == 200
    client.post(f"/directory/people/{manager.id}/reactivate")
    db.session.expire_all()
    assert db.session.get(Person, manager.id).active is True  # type: ignore[union-attr]


def test_hr_cannot_deactivate_themselves(client: FlaskClient) -> None:
    hr = make_staff(Role.HR, email="hr@example.com")
    login(client, "hr@example.com")
    response = client.post(f"/directory/people/{hr.id}/deactivate", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, hr.id).active is True  # type: ignore[union-attr]
