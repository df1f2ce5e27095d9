"""Teams, people and the directory import."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from pulse.org import import_routes  # noqa: F401  (adds the import views to bp)
    from pulse.org.routes import bp

    app.register_blueprint(bp)
