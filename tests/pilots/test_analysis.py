"""The pilot analysis core: hand-computed estimates, the interval, wording and edge cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pulse.pilots import analysis
from pulse.pilots.analysis import Cell, PulseInfo, Unit

B1 = PulseInfo(1, "Baseline 1", "baseline")
B2 = PulseInfo(2, "Baseline 2", "baseline")
D1 = PulseInfo(3, "During 1", "during")
FINAL = PulseInfo(4, "Final", "final")
PULSES = (B1, B2, D1, FINAL)


def unit(key: int, pilot: bool, **cells: tuple[int, float]) -> Unit:
    """cells: b1=(n, mean), b2=..., d1=..., final=..."""
    keys = {"b1": 1, "b2": 2, "d1": 3, "final": 4}
    return Unit(
        key, f"Team {key}", pilot, {keys[k]: Cell(n, mean) for k, (n, mean) in cells.items()}
    )


def test_did_weights_team_means_by_respondents() -> None:
    units = [
        unit(1, True, b1=(10, 50.0), final=(5, 40.0)),
        unit(2, True, b1=(10, 70.0), final=(15, 60.0)),
        unit(3, False, b1=(10, 50.0), final=(10, 50.0)),
        unit(4, False, b1=(10, 60.0), final=(10, 62.0)),
    ]
    did = analysis.difference_in_differences(units, [1], 4)
    assert did is not None
    # Pilot: 60 -> (5*40 + 15*60)/20 = 55; comparison: 55 -> 56.
    assert did.pilot_before.mean == pytest.approx(60.0)
    assert did.pilot_after.mean == pytest.approx(55.0)
    assert did.comparison_before.mean == pytest.approx(55.0)
    assert did.comparison_after.mean == pytest.approx(56.0)
    assert did.estimate == pytest.approx(-6.0)
    assert did.pilot_after.n == 20 and did.comparison_before.units == 2
    assert did.interval.enumerated and did.interval.arrangements == 6


def test_baselines_are_pooled_by_respondents() -> None:
    units = [
        unit(1, True, b1=(10, 40.0), b2=(30, 60.0), final=(10, 50.0)),
        unit(2, False, b1=(10, 50.0), b2=(10, 50.0), final=(10, 50.0)),
    ]
    did = analysis.difference_in_differences(units, [1, 2], 4)
    assert did is not None
    assert did.pilot_before.mean == pytest.approx(55.0)  # (400 + 1800) / 40
    assert did.estimate == pytest.approx(-5.0)


def _brute_force_interval(
    units: list[Unit], before: list[int], after: int, grid: np.ndarray
) -> tuple[float, float]:
    """Every effect on the grid that an exhaustive two-sided permutation test keeps."""
    pilots = [u for u in units if u.pilot]
    others = [u for u in units if not u.pilot]
    ordered = pilots + others

    def estimate(chosen: set[int], shift: float) -> float:
        def arm(members: list[Unit]) -> float:
            nb = sum(u.cells[p].n for u in members for p in before)
            sb = sum(u.cells[p].n * u.cells[p].mean for u in members for p in before)
            na = sum(u.cells[after].n for u in members)
            sa = sum(u.cells[after].n * (u.cells[after].mean - shift * u.pilot) for u in members)
            return sa / na - sb / nb

        inside = [u for i, u in enumerate(ordered) if i in chosen]
        outside = [u for i, u in enumerate(ordered) if i not in chosen]
        return arm(inside) - arm(outside)

    kept = []
    arrangements = [set(c) for c in itertools.combinations(range(len(ordered)), len(pilots))]
    for shift in grid:
        real = estimate(set(range(len(pilots))), shift)
        stats = [estimate(c, shift) for c in arrangements]
        p = np.mean([abs(s) >= abs(real) - 1e-9 for s in stats])
        if p > 0.05:
            kept.append(shift)
    return min(kept), max(kept)


def test_the_interval_matches_an_exhaustive_permutation_test() -> None:
    rng = np.random.default_rng(7)
    units = [
        unit(
            i,
            i < 4,
            b1=(int(rng.integers(5, 12)), float(rng.normal(50, 8))),
            final=(int(rng.integers(5, 12)), float(rng.normal(45 if i < 4 else 50, 8))),
        )
        for i in range(8)
    ]
    did = analysis.difference_in_differences(units, [1], 4)
    assert did is not None and did.interval.low is not None and did.interval.high is not None
    grid = np.arange(-60.0, 60.0, 0.25)
    low, high = _brute_force_interval(units, [1], 4, grid)
    assert did.interval.low == pytest.approx(low, abs=0.3)
    assert did.interval.high == pytest.approx(high, abs=0.3)


def _many(pilot_change: float, teams: int = 12, seed: int = 1) -> list[Unit]:
    rng = np.random.default_rng(seed)
    return [
        unit(
            i,
            i < teams,
            b1=(8, float(rng.normal(50, 5))),
            b2=(8, float(rng.normal(50, 5))),
            final=(8, float(rng.normal(50, 5)) + (pilot_change if i < teams else 0.0)),
        )
        for i in range(2 * teams)
    ]


def test_a_fixed_seed_gives_the_same_interval_every_time() -> None:
    units = _many(-8.0)
    first = analysis.difference_in_differences(units, [1, 2], 4)
    again = analysis.difference_in_differences(units, [1, 2], 4)
    other = analysis.difference_in_differences(units, [1, 2], 4, seed=99)
    assert first is not None and again is not None and other is not None
    assert not first.interval.enumerated  # C(24, 12) arrangements: a seeded sample
    assert first.interval == again.interval
    assert first.estimate == other.estimate
    assert first.interval != other.interval  # a different sample of arrangements


def test_a_clear_effect_is_worded_as_one_with_its_direction() -> None:
    result = analysis.analyse("burnout", "Burnout", False, PULSES, _many(-15.0))
    assert result.effect is not None and result.effect.interval.excludes_zero
    assert not result.weak
    assert result.verdict.startswith("Burnout fell about 1")
    assert "excludes no change" in result.verdict and "improvement" in result.verdict
    trust = analysis.analyse("trust", "Trust", True, PULSES, _many(-15.0))
    assert "change for the worse" in trust.verdict  # trust falling is bad


def test_no_clear_difference_says_so_with_the_interval() -> None:
    result = analysis.analyse("trust", "Trust", True, PULSES, _many(0.0, seed=3))
    assert result.effect is not None and not result.effect.interval.excludes_zero
    assert result.verdict.startswith("No clear difference: the interval runs from")


def test_four_teams_per_arm_is_weak_evidence_even_when_the_interval_excludes_zero() -> None:
    result = analysis.analyse("burnout", "Burnout", False, PULSES, _many(-30.0, teams=4))
    assert result.effect is not None
    assert result.effect.interval.can_reach  # 70 arrangements: p can go below 0.05
    assert result.weak and result.verdict.startswith("Too few teams to tell: with 4 teams")
    assert "excludes no change" not in result.verdict


def test_without_comparison_teams_only_before_and_after_is_shown() -> None:
    units = [u for u in _many(-10.0) if u.pilot]
    result = analysis.analyse("burnout", "Burnout", False, PULSES, units)
    assert result.effect is None and result.before_after is not None
    assert result.events == () and result.pre_trend is None
    assert "cannot separate the pilot from everything else" in result.verdict
    assert result.weak


def test_pre_trend_flags_arms_already_drifting_apart() -> None:
    units = [
        unit(
            i,
            i < 8,
            b1=(8, 50.0 + i % 3),
            b2=(8, (40.0 if i < 8 else 50.0) + i % 3),
            final=(8, 40.0 + i % 3),
        )
        for i in range(16)
    ]
    result = analysis.analyse("burnout", "Burnout", False, PULSES, units)
    assert result.pre_trend is not None and result.pre_trend.diverging
    assert "already diverging" in result.verdict


def test_pre_trend_reports_parallel_trends() -> None:
    result = analysis.analyse("burnout", "Burnout", False, PULSES, _many(-15.0))
    assert result.pre_trend is not None and not result.pre_trend.diverging
    assert result.pre_trend.verdict == "Trends were parallel before the pilot."


def test_one_baseline_has_no_pre_trend() -> None:
    pulses = (B1, FINAL)
    result = analysis.analyse("burnout", "Burnout", False, pulses, _many(-15.0))
    assert result.pre_trend is None and result.effect is not None


def test_the_latest_pulse_during_is_used_until_the_final_one_has_results() -> None:
    units = [Unit(u.key, u.name, u.pilot, {**u.cells, 3: Cell(8, 45.0)}) for u in _many(-15.0)]
    without_final = [
        Unit(u.key, u.name, u.pilot, {k: c for k, c in u.cells.items() if k != 4}) for u in units
    ]
    result = analysis.analyse("burnout", "Burnout", False, PULSES, without_final)
    assert result.after == D1 and not result.after_is_final
    assert any("read at During 1" in note for note in result.notes)
    full = analysis.analyse("burnout", "Burnout", False, PULSES, units)
    assert full.after == FINAL and full.after_is_final


def test_units_missing_at_either_end_are_left_out_and_counted() -> None:
    units = _many(-15.0)
    gone = Unit(units[0].key, units[0].name, True, {1: Cell(8, 50.0), 2: Cell(8, 50.0)})
    result = analysis.analyse("burnout", "Burnout", False, PULSES, [gone, *units[1:]])
    assert result.effect is not None and result.effect.left_out == (units[0].name,)
    assert result.effect.pilot_after.units == 11
    final_count = next(c for c in result.counts if c.pulse == FINAL)
    assert final_count.pilot.teams == 11 and final_count.missing == (units[0].name,)
    assert final_count.pilot.respondents == 88


def test_event_study_is_zero_on_average_at_the_baselines() -> None:
    result = analysis.analyse("burnout", "Burnout", False, PULSES, _many(-15.0))
    points = {p.pulse.key: p.did for p in result.events}
    b1, b2, final = points[1], points[2], points[4]
    assert b1 is not None and b2 is not None and final is not None
    # Equal respondents at both baselines: their gaps from the pooled gap cancel.
    assert b1.estimate + b2.estimate == pytest.approx(0.0)
    assert final.estimate == pytest.approx(result.effect.estimate if result.effect else 0.0)
    assert points[3] is None  # no figures during


def test_no_results_yet() -> None:
    units = [Unit(1, "A", True, {}), Unit(2, "B", False, {})]
    result = analysis.analyse("burnout", "Burnout", False, PULSES, units)
    assert result.effect is None and result.verdict == "No results yet."
    only_baseline = [
        Unit(1, "A", True, {1: Cell(8, 50.0)}),
        Unit(2, "B", False, {1: Cell(8, 50.0)}),
    ]
    result = analysis.analyse("burnout", "Burnout", False, PULSES, only_baseline)
    assert result.verdict.startswith("Not yet")


def test_wording_of_numbers() -> None:
    assert analysis.signed(-12.4) == "\u221212"
    assert analysis.signed(6.6) == "+7"
    assert analysis.signed(0.2) == "0"
    interval = analysis.Interval(None, 4.2, 20, True, 0.1)
    assert analysis.interval_text(interval) == "no lower limit to +4"
    assert not interval.bounded and not interval.can_reach and not interval.excludes_zero
