"""Worked examples of the anonymity gate: what is hidden, why, and what is never leaked."""

from __future__ import annotations

import pytest

from pulse.results.gate import (
    AFTER_CLOSE,
    COMPLEMENTARY,
    NO_ANSWERS,
    Decision,
    Group,
    decide,
    decide_teams,
    own_key,
    release_decisions,
    released_count,
    roots,
    subtree,
    subtrees,
    team_key,
    viewer_groups,
)
from pulse.surveys.models import PulseState, ReleaseMode

K = 5

# Acme (1) holds Eng (2), Sales (3) and Ops (4); Eng holds Web (5) and Data (6).
ACME = {1: None, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2}


def shown(count: int) -> Decision:
    return Decision(visible=True, count=count, reason=None)


def hidden(reason: str) -> Decision:
    return Decision(visible=False, count=None, reason=reason)


def subtree_groups(tree: dict[int, int | None], teams: list[int]) -> list[Group]:
    return [Group(team_key(t), subtree(tree, t)) for t in teams]


def test_subtrees_of_many_teams_match_one_at_a_time() -> None:
    assert subtrees(ACME, [2, 6, 1, 99]) == {t: subtree(ACME, t) for t in (2, 6, 1)}


def test_subtree_and_roots_follow_the_tree() -> None:
    assert subtree(ACME, 1) == frozenset(ACME)
    assert subtree(ACME, 2) == {2, 5, 6}
    assert subtree(ACME, 6) == {6}
    assert roots({1: None, 2: 1, 7: None}) == [1, 7]


def test_bad_trees_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        subtree({1: None, 2: 9}, 1)
    with pytest.raises(ValueError, match="cycle"):
        subtree({1: None, 2: 3, 3: 2}, 1)
    with pytest.raises(ValueError, match="Unknown team"):
        subtree(ACME, 99)


def test_team_of_four_is_hidden() -> None:
    decisions = decide({1: None}, {1: 4}, [Group("team:1", frozenset({1}))], K)
    assert decisions == {"team:1": hidden("Fewer than 5 answers")}


def test_team_of_exactly_k_is_shown() -> None:
    decisions = decide({1: None}, {1: 5}, [Group("team:1", frozenset({1}))], K)
    assert decisions == {"team:1": shown(5)}


def test_one_small_sibling_takes_the_next_smallest_with_it() -> None:
    # Children of 7, 3 and 8 and nobody directly in the parent: parent minus the visible children
    # would be the hidden 3, so the next smallest child (7) goes too.
    tree = {1: None, 2: 1, 3: 1, 4: 1}
    counts = {2: 7, 3: 3, 4: 8}
    decisions = decide(tree, counts, subtree_groups(tree, [1, 2, 3, 4]), K)
    assert decisions == {
        "team:1": shown(18),
        "team:2": hidden(COMPLEMENTARY),
        "team:3": hidden("Fewer than 5 answers"),
        "team:4": shown(8),
    }


def test_parent_with_two_direct_members_hides_its_only_visible_child() -> None:
    # Parent 12 minus child 10 would show the parent's 2 direct members (often the manager's own
    # reports), so the child is hidden and the larger, less revealing parent total stays visible.
    tree = {1: None, 2: 1}
    decisions = decide(tree, {1: 2, 2: 10}, subtree_groups(tree, [1, 2]), K)
    assert decisions == {"team:1": shown(12), "team:2": hidden(COMPLEMENTARY)}


def test_parent_whose_direct_members_are_enough_keeps_its_child() -> None:
    tree = {1: None, 2: 1}
    decisions = decide(tree, {1: 5, 2: 10}, subtree_groups(tree, [1, 2]), K)
    assert decisions == {"team:1": shown(15), "team:2": shown(10)}


def test_parent_with_no_direct_members_and_one_child_shows_both() -> None:
    # Same people, same number: subtracting gives 0, which reveals nobody.
    tree = {1: None, 2: 1}
    decisions = decide(tree, {1: 0, 2: 10}, subtree_groups(tree, [1, 2]), K)
    assert decisions == {"team:1": shown(10), "team:2": shown(10)}


def test_hiding_a_department_exposes_its_teams_to_the_next_check() -> None:
    # Eng (2) has no direct members, so hiding it alone changes no subtraction: Acme minus Web minus
    # Data would still be Sales' 3. The smaller of its teams is hidden as well.
    counts = {3: 3, 5: 6, 6: 7}
    groups = subtree_groups(ACME, [1, 2, 3, 5, 6])
    decisions = decide(ACME, counts, groups, K)
    assert decisions == {
        "team:1": shown(16),
        "team:2": hidden(COMPLEMENTARY),
        "team:3": hidden("Fewer than 5 answers"),
        "team:5": hidden(COMPLEMENTARY),
        "team:6": shown(7),
    }


