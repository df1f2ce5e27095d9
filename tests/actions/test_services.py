"""Action services: status rules, the dated timeline and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pulse.actions import services
from pulse.actions.models import ActionStatus
from pulse.actions.services import ActionFields, ActionLink
from pulse.audit.models import AuditEvent
from pulse.extensions import db
from tests.actions.conftest import World

LATER = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _events(target: str) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == target).order_by(AuditEvent.id)
        )
    )


def test_logging_defaults_the_owner_to_the_creator_and_is_audited(world: World) -> None:
    action = world.log("Platform", by="eng")
    assert action.owner_id == world.staff["eng"].id
    assert action.created_by_id == world.staff["eng"].id
    assert action.status is ActionStatus.PLANNED and action.completed_on is None
    assert _events(f"action:{action.id}") == ["action.create"]


def test_an_action_logged_as_done_is_dated(world: World) -> None:
    action = world.log("Platform", status=ActionStatus.DONE)
    assert action.completed_on == action.created_at.date()


def test_dropping_needs_a_reason(world: World) -> None:
    with pytest.raises(services.DropNeedsReason):
        world.log("Platform", status=ActionStatus.DROPPED, drop_reason="  ")
    action = world.log("Platform")
    with pytest.raises(services.DropNeedsReason):
        services.add_update(
            action,
            note="",
            status=ActionStatus.DROPPED,
            drop_reason=None,
            visible=True,
            actor=world.staff["hr"],
            now=LATER,
        )
    assert action.status is ActionStatus.PLANNED


def test_unknown_dimension_outcome_and_empty_title_are_refused(world: World) -> None:
    with pytest.raises(services.UnknownDimension):
        world.log("Platform", dimension="comments")
    with pytest.raises(services.UnknownOutcome):
        world.log("Platform", outcome="happiness")
    with pytest.raises(services.TitleRequired):
        world.log("Platform", title="   ")


def test_updates_form_a_dated_timeline_with_status_rules(world: World) -> None:
    action = world.log("Platform")
    hr = world.staff["hr"]
    services.add_update(
        action,
        note="Kick-off held",
        status=ActionStatus.IN_PROGRESS,
        drop_reason=None,
        visible=True,
        actor=hr,
        now=LATER,
    )
    services.add_update(
        action,
        note="Internal detail",
        status=None,
        drop_reason=None,
        visible=False,
        actor=hr,
        now=LATER.replace(day=4),
    )
    services.add_update(
        action,
        note="",
        status=ActionStatus.DONE,
        drop_reason=None,
        visible=True,
        actor=hr,
        now=LATER.replace(day=10),
    )
    db.session.commit()
    assert action.completed_on == date(2026, 12, 10)
    timeline = [(u.at.date().day, u.status_from, u.status_to, u.visible) for u in action.updates]
    assert timeline == [
        (3, ActionStatus.PLANNED, ActionStatus.IN_PROGRESS, True),
        (4, None, None, False),
        (10, ActionStatus.IN_PROGRESS, ActionStatus.DONE, True),
    ]
    # Reopening clears the completion date; dropping keeps its reason.
    services.add_update(
        action,
        note="",
        status=ActionStatus.DROPPED,
        drop_reason="Budget cut",
        visible=True,
        actor=hr,
        now=LATER.replace(day=11),
    )
    assert action.completed_on is None and action.drop_reason == "Budget cut"
    assert _events(f"action:{action.id}") == ["action.create"] + ["action.update"] * 4


def test_an_update_without_note_or_new_status_is_refused(world: World) -> None:
    action = world.log("Platform")
    with pytest.raises(services.NothingToRecord):
        services.add_update(
            action,
            note="  ",
            status=ActionStatus.PLANNED,
            drop_reason=None,
            visible=True,
            actor=world.staff["hr"],
            now=LATER,
        )


def test_editing_records_what_changed_and_status_changes_on_the_timeline(world: World) -> None:
    action = world.log("Platform")
    link = ActionLink(world.teams["Eng"], world.pulses[1], "burnout", "dashboard")
    fields = ActionFields(
        title="Fix the rota", description="What will change", status=ActionStatus.IN_PROGRESS
    )
    changed = services.edit_action(action, link, fields, actor=world.staff["leader"], now=LATER)
    assert set(changed) == {"team", "pulse", "dimension", "status"}
    assert [(u.status_from, u.status_to) for u in action.updates] == [
        (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
    ]
    assert _events(f"action:{action.id}")[-1] == "action.edit"
    # Saving the same values again changes and records nothing.
    assert services.edit_action(action, link, fields, actor=world.staff["leader"], now=LATER) == []
    assert _events(f"action:{action.id}").count("action.edit") == 1
