"""The anonymity gate: the one place that decides which result numbers a viewer may see.

Everything a viewer can reach for a pulse (dashboard, heatmap, CSV, email digest) is described as
one *family* of groups, each a set of teams whose respondents are pooled. The gate applies the
rules in DESIGN.md, "Anonymity rules":

1. Primary suppression: a group with fewer than k respondents is hidden (k_c for comments; the same
   functions take either threshold).
2. Complementary suppression (no differencing): the family must be laminar (any two groups are
   nested or disjoint). For every visible group B, the people in B not covered by its maximal
   visible subgroups must number 0 or at least k; otherwise the smallest of those subgroups is
   hidden too, and so on until that holds everywhere. The remainders are disjoint, so any set of
   people whose count follows from the visible numbers by adding and subtracting is a union of
   them, and numbers 0 or at least k.
3. While a pulse is open, results are hidden until it closes, or released in whole steps of k.

The module is pure: plain mappings in, plain decisions out, no database and no Flask, so that the
property tests can hammer it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# DESIGN.md rule 2: no threshold is ever below 3, whatever a caller passes.
MIN_THRESHOLD = 3

NO_ANSWERS = "No answers"
COMPLEMENTARY = "Hidden so that a smaller group's answers cannot be worked out by subtraction"
AFTER_CLOSE = "Results appear when the pulse closes"

Tree = Mapping[int, int | None]


def too_few(k: int) -> str:
    """The reason shown for a group below the threshold."""
    return f"Fewer than {k} answers"


def too_few_so_far(k: int) -> str:
    """The reason shown, while a pulse is open, for a group that has not completed a step."""
    return f"Fewer than {k} answers so far"


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of teams whose respondents are pooled into one number."""

    key: str
    teams: frozenset[int]


@dataclass(frozen=True, slots=True)
class Decision:
    """What may be shown for one group: its count when visible, otherwise only a reason.

    While a pulse is open in "steps" mode the count is the released count, a whole number of steps.
    """

    visible: bool
    count: int | None
    reason: str | None


def _shown(count: int) -> Decision:
    return Decision(visible=True, count=count, reason=None)


def _hidden(reason: str) -> Decision:
    return Decision(visible=False, count=None, reason=reason)


# --- the team tree ------------------------------------------------------------------------------


def _children(tree: Tree) -> dict[int, list[int]]:
    """Children of every team, sorted; raises ValueError on unknown parents or cycles."""
    children: dict[int, list[int]] = {team: [] for team in tree}
    tops: list[int] = []
    for team, parent in tree.items():
        if parent is None:
            tops.append(team)
        elif parent not in children:
            raise ValueError(f"Team {team} has an unknown parent {parent}.")
        else:
            children[parent].append(team)
    for kids in children.values():
        kids.sort()
    # A cycle has no root above it, so walking down from the roots never reaches it.
    reached = 0
    stack = tops
    while stack:
        team = stack.pop()
        reached += 1
        stack.extend(children[team])
    if reached != len(tree):
        raise ValueError("The team tree has a cycle.")
    return children


def roots(tree: Tree) -> list[int]:
    """Teams without a parent, in id order."""
    return sorted(team for team, parent in tree.items() if parent is None)


def _subtrees(
    children: Mapping[int, Sequence[int]], tops: Iterable[int]
) -> dict[int, frozenset[int]]:
    """Subtree of every team under `tops` (tops included), children built before parents."""
    result: dict[int, frozenset[int]] = {}
    # (team, True) means its children are done and its own subtree can be assembled.
    stack = [(team, False) for team in tops]
    while stack:
        team, ready = stack.pop()
        if team in result:
            continue
        if ready:
            members = {team}
            for child in children[team]:
                members |= result[child]
            result[team] = frozenset(members)
        else:
            stack.append((team, True))
            stack.extend((child, False) for child in children[team] if child not in result)
    return result


