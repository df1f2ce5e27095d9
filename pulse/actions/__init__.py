"""Follow-up actions: what leadership does about results, shown to employees, and its impact."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from pulse.actions.routes import bp

    app.register_blueprint(bp)
