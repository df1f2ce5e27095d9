"""On a phone, in a real browser: every page added for pilots, actions, outcome metrics and
reminders passes axe and fits the screen's width (wide tables scroll inside their own wrapper,
the page itself never scrolls sideways). A manager involved in the demo pilot reads its report.

Each test has its own live server with the demo organisation loaded into it.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pulse.actions.models import Action
from pulse.db import utcnow
from pulse.demo.pilot import PILOT_TEAMS
from pulse.demo.services import DEMO_PASSWORD, YOU_SAID_TEAM, build_demo
from pulse.extensions import db
from pulse.notify.mail import stop_reminders_token
from pulse.org.links import team_token
from pulse.org.models import Person, Role, Team
from tests.e2e.conftest import PHONE, LiveServer, sign_in, visit

# The width check runs in the page. On a phone Chromium zooms out to fit a too-wide page and
# widens window.innerWidth to match, so comparing with innerWidth would never fail: compare
# with the layout viewport (the root's clientWidth), which stays the screen's width.
OVERFLOW = """() => {
  const root = document.documentElement;
  const screen = root.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > screen + 1)
    .filter((el) => !el.parentElement.closest('.table-wrap, .heat-wrap'))
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
  return {scroll: root.scrollWidth, screen, inner: window.innerWidth, wide};
}"""


@dataclass(frozen=True)
class Demo:
    hr: str
    manager: str
    pilot_id: int
    action_id: int
    team_id: int
    employee_id: int


def _load_demo(server: LiveServer) -> Demo:
    app = server.app
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        result = build_demo(
            now=utcnow(), password_method=app.config["PASSWORD_HASH_METHOD"], secret_key=secret
        )
        db.session.commit()
        assert result.pilot_id is not None
        hr = next(login.email for login in result.logins if login.role is Role.HR)
        pilot_team = db.session.scalars(select(Team).where(Team.name == PILOT_TEAMS[0])).one()
        manager = next(p for p in pilot_team.managers if p.role is Role.MANAGER and p.password_hash)
        team = db.session.scalars(select(Team).where(Team.name == YOU_SAID_TEAM)).one()
        action = db.session.scalars(
            select(Action).where(Action.team_id == team.id).order_by(Action.id)
        ).first()
        assert action is not None
        employee = db.session.scalars(
            select(Person).where(Person.role == Role.EMPLOYEE).order_by(Person.id)
        ).first()
        assert employee is not None
        demo = Demo(hr, manager.email, result.pilot_id, action.id, team.id, employee.id)
        db.session.remove()
    return demo


def _fits(page: Page, url: str) -> None:
    visit(page, url)
    width = page.evaluate(OVERFLOW)
    assert width["screen"] == PHONE["width"]
    assert width["scroll"] <= width["screen"] and width["inner"] <= width["screen"], (
        f"{url} is {width['scroll']}px wide on a {width['screen']}px screen; "
        f"too wide: {width['wide']}"
    )


def test_new_staff_and_public_pages_fit_a_phone(phone_page: Page, live_server: LiveServer) -> None:
    demo = _load_demo(live_server)
    secret = live_server.app.config["SECRET_KEY"]
    sign_in(phone_page, live_server, demo.hr, DEMO_PASSWORD)
    pilot, action = f"/pilots/{demo.pilot_id}", f"/actions/{demo.action_id}"
    for path in (
        "/pilots/",
        "/pilots/new",
        pilot,
        f"{pilot}/report",
        f"{pilot}/report?dimension=trust",
        "/actions",
        "/actions/new",
        action,
        f"{action}/edit",
        "/results/metrics",
        "/results/metrics/import",
        f"/results/teams/{demo.team_id}",
    ):
        _fits(phone_page, live_server.at(path))
        if path.startswith("/results/teams/"):
            outcomes = phone_page.locator("section.outcomes")
            expect(outcomes.get_by_role("heading", name="Business outcomes")).to_be_visible()
            expect(outcomes.locator("table")).to_be_visible()
    # The public pages need no login; sign out first so they are seen as their readers see them.
    phone_page.context.clear_cookies()
    _fits(phone_page, live_server.at(f"/you-said-we-did/{team_token(demo.team_id, secret)}"))
    expect(phone_page.locator("h1")).to_be_visible()
    _fits(
        phone_page,
        live_server.at(f"/reminders/stop/{stop_reminders_token(demo.employee_id, secret)}"),
    )
    expect(phone_page.get_by_role("button", name="Turn off reminders")).to_be_visible()


def test_a_manager_in_the_pilot_reads_its_report(page: Page, live_server: LiveServer) -> None:
    demo = _load_demo(live_server)
    sign_in(page, live_server, demo.manager, DEMO_PASSWORD)
    visit(page, live_server.at(f"/pilots/{demo.pilot_id}/report"))
    expect(page.locator("table.pilot-summary")).to_be_visible()
