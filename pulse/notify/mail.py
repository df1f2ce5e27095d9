"""Outgoing mail: queue during a request or command, send after the commit, SMTP or outbox files.

Views queue messages while they work and call `send_queued()` only after `db.session.commit()`,
so nobody is emailed about a change that was rolled back. Without `MAIL_SMTP_HOST` every message
is written as an `.eml` file to `MAIL_OUTBOX_DIR`, which is how development and tests read mail.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer

log = logging.getLogger(__name__)

_QUEUE_KEY = "_pulse_mail_queue"
SMTP_TIMEOUT_SECONDS = 15


class MailError(RuntimeError):
    """A message could not be built or handed over; the text never contains the body."""


@dataclass(frozen=True)
class Message:
    """One email to one recipient; `html` is an optional alternative to the plain text."""

    to: str
    subject: str
    text: str
    html: str | None = None
    # Extra header fields, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) on reminders.
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class SendReport:
    """What happened to the queued messages; `ok` is False when any of them failed."""

    sent: list[Message] = field(default_factory=list)
    failed: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def queue(message: Message) -> None:
    """Keep a message until `send_queued()` runs after the commit of this request or command."""
    pending: list[Message] = g.setdefault(_QUEUE_KEY, [])
    pending.append(message)


def queued() -> list[Message]:
    """Messages waiting in this request or command (a copy)."""
    return list(g.get(_QUEUE_KEY, []))


def discard_queued() -> None:
    """Drop queued messages, for example after a failed commit."""
    g.pop(_QUEUE_KEY, None)


def send_queued() -> SendReport:
    """Deliver every queued message; call only after the database commit."""
    pending: list[Message] = g.pop(_QUEUE_KEY, [])
    report = SendReport()
    for message in pending:
        if deliver(message, current_app.config):
            report.sent.append(message)
        else:
            report.failed.append(message)
    return report


def build(message: Message, config: Mapping[str, Any], *, eight_bit: bool = False) -> EmailMessage:
    """A MIME message: plain text, with the HTML as an alternative part when there is one.

    `eight_bit` allows raw UTF-8 bodies; only outbox files use it, so a developer can read and
    click links in them with any text editor. Over SMTP, non-ASCII bodies are encoded.
    """
    sender = str(config.get("MAIL_SENDER") or "Pulse <pulse@localhost>")
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    for name, value in message.headers:
        email[name] = value
    email.set_content(message.text, cte=_transfer_encoding(message.text, eight_bit))
    if message.html is not None:
        email.add_alternative(
            message.html, subtype="html", cte=_transfer_encoding(message.html, eight_bit)
        )
    return email


def _transfer_encoding(body: str, eight_bit: bool) -> str | None:
    """Leave bodies unencoded when that is allowed, so long links are never wrapped."""
    if any(len(line.encode()) > 990 for line in body.splitlines()):
        return None  # the email package picks quoted-printable or base64
    if body.isascii():
        return "7bit"
    return "8bit" if eight_bit else None


def deliver(message: Message, config: Mapping[str, Any]) -> bool:
    """Send one message now; True on success. Failures are logged without the message body."""
    try:
        if config.get("MAIL_SMTP_HOST"):
            _send_smtp(build(message, config), config)
        else:
            _write_outbox(build(message, config, eight_bit=True), config)
    except (OSError, smtplib.SMTPException, ValueError, TypeError) as exc:
        # The body holds links and tokens: log only what kind of failure it was.
        log.warning("mail could not be sent (%s: %s)", type(exc).__name__, _short(exc))
        return False
    return True


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else ""


def _send_smtp(email: EmailMessage, config: Mapping[str, Any]) -> None:
    host = str(config["MAIL_SMTP_HOST"])
    port = int(config.get("MAIL_SMTP_PORT") or 25)
    with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config.get("MAIL_SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        username = config.get("MAIL_SMTP_USERNAME")
        if username:
            smtp.login(str(username), str(config.get("MAIL_SMTP_PASSWORD") or ""))
        smtp.send_message(email)


def _write_outbox(email: EmailMessage, config: Mapping[str, Any]) -> str:
    """Write the message as an .eml file; the name never contains the recipient."""
    folder = config.get("MAIL_OUTBOX_DIR")
    if not folder:
        raise MailError("MAIL_OUTBOX_DIR is not set and no SMTP host is configured")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{secrets.token_hex(4)}.eml"
    final = os.path.join(folder, name)
    partial = final + ".part"
    # Owner-only: the files hold set-password links. Written aside, then renamed, so a reader
    # of the folder never sees half a message.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(email.as_bytes())
        os.replace(partial, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return final


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email.

    `BASE_URL` wins when it is configured, because a request's Host header can be forged and
    must not decide where an emailed link points. Without it, the current request's address is
    used; outside a request (a CLI command) `BASE_URL` is required.
    """
    base_url = current_app.config.get("BASE_URL")
    if base_url:
        parts = urlsplit(str(base_url))
        adapter = current_app.url_map.bind(
            parts.netloc,
            script_name=parts.path.rstrip("/") or "/",
            url_scheme=parts.scheme or "https",
        )
        return adapter.build(endpoint, values, force_external=True)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    raise MailError("Set PULSE_BASE_URL so emailed links can point at this Pulse installation.")


# --- The stop-reminders link ---------------------------------------------------------------------
# Every reminder (and every invitation, so that using it says nothing about who had not answered)
# carries a link that turns reminders off. It is signed, not stored: the token holds the person id
# under the secret key, and it never expires because turning reminders off is harmless.

_STOP_SALT = "pulse/stop-reminders/v1"


def stop_reminders_token(person_id: int, secret_key: str) -> str:
    return URLSafeSerializer(secret_key, salt=_STOP_SALT).dumps(person_id)


def person_from_stop_token(token: str, secret_key: str) -> int | None:
    """The person id a stop-reminders token names, or None when it is not ours."""
    try:
        value = URLSafeSerializer(secret_key, salt=_STOP_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
