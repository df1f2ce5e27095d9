"""A manager reads the demo's results in a real browser: dashboard, heatmap, comments, tags.

Every page is checked with axe (serious and critical violations fail). The demo gives a year of
pulses with stories that differ by team, small teams that must be suppressed, and comments.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pulse.db import utcnow
from pulse.demo.services import DEMO_PASSWORD, build_demo
from pulse.extensions import db
from pulse.org.models import Team
from tests.e2e.conftest import LiveServer, axe_check, sign_in, visit


def seed_demo(server: LiveServer) -> dict[str, str]:
    """Load the demo into the live server's database; the email of each team's first manager."""
    app = server.app
    with app.app_context():
        build_demo(
            now=utcnow(),
            password_method=app.config["PASSWORD_HASH_METHOD"],
            secret_key=app.config["SECRET_KEY"],
        )
        db.session.commit()
        managers = {
            team.name: team.managers[0].email
            for team in db.session.scalars(select(Team))
            if team.managers
        }
        db.session.remove()
    return managers


def click_through(page: Page, link_name: str, *, exact: bool = True) -> None:
    """Follow a link in the page's main content as a person would, then check the page."""
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name=link_name, exact=exact).first.click()
    axe_check(page)


def test_manager_reads_dashboard_heatmap_and_comments_of_the_demo(
    page: Page, live_server: LiveServer
) -> None:
    managers = seed_demo(live_server)
    sign_in(page, live_server, managers["Engineering"], DEMO_PASSWORD)

    # Results home: the teams this manager may open.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    axe_check(page)
    expect(page).to_have_url(re.compile(r"/results/$"))

    # The team dashboard: scores with their intervals.
    click_through(page, "Engineering")
    expect(page).to_have_url(re.compile(r"/results/teams/\d+"))
    expect(page.locator("main")).to_contain_text("95% interval")
    expect(page.locator(".score__interval").first).to_have_text(
        re.compile(r"95% interval -?\d+(\.\d+)?\s*(to|–|-)\s*-?\d+")
    )
    dashboard_url = page.url

    # The heatmap: Data has 8 answers, too few for eNPS, so that cell is hidden with its reason.
    visit(page, live_server.at("/results/heatmap"))
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Data", exact=True)).to_be_visible()
    hidden = page.locator(".heat-cell--hidden")
    expect(hidden.first).to_be_attached()
    expect(hidden.first).to_contain_text(re.compile(r"Hidden: .+"))
    expect(page.locator("main")).to_contain_text("eNPS is shown from 10 answers")

    # Comments of the whole department, from the dashboard.
    visit(page, dashboard_url)
    click_through(page, "Comments")
    expect(page).to_have_url(re.compile(r"/results/teams/\d+/comments"))
    comments = page.locator(".comment")
    expect(comments.first).to_be_visible()
    assert comments.count() >= 5
    expect(page.locator("main")).not_to_contain_text("No comments shown")

    # Tag one comment; the tag and its count show after the page reloads.
    first = comments.first
    text = first.locator(".comment__text").inner_text()
    first.locator("summary").click()
    first.get_by_label("Topic").fill("Focus time")
    first.get_by_label("Business outcome").select_option(label="Productivity")
    with page.expect_navigation():
        first.get_by_role("button", name="Save tag").click()
    axe_check(page)
    expect(page.locator(".flash")).to_contain_text("Tag saved.")
    counts = page.get_by_role("region", name="Tagged comments")
    expect(counts.get_by_role("row", name=re.compile(r"Focus time\s+1"))).to_be_visible()
    tagged = page.locator(".comment", has_text=text).filter(has_text="Topic: Focus time")
    expect(tagged.first).to_be_visible()

    # Data alone has too few people for comments: the page says why and shows none.
    click_through(page, "Data")
    expect(page.locator("main")).to_contain_text("Fewer than 10 answers")
    expect(page.locator("main")).to_contain_text("Comments are shown for groups of at least 10")
    assert page.locator(".comment").count() == 0


def test_small_teams_are_suppressed_with_their_reason(page: Page, live_server: LiveServer) -> None:
    # HR has 5 people and 4 answers per pulse: below k = 5. Finance must then be hidden too, or
    # its department's number minus Finance's would give HR's away.
    managers = seed_demo(live_server)
    sign_in(page, live_server, managers["People & Finance"], DEMO_PASSWORD)
    visit(page, live_server.at("/results/heatmap"))
    rows = page.get_by_role("row")
    hr_row = rows.filter(has=page.get_by_role("rowheader", name=re.compile(r"^HR\b")))
    expect(hr_row.first.locator(".heat-cell--hidden").first).to_contain_text("Fewer than 5 answers")
    finance_row = rows.filter(has=page.get_by_role("rowheader", name=re.compile(r"^Finance\b")))
    expect(finance_row.first.locator(".heat-cell--hidden").first).to_contain_text(
        "cannot be worked out by subtraction"
    )
