"""Staff accounts: login, logout, passwords, set-password links and role checks."""

from __future__ import annotations

from flask import Flask

from pulse.extensions import db, login_manager
from pulse.org.models import Person


def init_app(app: Flask) -> None:
    from pulse.auth.routes import bp

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    # Refuse a remember-me cookie replayed from another browser session's identity.
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)


def load_user(user_id: str) -> Person | None:
    """The cookie holds "id:session_version"; a bumped version signs every old cookie out."""
    person_id, _, version = user_id.partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    person = db.session.get(Person, int(person_id))
    if person is None or person.session_version != int(version) or not person.is_active:
        return None
    return person


login_manager.user_loader(load_user)