def subtree(tree: Tree, team_id: int) -> frozenset[int]:
    """The team and every team below it."""
    children = _children(tree)
    if team_id not in children:
        raise ValueError(f"Unknown team {team_id}.")
    return _subtrees(children, [team_id])[team_id]


def team_key(team_id: int) -> str:
    """Key of the group holding a team's whole subtree."""
    return f"team:{team_id}"


def own_key(team_id: int) -> str:
    """Key of the group holding only the people directly in a team."""
    return f"own:{team_id}"


ORG_KEY = "org"
MINE_KEY = "mine"


def viewer_groups(
    tree: Tree,
    visible_roots: Iterable[int],
    include_org: bool,
    include_own: bool,
    *,
    also_subtrees: Iterable[int] = (),
) -> list[Group]:
    """The family of groups one viewer can see for a pulse.

    `visible_roots` are the teams a manager manages (for HR and leaders: the roots of the tree).
    The family holds "team:<id>" for every team under them, "mine" for all of them together,
    "own:<id>" (only the people directly in a team) when `include_own`, and "org" when
    `include_org`. `also_subtrees` adds whole subtrees seen only as a total, such as the parent
    team a dashboard compares with; their inner teams stay out of the family.

    The gate needs a laminar family, so such a subtree is left out when it holds some but not all
    of "mine": a manager of teams in different branches gets "all my teams" but no parent-team
    comparison (look its key up with `.get`).
    """
    children = _children(tree)
    tops = sorted(set(visible_roots))
    for team in tops:
        if team not in children:
            raise ValueError(f"Unknown team {team}.")
    under = _subtrees(children, tops)
    mine = frozenset(under)
    groups = [Group(team_key(team), members) for team, members in sorted(under.items())]
    if tops:
        groups.append(Group(MINE_KEY, mine))
    if include_own:
        groups.extend(Group(own_key(team), frozenset({team})) for team in sorted(under))
    for team in sorted(set(also_subtrees) - mine):
        if team not in children:
            raise ValueError(f"Unknown team {team}.")
        extra = _subtrees(children, [team])[team]
        if extra.isdisjoint(mine) or extra >= mine:
            groups.append(Group(team_key(team), extra))
    if include_org:
        groups.append(Group(ORG_KEY, frozenset(tree)))
    return groups


# --- the decision ---------------------------------------------------------------------------------


def _check_threshold(k: int) -> None:
    if k < MIN_THRESHOLD:
        raise ValueError(f"The threshold must be at least {MIN_THRESHOLD}, not {k}.")


def _distinct_sets(tree: Tree, groups: Iterable[Group]) -> dict[frozenset[int], list[str]]:
    """Keys of every distinct team set; groups with the same teams always share a decision."""
    by_set: dict[frozenset[int], list[str]] = {}
    set_of: dict[str, frozenset[int]] = {}
    for group in groups:
        if group.key in set_of:
            if set_of[group.key] != group.teams:
                raise ValueError(f"Two different groups share the key {group.key!r}.")
            continue
        unknown = group.teams.difference(tree)
        if unknown:
            raise ValueError(f"Group {group.key!r} names unknown teams {sorted(unknown)}.")
        set_of[group.key] = group.teams
        by_set.setdefault(group.teams, []).append(group.key)
    for keys in by_set.values():
        keys.sort()
    return by_set


@dataclass(slots=True, eq=False)  # nodes are compared by identity
class _Node:
    """One distinct team set of the family, placed in the containment forest."""

    name: str  # smallest key with this set: a stable tie-breaker
    teams: frozenset[int]
    count: int
    children: list[_Node]
    visible: bool = False
    reason: str | None = None


