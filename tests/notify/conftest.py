"""Fixtures for the notification tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.notify.helpers import use_sink
from tests.smtp import SmtpSink


@pytest.fixture
def sink(app: Flask) -> Iterator[SmtpSink]:
    """A local SMTP server the SQLite app sends to."""
    server = SmtpSink().start()
    use_sink(app, server)
    try:
        yield server
    finally:
        server.stop()
