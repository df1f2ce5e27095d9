"""Outgoing mail: outbox files, a real SMTP server, and an SMTP server that is not there."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.notify import mail
from pulse.notify.mail import Message
from pulse.org.models import Role
from pulse.org.queries import person_by_email
from tests.conftest import login
from tests.factories import make_staff
from tests.smtp import SmtpSink, free_port

LINK_RE = re.compile(r"http://localhost/set-password/[A-Za-z0-9_.\-]+")


def _parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


# The module on its own ----------------------------------------------------------------------


def test_outbox_file_is_multipart_and_named_without_the_recipient(app: Flask) -> None:
    message = Message(
        to="secret.person@example.com", subject="Hello", text="Plain body", html="<p>HTML body</p>"
    )
    assert mail.deliver(message, app.config)
    (path,) = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*")
    assert path.suffix == ".eml"
    assert "secret" not in path.name and "example" not in path.name
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}\.eml", path.name)
    assert path.stat().st_mode & 0o077 == 0  # owner-only: these files hold links
    parsed = _parse(path.read_bytes())
    assert parsed["To"] == "secret.person@example.com"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain is not None and "Plain body" in plain.get_content()
    assert html is not None and "<p>HTML body</p>" in html.get_content()


def test_text_only_message_is_not_multipart(app: Flask) -> None:
    assert mail.deliver(Message(to="a@example.com", subject="S", text="T"), app.config)
    (path,) = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")
    assert _parse(path.read_bytes()).get_content_type() == "text/plain"


def test_queue_keeps_messages_until_send_queued(app: Flask) -> None:
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    mail.queue(Message(to="a@example.com", subject="One", text="1"))
    mail.queue(Message(to="b@example.com", subject="Two", text="2"))
    assert [m.subject for m in mail.queued()] == ["One", "Two"]
    assert not outbox.exists()  # nothing leaves before the commit
    report = mail.send_queued()
    assert report.ok and len(report.sent) == 2
    assert len(list(outbox.glob("*.eml"))) == 2
    assert mail.send_queued().sent == []  # the queue is empty afterwards


def test_discard_queued(app: Flask) -> None:
    mail.queue(Message(to="a@example.com", subject="One", text="1"))
    mail.discard_queued()
    assert mail.queued() == []
    assert "_pulse_mail_queue" not in g


def test_header_injection_is_a_reported_failure(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    message = Message(
        to="a@example.com", subject="Hi\r\nBcc: victim@example.com", text="secret-token"
    )
    with caplog.at_level(logging.WARNING):
        assert not mail.deliver(message, app.config)
    assert "secret-token" not in caplog.text
    assert not Path(app.config["MAIL_OUTBOX_DIR"]).exists()


def test_deliver_over_smtp(app: Flask, smtp_server: SmtpSink) -> None:
    config = {**app.config, "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": smtp_server.port}
    assert mail.deliver(Message(to="a@example.com", subject="S", text="T", html="<b>H</b>"), config)
    ((recipients, raw),) = smtp_server.messages
    (sender,) = smtp_server.senders
    assert recipients == ["a@example.com"]
    assert sender == "pulse@localhost"
    assert _parse(raw).is_multipart()


def test_failed_smtp_send_is_logged_without_the_body(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    config = {**app.config, "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": free_port()}
    message = Message(to="a@example.com", subject="S", text="https://x/set-password/TOKEN123")
    with caplog.at_level(logging.WARNING, logger="pulse.notify.mail"):
        assert not mail.deliver(message, config)
    assert "mail could not be sent" in caplog.text
    assert "TOKEN123" not in caplog.text and "a@example.com" not in caplog.text


def test_external_url_prefers_base_url(app: Flask) -> None:
    app.config["BASE_URL"] = "https://pulse.example.org/survey"
    assert (
        mail.external_url("auth.set_password", token="abc")
        == "https://pulse.example.org/survey/set-password/abc"
    )
    # Inside a request too: a forged Host header must not decide where links point.
    with app.test_request_context("/", base_url="http://attacker.example"):
        assert mail.external_url("auth.login").startswith("https://pulse.example.org/survey/")
    app.config["BASE_URL"] = None
    with app.test_request_context("/", base_url="http://dev.local:5000"):
        assert mail.external_url("auth.login") == "http://dev.local:5000/login"
    with pytest.raises(mail.MailError, match="PULSE_BASE_URL"):
        mail.external_url("auth.login")


# Through the staff page ---------------------------------------------------------------------


def _hr_client(app: Flask) -> FlaskClient:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    client = app.test_client()
    login(client, "hr@example.com")
    return client


def test_staff_link_goes_through_a_real_smtp_server(app: Flask, smtp_server: SmtpSink) -> None:
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp_server.port)
    client = _hr_client(app)
    response = client.post(
        "/staff",
        data={"email": "smtp.person@example.com", "name": "Sam Smtp", "role": "leader"},
        follow_redirects=True,
    )
    assert "A set-password link was sent to smtp.person@example.com" in response.get_data(
        as_text=True
    )
    ((recipients, raw),) = smtp_server.messages
    assert recipients == ["smtp.person@example.com"]
    message = _parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text_link = LINK_RE.search(plain.get_content())
    html_link = LINK_RE.search(html.get_content())
    assert text_link and html_link and text_link.group(0) == html_link.group(0)
    assert "Sam Smtp" in plain.get_content()
    # The emailed link works.
    browser = app.test_client()
    good = "cobalt pepper violin 12"
    response = browser.post(text_link.group(0), data={"new_password": good, "confirm": good})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not Path(app.config["MAIL_OUTBOX_DIR"]).exists()


def test_smtp_server_down_keeps_the_account_and_tells_hr(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=free_port())
    client = _hr_client(app)
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/staff",
            data={"email": "down@example.com", "name": "Dee Down", "role": "manager"},
            follow_redirects=True,
        )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Account created." in page
    assert "The set-password link could not be sent to down@example.com" in page
    assert "try again" in page
    assert "Link not sent: try again" in page  # visible in the list too
    assert "/set-password/" not in caplog.text

    person = person_by_email("down@example.com")
    assert person is not None and person.role is Role.MANAGER
    person_id = person.id
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["staff.create", "staff.link_failed"]
    db.session.rollback()

    # Resending also fails cleanly while the server is down ...
    response = client.post(f"/staff/{person_id}/send-link", follow_redirects=True)
    assert response.status_code == 200
    assert "could not be sent" in response.get_data(as_text=True)
    # ... and works once mail is back (here: the outbox).
    app.config["MAIL_SMTP_HOST"] = None
    response = client.post(f"/staff/{person_id}/send-link", follow_redirects=True)
    assert "A set-password link was sent to down@example.com" in response.get_data(as_text=True)
    assert "Link sent" in response.get_data(as_text=True)
