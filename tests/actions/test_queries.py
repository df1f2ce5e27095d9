"""Action queries on both databases: list order (overdue first, undated last), the manager's
scope, the roll-up and the employee page's selection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from pulse.actions import queries, services
from pulse.actions.models import Action, ActionStatus
from pulse.actions.services import ActionFields, ActionLink
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from tests.factories import make_staff, make_team

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app(request: pytest.FixtureRequest) -> Flask:
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")  # type: ignore[no-any-return]


def _logger(hr: Person) -> Callable[..., Action]:
    def log(team: Team | None, title: str, **fields: Any) -> Action:
        link = ActionLink(team, None, "trust")
        return services.log_action(link, ActionFields(title=title, **fields), actor=hr, now=NOW)

    return log


def test_order_scope_roll_up_and_employee_selection(any_app: Flask) -> None:
    eng, platform = make_team("Acme/Eng"), make_team("Acme/Eng/Platform")
    sales = make_team("Acme/Sales")
    hr = make_staff(Role.HR)
    _log = _logger(hr)
    manager = make_staff(Role.MANAGER, manages=[eng], team=eng)
    _log(platform, "Undated")
    _log(platform, "Later", due_on=TODAY + timedelta(days=9))
    _log(eng, "Late", due_on=TODAY - timedelta(days=1))
    _log(platform, "Done late", due_on=TODAY - timedelta(days=5), status=ActionStatus.DONE)
    _log(sales, "Sales", due_on=TODAY - timedelta(days=30))
    _log(None, "Everyone", due_on=TODAY + timedelta(days=1))
    _log(platform, "Hidden", visible=False)
    dropped = _log(platform, "Dropped", status=ActionStatus.DROPPED, drop_reason="No budget")
    old = _log(platform, "Dropped long ago", status=ActionStatus.DROPPED, drop_reason="Old")
    old.updated_at = NOW - timedelta(days=400)
    db.session.commit()

    stmt = queries.actions_stmt(manager, queries.Filters(), TODAY)
    titles = [a.title for a in db.session.scalars(stmt)]
    assert titles[:2] == ["Late", "Done late"]
    assert titles.index("Everyone") < titles.index("Later") < titles.index("Undated")
    assert "Sales" not in titles

    everything = queries.actions_stmt(hr, queries.Filters(), TODAY)
    assert [a.title for a in db.session.scalars(everything)][:2] == ["Sales", "Late"]
    rollup = queries.rollup(everything, TODAY)
    assert rollup.total == 9 and rollup.overdue == 2
    assert dict(rollup.by_status)[ActionStatus.DROPPED] == 2

    shared = {a.title for a in queries.shared_with_team(platform, TODAY)}
    assert shared == {"Undated", "Later", "Late", "Done late", "Everyone", "Dropped"}
    assert dropped.drop_reason == "No budget"
