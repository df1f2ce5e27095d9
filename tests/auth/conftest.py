"""Helpers for account tests: reading the mail outbox and pulling CSRF tokens out of pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask

LINK_RE = re.compile(r"https?://[^\s\"<>]+/set-password/[A-Za-z0-9_.\-]+")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def read_outbox(app: Flask) -> list[EmailMessage]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    if not folder.exists():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    match = LINK_RE.search(text_body(message))
    assert match, text_body(message)
    return match.group(0)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[EmailMessage]]:
    return lambda: read_outbox(app)
