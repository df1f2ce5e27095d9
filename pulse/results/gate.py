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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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
            own = frozenset((team,))
            kids = children[team]
            result[team] = own.union(*[result[child] for child in kids]) if kids else own
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


def ancestors(tree: Tree, team_id: int) -> list[int]:
    """The team and every team above it, nearest first (stops at a cycle or an unknown team)."""
    chain: list[int] = []
    current: int | None = team_id
    while current is not None and current not in chain:
        chain.append(current)
        current = tree.get(current)
    return chain


def subtrees(tree: Tree, team_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The subtree of each of these teams (unknown teams left out), with one pass over the tree."""
    children = _children(tree)
    wanted = [team for team in team_ids if team in children]
    found = _subtrees(children, wanted)
    return {team: found[team] for team in wanted}


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
#
# A family is arranged once into a containment forest (`prepare`), then decided for as many count
# vectors as a page needs (responses, each dimension, each question, comments) with arrays: a
# heatmap for 2,000 teams decides about 20 vectors, and redoing the set work each time cost
# seconds. Group counts are summed bottom-up through the forest; primary suppression and each
# group's remainder (its count minus its maximal visible subgroups) are array operations; only
# groups whose remainder lies between 1 and k-1 go through the one-by-one complementary step.


def _check_threshold(k: int) -> None:
    if k < MIN_THRESHOLD:
        raise ValueError(f"The threshold must be at least {MIN_THRESHOLD}, not {k}.")


def _distinct_sets(tree: Tree, groups: Iterable[Group]) -> dict[frozenset[int], list[str]]:
    """Keys of every distinct team set; groups with the same teams always share a decision."""
    by_set: dict[frozenset[int], list[str]] = {}
    set_of: dict[str, frozenset[int]] = {}
    known = tree.keys()  # a set view: testing a group against it does not copy the tree
    for group in groups:
        if group.key in set_of:
            if set_of[group.key] != group.teams:
                raise ValueError(f"Two different groups share the key {group.key!r}.")
            continue
        if not group.teams <= known:
            unknown = group.teams.difference(tree)
            raise ValueError(f"Group {group.key!r} names unknown teams {sorted(unknown)}.")
        set_of[group.key] = group.teams
        by_set.setdefault(group.teams, []).append(group.key)
    for keys in by_set.values():
        keys.sort()
    return by_set


# Why a group is hidden, as small codes in arrays; the words are chosen per decision.
_SHOWN, _ZERO, _SMALL, _COMPLEMENTARY, _FIXED = 0, 1, 2, 3, 4


class Forest:
    """A family's distinct non-empty team sets, largest first, each linked to its smallest
    superset: node i's parent has a smaller index, so parents come before their children.

    Built once per family (`prepare`) and reused for every count vector of a page.
    """

    def __init__(self, tree: Tree, groups: Iterable[Group]) -> None:
        _children(tree)  # validates the tree
        self.tree_teams = frozenset(tree)
        by_set = _distinct_sets(tree, groups)
        # Largest first, ties by key; keys are unique, so the sets themselves are never compared.
        ordered = sorted((-len(teams), keys[0], teams) for teams, keys in by_set.items() if teams)
        items = [(teams, name) for _size, name, teams in ordered]
        self.names: list[str] = [name for _teams, name in items]
        self.sets: list[frozenset[int]] = [teams for teams, _name in items]
        parent: list[int] = []
        depth: list[int] = []
        # After the sets processed so far (largest first), owner[t] is the smallest holding t.
        owner: dict[int, int] = {}
        for index, (teams, name) in enumerate(items):
            parents = set(map(owner.get, teams))
            if len(parents) != 1:
                raise ValueError(
                    f"Group {name!r} overlaps another group without containing it or lying "
                    "inside it."
                )
            above = parents.pop()
            parent.append(-1 if above is None else above)
            depth.append(0 if above is None else depth[above] + 1)
            owner.update(dict.fromkeys(teams, index))
        self.size = len(items)
        self.name_rank = np.empty(self.size, dtype=np.int64)
        self.name_rank[sorted(range(self.size), key=self.names.__getitem__)] = np.arange(self.size)
        self.parent = np.array(parent, dtype=np.int64)
        self.children: list[list[int]] = [[] for _ in items]
        for index, above in enumerate(parent):
            if above >= 0:
                self.children[above].append(index)
        self.below = np.flatnonzero(self.parent >= 0)  # every node with a parent
        self.is_leaf = np.array([not kids for kids in self.children], dtype=bool)
        by_depth: dict[int, list[int]] = {}
        for index, d in enumerate(depth):
            by_depth.setdefault(d, []).append(index)
        # Deepest first: the order in which sums flow up to the parents.
        self.upward = [
            np.array(by_depth[d], dtype=np.int64) for d in sorted(by_depth, reverse=True) if d
        ]
        self.teams = np.fromiter(owner.keys(), dtype=np.int64, count=len(owner))
        self.owner = np.fromiter(owner.values(), dtype=np.int64, count=len(owner))
        # position[team id] = index into self.teams, or -1 for a team in no group.
        self.position = np.full(int(self.teams.max(initial=-1)) + 1, -1, dtype=np.int64)
        self.position[self.teams] = np.arange(len(self.teams))
        node_of_set = {teams: index for index, teams in enumerate(self.sets)}
        self.node_of_key: dict[str, int] = {
            key: node_of_set.get(teams, -1) for teams, keys in by_set.items() for key in keys
        }

    # -- sums ------------------------------------------------------------------------------------

    def dense(self, values: Mapping[int, float], dtype: type = float) -> np.ndarray:
        """Per-team values aligned with `self.teams` (teams outside every group are left out)."""
        teams = np.fromiter(values.keys(), np.int64, len(values))
        return self.dense_arrays(teams, np.fromiter(values.values(), dtype, len(values)))

    def dense_arrays(self, teams: np.ndarray, values: np.ndarray) -> np.ndarray:
        """`dense` for values given as two aligned arrays (team ids, values)."""
        out = np.zeros((len(self.teams), *values.shape[1:]), dtype=values.dtype)
        if len(teams):
            inside = (teams >= 0) & (teams < len(self.position))
            where = np.full(len(teams), -1, dtype=np.int64)
            where[inside] = self.position[teams[inside]]
            keep = where >= 0
            out[where[keep]] = values[keep]
        return out

    def aggregate(self, per_team: np.ndarray) -> np.ndarray:
        """Each node's sum of per-team values (aligned with `self.teams`; one column or many)."""
        shape = (self.size, *per_team.shape[1:])
        total = np.zeros(shape, dtype=per_team.dtype)
        np.add.at(total, self.owner, per_team)
        for level in self.upward:
            np.add.at(total, self.parent[level], total[level])
        return total

    def totals(self, counts: Mapping[int, int]) -> np.ndarray:
        """Each node's count: the sum of its teams' counts."""
        _check_counts_fast(self.tree_teams, counts)
        return self.aggregate(self.dense(counts, np.int64))

    def totals_arrays(self, teams: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """`totals` for counts given as two aligned arrays (team ids, counts)."""
        if not self.tree_teams.issuperset(teams.tolist()):
            unknown = sorted(set(teams.tolist()).difference(self.tree_teams))
            raise ValueError(f"Counts name an unknown team {unknown[0]}.")
        if len(counts) and counts.min() < 0:
            raise ValueError(f"Team {int(teams[counts.argmin()])} has a negative count.")
        return self.aggregate(self.dense_arrays(teams, counts.astype(np.int64)))

    # -- suppression -----------------------------------------------------------------------------

    def suppress(self, totals: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Primary then complementary suppression: (visible, reason code) per node.

        Settling a group B hides only groups strictly inside it and changes no other group's
        remainder (groups above B still see B, whose count is unchanged), so every remainder can
        be computed once from the primary decisions; groups are then settled smallest first,
        which is descending index, exactly as the one-by-one rule in the module docstring.
        """
        visible = totals >= k
        code = np.where(totals == 0, _ZERO, np.where(visible, _SHOWN, _SMALL)).astype(np.int8)
        covered = np.zeros(self.size, dtype=np.int64)
        for level in self.upward:
            contribution = np.where(visible[level], totals[level], covered[level])
            np.add.at(covered, self.parent[level], contribution)
        remainder = totals - covered
        unsettled_mask = visible & (remainder > 0) & (remainder < k)
        if unsettled_mask.any():
            unsettled_mask &= ~self._settle_simple(unsettled_mask, totals, visible, code)
        unsettled = np.flatnonzero(unsettled_mask)[::-1].tolist()
        if unsettled:
            # The one-by-one step works on plain lists: reading numpy scalars is slow. A victim
            # is the smallest by (count, key): `order` ranks nodes that way as one integer.
            count = totals.tolist()
            shown = visible.tolist()
            order = (totals * self.size + self.name_rank).tolist()
            for node in unsettled:
                if shown[node]:  # always true in this order; kept for the reader
                    for victim in self._settle(node, count, order, shown, k):
                        visible[victim] = False
                        code[victim] = _COMPLEMENTARY
        return visible, code

    def _settle_simple(
        self, unsettled: np.ndarray, totals: np.ndarray, visible: np.ndarray, code: np.ndarray
    ) -> np.ndarray:
        """Settle at once the groups whose one-by-one step is a single move; returns them.

        That is a group whose children are all visible and whose smallest child (by count,
        then key) has no subgroup: hiding that child adds its count, at least k, to the
        remainder, which ends the step. Nothing else can have changed those children by the
        group's turn (only the group itself and groups above it, settled later, hide them), and
        groups settled here touch nothing any other group looks at, so the order does not
        matter.
        """
        below = self.below
        if not len(below):
            return np.zeros(self.size, dtype=bool)
        parents = self.parent[below]
        hidden_children = np.bincount(parents, weights=~visible[below], minlength=self.size)
        rank = totals[below] * self.size + self.name_rank[below]
        by_parent = np.lexsort((rank, parents))
        sorted_parents = parents[by_parent]
        first = np.ones(len(below), dtype=bool)
        first[1:] = sorted_parents[1:] != sorted_parents[:-1]
        smallest = np.full(self.size, -1, dtype=np.int64)
        smallest[sorted_parents[first]] = below[by_parent][first]
        simple: np.ndarray = unsettled & (hidden_children == 0) & (smallest >= 0)
        simple[simple] = self.is_leaf[smallest[simple]]
        victims = smallest[simple]
        visible[victims] = False
        code[victims] = _COMPLEMENTARY
        return simple

    def _maximal_visible_inside(self, node: int, shown: list[bool]) -> list[int]:
        kids = self.children[node]
        if all(map(shown.__getitem__, kids)):  # the usual case
            return list(kids)
        found: list[int] = []
        stack = list(kids)
        while stack:
            child = stack.pop()
            if shown[child]:
                found.append(child)
            else:
                stack.extend(self.children[child])
        return found

    def _settle(
        self, node: int, count: list[int], order: list[int], shown: list[bool], k: int
    ) -> list[int]:
        """Hide subgroups of `node` until its remainder is 0 or at least k; returns them."""
        hidden: list[int] = []
        inside = self._maximal_visible_inside(node, shown)
        remainder = count[node] - sum(map(count.__getitem__, inside))
        while 0 < remainder < k:
            # Smallest first: if exactly one sibling is suppressed, the next smallest goes too.
            victim = min(inside, key=order.__getitem__)
            shown[victim] = False
            hidden.append(victim)
            inside.remove(victim)
            exposed = self._maximal_visible_inside(victim, shown)
            inside.extend(exposed)
            remainder += count[victim] - sum(map(count.__getitem__, exposed))
        return hidden

    def decide(self, counts: Mapping[int, int], k: int) -> Decided:
        """The decision for every key of the family, for one count vector."""
        _check_threshold(k)
        totals = self.totals(counts)
        visible, code = self.suppress(totals, k)
        return Decided(self, totals, visible, code, (None, NO_ANSWERS, too_few(k), COMPLEMENTARY))

    def decide_arrays(self, teams: np.ndarray, counts: np.ndarray, k: int) -> Decided:
        """`decide` for counts given as two aligned arrays (team ids, counts)."""
        _check_threshold(k)
        totals = self.totals_arrays(teams, counts)
        visible, code = self.suppress(totals, k)
        return Decided(self, totals, visible, code, (None, NO_ANSWERS, too_few(k), COMPLEMENTARY))

    def hide_all(self, reason: str) -> Decided:
        """Every group hidden for one reason (a pulse whose results wait for its close)."""
        visible = np.zeros(self.size, dtype=bool)
        code = np.full(self.size, _FIXED, dtype=np.int8)
        totals = np.zeros(self.size, dtype=np.int64)
        return Decided(self, totals, visible, code, (None, reason, reason, reason, reason))


class Decided(Mapping[str, Decision]):
    """One count vector's decisions for a whole family, as arrays; a `Decision` per key on demand.

    A hidden group's count stays in `totals` for the arrays' sake but never reaches a Decision.
    """

    def __init__(
        self,
        forest: Forest,
        totals: np.ndarray,
        visible: np.ndarray,
        code: np.ndarray,
        reasons: tuple[str | None, ...],
    ) -> None:
        self.forest = forest
        self.totals = totals
        self.visible = visible
        self.code = code
        self.reasons = reasons
        self._made: dict[str, Decision] = {}

    def node(self, key: str) -> int:
        """The forest node of a key (-1 for a group without teams); KeyError if unknown."""
        return self.forest.node_of_key[key]

    def at(self, node: int) -> Decision:
        if node < 0:
            return _hidden(self.reasons[_ZERO] or NO_ANSWERS)
        if self.visible[node]:
            return _shown(int(self.totals[node]))
        return _hidden(self.reasons[int(self.code[node])] or NO_ANSWERS)

    def __getitem__(self, key: str) -> Decision:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self.at(self.forest.node_of_key[key])
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self.forest.node_of_key)

    def __len__(self) -> int:
        return len(self.forest.node_of_key)


def prepare(tree: Tree, groups: Iterable[Group]) -> Forest:
    """Arrange a viewer's family for deciding many count vectors (see `Forest`).

    Raises ValueError for a bad tree, unknown teams, two groups sharing a key, or a family that
    is not laminar.
    """
    return Forest(tree, groups)


def _check_counts_fast(tree_teams: frozenset[int], counts: Mapping[int, int]) -> None:
    if not tree_teams.issuperset(counts):
        unknown = sorted(set(counts).difference(tree_teams))
        raise ValueError(f"Counts name an unknown team {unknown[0]}.")
    if counts and min(counts.values()) < 0:
        team = next(t for t, n in counts.items() if n < 0)
        raise ValueError(f"Team {team} has a negative count.")


def _check_counts(tree: Tree, counts: Mapping[int, int]) -> None:
    _children(tree)  # validates the tree
    _check_counts_fast(frozenset(tree), counts)


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
    return dict(prepare(tree, groups).decide(counts, k))


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
    forest = prepare(tree, groups)
    if mode == RELEASE_AFTER_CLOSE:
        return dict(forest.hide_all(AFTER_CLOSE))
    # A group's released count is not the sum of its teams' released counts: round each
    # group's own total down to whole steps.
    totals = (forest.totals(counts) // k) * k
    visible, code = forest.suppress(totals, k)
    so_far = too_few_so_far(k)
    return dict(Decided(forest, totals, visible, code, (None, so_far, so_far, COMPLEMENTARY)))
