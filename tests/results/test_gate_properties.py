"""Property tests of the anonymity gate on random trees, response counts and viewers.

Every check works from the decisions alone plus the true counts and the groups' team sets, never
from the gate's internals: it recomputes set differences directly.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.results.gate import (
    Decision,
    Group,
    decide,
    decide_teams,
    release_decisions,
    roots,
    viewer_groups,
)

MAX_LEVELS = 6  # depth up to 6: levels 0..5


@dataclass(frozen=True)
class Scenario:
    tree: dict[int, int | None]
    counts: dict[int, int]
    groups: list[Group]
    k: int
    seed: int


# Mostly small counts, where suppression bites, with some large teams among them.
COUNT = st.one_of(st.integers(0, 4), st.integers(0, 10), st.integers(0, 30))


@st.composite
def trees(draw: st.DrawFn) -> dict[int, int | None]:
    size = draw(st.integers(1, 40))
    # Ids neither start at 0 nor follow positions, so no code can confuse the two.
    ids = [7 * i + 3 for i in range(size)]
    tree: dict[int, int | None] = {}
    depth: dict[int, int] = {}
    for i, team in enumerate(ids):
        pick = draw(st.integers(-1, i - 1)) if i else -1
        if pick < 0:
            tree[team], depth[team] = None, 0
            continue
        parent: int | None = ids[pick]
        while parent is not None and depth[parent] >= MAX_LEVELS - 1:
            parent = tree[parent]
        tree[team] = parent
        depth[team] = 0 if parent is None else depth[parent] + 1
    return tree


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    tree = draw(trees())
    teams = sorted(tree)
    counts = {team: draw(COUNT) for team in teams}
    k = draw(st.integers(3, 10))
    kind = draw(st.sampled_from(["hr", "manager", "manager", "part"]))
    include_own = draw(st.booleans())
    if kind == "manager":
        managed = draw(st.sets(st.sampled_from(teams), min_size=1, max_size=4))
        parents = {tree[t] for t in managed} - {None}
        compare = draw(st.sets(st.sampled_from(sorted(parents)))) if parents else set()
        groups = viewer_groups(
            tree,
            managed,
            include_org=draw(st.booleans()),
            include_own=include_own,
            also_subtrees={t for t in compare if t is not None},
        )
    else:
        groups = viewer_groups(tree, roots(tree), include_org=True, include_own=include_own)
        if kind == "part":
            # Any part of a laminar family is laminar: a page that shows only some groups.
            keep = draw(st.lists(st.booleans(), min_size=len(groups), max_size=len(groups)))
            groups = [g for g, kept in zip(groups, keep, strict=True) if kept]
    return Scenario(tree, counts, groups, k, draw(st.integers(0, 2**32)))


def size(counts: Mapping[int, int], teams: Iterable[int]) -> int:
    return sum(counts[t] for t in teams)


def safe(n: int, k: int) -> bool:
    return n == 0 or n >= k


def sums(a: int, b: int) -> int:
    """Bitset of every x + y for x in bitset a and y in bitset b."""
    result = 0
    shift = 0
    while b:
        if b & 1:
            result |= a << shift
        b >>= 1
        shift += 1
    return result


def check_family(
    groups: list[Group],
    decisions: Mapping[str, Decision],
    counts: Mapping[int, int],
    k: int,
    seed: int,
) -> None:
    assert set(decisions) == {g.key for g in groups}

    # (e) a hidden group carries a reason and never a count; a visible one its true count.
    for group in groups:
        decision = decisions[group.key]
        if decision.visible:
            assert decision.count == size(counts, group.teams)
            assert decision.reason is None
        else:
            assert decision.count is None
            assert decision.reason

    visible = sorted({g.teams for g in groups if decisions[g.key].visible}, key=len)

    # (a) nothing visible covers fewer than k people.
    for teams in visible:
        assert size(counts, teams) >= k

    # (b) no two nested visible groups differ by 1..k-1 people.
    for small in visible:
        for big in visible:
            if small < big:
                assert safe(size(counts, big - small), k), (sorted(small), sorted(big))

    # (c) a visible group minus disjoint visible groups inside it: the maximal ones, random
    # sub-collections, and (through bitsets of reachable remainders) every such collection.
    rng = random.Random(seed)
    reachable: dict[frozenset[int], int] = {}
    for big in visible:
        inside = [teams for teams in visible if teams < big]
        maximal = [a for a in inside if not any(a < b for b in inside)]
        covered: set[int] = set()
        for teams in maximal:
            assert covered.isdisjoint(teams)
            covered |= teams
        assert safe(size(counts, big - covered), k)

        for _ in range(4):
            pool = inside[:]
            rng.shuffle(pool)
            chosen: set[int] = set()
            for teams in pool:
                if chosen.isdisjoint(teams) and rng.random() < 0.6:
                    chosen |= teams
            assert safe(size(counts, big - chosen), k)

        # Each maximal subgroup is either taken whole (0 left) or leaves any of its reachable
        # remainders; the people under none of them are always left.
        bits = 1 << size(counts, big - covered)
        for teams in maximal:
            bits = sums(bits, reachable[teams] | 1)
        low = (1 << k) - 2  # the values 1..k-1
        assert bits & low == 0, sorted(big)
        reachable[big] = bits


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(scenarios())
def test_no_visible_number_exposes_fewer_than_k_people(scenario: Scenario) -> None:
    tree, counts, groups, k = scenario.tree, scenario.counts, scenario.groups, scenario.k
    decisions = decide(tree, counts, groups, k)
    check_family(groups, decisions, counts, k, scenario.seed)

    # (d) the same input, in any order, gives the same output.
    assert decide(tree, counts, groups, k) == decisions
    shuffled = groups[:]
    random.Random(scenario.seed).shuffle(shuffled)
    assert decide(tree, dict(reversed(counts.items())), shuffled, k) == decisions

    # The heatmap convenience agrees with the family's decisions.
    rows = [int(g.key.removeprefix("team:")) for g in groups if g.key.startswith("team:")]
    by_key = decide_teams(tree, counts, groups, rows, k)
    for team, decision in by_key.items():
        assert decision == decisions[f"team:{team}"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(scenarios())
def test_open_pulse_in_steps_releases_only_whole_steps(scenario: Scenario) -> None:
    tree, counts, groups, k = scenario.tree, scenario.counts, scenario.groups, scenario.k
    decisions = release_decisions("open", "steps", tree, counts, groups, k)
    assert set(decisions) == {g.key for g in groups}
    shown = {g.teams: decisions[g.key].count for g in groups if decisions[g.key].visible}
    for group in groups:
        decision = decisions[group.key]
        true = size(counts, group.teams)
        if decision.visible:
            assert decision.count is not None
            assert decision.count >= k
            assert decision.count % k == 0
            assert true - k < decision.count <= true
        else:
            assert decision.count is None
            assert decision.reason
    for small, n_small in shown.items():
        for big, n_big in shown.items():
            if small < big:
                assert n_big is not None and n_small is not None
                assert safe(n_big - n_small, k)
