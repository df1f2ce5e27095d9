"""Results views: comment."""

from __future__ import annotations

from pulse.results.routes import bp  # noqa: F401
