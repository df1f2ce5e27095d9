"""Who may see which team: pure functions over people and teams."""

from __future__ import annotations

from pulse.org.models import Person, Role, Team


def sees_whole_organisation(person: Person) -> bool:
    """HR manages everything and leaders see everything."""
    return person.role in {Role.HR, Role.LEADER}


def can_view_team(person: Person, team: Team) -> bool:
    """HR and leaders see every team; a manager sees the teams they manage and all below them."""
    if not person.active:
        return False
    if sees_whole_organisation(person):
        return True
    if person.role is not Role.MANAGER:
        return False
    ancestors = set(team.ancestor_ids())
    return any(managed.id in ancestors for managed in person.managed_teams)


def can_manage_directory(person: Person) -> bool:
    """Only HR imports people, edits teams and creates staff accounts."""
    return person.active and person.role is Role.HR
