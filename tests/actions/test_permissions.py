"""The actions permission rules as pure functions, on objects that never touch a database."""

from __future__ import annotations

from pulse.actions import permissions as p
from pulse.actions.models import Action
from pulse.org.models import Person, Role, Team

ACME = Team(id=1, name="Acme", path="/1/")
ENG = Team(id=2, name="Eng", path="/1/2/")
PLATFORM = Team(id=3, name="Platform", path="/1/2/3/")
SALES = Team(id=4, name="Sales", path="/1/4/")


def _person(role: Role, pid: int, team: Team = ACME, manages: tuple[Team, ...] = ()) -> Person:
    person = Person(id=pid, role=role, active=True, team=team, name=f"P{pid}", email=f"{pid}@x")
    person.managed_teams = list(manages)
    return person


def _action(team: Team | None, owner: Person | None = None) -> Action:
    return Action(
        team=team, team_id=team.id if team else None, owner_id=owner.id if owner else None
    )


MANAGER = _person(Role.MANAGER, 10, ENG, (ENG,))
LEADER = _person(Role.LEADER, 11)
HR = _person(Role.HR, 12)
EMPLOYEE = _person(Role.EMPLOYEE, 13, PLATFORM)


def test_managers_work_inside_their_subtree_only() -> None:
    assert p.can_log_for(MANAGER, PLATFORM) and p.can_log_for(MANAGER, ENG)
    assert not p.can_log_for(MANAGER, SALES) and not p.can_log_for(MANAGER, ACME)
    assert not p.can_log_for(MANAGER, None)
    assert p.can_view_action(MANAGER, _action(PLATFORM))
    assert not p.can_view_action(MANAGER, _action(SALES))
    assert p.can_edit_action(MANAGER, _action(PLATFORM))
    assert not p.can_edit_action(MANAGER, _action(SALES))


def test_organisation_wide_actions_are_read_only_for_managers() -> None:
    org = _action(None)
    assert p.can_view_action(MANAGER, org)
    assert not p.can_edit_action(MANAGER, org) and not p.can_update_action(MANAGER, org)


def test_owners_may_follow_up_their_action_anywhere_but_not_edit_it() -> None:
    owned = _action(SALES, owner=MANAGER)
    assert p.can_view_action(MANAGER, owned) and p.can_update_action(MANAGER, owned)
    assert not p.can_edit_action(MANAGER, owned)


def test_leaders_and_hr_do_everything_and_employees_nothing() -> None:
    for person in (LEADER, HR):
        assert p.can_log_for(person, None) and p.can_log_for(person, SALES)
        assert p.can_edit_action(person, _action(None))
    for action in (_action(None), _action(PLATFORM), _action(PLATFORM, owner=EMPLOYEE)):
        assert not p.can_view_action(EMPLOYEE, action)
        assert not p.can_update_action(EMPLOYEE, action)


def test_who_may_be_made_owner() -> None:
    sales_manager = _person(Role.MANAGER, 20, SALES, (SALES,))
    platform_lead = _person(Role.MANAGER, 21, PLATFORM)
    assert p.can_own(MANAGER, MANAGER) and p.can_own(MANAGER, platform_lead)
    assert not p.can_own(MANAGER, sales_manager)
    assert not p.can_own(HR, EMPLOYEE)  # owners are staff
    assert p.can_own(LEADER, sales_manager)
    inactive = _person(Role.MANAGER, 22, PLATFORM)
    inactive.active = False
    assert not p.can_own(HR, inactive)
