"""Friendly error pages: never a traceback or SQL, always a way back."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

_MESSAGES = {
    400: ("Something in that request was not right", "Please go back and try again."),
    403: ("You do not have access to this page", "Ask HR if you think you should."),
    404: ("Page not found", "The page may have moved, or you may not have access to it."),
    405: ("That action is not available here", "Please go back and use the buttons on the page."),
    413: (
        "That file is too large",
        "Split it into smaller files, or ask your administrator to raise the upload limit.",
    ),
    429: ("Too many attempts", "Please wait a few minutes before trying again."),
    500: ("Something went wrong on our side", "Nothing you did caused this. Please try again."),
    503: ("Pulse is busy", "Please try again in a moment."),
}


def render_error(
    code: int, title: str | None = None, message: str | None = None
) -> tuple[str, int]:
    default_title, default_message = _MESSAGES.get(code, _MESSAGES[400])
    html = render_template(
        "errors/error.html",
        code=code,
        title=title or default_title,
        message=message or default_message,
    )
    return html, code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "This form has expired", "For your security, please reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> object:
        code = exc.code or 500
        if code < 400:
            return exc
        return render_error(code)

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> tuple[str, int]:
        log.error("unhandled error", exc_info=exc.original_exception or exc)
        return render_error(500)
