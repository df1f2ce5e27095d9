"""In a real browser: a manager logs an action from the lowest-scoring dimension of their
team's dashboard and updates it; an employee who answers the next pulse follows the thank-you
page's link to "You said, we did" on a phone and sees it. axe checks every page."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role
from pulse.surveys import services as pulse_services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.models import Invitation
from tests.e2e.conftest import LiveServer, axe_check, sign_in, visit
from tests.factories import make_person, make_staff, make_team

# Trust is answered low and empowerment high: trust is the dimension that needs attention.
LOW, HIGH = "trust.rely_on_management", "empowerment.autonomy"


def _seed(server: LiveServer) -> tuple[int, str]:
    """A team of six with one closed pulse and one open pulse; the team id and one link."""
    app = server.app
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        team = make_team("Acme/Platform")
        for _ in range(6):
            make_person(team=team)
        make_staff(Role.MANAGER, manages=[team], team=team, email="manager@example.com")
        start = utcnow() - timedelta(days=20)
        first = pulse_services.create_pulse(
            title="Autumn pulse", set_ref="builtin:core", teams=[team], now=start, actor=None
        )
        pulse_services.open_pulse(
            first, now=start, secret_key=secret, actor=None, closes_at=start + timedelta(days=7)
        )
        keys = {q.question_key: q.id for q in first.questions}
        for invitation in db.session.scalars(
            select(Invitation).where(Invitation.pulse_id == first.id)
        ):
            parsed = ParsedAnswers(values={keys[LOW]: 1, keys[HIGH]: 5})
            pulse_services.record_response(invitation, parsed, now=start + timedelta(hours=1))
        pulse_services.close_pulse(first, now=start + timedelta(days=1), actor=None)
        second = pulse_services.create_pulse(
            title="Winter pulse", set_ref="builtin:core", teams=[team], now=utcnow(), actor=None
        )
        pulse_services.open_pulse(
            second,
            now=utcnow(),
            secret_key=secret,
            actor=None,
            closes_at=utcnow() + timedelta(days=7),
        )
        invitation = db.session.scalars(
            select(Invitation).where(Invitation.pulse_id == second.id).order_by(Invitation.id)
        ).first()
        assert invitation is not None
        link = pulse_services.invitation_token(invitation, secret)
        team_id = team.id
        db.session.commit()
        db.session.remove()
    return team_id, link


def test_manager_logs_an_action_and_an_employee_sees_it(
    page: Page,
    phone_page: Page,
    live_server: LiveServer,
) -> None:
    team_id, link = _seed(live_server)
    sign_in(page, live_server, "manager@example.com")
    visit(page, live_server.at(f"/results/teams/{team_id}"))

    with page.expect_navigation():
        page.get_by_role("link", name="Log an action about Trust").click()
    axe_check(page)
    expect(page.get_by_label("Dimension it answers")).to_have_value("trust")
    page.get_by_label("Title").fill("Monthly open Q&A with the leadership team")
    page.get_by_label("What will change").fill("Questions answered in person, every month.")
    page.get_by_label("Due date").fill("2027-02-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Log the action").click()
    axe_check(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Monthly open Q&A")
    expect(page.locator("#impact-heading")).to_contain_text("Impact on Trust")

    page.get_by_label("Note").fill("First session booked for 12 January.")
    page.get_by_label("Status").select_option("in_progress")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the update").click()
    axe_check(page)
    expect(page.locator(".timeline")).to_contain_text("First session booked")

    # The employee answers the open pulse on a phone, then follows the thank-you page's link.
    phone_page.goto(live_server.at(f"/p/{link}"))
    axe_check(phone_page)
    phone_page.locator("main input[type=radio]").first.check()
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Send my answers").click()
    axe_check(phone_page)
    with phone_page.expect_navigation():
        phone_page.get_by_role("link", name="You said, we did").click()
    axe_check(phone_page)
    main = phone_page.locator("main")
    expect(main).to_contain_text("Monthly open Q&A with the leadership team")
    expect(main).to_contain_text("First session booked for 12 January.")
    expect(main.get_by_role("heading", name="Under way")).to_be_visible()
    assert "manager@example.com" not in phone_page.content()
    # Nothing sticks out sideways on a phone.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
