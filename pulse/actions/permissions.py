"""Who may see, log, edit and own follow-up actions: pure functions over people, teams, actions.

Managers work inside the teams they manage and every team below them; an action of a team
outside that subtree does not exist for them (views answer 404, never 403). Organisation-wide
actions (no team) are read-only for managers. Leaders and HR may do everything.
"""

from __future__ import annotations

from pulse.actions.models import Action
from pulse.org.models import Person, Role, Team
from pulse.org.permissions import can_view_team

ACTION_ROLES = (Role.MANAGER, Role.LEADER, Role.HR)


def uses_actions(person: Person) -> bool:
    return person.active and person.role in ACTION_ROLES


def acts_for_organisation(person: Person) -> bool:
    """Leaders and HR log and edit actions for any team or the whole organisation."""
    return person.active and person.role in (Role.LEADER, Role.HR)


def can_log_for(person: Person, team: Team | None) -> bool:
    """May `person` log an action for `team` (None: the whole organisation)?"""
    if acts_for_organisation(person):
        return True
    return team is not None and uses_actions(person) and can_view_team(person, team)


def is_owner(person: Person, action: Action) -> bool:
    return action.owner_id is not None and action.owner_id == person.id


def can_view_action(person: Person, action: Action) -> bool:
    """Leaders and HR see all; managers their subtree, organisation-wide ones, and their own."""
    if not uses_actions(person):
        return False
    if acts_for_organisation(person) or action.team is None or is_owner(person, action):
        return True
    return can_view_team(person, action.team)


def can_edit_action(person: Person, action: Action) -> bool:
    """Change the fields of an action: whoever may log for its team."""
    return can_log_for(person, action.team)


def can_update_action(person: Person, action: Action) -> bool:
    """Add a timeline entry: whoever may edit it, and its owner (who does the work)."""
    return can_edit_action(person, action) or (uses_actions(person) and is_owner(person, action))


def can_own(chooser: Person, owner: Person) -> bool:
    """May `chooser` make `owner` responsible for an action?

    Owners are active staff. Leaders and HR may pick anyone; a manager picks themselves or staff
    whose team is inside their subtree.
    """
    if not (owner.active and owner.role.is_staff):
        return False
    if acts_for_organisation(chooser):
        return True
    if owner.id == chooser.id:
        return True
    return owner.team is not None and can_view_team(chooser, owner.team)
