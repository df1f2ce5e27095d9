"""A real SMTP server on loopback for tests (aiosmtpd), keeping every message it accepts."""

from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A loopback port nobody listens on (also useful as an SMTP server that is not there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """aiosmtpd on 127.0.0.1; `messages` holds (recipients, raw bytes), `senders` the MAIL FROM."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.senders: list[str] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.senders.append(str(envelope.mail_from))
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def bodies(self) -> list[str]:
        """The plain-text body of every message, decoded."""
        texts = []
        for _, raw in self.messages:
            message = BytesParser(policy=policy.default).parsebytes(raw)
            part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            texts.append(str(part.get_content()) if part is not None else "")
        return texts
