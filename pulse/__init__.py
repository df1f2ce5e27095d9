"""Pulse: anonymous pulse surveys, team results and follow-up actions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from config import CONFIGS

# Every environment variable Pulse reads, with the config key it sets and how to parse it.
_ENV_SETTINGS: dict[str, tuple[str, type]] = {
    "PULSE_SECRET_KEY": ("SECRET_KEY", str),
    "PULSE_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "PULSE_BASE_URL": ("BASE_URL", str),
    "PULSE_SMTP_HOST": ("MAIL_SMTP_HOST", str),
    "PULSE_SMTP_PORT": ("MAIL_SMTP_PORT", int),
    "PULSE_SMTP_USERNAME": ("MAIL_SMTP_USERNAME", str),
    "PULSE_SMTP_PASSWORD": ("MAIL_SMTP_PASSWORD", str),
    "PULSE_SMTP_STARTTLS": ("MAIL_SMTP_STARTTLS", bool),
    "PULSE_MAIL_SENDER": ("MAIL_SENDER", str),
    "PULSE_OUTBOX_DIR": ("MAIL_OUTBOX_DIR", str),
    "PULSE_RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "PULSE_PROXY_COUNT": ("PROXY_COUNT", int),
    "PULSE_TIMEZONE": ("TIMEZONE", str),
    "PULSE_ANSWER_RATE_LIMIT": ("ANSWER_RATE_LIMIT", str),
}

_WEAK_SECRETS = {"changeme", "secret", "dev", "development", "password", "pulse", "default"}


class ConfigError(RuntimeError):
    """The configuration cannot run safely (for example a weak secret key in production)."""


def _parse(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)


def is_strong_secret(key: str | None) -> bool:
    """At least 32 characters, not a well-known placeholder, and not one character repeated."""
    if not key or len(key) < 32:
        return False
    return key.lower() not in _WEAK_SECRETS and len(set(key)) >= 12


def create_app(
    test_config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the application. Wiring only: no database access, no network, no files written."""
    env = os.environ if environ is None else environ
    env_name = (test_config or {}).get("ENV_NAME") or env.get("PULSE_ENV", "development")
    if env_name not in CONFIGS:
        raise ConfigError(f"PULSE_ENV must be one of {', '.join(CONFIGS)}, not {env_name!r}")

    app = Flask(
        __name__,
        instance_path=env.get("PULSE_INSTANCE_PATH") or None,
        template_folder="../templates",
    )
    app.config.from_object(CONFIGS[env_name])
    for var, (key, kind) in _ENV_SETTINGS.items():
        if env.get(var):
            app.config[key] = _parse(env[var], kind)
    if test_config:
        app.config.update(test_config)

    _finish_config(app)

    from pulse import cli, core, i18n, models  # noqa: F401  (models: register every table)
    from pulse.actions import init_app as init_actions
    from pulse.auth import init_app as init_auth
    from pulse.core.logging import init_app as init_log_redaction
    from pulse.extensions import csrf, db, limiter, migrate
    from pulse.notify import init_app as init_notify
    from pulse.org import init_app as init_org
    from pulse.pilots import init_app as init_pilots
    from pulse.results import init_app as init_results
    from pulse.surveys import init_app as init_surveys

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    core.init_app(app)
    init_log_redaction(app)  # link tokens never reach the logs
    i18n.init_app(app)
    init_auth(app)
    init_org(app)
    init_surveys(app)
    init_results(app)
    init_pilots(app)
    init_actions(app)
    init_notify(app)
    cli.init_app(app)
    return app


def _finish_config(app: Flask) -> None:
    cfg = app.config
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "pulse.db")
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy would otherwise pick psycopg2).
        cfg["SQLALCHEMY_DATABASE_URI"] = cfg["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    try:
        ZoneInfo(str(cfg.get("TIMEZONE") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"PULSE_TIMEZONE must be a time zone name such as Europe/Berlin, "
            f"not {cfg.get('TIMEZONE')!r}"
        ) from exc
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Never wait forever for a row lock: after 5 s the request fails cleanly (503, retry),
        # as SQLite's busy timeout does.
        options = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c lock_timeout=5000")
        options["connect_args"] = connect_args
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not cfg.get("MAIL_OUTBOX_DIR"):
        cfg["MAIL_OUTBOX_DIR"] = os.path.join(app.instance_path, "outbox")

    if cfg["ENV_NAME"] == "production":
        if not is_strong_secret(cfg.get("SECRET_KEY")):
            raise ConfigError(
                "PULSE_SECRET_KEY must be set to a strong random value (at least 32 characters) "
                'in production; generate one with: python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        cfg["DEBUG"] = False
    elif not cfg.get("SECRET_KEY"):
        # Development without a key: a per-process random key (sessions end on restart).
        # `make run` stores a persistent one under instance/ instead.
        import secrets

        cfg["SECRET_KEY"] = secrets.token_urlsafe(48)
        cfg["SECRET_KEY_EPHEMERAL"] = True
