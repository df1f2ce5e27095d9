"""In a real browser: HR sets up a pilot with baselines and comparison teams and sees its
schedule; then reads the demo pilot's report (estimate, interval, event-study chart). axe checks
every page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from pulse.db import utcnow
from pulse.demo.services import DEMO_PASSWORD, build_demo
from pulse.extensions import db
from pulse.org.models import Role
from tests.e2e.conftest import LiveServer, axe_check, sign_in, visit
from tests.factories import make_person, make_staff, make_team


def _submit(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Set up pilot and schedule pulses").click()
    axe_check(page)


def _open_tree_to(page: Page, checkbox: str) -> None:
    """Open the collapsed list of teams that holds this checkbox, as a person would."""
    holder = page.locator("details.tree__children", has=page.locator(checkbox)).last
    if holder.get_attribute("open") is None:
        holder.locator("summary").first.click()


def test_hr_sets_up_a_pilot_and_sees_its_schedule(page: Page, live_server: LiveServer) -> None:
    with live_server.app.app_context():
        make_staff(Role.HR, email="hr@example.com", team="Acme/People")
        teams = {}
        for path in ("Acme/Ops/North", "Acme/Ops/South", "Acme/Sales", "Acme/Support"):
            teams[path.rsplit("/", 1)[-1]] = make_team(path).id
            for _ in range(6):
                make_person(team=path)
        db.session.commit()
    sign_in(page, live_server, "hr@example.com")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Pilots").click()
    axe_check(page)
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name=re.compile("pilot", re.I)).first.click()
    axe_check(page)
    expect(page).to_have_url(re.compile(r"/pilots/new$"))

    start = utcnow().date() + timedelta(weeks=6)
    page.get_by_label("Name", exact=True).fill("Four-day week 2027")
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("End date").fill((start + timedelta(weeks=12)).isoformat())
    _open_tree_to(page, f"#pilot-{teams['North']}")
    page.locator(f"#pilot-{teams['North']}").check()
    page.locator(f"#pilot-{teams['Sales']}").check()
    page.locator(f"#comparison-{teams['Sales']}").check()  # in both arms: refused
    _submit(page)
    expect(page.locator(".error-summary")).to_contain_text("both a pilot and a comparison team")

    page.locator(f"#comparison-{teams['Sales']}").uncheck()
    _open_tree_to(page, f"#comparison-{teams['South']}")
    page.locator(f"#comparison-{teams['South']}").check()
    page.locator(f"#comparison-{teams['Support']}").check()
    _submit(page)
    expect(page.locator("h1")).to_have_text("Four-day week 2027")
    schedule = page.locator("section", has=page.get_by_role("heading", name="Schedule"))
    rows = schedule.locator("tbody tr")
    # Two baselines (the default), a pulse every two weeks during, and the final pulse.
    expect(rows).to_have_count(2 + 5 + 1)
    expect(rows.first).to_contain_text("Baseline")
    expect(rows.last).to_contain_text("Final")
    expect(page.locator("main")).to_contain_text("North")
    expect(page.locator("main")).to_contain_text("Support")


def test_hr_reads_the_demo_pilot_report(page: Page, live_server: LiveServer) -> None:
    app = live_server.app
    with app.app_context():
        result = build_demo(
            now=utcnow(),
            password_method=app.config["PASSWORD_HASH_METHOD"],
            secret_key=app.config["SECRET_KEY"],
        )
        db.session.commit()
        hr = next(login.email for login in result.logins if login.role is Role.HR)
        db.session.remove()
    sign_in(page, live_server, hr, DEMO_PASSWORD)
    visit(page, live_server.at("/pilots/"))
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name=result.pilot_name or "").first.click()
    axe_check(page)
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Pilot report").click()
    axe_check(page)
    summary = page.locator("table.pilot-summary")
    burnout = summary.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Burnout")))
    expect(burnout).to_contain_text(re.compile(r"−?-?\d+ points"))
    expect(burnout).to_contain_text(re.compile(r"\d+ to [−-]?\d+"))
    expect(burnout).to_contain_text(
        re.compile(r"Burnout fell about \d+ points more in pilot teams")
    )
    trust = summary.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Trust")))
    expect(trust).to_contain_text("No clear difference")
    chart = page.locator("svg.chart--event").first
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).not_to_be_empty()
