"""Journeys through the directory in a real browser: HR imports people, managers see their teams."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from pulse.extensions import db
from pulse.org.models import Role
from tests.e2e.conftest import LiveServer, axe_check, sign_in, visit
from tests.factories import make_person, make_staff, make_team

# Three levels deep, a manager who manages a team through the `manages` column, and people in
# two branches of the tree.
PEOPLE_CSV = """\
email,name,team,manager_email,role,manages
grace@example.com,Grace Hopper,Northwind/Engineering,,manager,Northwind/Engineering
ada@example.com,Ada Lovelace,Northwind/Engineering/Platform,grace@example.com,employee,
alan@example.com,Alan Turing,Northwind/Engineering/Platform,grace@example.com,employee,
edsger@example.com,Edsger Dijkstra,Northwind/Engineering/Compilers,grace@example.com,employee,
mary@example.com,Mary Jackson,Northwind/Sales,,employee,
"""


def test_hr_imports_a_directory_and_sees_the_new_teams(page: Page, live_server: LiveServer) -> None:
    with live_server.app.app_context():
        make_staff(Role.HR, email="hr@example.com", name="Harriet Rowe", team="People Ops")
        db.session.commit()

    sign_in(page, live_server, "hr@example.com")

    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    axe_check(page)
    expect(page).to_have_url(re.compile(r"/directory/import$"))

    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": PEOPLE_CSV.encode()}]
    )
    expect(page.get_by_label("Deactivate people who are not in this file")).not_to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Preview import").click()
    axe_check(page)

    # The preview says what will happen before anything is saved.
    expect(page).to_have_url(re.compile(r"/directory/import/[^/]+$"))
    stats = page.locator(".stat")
    expect(stats.filter(has_text="new people")).to_have_text(re.compile(r"^\s*5\s+new people"))
    expect(stats.filter(has_text="to create")).to_have_text(re.compile(r"^\s*5\s+teams to create"))
    apply_button = page.get_by_role("button", name="Apply import")
    expect(apply_button).to_be_visible()

    with page.expect_navigation():
        apply_button.click()
    axe_check(page)

    expect(page).to_have_url(re.compile(r"/directory$"))
    expect(page.locator(".flash").first).to_be_visible()
    tree = page.get_by_role("region", name="Teams")
    for team in ("Northwind", "Engineering", "Platform", "Compilers", "Sales"):
        expect(tree.get_by_role("link", name=team, exact=True)).to_be_visible()
    expect(tree).to_contain_text("Managed by Grace Hopper")

    # The people are there too, findable by search.
    visit(page, live_server.at("/directory/people?q=lovelace"))
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()


def test_manager_sees_only_their_own_teams(page: Page, live_server: LiveServer) -> None:
    with live_server.app.app_context():
        engineering = make_team("Acme/Engineering")
        make_team("Acme/Engineering/Platform")
        make_person(team="Acme/Engineering/Platform")
        make_person(team="Acme/Sales")
        make_staff(
            Role.MANAGER,
            email="grace@example.com",
            name="Grace Hopper",
            team="Acme/Engineering",
            manages=[engineering],
        )
        db.session.commit()

    sign_in(page, live_server, "grace@example.com")

    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_role("heading", name="My teams", level=1)).to_be_visible()
    teams = page.get_by_role("region", name="Teams")
    expect(teams.get_by_role("link", name="Engineering", exact=True)).to_be_visible()
    expect(teams.get_by_role("link", name="Platform", exact=True)).to_be_visible()
    expect(page.get_by_text("Sales")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Import")
    ).to_have_count(0)

    # The HR directory is not theirs, and the refusal page is itself accessible.
    response = page.goto(live_server.at("/directory"))
    assert response is not None and response.status in {403, 404}
    axe_check(page)


def test_navigation_and_people_search_work_on_a_phone(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    with live_server.app.app_context():
        make_staff(Role.HR, email="hr@example.com", name="Harriet Rowe", team="Acme/People Ops")
        make_person(name="Ada Lovelace", email="ada@example.com", team="Acme/Engineering/Platform")
        make_person(name="Alan Turing", email="alan@example.com", team="Acme/Engineering")
        db.session.commit()

    sign_in(page, live_server, "hr@example.com")
    _assert_fits_the_screen(page)

    people_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="People")
    expect(people_link).to_be_visible()
    with page.expect_navigation():
        people_link.tap()
    axe_check(page)
    _assert_fits_the_screen(page)

    page.get_by_label("Name or email").fill("lovelace")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").tap()
    axe_check(page)
    _assert_fits_the_screen(page)

    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_text("Alan Turing")).to_have_count(0)


def _assert_fits_the_screen(page: Page) -> None:
    """No sideways scrolling of the whole page (wide tables may scroll inside their own box)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the screen"
