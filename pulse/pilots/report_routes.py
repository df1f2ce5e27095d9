"""The pilot report pages (filled in by the pilot-report work)."""

from __future__ import annotations

from pulse.pilots.routes import bp  # noqa: F401
