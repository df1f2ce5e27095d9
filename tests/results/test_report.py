"""Page builders: every figure passes the gate; hidden groups carry reasons, never numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from pulse.results import gate, report
from pulse.results.queries import PulseTallies, QuestionInfo
from pulse.results.stats import DimensionSums
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import PulseState, ReleaseMode

# Acme (1) with Eng (2) and Ops (3); Eng has Platform (4) and Data (5).
TREE: dict[int, int | None] = {1: None, 2: 1, 3: 1, 4: 2, 5: 2}
NAMES = {1: "Acme", 2: "Eng", 3: "Ops", 4: "Platform", 5: "Data"}
Q = QuestionInfo(11, "trust.colleagues", "trust", ScaleKind.AGREE5, False, "Trust", True)


def sums(scores: list[float]) -> DimensionSums:
    return DimensionSums(len(scores), sum(scores), sum(s * s for s in scores), 0)


def tallies(
    per_team: dict[int, list[float]],
    state: PulseState = PulseState.CLOSED,
    title: str = "Pulse",
    release: ReleaseMode = ReleaseMode.AFTER_CLOSE,
) -> PulseTallies:
    data = PulseTallies(1, title, datetime(2026, 11, 1, tzinfo=UTC), state, 5, 10, release)
    data.questions = [Q]
    data.responses = {t: len(s) for t, s in per_team.items()}
    data.invited = {t: len(s) + 1 for t, s in per_team.items()}
    data.dimensions = {"trust": {t: sums(s) for t, s in per_team.items()}}
    data.values = {Q.id: {t: {4: len(s)} for t, s in per_team.items()}}
    return data


def hr_groups() -> list[gate.Group]:
    return report.family(TREE, report.Viewer((1,), whole_org=True))


def test_small_team_is_hidden_with_a_reason_and_no_number() -> None:
    data = tallies({3: [50.0] * 8, 4: [70.0] * 9, 5: [20.0] * 3})
    current = report.view(TREE, data, hr_groups())
    board = report.dashboard(TREE, NAMES, hr_groups(), 5, [current])
    (row,) = board.rows
    assert not row.current.visible and row.current.estimate is None
    assert row.current.reason == "Fewer than 5 answers"
    assert board.participation.respondents is None
    assert not board.questions[0].visible and board.questions[0].percentages is None


def test_sibling_is_hidden_too_so_the_small_team_cannot_be_recovered() -> None:
    data = tallies({3: [50.0] * 8, 4: [70.0] * 9, 5: [20.0] * 3})
    current = report.view(TREE, data, hr_groups())
    platform = report.dashboard(TREE, NAMES, hr_groups(), 4, [current])
    eng = report.dashboard(TREE, NAMES, hr_groups(), 2, [current])
    assert eng.rows[0].current.visible  # 12 people
    assert not platform.rows[0].current.visible  # Eng minus Platform would reveal Data's 3
    assert "subtraction" in (platform.rows[0].current.reason or "")


def test_open_pulse_hides_everything_until_it_closes() -> None:
    data = tallies({3: [50.0] * 8, 4: [70.0] * 9}, state=PulseState.OPEN)
    current = report.view(TREE, data, hr_groups())
    board = report.dashboard(TREE, NAMES, hr_groups(), 1, [current])
    assert board.rows[0].current.reason == report.OPEN_HIDDEN
    assert board.participation.reason == report.OPEN_HIDDEN


def test_change_is_flagged_only_when_large_clear_and_surviving_bh() -> None:
    before = tallies({3: [30.0, 35.0, 25.0, 30.0, 40.0, 30.0]}, title="Spring")
    after = tallies({3: [70.0, 75.0, 65.0, 80.0, 70.0, 72.0]}, title="Autumn")
    groups = hr_groups()
    history = [report.view(TREE, before, groups), report.view(TREE, after, groups)]
    board = report.dashboard(TREE, NAMES, groups, 3, history)
    (change,) = board.rows[0].changes
    assert change.flag is not None and change.flag.flagged
    assert change.improved is True and change.against == "Spring"

    same = tallies({3: [31.0, 36.0, 24.0, 30.0, 41.0, 29.0]}, title="Autumn")
    history = [report.view(TREE, before, groups), report.view(TREE, same, groups)]
    (change,) = report.dashboard(TREE, NAMES, groups, 3, history).rows[0].changes
    assert change.flag is not None and not change.flag.flagged
    assert change.flag.reason == "the interval includes no change"


def test_bands_point_the_good_way_for_every_dimension() -> None:
    assert report.band("trust", 90.0) == 4
    assert report.band("burnout", 90.0) == 0  # high burnout is bad
    assert report.band("enps", -100.0) == 0 and report.band("enps", 100.0) == 4
    assert report.band("trust", None) is None


def test_heatmap_rows_follow_the_order_given_and_sort_hidden_last() -> None:
    data = tallies({3: [50.0] * 8, 4: [70.0] * 9, 5: [20.0] * 3})
    groups = hr_groups()
    current = report.view(TREE, data, groups)
    order = [(1, 0), (2, 1), (4, 2), (5, 2), (3, 1)]
    heat = report.heatmap(TREE, NAMES, groups, order, current, None)
    assert [r.name for r in heat.rows] == ["Acme", "Eng", "Platform", "Data", "Ops"]
    ranked = report.sort_rows(heat.rows, "trust", descending=True)
    assert [r.name for r in ranked][-2:] == ["Platform", "Data"]
    assert all(c.score.mean is None for r in ranked[-2:] for c in r.cells)


def test_a_question_asked_only_of_one_team_appears_only_where_it_was_asked() -> None:
    rating = QuestionInfo(
        12, "action.rating", "action_rating", ScaleKind.AGREE5, False, "Q&A", True, 4
    )
    current = tallies({4: [70.0] * 6, 5: [60.0] * 6, 3: [50.0] * 6})
    current.questions = [Q, rating]
    current.values[rating.id] = {4: {4: 6}}
    view = report.view(TREE, current, hr_groups())

    def asked(team: int) -> list[str]:
        return [
            row.question.text
            for row in report.dashboard(TREE, NAMES, hr_groups(), team, [view]).questions
        ]

    assert asked(4) == ["Trust", "Q&A"]  # Platform, where it was asked
    assert asked(2) == ["Trust", "Q&A"]  # Eng holds Platform
    assert asked(1) == ["Trust", "Q&A"]  # the organisation too
    assert asked(3) == ["Trust"]  # Ops was never asked: not even the title shows
    assert asked(5) == ["Trust"]
