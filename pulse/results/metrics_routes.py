"""Outcome metric import pages (filled in by the metrics work)."""

from __future__ import annotations

from pulse.results.routes import bp  # noqa: F401
