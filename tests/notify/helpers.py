"""Building blocks for the tick tests: scheduled pulses, answers, and reading the SMTP sink."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import cast

from flask import Flask
from sqlalchemy import select

from pulse.extensions import db
from pulse.org.models import Team
from pulse.surveys import services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import SCALES, ScaleKind
from pulse.surveys.models import Invitation, Pulse
from tests.factories import make_person
from tests.smtp import SmtpSink

START = datetime.fromisoformat("2026-11-23T08:00:00+00:00")  # a Monday, 08:00 UTC


def use_sink(app: Flask, sink: SmtpSink) -> None:
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=sink.port)


def people(team: Team, count: int, prefix: str, **kwargs: object) -> list[int]:
    return [
        make_person(team=team, email=f"{prefix}{i}@example.com", **kwargs).id  # type: ignore[arg-type]
        for i in range(count)
    ]


def scheduled(
    team: Team | list[Team], *, opens_at: datetime, days: float, title: str = "Tick pulse"
) -> Pulse:
    pulse = services.create_pulse(
        title=title,
        set_ref="builtin:core",
        teams=team if isinstance(team, list) else [team],
        now=opens_at - timedelta(hours=1),
        actor=None,
        min_group=3,
        min_comment_group=3,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(days=days),
    )
    db.session.commit()
    return pulse


def answer(pulse_id: int, person_ids: list[int], *, now: datetime, secret: str) -> None:
    """Each person answers every scale question (with the scale's top value)."""
    for person_id in person_ids:
        invitation = db.session.scalars(
            select(Invitation).where(
                Invitation.pulse_id == pulse_id, Invitation.person_id == person_id
            )
        ).one()
        parsed = ParsedAnswers()
        for q in invitation.pulse.questions:
            scale = SCALES[ScaleKind(q.scale)]
            if scale.kind is not ScaleKind.TEXT:
                parsed.values[q.id] = scale.maximum
        services.record_response(invitation, parsed, now=now, secret_key=secret)
    db.session.commit()


def parsed(sink: SmtpSink) -> list[EmailMessage]:
    return [
        cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))
        for _, raw in sink.messages
    ]


def tally(sink: SmtpSink) -> Counter[tuple[str, str]]:
    """How many emails each (recipient, subject) got."""
    return Counter((m["To"], m["Subject"]) for m in parsed(sink))


def recipients(sink: SmtpSink, subject: str) -> set[str]:
    return {m["To"] for m in parsed(sink) if m["Subject"] == subject}


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())
