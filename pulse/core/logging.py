"""Keep link tokens out of logs: invitation, set-password, stop-reminders and team-page links.

A token in an access log would let anyone who reads the log answer in someone's name, or take
over a staff account. The filter rewrites each record's final message, so it works for werkzeug's
development server, Flask's own error lines and gunicorn (see gunicorn.conf.py) alike.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

REDACTED = "[redacted]"

# A path segment "p", "set-password", "reminders/stop" or "you-said-we-did" followed by the token
# segment; also percent-encoded slashes, as when a link sits in a query string (?next=%2Fp%2F...).
# Stop-reminders tokens name a person, and when one was used would hint at who was reminded;
# team-page links are not secret, but a team's link in a log helps nobody.
_TOKEN_PATH = re.compile(
    r"(?P<prefix>(?:/|%2f)(?:p|set-password|reminders(?:/|%2f)stop|you-said-we-did)(?:/|%2f))"
    r"[^\s/?#&\"'%]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(lambda m: m.group("prefix") + REDACTED, text)


class RedactTokens(logging.Filter):
    """Formats the record, redacts link tokens, and keeps the record (never drops a line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: leave it to the handler to report
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def add_redaction(logger: logging.Logger) -> None:
    """Attach the filter once (create_app runs many times in one test process)."""
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())


def init_app(app: Flask) -> None:
    # werkzeug: the development server's access log. app.logger: "Exception on /p/... [GET]".
    add_redaction(logging.getLogger("werkzeug"))
    add_redaction(app.logger)
