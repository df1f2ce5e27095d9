"""The whole pulse journey in a real browser, with a real SMTP server started by the test.

HR signs in, creates a pulse from the Core pulse set and opens it; aiosmtpd on loopback receives
one invitation per person; an employee opens the link from an email body, answers every
question, and sees the thank-you page; the same link then says it has already been answered.
Every page visited is checked with axe. The answering part runs again on a phone-sized screen.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role
from pulse.surveys import mailing, services
from pulse.surveys.library import QUESTION_SETS, QUESTIONS, ScaleKind
from pulse.surveys.models import Response, UsedLink
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, axe_check, sign_in, visit
from tests.factories import make_person, make_staff, make_team
from tests.smtp import SmtpSink

TEAM_SIZE = 6
COMMENT = "Thank you for asking. Fewer meetings on Fridays, please."


@pytest.fixture
def mail_server(live_server: LiveServer) -> Iterator[SmtpSink]:
    """aiosmtpd on loopback, and the live app sending to it with links to the live server."""
    sink = SmtpSink().start()
    live_server.app.config.update(
        MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=sink.port, BASE_URL=live_server.url
    )
    try:
        yield sink
    finally:
        sink.stop()


def _seed_org(server: LiveServer) -> None:
    with server.app.app_context():
        make_staff(Role.HR, email="hr@example.com", name="Harriet Rowe", team="Northwind/People")
        team = make_team("Northwind/Support")
        for i in range(TEAM_SIZE):
            make_person(team=team, name=f"Support Person {i + 1}")
        db.session.commit()


def _links(server: LiveServer, sink: SmtpSink) -> list[str]:
    pattern = re.compile(re.escape(server.url) + r"/p/[A-Za-z0-9_\-]{43}")
    links = []
    for body in sink.bodies():
        found = pattern.findall(body)
        assert len(set(found)) == 1, "each invitation holds exactly one personal link"
        links.append(found[0])
    return links


def _answer_core_pulse(page: Page) -> None:
    """Answer every question of the core set the way a person would: by the visible labels."""
    choice_for = {
        ScaleKind.AGREE5: "Agree",
        ScaleKind.FREQ5: "Sometimes",
        ScaleKind.SCORE11: "8",
    }
    for item in QUESTION_SETS["core"].items:
        question = QUESTIONS[item.key]
        group = page.get_by_role("group", name=re.compile(re.escape(question.text)))
        expect(group).to_be_visible()
        if question.scale is ScaleKind.TEXT:
            group.get_by_role("textbox").fill(COMMENT)
        else:
            radio = group.get_by_label(choice_for[question.scale], exact=True)
            radio.check()
            expect(radio).to_be_checked()


def _open_link_and_answer(page: Page, link: str, *, max_width: int) -> tuple[float, float]:
    """Open the emailed link, answer, send. Returns the seconds from opening the link to
    seeing the thank-you page, and the same without the axe check of the form."""
    started = time.perf_counter()
    response = page.goto(link)
    assert response is not None and response.ok, response and response.status
    expect(page).to_have_url(re.compile(r"/answer$"))  # the token left the address bar
    axe_started = time.perf_counter()
    axe_check(page)
    in_axe = time.perf_counter() - axe_started
    expect(page.get_by_role("heading", level=1)).to_have_text("November pulse")
    # Phone-first: the form never needs sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= max_width

    _answer_core_pulse(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    elapsed = time.perf_counter() - started
    axe_check(page)
    return elapsed, elapsed - in_axe


def _refused_again(page: Page, link: str) -> None:
    """The same link a second time: a friendly "already answered" page, nothing recorded."""
    response = page.goto(link)
    assert response is not None and response.status == 409, response and response.status
    axe_check(page)
    expect(page.locator("main")).to_contain_text(re.compile("already answered", re.I))


def test_hr_opens_a_pulse_and_an_employee_answers_from_the_email(
    page: Page, browser: Browser, live_server: LiveServer, mail_server: SmtpSink
) -> None:
    _seed_org(live_server)

    # HR creates a pulse from the Core pulse set for the support team ...
    sign_in(page, live_server, "hr@example.com")
    visit(page, live_server.at("/pulses/new"))
    page.get_by_label("Title").fill("November pulse")
    page.get_by_label("Question set").select_option(label="Core pulse (10 questions)")
    page.get_by_role("checkbox", name=re.compile(r"^Support\b")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save as draft").click()
    axe_check(page)
    expect(page).to_have_url(re.compile(r"/pulses/\d+$"))

    # ... and opens it now, closing in a week.
    closes = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#open-closes-at").fill(closes)
    with page.expect_navigation():
        page.get_by_role("button", name="Open now and send invitations").click()
    axe_check(page)
    expect(page.locator(".flash").first).to_contain_text(f"{TEAM_SIZE} people invited")

    # The SMTP server got one personal invitation per person in the team.
    assert len(mail_server.messages) == TEAM_SIZE
    recipients = sorted(r for rcpts, _ in mail_server.messages for r in rcpts)
    assert len(set(recipients)) == TEAM_SIZE and "hr@example.com" not in recipients
    links = _links(live_server, mail_server)
    assert len(set(links)) == TEAM_SIZE

    # An employee (a fresh browser context: no HR cookie) opens their link and answers.
    employee = browser.new_context(viewport=DESKTOP)
    try:
        answering = employee.new_page()
        answering.set_default_timeout(10_000)
        elapsed, without_axe = _open_link_and_answer(
            answering, links[0], max_width=DESKTOP["width"]
        )
        print(
            f"\nopening the link to seeing the thank-you page: {elapsed:.2f} s "
            f"({without_axe:.2f} s without the axe checks), core pulse, desktop"
        )
        _refused_again(answering, links[0])
    finally:
        employee.close()

    # Exactly one response, from the link that was used.
    with live_server.app.app_context():
        used = services.find_invitation(links[0].rsplit("/", 1)[1])
        assert used is not None and services.is_used(used)
        assert db.session.scalar(select(func.count()).select_from(UsedLink)) == 1
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_an_employee_answers_on_a_phone(
    phone_page: Page, live_server: LiveServer, mail_server: SmtpSink
) -> None:
    _seed_org(live_server)
    with live_server.app.app_context():
        team = make_team("Northwind/Support")
        pulse = services.create_pulse(
            title="November pulse", set_ref="builtin:core", teams=[team], now=utcnow(), actor=None
        )
        secret = live_server.app.config["SECRET_KEY"]
        services.open_pulse(
            pulse,
            now=utcnow(),
            secret_key=secret,
            actor=None,
            closes_at=utcnow() + timedelta(days=7),
        )
        db.session.commit()
        report = mailing.send_invitations(pulse, secret_key=secret)
        db.session.commit()
        assert report.sent == TEAM_SIZE
    link = _links(live_server, mail_server)[0]

    elapsed, without_axe = _open_link_and_answer(phone_page, link, max_width=PHONE["width"])
    print(
        f"\nopening the link to seeing the thank-you page: {elapsed:.2f} s "
        f"({without_axe:.2f} s without the axe checks), core pulse, phone"
    )
    _refused_again(phone_page, link)
