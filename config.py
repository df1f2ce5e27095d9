"""Configuration classes; environment values are read by pulse.create_app, never at import."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default SQLite file is set in the factory
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Passwords: scrypt with N = 2**17, r = 8, p = 1 (SECURITY.md).
    PASSWORD_HASH_METHOD = "scrypt:131072:8:1"  # noqa: S105 (a method name, not a secret)
    SET_PASSWORD_LINK_MAX_AGE = timedelta(hours=72)

    # Cookies (SECURITY.md): Secure, HttpOnly, SameSite=Lax.
    SESSION_COOKIE_NAME = "pulse_session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_NAME = "pulse_remember"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a slow respondent or HR user keeps a valid form for hours

    # Uploads: a directory of 100,000 people is about 8 MB; allow headroom, refuse the absurd.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    IMPORT_MAX_ROWS = 200_000

    # Staff pages are English; keep WTForms' own messages English even for German browsers.
    WTF_I18N_ENABLED = False

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT_IP = "30 per 5 minutes"
    LOGIN_RATE_LIMIT_ACCOUNT = "10 per 5 minutes"
    # Per IP. A whole office behind one address may answer at once: raise it for big sites.
    ANSWER_RATE_LIMIT = "60 per minute"

    # Mail: with no SMTP host, messages are written as .eml files to the outbox folder.
    MAIL_SMTP_HOST: str | None = None
    MAIL_SMTP_PORT = 25
    MAIL_SMTP_USERNAME: str | None = None
    MAIL_SMTP_PASSWORD: str | None = None
    MAIL_SMTP_STARTTLS = False
    MAIL_SENDER = "Pulse <pulse@localhost>"
    MAIL_OUTBOX_DIR: str | None = None  # defaults to instance/outbox

    BASE_URL: str | None = None  # used in emailed links when no request is active
    # The organisation's time zone (an IANA name): HR enters and reads pulse times in it;
    # everything is stored in UTC.
    TIMEZONE = "UTC"
    PAGE_SIZE = 50
    HSTS = False


class DevelopmentConfig(Config):
    """Local use: plain HTTP on 127.0.0.1, so cookies cannot be Secure-only."""

    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class TestingConfig(DevelopmentConfig):
    """Fast, isolated tests: cheaper password hashing (production's cost is tested separately)."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-use-0123456789"  # noqa: S105
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 (a method name, not a secret)
    WTF_CSRF_ENABLED = False  # route tests post directly; the CSRF sweep turns it back on
    RATELIMIT_ENABLED = False
    BASE_URL = "http://localhost"


class ProductionConfig(Config):
    """Behind HTTPS: __Host- cookies, HSTS, and a secret key that must be set and strong."""

    ENV_NAME = "production"
    SESSION_COOKIE_NAME = "__Host-pulse_session"
    REMEMBER_COOKIE_NAME = "__Host-pulse_remember"
    HSTS = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