def _forest(
    by_set: Mapping[frozenset[int], Sequence[str]], counts: Mapping[int, int]
) -> list[_Node]:
    """Nodes for the non-empty sets ordered largest first, linked to their smallest superset.

    Raises ValueError when two groups overlap without one containing the other.
    """
    items = [(teams, keys[0]) for teams, keys in by_set.items() if teams]
    items.sort(key=lambda item: (-len(item[0]), item[1]))
    nodes: list[_Node] = []
    # After the sets processed so far (largest first), owner[t] is the smallest one holding t.
    owner: dict[int, _Node] = {}
    for teams, name in items:
        node = _Node(name, teams, sum(counts.get(t, 0) for t in teams), [])
        parents = {owner.get(t) for t in teams}
        if len(parents) != 1:
            raise ValueError(
                f"Group {name!r} overlaps another group without containing it or lying inside it."
            )
        parent = parents.pop()
        if parent is not None:
            parent.children.append(node)
        for t in teams:
            owner[t] = node
        nodes.append(node)
    return nodes


def _maximal_visible_inside(node: _Node) -> list[_Node]:
    """The largest visible groups strictly inside `node` (they are pairwise disjoint)."""
    found: list[_Node] = []
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.visible:
            found.append(child)
        else:
            stack.extend(child.children)
    return found


def _suppress(nodes: Sequence[_Node], k: int, small: str, zero: str) -> None:
    """Primary then complementary suppression, in place, on nodes ordered largest first.

    Groups are settled smallest first. Settling B only hides groups strictly inside B, and hiding
    a maximal visible subgroup S of B changes the remainder of no group but B (S's own subgroups
    keep theirs, and every group above B still sees B, whose count is unchanged), so each settled
    group stays settled and one pass reaches the fixpoint. Each step hides one more group of a
    finite family, so this terminates; every choice is fixed by (count, key), so the same input
    always gives the same output.
    """
    for node in nodes:
        if node.count == 0:
            node.reason = zero
        elif node.count < k:
            node.reason = small
        else:
            node.visible = True
    for node in reversed(nodes):
        if not node.visible:
            continue
        inside = _maximal_visible_inside(node)
        remainder = node.count - sum(sub.count for sub in inside)
        while 0 < remainder < k:
            # Smallest first: if exactly one sibling is suppressed, the next smallest goes too.
            victim = min(inside, key=lambda sub: (sub.count, sub.name))
            victim.visible = False
            victim.reason = COMPLEMENTARY
            inside.remove(victim)
            exposed = _maximal_visible_inside(victim)
            inside.extend(exposed)
            remainder += victim.count - sum(sub.count for sub in exposed)


def _check_counts(tree: Tree, counts: Mapping[int, int]) -> None:
    _children(tree)  # validates the tree
    for team, n in counts.items():
        if team not in tree:
            raise ValueError(f"Counts name an unknown team {team}.")
        if n < 0:
            raise ValueError(f"Team {team} has a negative count.")


def _decisions(
    by_set: Mapping[frozenset[int], Sequence[str]], nodes: Sequence[_Node], zero: str
) -> dict[str, Decision]:
    """One decision per key; a hidden group gets its reason and never its count."""
    node_of = {node.name: node for node in nodes}
    decisions: dict[str, Decision] = {}
    for teams, keys in by_set.items():
        node = node_of.get(keys[0]) if teams else None
        if node is None:
            decision = _hidden(zero)
        elif node.visible:
            decision = _shown(node.count)
        else:
            decision = _hidden(node.reason or zero)
        for key in keys:
            decisions[key] = decision
    return decisions


def decide(
    tree: Tree, counts: Mapping[int, int], groups: Iterable[Group], k: int
) -> dict[str, Decision]:
    """Decide, for every group one viewer can see, whether its number may be shown.

    `counts` holds the respondents whose answers belong directly to each team (missing teams have
    none); a group's count is the sum over its teams. `groups` must be the viewer's whole family
    across every page, export and email, because differencing works across them. Pass k for
    numbers and k_c for comments. A hidden group never carries its count.
    """
    _check_threshold(k)
    _check_counts(tree, counts)
    by_set = _distinct_sets(tree, groups)
    nodes = _forest(by_set, counts)
    _suppress(nodes, k, too_few(k), NO_ANSWERS)
    return _decisions(by_set, nodes, NO_ANSWERS)