def test_ties_are_broken_by_key() -> None:
    tree = {1: None, 2: 1, 3: 1, 4: 1}
    counts = {2: 6, 3: 6, 4: 2}
    decisions = decide(tree, counts, subtree_groups(tree, [1, 2, 3, 4]), K)
    assert decisions["team:2"] == hidden(COMPLEMENTARY)
    assert decisions["team:3"] == shown(6)


def test_all_my_teams_against_one_of_them() -> None:
    # A manager of Web and Data sees each and "all my teams": 24 minus Web's 20 would be Data's 4.
    groups = viewer_groups(ACME, [5, 6], include_org=False, include_own=False)
    assert {g.key for g in groups} == {"team:5", "team:6", "mine"}
    decisions = decide(ACME, {5: 20, 6: 4}, groups, K)
    assert decisions == {
        "mine": shown(24),
        "team:5": hidden(COMPLEMENTARY),
        "team:6": hidden("Fewer than 5 answers"),
    }


def test_all_my_teams_when_every_team_is_large_enough() -> None:
    groups = viewer_groups(ACME, [5, 6], include_org=False, include_own=False)
    decisions = decide(ACME, {5: 20, 6: 9}, groups, K)
    assert decisions == {"mine": shown(29), "team:5": shown(20), "team:6": shown(9)}


def test_heatmap_row_for_hr() -> None:
    groups = viewer_groups(ACME, roots(ACME), include_org=True, include_own=False)
    counts = {3: 4, 4: 9, 5: 12, 6: 0}
    rows = decide_teams(ACME, counts, groups, [1, 2, 3, 4, 5, 6], K)
    # Acme 25 minus Eng 12 minus Ops 9 would be Sales' 4, so Ops (the next smallest) goes too.
    assert rows == {
        1: shown(25),
        2: shown(12),
        3: hidden("Fewer than 5 answers"),
        4: hidden(COMPLEMENTARY),
        5: shown(12),
        6: hidden(NO_ANSWERS),
    }


def test_heatmap_needs_the_rows_in_the_family() -> None:
    groups = viewer_groups(ACME, [2], include_org=False, include_own=False)
    with pytest.raises(ValueError, match="not in this viewer's family"):
        decide_teams(ACME, {5: 10}, groups, [3], K)


def test_organisation_against_a_managers_subtree() -> None:
    # Eng's manager also sees the organisation: 13 minus Eng's 10 would be the other 3 people.
    groups = viewer_groups(ACME, [2], include_org=True, include_own=False)
    decisions = decide(ACME, {2: 4, 5: 6, 3: 3}, groups, K)
    assert decisions["org"] == shown(13)
    assert decisions["team:2"] == decisions["mine"] == hidden(COMPLEMENTARY)


def test_organisation_equal_to_a_subtree_shows_both() -> None:
    groups = viewer_groups(ACME, [2], include_org=True, include_own=False)
    decisions = decide(ACME, {5: 6, 6: 7}, groups, K)
    assert decisions["org"] == decisions["team:2"] == shown(13)
    assert decisions["team:5"] == shown(6)


def test_parent_team_for_comparison_is_a_whole_subtree_only() -> None:
    groups = viewer_groups(ACME, [5], include_org=False, include_own=False, also_subtrees=[2])
    assert {g.key for g in groups} == {"team:5", "mine", "team:2"}
    decisions = decide(ACME, {5: 8, 6: 3}, groups, K)
    assert decisions == {"team:5": hidden(COMPLEMENTARY), "mine": hidden(COMPLEMENTARY)} | {
        "team:2": shown(11)
    }


def test_parent_comparison_that_would_straddle_all_my_teams_is_left_out() -> None:
    # Web's parent Eng holds Web but not Sales, so beside "all my teams" (Web and Sales) it would
    # overlap without nesting; Acme holds both and stays.
    groups = viewer_groups(ACME, [5, 3], include_org=False, include_own=False, also_subtrees=[2, 1])
    assert {g.key for g in groups} == {"team:3", "team:5", "mine", "team:1"}
    assert decide(ACME, {3: 9, 5: 9, 4: 9}, groups, K)["team:1"] == shown(27)


def test_own_members_group_is_the_team_without_its_children() -> None:
    groups = viewer_groups(ACME, [2], include_org=False, include_own=True)
    assert {g.key: g.teams for g in groups if g.key.startswith("own:")} == {
        own_key(2): {2},
        own_key(5): {5},
        own_key(6): {6},
    }
    decisions = decide(ACME, {2: 6, 5: 9, 6: 8}, groups, K)
    assert decisions[own_key(2)] == shown(6)
    assert decisions[own_key(5)] == decisions[team_key(5)] == shown(9)


def test_zero_counts_say_no_answers() -> None:
    groups = [*subtree_groups(ACME, [1, 2, 3]), Group("nobody", frozenset())]
    decisions = decide(ACME, {}, groups, K)
    assert set(decisions.values()) == {hidden(NO_ANSWERS)}
    assert set(decisions) == {"team:1", "team:2", "team:3", "nobody"}


