"""Languages for the employee side (Flask-Babel): English and German.

The locale is, in order: the language of the invited person (remembered in the session once
their link has been opened, and forced with `force_locale` when mailing them), otherwise the
browser's best match from Accept-Language, otherwise English. Staff pages are English-only:
they do not mark strings for translation, so the locale does not change them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale, refresh

SUPPORTED_LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
_SESSION_KEY = "language"

babel = Babel()


def supported_language(value: str | None) -> str | None:
    """ "de", "de-AT", "DE_de" -> "de"; anything we do not ship -> None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    remembered = supported_language(session.get(_SESSION_KEY))
    if remembered:
        return remembered
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES, default=DEFAULT_LANGUAGE)


def remember_language(language: str | None) -> None:
    """Use an invited person's language for this request and their later pages (thanks,
    protection). Without one we forget any earlier choice, so on a shared device the next
    person's pages follow their own profile or browser."""
    chosen = supported_language(language)
    if chosen:
        session[_SESSION_KEY] = chosen
    else:
        session.pop(_SESSION_KEY, None)
    refresh()


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def format_local_datetime(value: datetime) -> str:
    """A UTC time as the organisation reads it: its TIMEZONE, in the current language."""
    zone_name = str(current_app.config.get("TIMEZONE") or "UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone_name, zone = "UTC", ZoneInfo("UTC")
    local = value.astimezone(zone)
    language = current_language()
    day = format_date(local, "full", locale=language)
    time = format_time(local, "short", locale=language)
    return f"{day}, {time} ({zone_name})"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_language"] = current_language
