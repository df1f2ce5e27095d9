"""The results blueprint and what its views share: who is looking, at which pulse and team.

Views live in dashboard_routes.py, heatmap_routes.py and comment_routes.py; each loads the
viewer's context here, builds its page with pulse.results.report (which applies the anonymity
gate), and renders or exports only what that returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Blueprint, abort

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person, Role
from pulse.results import cache, gate, queries, report
from pulse.results.gate import Group
from pulse.surveys.models import Pulse

bp = Blueprint("results", __name__, url_prefix="/results")

RESULT_ROLES = (Role.MANAGER, Role.LEADER, Role.HR)


@dataclass
class Context:
    """Everything a results view needs to know about the viewer and the organisation."""

    tree: dict[int, int | None]
    names: dict[int, str]
    viewer: report.Viewer
    groups: list[Group]
    visible: set[int]  # team ids the viewer may open
    forest: gate.Forest | None = None  # the family arranged for the gate, reused across pulses
    key: tuple[object, ...] = ()  # identifies the tree and names this context was built from

    def prepared(self) -> gate.Forest:
        return self.forest if self.forest is not None else gate.prepare(self.tree, self.groups)

    def team_order(self) -> list[tuple[int, int]]:
        """Visible teams in tree order (parents before children, siblings by name), with depth."""
        children: dict[int | None, list[int]] = {}
        for team, parent in self.tree.items():
            children.setdefault(parent, []).append(team)
        for kids in children.values():
            kids.sort(key=lambda t: self.names.get(t, "").lower())
        order: list[tuple[int, int]] = []
        stack = [(t, 0) for t in reversed(children.get(None, []))]
        while stack:
            team, depth = stack.pop()
            if team in self.visible:
                order.append((team, depth))
            stack.extend((c, depth + 1) for c in reversed(children.get(team, [])))
        return order


def viewer_roots(person: Person, tree: dict[int, int | None]) -> report.Viewer:
    if person.role in {Role.HR, Role.LEADER}:
        return report.Viewer(tuple(gate.roots(tree)), whole_org=True)
    return report.Viewer(tuple(sorted(t.id for t in person.managed_teams)), whole_org=False)


_families: cache.Kept[tuple[list[Group], frozenset[int], gate.Forest]] = cache.Kept(64)


def load_context(person: Person) -> Context:
    tree, names = queries.team_tree_and_names()
    viewer = viewer_roots(person, tree)
    tree_key = (str(db.engine.url), cache.fingerprint(tree))

    def family() -> tuple[list[Group], frozenset[int], gate.Forest]:
        groups = report.family(tree, viewer)
        # "All my teams" is exactly the union of the viewer's subtrees (none without teams).
        mine = next((g.teams for g in groups if g.key == gate.MINE_KEY), frozenset())
        return groups, mine, gate.prepare(tree, groups)

    groups, mine, forest = _families.get_or_make((tree_key, viewer.roots), family)
    names_key = cache.fingerprint(names)
    return Context(tree, names, viewer, groups, set(mine), forest, (tree_key, names_key))


def require_team(context: Context, team_id: int) -> None:
    """404, not 403, for a team outside the viewer's subtree: do not confirm it exists."""
    if team_id not in context.visible:
        abort(404)


def pulses_with_results() -> list[Pulse]:
    """Opened pulses, oldest first."""
    return list(reversed(queries.result_pulses(utcnow())))


@dataclass
class ScopedPulses:
    """The pulses with results as one page sees them for some teams (a dashboard's team, or the
    viewer's roots on the heatmap), oldest first.

    `listed` holds every pulse that asked anyone in those teams (a pilot's pulses reach only its
    teams); `covering` those whose audience included all of them. Pages start on, and draw
    trends and changes from, covering pulses only, so a pulse that asked a few teams never
    shows up as a collapse in the rest; it can still be chosen from the list.
    """

    listed: list[Pulse]
    covering: list[Pulse]

    @property
    def defaults(self) -> list[Pulse]:
        return self.covering or self.listed

    def history(self, pulse: Pulse) -> list[Pulse]:
        """Covering pulses plus the one shown: what trends and "change since" compare."""
        return [p for p in self.listed if p in self.covering or p.id == pulse.id]


def scoped_pulses(context: Context, scope: Sequence[int]) -> ScopedPulses:
    listed: list[Pulse] = []
    covering: list[Pulse] = []
    for pulse in pulses_with_results():
        audience = {team.id for team in pulse.teams}
        if not audience:  # no audience recorded (rows written directly): it asked everyone
            covering.append(pulse)
            listed.append(pulse)
            continue
        covered = [bool(audience & set(gate.ancestors(context.tree, t))) for t in scope]
        if all(covered):
            covering.append(pulse)
        if any(covered) or any(set(gate.ancestors(context.tree, a)) & set(scope) for a in audience):
            listed.append(pulse)
    return ScopedPulses(listed, covering)


def pick_pulse(pulses: list[Pulse], pulse_id: int | None) -> Pulse | None:
    if not pulses:
        return None
    if pulse_id is None:
        return pulses[-1]
    for pulse in pulses:
        if pulse.id == pulse_id:
            return pulse
    abort(404)


def history_until(context: Context, pulses: list[Pulse], pulse: Pulse) -> list[report.PulseView]:
    """Gated views of every pulse up to and including `pulse`, oldest first."""
    now = utcnow()
    upto = pulses[: pulses.index(pulse) + 1]
    return [
        report.view(context.tree, queries.load_pulse_tallies(p, now), context.groups) for p in upto
    ]