def test_comment_threshold_is_applied_the_same_way() -> None:
    tree = {1: None, 2: 1}
    counts = {1: 6, 2: 8}
    groups = subtree_groups(tree, [1, 2])
    assert decide(tree, counts, groups, K) == {"team:1": shown(14), "team:2": shown(8)}
    k_c = 10
    assert decide(tree, counts, groups, k_c) == {
        "team:1": shown(14),
        "team:2": hidden("Fewer than 10 answers"),
    }


def test_non_laminar_family_is_rejected() -> None:
    groups = [Group("a", frozenset({2, 3})), Group("b", frozenset({3, 4}))]
    with pytest.raises(ValueError, match="overlaps"):
        decide(ACME, {2: 9, 3: 9, 4: 9}, groups, K)


def test_identical_sets_share_a_decision_and_conflicting_keys_are_rejected() -> None:
    groups = [Group("team:6", frozenset({6})), Group("own:6", frozenset({6}))]
    assert decide(ACME, {6: 3}, groups, K) == {
        "team:6": hidden("Fewer than 5 answers"),
        "own:6": hidden("Fewer than 5 answers"),
    }
    clash = [Group("x", frozenset({5})), Group("x", frozenset({6}))]
    with pytest.raises(ValueError, match="share the key"):
        decide(ACME, {}, clash, K)


@pytest.mark.parametrize(
    ("counts", "groups", "k", "message"),
    [
        ({1: 3}, [Group("a", frozenset({1}))], 2, "at least 3"),
        ({1: -1}, [Group("a", frozenset({1}))], K, "negative"),
        ({42: 3}, [Group("a", frozenset({1}))], K, "unknown team"),
        ({1: 3}, [Group("a", frozenset({42}))], K, "unknown teams"),
    ],
)
def test_bad_inputs_are_rejected(
    counts: dict[int, int], groups: list[Group], k: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        decide(ACME, counts, groups, k)


def test_open_pulse_released_after_close_hides_everything() -> None:
    groups = viewer_groups(ACME, roots(ACME), include_org=True, include_own=True)
    counts = dict.fromkeys(ACME, 50)
    decisions = release_decisions("open", "after_close", ACME, counts, groups, K)
    assert set(decisions) == {g.key for g in groups}
    assert set(decisions.values()) == {hidden(AFTER_CLOSE)}


def test_closed_pulse_gets_the_ordinary_decision_and_enums_are_accepted() -> None:
    groups = subtree_groups(ACME, [1, 2, 3])
    counts = {3: 7, 5: 9}
    closed = release_decisions(PulseState.CLOSED, ReleaseMode.AFTER_CLOSE, ACME, counts, groups, K)
    assert closed == decide(ACME, counts, groups, K)
    scheduled = release_decisions(
        PulseState.SCHEDULED, ReleaseMode.AFTER_CLOSE, ACME, {}, groups, K
    )
    assert set(scheduled.values()) == {hidden(AFTER_CLOSE)}


def test_released_count_rounds_down_to_whole_steps() -> None:
    assert [released_count(n, 5) for n in (0, 4, 5, 9, 10, 14, 23)] == [0, 0, 5, 5, 10, 10, 20]


def test_open_pulse_in_steps_shows_only_completed_steps() -> None:
    groups = subtree_groups(ACME, [1, 2, 3, 4, 5])
    counts = {3: 4, 4: 0, 5: 13, 6: 1}
    decisions = release_decisions("open", "steps", ACME, counts, groups, K)
    so_far = hidden("Fewer than 5 answers so far")
    assert decisions == {
        "team:1": shown(15),  # 18 answers, three whole steps
        "team:2": shown(10),  # 14 answers
        "team:3": so_far,
        "team:4": so_far,  # no answers reads the same: the first answer's arrival stays unseen
        "team:5": shown(10),
    }


def test_unknown_state_or_mode_is_rejected() -> None:
    groups = subtree_groups(ACME, [1])
    with pytest.raises(ValueError, match="release mode"):
        release_decisions("open", "live", ACME, {}, groups, K)
    with pytest.raises(ValueError, match="pulse state"):
        release_decisions("archived", "steps", ACME, {}, groups, K)


def test_suppressed_counts_never_appear_in_the_output() -> None:
    tree = {1: None, 2: 1, 3: 1, 4: 1}
    counts = {1: 0, 2: 7, 3: 3, 4: 8}
    decisions = decide(tree, counts, subtree_groups(tree, [1, 2, 3, 4]), K)
    for key in ("team:2", "team:3"):
        decision = decisions[key]
        assert decision.count is None
        assert not any(str(n) in repr(decision) for n in (counts[2], counts[3]))
    opened = release_decisions("open", "steps", tree, counts, subtree_groups(tree, [2, 3]), K)
    assert opened["team:2"] == shown(5)
    hidden_three = opened["team:3"]
    assert hidden_three.count is None
    assert hidden_three.reason is not None and "3" not in hidden_three.reason