def decide_teams(
    tree: Tree,
    counts: Mapping[int, int],
    groups: Iterable[Group],
    team_ids: Iterable[int],
    k: int,
) -> dict[int, Decision]:
    """Decisions for the subtrees of `team_ids` (a heatmap's rows, a dashboard's teams).

    The decisions are made for the viewer's whole family, which must already hold each of these
    subtrees: adding a group here would change what the rest of the family may show.
    """
    family = list(groups)
    decisions = decide(tree, counts, family, k)
    wanted = sorted(set(team_ids))
    children = _children(tree)
    for team in wanted:
        if team not in children:
            raise ValueError(f"Unknown team {team}.")
    key_of_set = {group.teams: group.key for group in family}
    subtrees = _subtrees(children, wanted)
    picked: dict[int, Decision] = {}
    for team in wanted:
        key = key_of_set.get(subtrees[team])
        if key is None:
            raise ValueError(f"Team {team} is not in this viewer's family of groups.")
        picked[team] = decisions[key]
    return picked


# --- while a pulse is open ------------------------------------------------------------------------

DRAFT = "draft"
SCHEDULED = "scheduled"
OPEN = "open"
CLOSED = "closed"
RELEASE_AFTER_CLOSE = "after_close"
RELEASE_STEPS = "steps"


def released_count(n: int, k: int) -> int:
    """The count rounded down to the last completed step of k."""
    return (n // k) * k


def release_decisions(
    state: str,
    mode: str,
    tree: Tree,
    counts: Mapping[int, int],
    groups: Iterable[Group],
    k: int,
) -> dict[str, Decision]:
    """Decisions that also respect how a pulse releases results (DESIGN.md rule 4).

    `state` is the pulse's state ("draft", "scheduled", "open" or "closed") and `mode` its release
    mode ("after_close" or "steps"); the PulseState and ReleaseMode enums pass as they are. A
    closed pulse gets `decide`. Until then, in "after_close" mode every group is hidden. In "steps"
    mode each group shows its count rounded down to a whole number of steps of k, so its number
    changes only after at least k new answers.

    The caller must then show every figure of that group (scores, distributions, comments) from
    its tallies as of the moment the group reached the released count, never the live tallies;
    storing those snapshots is the caller's business, and snapshots of nested groups are best
    taken together so that their differences are whole steps too.

    Released counts are multiples of k, so complementary suppression on them cannot find a
    remainder between 1 and k-1; it runs anyway so that the guarantee does not rest on that
    arithmetic. A group without a whole step reads "fewer than k answers so far", never "no
    answers", so that even the first answer's arrival does not show.
    """
    _check_threshold(k)
    if mode not in (RELEASE_AFTER_CLOSE, RELEASE_STEPS):
        raise ValueError(f"Unknown release mode {mode!r}.")
    if state not in (DRAFT, SCHEDULED, OPEN, CLOSED):
        raise ValueError(f"Unknown pulse state {state!r}.")
    if state == CLOSED:
        return decide(tree, counts, groups, k)
    _check_counts(tree, counts)
    by_set = _distinct_sets(tree, groups)
    if mode == RELEASE_AFTER_CLOSE:
        return {key: _hidden(AFTER_CLOSE) for keys in by_set.values() for key in keys}
    # Build the forest without counts, then give each group its own released count: a group's
    # released count is not the sum of its teams' released counts.
    nodes = _forest(by_set, {})
    for node in nodes:
        node.count = released_count(sum(counts.get(t, 0) for t in node.teams), k)
    so_far = too_few_so_far(k)
    _suppress(nodes, k, so_far, so_far)
    return _decisions(by_set, nodes, so_far)
