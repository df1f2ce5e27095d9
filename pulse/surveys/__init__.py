"""Question library, question sets, pulses, invitations and answering."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from pulse.surveys import respond, routes

    app.register_blueprint(routes.bp)
    app.register_blueprint(respond.bp)
