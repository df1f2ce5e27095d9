"""The array-based fast paths give exactly what the plain one-at-a-time code gives.

`reference_decide` is the gate as first written (nodes, smallest-first complementary
suppression); the arrays in pulse.results.gate must reproduce its every decision, reasons and
tie-breaks included, on the same random trees, counts and viewers as the property tests. The
heatmap's array figures must equal, cell by cell, what `report.score` and `report.flag_changes`
give for the same groups.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings

from pulse.results import gate, report
from pulse.results.gate import COMPLEMENTARY, NO_ANSWERS, Decision, Group, too_few
from pulse.results.queries import PulseTallies, QuestionInfo
from pulse.results.stats import DimensionSums
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import PulseState, ReleaseMode
from tests.results.test_gate_properties import Scenario, scenarios


@dataclass(eq=False)
class _Node:
    name: str
    teams: frozenset[int]
    count: int
    children: list[_Node]
    visible: bool = False
    reason: str | None = None


def _forest(
    by_set: Mapping[frozenset[int], Sequence[str]], counts: Mapping[int, int]
) -> list[_Node]:
    items = [(teams, keys[0]) for teams, keys in by_set.items() if teams]
    items.sort(key=lambda item: (-len(item[0]), item[1]))
    nodes: list[_Node] = []
    owner: dict[int, _Node] = {}
    for teams, name in items:
        node = _Node(name, teams, sum(counts.get(t, 0) for t in teams), [])
        parents = {owner.get(t) for t in teams}
        assert len(parents) == 1
        parent = parents.pop()
        if parent is not None:
            parent.children.append(node)
        for t in teams:
            owner[t] = node
        nodes.append(node)
    return nodes


def _inside(node: _Node) -> list[_Node]:
    found: list[_Node] = []
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.visible:
            found.append(child)
        else:
            stack.extend(child.children)
    return found


def reference_decide(
    counts: Mapping[int, int], groups: Iterable[Group], k: int
) -> dict[str, Decision]:
    by_set: dict[frozenset[int], list[str]] = {}
    for group in groups:
        if group.key not in {key for keys in by_set.values() for key in keys}:
            by_set.setdefault(group.teams, []).append(group.key)
    for keys in by_set.values():
        keys.sort()
    nodes = _forest(by_set, counts)
    for node in nodes:
        if node.count == 0:
            node.reason = NO_ANSWERS
        elif node.count < k:
            node.reason = too_few(k)
        else:
            node.visible = True
    for node in reversed(nodes):
        if not node.visible:
            continue
        inside = _inside(node)
        remainder = node.count - sum(sub.count for sub in inside)
        while 0 < remainder < k:
            victim = min(inside, key=lambda sub: (sub.count, sub.name))
            victim.visible = False
            victim.reason = COMPLEMENTARY
            inside.remove(victim)
            exposed = _inside(victim)
            inside.extend(exposed)
            remainder += victim.count - sum(sub.count for sub in exposed)
    node_of = {node.name: node for node in nodes}
    decisions: dict[str, Decision] = {}
    for teams, keys in by_set.items():
        node = node_of.get(keys[0]) if teams else None
        if node is None:
            decision = Decision(False, None, NO_ANSWERS)
        elif node.visible:
            decision = Decision(True, node.count, None)
        else:
            decision = Decision(False, None, node.reason)
        for key in keys:
            decisions[key] = decision
    return decisions


@settings(max_examples=500, derandomize=True, deadline=None)
@given(scenarios())
def test_arrays_decide_exactly_as_the_reference(scenario: Scenario) -> None:
    expected = reference_decide(scenario.counts, scenario.groups, scenario.k)
    assert gate.decide(scenario.tree, scenario.counts, scenario.groups, scenario.k) == expected


@settings(max_examples=200, derandomize=True, deadline=None)
@given(scenarios())
def test_one_forest_serves_many_count_vectors(scenario: Scenario) -> None:
    forest = gate.prepare(scenario.tree, scenario.groups)
    for shift in range(3):
        counts = {t: (n + shift * t) % 13 for t, n in scenario.counts.items()}
        decided = forest.decide(counts, scenario.k)
        assert dict(decided) == reference_decide(counts, scenario.groups, scenario.k)


def test_aggregate_sums_each_groups_teams() -> None:
    tree: dict[int, int | None] = {1: None, 2: 1, 3: 1, 4: 2}
    groups = gate.viewer_groups(tree, [1], include_org=True, include_own=True)
    forest = gate.prepare(tree, groups)
    values = {1: 1.5, 2: 2.0, 3: 4.0, 4: 8.0}
    sums = forest.aggregate(np.column_stack([forest.dense(values), 2 * forest.dense(values)]))
    for group in groups:
        node = forest.node_of_key[group.key]
        expected = sum(values[t] for t in group.teams)
        assert sums[node].tolist() == [expected, 2 * expected]


# --- the heatmap ---------------------------------------------------------------------------------

QUESTIONS = [
    QuestionInfo(1, "burnout.q", "burnout", ScaleKind.AGREE5, False, "B", True),
    QuestionInfo(2, "trust.q", "trust", ScaleKind.AGREE5, False, "T", True),
    QuestionInfo(3, "enps.q", "enps", ScaleKind.SCORE11, False, "E", True),
]


def random_pulse(rng: random.Random, tree: dict[int, int | None], title: str) -> PulseTallies:
    dimensions: dict[str, dict[int, DimensionSums]] = {"burnout": {}, "trust": {}, "enps": {}}
    responses = {}
    for team in tree:
        n = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 20])
        if not n:
            continue
        responses[team] = n
        centre = rng.uniform(10, 90)
        for code in ("burnout", "trust"):
            # Some teams answer identically, so the exact-difference branch is exercised too.
            scores = (
                [centre] * n if rng.random() < 0.1 else [rng.gauss(centre, 15) for _ in range(n)]
            )
            at_risk = sum(1 for v in scores if v >= 50)
            dimensions[code][team] = DimensionSums(
                n, sum(scores), sum(v * v for v in scores), at_risk
            )
        points = [rng.choice([-100.0, 0.0, 100.0]) for _ in range(n)]
        dimensions["enps"][team] = DimensionSums(n, sum(points), sum(v * v for v in points), 0)
    return PulseTallies(
        1,
        title,
        datetime(2026, 1, 1, tzinfo=UTC),
        PulseState.CLOSED,
        rng.choice([3, 5]),
        10,
        ReleaseMode.AFTER_CLOSE,
        questions=QUESTIONS,
        responses=responses,
        invited={t: n + rng.randint(0, 5) for t, n in responses.items()},
        dimensions=dimensions,
    )


def same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_heatmap_cells_equal_the_scalar_report() -> None:
    rng = random.Random(4)
    for _ in range(40):
        size = rng.randint(1, 30)
        tree: dict[int, int | None] = {1: None}
        for team in range(2, size + 1):
            tree[team] = rng.randint(1, team - 1)
        whole = size < 3 or rng.random() < 0.5
        managed = (1,) if whole else tuple(sorted(rng.sample(sorted(tree), 2)))
        viewer = report.Viewer(managed, whole_org=managed == (1,))
        groups = report.family(tree, viewer)
        visible = sorted(set().union(*(gate.subtree(tree, r) for r in managed)))
        order = [(t, 0) for t in visible]
        names = {t: f"T{t}" for t in tree}
        before = report.view(tree, random_pulse(rng, tree, "Before"), groups)
        after = report.view(tree, random_pulse(rng, tree, "After"), groups)
        heat = report.heatmap(tree, names, groups, order, after, before)

        by_key = {g.key: g for g in groups}
        raw = []
        for team in visible:
            group = by_key[gate.team_key(team)]
            for code, _name in heat.columns:
                earlier = report.score(before.tallies, before.gated, code, group)
                later = report.score(after.tallies, after.gated, code, group)
                raw.append((code, "since the previous pulse", "Before", earlier, later))
        expected_changes = iter(report.flag_changes(raw))
        for row in heat.rows:
            group = by_key[gate.team_key(row.team_id)]
            expected = report.participation(after.tallies, after.gated, group)
            assert row.participation == expected
            for cell in row.cells:
                want = report.score(after.tallies, after.gated, cell.code, group)
                got = cell.score
                assert (got.visible, got.reason, got.precision) == (
                    want.visible,
                    want.reason,
                    want.precision,
                )
                assert same_number(got.mean, want.mean)
                if want.estimate and got.estimate:
                    assert same_number(got.estimate.low, want.estimate.low)
                    assert same_number(got.estimate.half_width, want.estimate.half_width)
                assert (got.risk is None) == (want.risk is None)
                assert (got.enps is None) == (want.enps is None)
                change = next(expected_changes)
                assert cell.change is not None
                assert (cell.change.reason, cell.change.improved) == (
                    change.reason,
                    change.improved,
                )
                assert (cell.change.flag is None) == (change.flag is None)
                if change.flag and cell.change.flag:
                    assert cell.change.flag == change.flag
                if change.comparison and cell.change.comparison:
                    assert same_number(cell.change.comparison.p, change.comparison.p)
                    assert same_number(cell.change.comparison.low, change.comparison.low)
                assert cell.band == report.band(cell.code, want.mean)
