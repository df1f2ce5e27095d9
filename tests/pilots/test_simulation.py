"""SCIENCE.md's acceptance tests for the pilot analysis, by simulation with fixed seeds.

Each simulated pilot draws individual 0-100 scores (team level + the team's drift at that pulse
+ personal noise, clipped to the scale), pools them into each team's n and mean per pulse, and
hands only those to the analysis, as the report does with gated tallies. Anonymous pulses are
independent samples, so every pulse draws fresh people.
"""

from __future__ import annotations

import numpy as np

from pulse.pilots import analysis
from pulse.pilots.analysis import Cell, PulseInfo, Unit

PULSES = (
    PulseInfo(1, "Baseline 1", "baseline"),
    PulseInfo(2, "Baseline 2", "baseline"),
    PulseInfo(3, "During 1", "during"),
    PulseInfo(4, "Final", "final"),
)
TEAM_SD = 8.0  # how much teams differ, steadily
DRIFT_SD = 3.0  # a team's ups and downs from pulse to pulse
PERSON_SD = 15.0


def simulate(
    rng: np.random.Generator, teams_per_arm: int, people: int, effect: float
) -> list[Unit]:
    """One pilot's burnout figures; `effect` is added to pilot teams from the start on."""
    teams = 2 * teams_per_arm
    pilot = np.arange(teams) < teams_per_arm
    level = 50.0 + rng.normal(0.0, TEAM_SD, teams)
    after = np.array([p.phase != "baseline" for p in PULSES])
    drift = rng.normal(0.0, DRIFT_SD, (teams, len(PULSES)))
    shift = np.outer(pilot, after) * effect
    noise = rng.normal(0.0, PERSON_SD, (teams, len(PULSES), people))
    scores = np.clip((level[:, None] + drift + shift)[:, :, None] + noise, 0.0, 100.0)
    means = scores.mean(axis=2)
    return [
        Unit(
            team,
            f"Team {team}",
            bool(pilot[team]),
            {p.key: Cell(people, float(means[team, i])) for i, p in enumerate(PULSES)},
        )
        for team in range(teams)
    ]


def run(units: list[Unit], permutations: int) -> analysis.Analysis:
    return analysis.analyse(
        "burnout", "Burnout", False, PULSES, units, permutations=permutations, with_events=False
    )


def test_t1_the_interval_covers_no_effect_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(101)
    covered = 0
    for _ in range(200):
        result = run(simulate(rng, teams_per_arm=8, people=8, effect=0.0), permutations=999)
        assert result.effect is not None
        covered += not result.effect.interval.excludes_zero
    assert 180 <= covered <= 198, covered  # 90%-99% of 200


def test_t2_a_known_effect_is_found() -> None:
    rng = np.random.default_rng(202)
    estimates = []
    found = 0
    runs = 60
    for _ in range(runs):
        result = run(simulate(rng, teams_per_arm=20, people=8, effect=-10.0), permutations=999)
        assert result.effect is not None
        assert not result.effect.interval.enumerated  # C(40, 20) arrangements: sampled
        estimates.append(result.effect.estimate)
        found += result.effect.interval.high is not None and result.effect.interval.high < 0
        if result.effect.interval.high is not None and result.effect.interval.high < 0:
            assert "fell about" in result.verdict and "excludes no change" in result.verdict
            assert "improvement" in result.verdict
    assert abs(float(np.mean(estimates)) + 10.0) < 3.0, np.mean(estimates)
    assert found >= 0.8 * runs, found


def test_t3_a_small_pilot_is_called_weak_evidence() -> None:
    rng = np.random.default_rng(303)
    for effect in (0.0, -10.0, -25.0):
        for _ in range(30):
            result = run(simulate(rng, teams_per_arm=3, people=8, effect=effect), permutations=999)
            assert result.weak
            assert result.verdict.startswith("Too few teams to tell")
            assert "weak evidence" in result.verdict
            assert "excludes no change" not in result.verdict
            assert "improvement" not in result.verdict
            assert result.effect is not None
            # 20 arrangements of 3 + 3 teams: no effect can reach p < 0.05.
            assert result.effect.interval.arrangements == 20
            assert not result.effect.interval.can_reach
            assert not result.effect.interval.excludes_zero
