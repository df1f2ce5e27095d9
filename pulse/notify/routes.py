"""The notify blueprint: the stop-reminders page employees reach from an email, without login."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import force_locale

from pulse import i18n
from pulse.db import utcnow
from pulse.extensions import csrf, db
from pulse.notify import digests, mail
from pulse.org.models import Person

bp = Blueprint("notify", __name__)


def _person(token: str) -> Person | None:
    person_id = mail.person_from_stop_token(token, current_app.config["SECRET_KEY"])
    return db.session.get(Person, person_id) if person_id is not None else None


def _page(person: Person | None, state: str, status: int = 200) -> tuple[str, int]:
    # The page speaks the person's language when we know it, like their emails do.
    language = i18n.supported_language(person.language) if person is not None else None
    if language is None:
        return render_template("notify/stop_reminders.html", state=state), status
    with force_locale(language):
        return render_template("notify/stop_reminders.html", state=state), status


@bp.get("/reminders/stop/<token>")
def stop_reminders(token: str) -> tuple[str, int]:
    """Ask before turning reminders off: mail scanners open links, and must not do it."""
    person = _person(token)
    if person is None:
        return _page(None, "invalid", 404)
    return _page(person, "stopped" if person.no_reminders else "confirm")


@bp.post("/reminders/stop/<token>")
def stop_reminders_confirm(token: str) -> tuple[str, int]:
    person = _person(token)
    if person is None:
        return _page(None, "invalid", 404)
    digests.stop_reminders(person, now=utcnow())
    db.session.commit()
    return _page(person, "stopped")


# Exempt from CSRF: the signed token in the URL is the credential (it names one person and only
# their own mail holds it), and mail programs send RFC 8058 one-click unsubscribes
# ("List-Unsubscribe=One-Click") as a bare POST that cannot carry a CSRF token. The worst a
# forged request could do, with a stolen link, is turn that person's reminders off.
csrf.exempt(stop_reminders_confirm)
