"""The statistics core reproduces SCIENCE.md's vectors and behaves at the edges."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from pulse.results.stats import (
    MID_0_100,
    MID_1_5,
    Comparison,
    DimensionSums,
    MeanEstimate,
    at_risk_share,
    benjamini_hochberg,
    change_flag,
    combine_counts,
    combine_sums,
    distribution,
    enps,
    enps_from_sums,
    enps_groups,
    mean_interval,
    newcombe,
    nonresponse_bounds,
    precision_word,
    response_rate,
    two_proportion_p,
    welch,
    wilson,
)

PROPERTY = settings(max_examples=300, derandomize=True, deadline=None, database=None)


def from_values(values: list[float]) -> MeanEstimate:
    return mean_interval(len(values), sum(values), sum(v * v for v in values))


# --- means ---------------------------------------------------------------------------------


def test_mean_interval_matches_science_vector() -> None:
    est = from_values([4, 5, 3, 4, 2, 5])
    assert est.n == 6
    assert est.mean == pytest.approx(3.833, abs=5e-4)
    # The exact lower bound is 2.606496; SCIENCE.md prints 2.607, rounded from 2.6065.
    assert est.low == pytest.approx(2.6065, abs=5e-5)
    assert est.low == pytest.approx(2.607, abs=6e-4)
    assert est.high == pytest.approx(5.060, abs=5e-4)
    assert est.high is not None and est.mean is not None
    assert est.half_width == pytest.approx(est.high - est.mean)


def test_mean_interval_without_answers_has_no_mean() -> None:
    assert mean_interval(0, 0.0, 0.0) == MeanEstimate(0, None, None, None, None, None)


def test_mean_interval_of_one_answer_has_a_mean_but_no_interval() -> None:
    est = mean_interval(1, 75.0, 5625.0)
    assert est.mean == 75.0
    assert (est.sd, est.low, est.high, est.half_width) == (None, None, None, None)
    assert not est.has_interval


def test_mean_interval_of_two_answers_uses_t_with_one_degree_of_freedom() -> None:
    est = from_values([40.0, 60.0])
    # s = 14.142, s / sqrt(2) = 10, t(1, .975) = 12.706
    assert est.half_width == pytest.approx(127.062, abs=5e-3)


def test_identical_answers_give_a_zero_width_interval() -> None:
    est = from_values([62.5] * 7)
    assert est.sd == 0.0
    assert est.low == est.high == pytest.approx(62.5)


def test_tiny_negative_variance_from_rounding_is_clamped() -> None:
    # 0.1 is not exact in binary: the centred sum of squares comes out a hair below zero.
    n, value = 3, 0.1
    total, total_sq = n * value, n * value * value
    assert total_sq - total * (total / n) < 0
    est = mean_interval(n, total, total_sq)
    assert est.sd == 0.0
    assert est.half_width == 0.0


def test_mean_interval_rejects_negative_n_and_bad_confidence() -> None:
    with pytest.raises(ValueError):
        mean_interval(-1, 0.0, 0.0)
    with pytest.raises(ValueError):
        mean_interval(5, 10.0, 30.0, confidence=1.0)


def test_clipped_cuts_bounds_to_the_scale_but_keeps_the_half_width() -> None:
    est = from_values([4, 5, 3, 4, 2, 5]).clipped(1.0, 5.0)
    assert est.high == 5.0
    assert est.low == pytest.approx(2.6065, abs=5e-5)
    assert est.half_width == pytest.approx(1.227, abs=5e-4)
    assert mean_interval(1, 3.0, 9.0).clipped(1.0, 5.0).low is None


@pytest.mark.parametrize(
    ("half_width", "scale", "word"),
    [
        (5.0, "0-100", "good"),
        (7.5, "0-100", "good"),
        (7.6, "0-100", "fair"),
        (15.0, "0-100", "fair"),
        (15.1, "0-100", "low precision"),
        (0.3, "1-5", "good"),
        (0.5, "1-5", "fair"),
        (0.75, "1-5", "fair"),
        (0.76, "1-5", "low precision"),
    ],
)
def test_precision_word_bands(half_width: float, scale: str, word: str) -> None:
    est = MeanEstimate(10, 50.0, 1.0, 50.0 - half_width, 50.0 + half_width, half_width)
    assert precision_word(est, scale) == word  # type: ignore[arg-type]


def test_precision_word_without_interval_is_low() -> None:
    assert precision_word(mean_interval(1, 50.0, 2500.0)) == "low precision"


def test_science_vector_is_low_precision_on_1_to_5() -> None:
    assert precision_word(from_values([4, 5, 3, 4, 2, 5]), "1-5") == "low precision"


# --- proportions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (4, 6, 0.3000, 0.9032),
        (0, 5, 0.0000, 0.4345),
        (5, 5, 0.5655, 1.0000),
        (7, 10, 0.3968, 0.8922),
        (12, 20, 0.3866, 0.7812),
        (3, 8, 0.1368, 0.6943),
    ],
)
def test_wilson_matches_science_vectors(k: int, n: int, low: float, high: float) -> None:
    prop = wilson(k, n)
    assert prop.p == pytest.approx(k / n)
    assert prop.low == pytest.approx(low, abs=5e-5)
    assert prop.high == pytest.approx(high, abs=5e-5)


def test_wilson_bounds_are_exact_at_zero_and_all() -> None:
    assert wilson(0, 7).low == 0.0
    assert wilson(7, 7).high == 1.0


def test_wilson_without_answers_is_undefined() -> None:
    prop = wilson(0, 0)
    assert (prop.p, prop.low, prop.high) == (None, None, None)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        wilson(6, 5)
    with pytest.raises(ValueError):
        wilson(-1, 5)


@PROPERTY
@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n))
    )
)
def test_wilson_contains_p_stays_in_unit_range_and_matches_scipy(kn: tuple[int, int]) -> None:
    n, k = kn
    prop = wilson(k, n)
    assert prop.p is not None and prop.low is not None and prop.high is not None
    assert 0.0 <= prop.low <= prop.p <= prop.high <= 1.0
    reference = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert prop.low == pytest.approx(reference.low, abs=1e-12)
    assert prop.high == pytest.approx(reference.high, abs=1e-12)


def test_at_risk_share_uses_wilson() -> None:
    share = at_risk_share(4, 6)
    assert share.p == pytest.approx(4 / 6)
    assert share.low == pytest.approx(0.3000, abs=5e-5)


# --- distributions -------------------------------------------------------------------------


def test_distribution_on_agree_scale() -> None:
    dist = distribution({1: 1, 2: 2, 3: 3, 4: 4, 5: 5}, 1, 5)
    assert dist.n == 15
    assert (dist.favourable.k, dist.neutral.k, dist.unfavourable.k) == (9, 3, 3)
    assert dist.favourable.p == pytest.approx(0.6)


def test_distribution_reverse_keys_before_splitting() -> None:
    dist = distribution({1: 1, 2: 2, 3: 3, 4: 4, 5: 5}, 1, 5, reverse=True)
    assert (dist.favourable.k, dist.neutral.k, dist.unfavourable.k) == (3, 3, 9)


def test_distribution_all_minimum_and_all_maximum_respondents() -> None:
    assert distribution({1: 4}, 1, 5).unfavourable.p == 1.0
    assert distribution({5: 4}, 1, 5).favourable.p == 1.0
    assert distribution({5: 4}, 1, 5, reverse=True).unfavourable.p == 1.0


def test_distribution_on_an_even_scale_has_no_neutral() -> None:
    dist = distribution({1: 1, 2: 1, 3: 1, 4: 1}, 1, 4)
    assert (dist.favourable.k, dist.neutral.k, dist.unfavourable.k) == (2, 0, 2)


def test_empty_distribution() -> None:
    dist = distribution({}, 1, 5)
    assert dist.n == 0
    assert dist.favourable.p is None
    assert dist.percentages() == (0, 0, 0)


def test_distribution_rejects_values_off_the_scale() -> None:
    with pytest.raises(ValueError):
        distribution({6: 1}, 1, 5)


def test_distribution_percentages_add_up_to_100() -> None:
    # 1/3 each would round to 33 + 33 + 33 = 99.
    assert sum(distribution({1: 1, 3: 1, 5: 1}, 1, 5).percentages()) == 100
    assert distribution({4: 2, 3: 1, 1: 1}, 1, 5).percentages() == (50, 25, 25)


@PROPERTY
@given(st.dictionaries(st.integers(1, 5), st.integers(0, 200), min_size=1))
def test_distribution_percentages_always_total_100(counts: dict[int, int]) -> None:
    dist = distribution(counts, 1, 5)
    if dist.n:
        assert sum(dist.percentages()) == 100
        assert all(0 <= x <= 100 for x in dist.percentages())


# --- eNPS ----------------------------------------------------------------------------------


def test_enps_groups_from_answer_counts() -> None:
    assert enps_groups({10: 2, 9: 1, 8: 4, 7: 1, 6: 3, 0: 1}) == (3, 5, 4)


def test_enps_is_hidden_below_ten_people() -> None:
    hidden = enps(5, 2, 2)
    assert hidden.hidden
    assert (hidden.score, hidden.low, hidden.high) == (None, None, None)
    assert not enps(5, 3, 2).hidden


def test_enps_score_is_promoters_minus_detractors() -> None:
    result = enps(6, 8, 6 - 2)  # 6 of 18 promoters, 4 detractors
    assert result.score == pytest.approx(100 * (6 - 4) / 18)


@pytest.mark.parametrize("mix", [(3, 4, 3), (4, 3, 3), (2, 6, 2), (4, 4, 2), (3, 5, 2)])
def test_enps_interval_for_a_team_of_ten_spans_about_fifty_points(
    mix: tuple[int, int, int],
) -> None:
    result = enps(*mix)
    assert result.score is not None and result.low is not None and result.high is not None
    half = (result.high - result.low) / 2
    assert 40 <= half <= 65


def test_enps_interval_is_clipped_to_the_scale() -> None:
    result = enps(9, 1, 0)
    assert result.high == 100.0
    assert result.low is not None and result.low < 90
    low_end = enps(0, 1, 9)
    assert low_end.low == -100.0


def test_enps_from_the_dimension_tally_equals_enps_from_groups() -> None:
    points = [100] * 7 + [0] * 5 + [-100] * 3
    from_tally = enps_from_sums(len(points), sum(points), sum(p * p for p in points))
    assert from_tally == enps(7, 5, 3)


# --- Welch ---------------------------------------------------------------------------------


def test_welch_matches_science_vector() -> None:
    first = from_values([2, 3, 3, 4, 2, 3, 4])
    second = from_values([4, 4, 3, 5, 4, 3, 4, 5])
    result = welch(first, second)
    assert result.diff == pytest.approx(1.00, abs=5e-3)
    assert result.t == pytest.approx(2.449, abs=5e-4)
    assert result.df == pytest.approx(12.40, abs=5e-3)
    assert result.p == pytest.approx(0.030, abs=5e-4)
    assert result.low is not None and result.low > 0


def test_welch_is_undefined_without_two_answers_on_each_side() -> None:
    assert welch(mean_interval(0, 0, 0), from_values([1, 2, 3])).diff is None
    one = welch(from_values([3]), from_values([1, 2, 3]))
    assert one.diff == pytest.approx(-1.0)
    assert (one.low, one.high, one.p) == (None, None, None)


def test_welch_with_no_spread_on_either_side() -> None:
    same = welch(from_values([3, 3, 3]), from_values([3, 3, 3, 3]))
    assert (same.diff, same.low, same.high, same.p) == (0.0, 0.0, 0.0, 1.0)
    moved = welch(from_values([3, 3, 3]), from_values([4, 4, 4]))
    assert (moved.low, moved.high, moved.p) == (1.0, 1.0, 0.0)


def _scipy_welch(later: list[int], earlier: list[int]) -> Any:
    # scipy warns about precision when one sample is constant; the result is still exact.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sps.ttest_ind(later, earlier, equal_var=False)


def test_welch_with_one_constant_side() -> None:
    result = welch(from_values([3, 3, 3, 3]), from_values([2, 4, 5, 3]))
    reference = _scipy_welch([2, 4, 5, 3], [3, 3, 3, 3])
    assert result.p == pytest.approx(reference.pvalue)


@PROPERTY
@given(
    st.lists(st.integers(0, 100), min_size=2, max_size=40),
    st.lists(st.integers(0, 100), min_size=2, max_size=40),
)
def test_welch_from_sums_matches_scipy_on_raw_values(a: list[int], b: list[int]) -> None:
    result = welch(from_values([float(x) for x in a]), from_values([float(x) for x in b]))
    if np.var(a) == 0 and np.var(b) == 0:
        return  # scipy gives nan here; the degenerate case has its own test
    reference = _scipy_welch(b, a)
    assert result.p == pytest.approx(reference.pvalue, abs=1e-9)
    assert result.t == pytest.approx(reference.statistic, rel=1e-7, abs=1e-9)
    ci = reference.confidence_interval(0.95)
    assert result.low == pytest.approx(ci.low, abs=1e-7)
    assert result.high == pytest.approx(ci.high, abs=1e-7)


# --- Newcombe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "diff", "low", "high"),
    [
        (4, 6, 7, 10, 0.033, -0.351, 0.447),
        (5, 12, 10, 12, 0.417, 0.031, 0.670),
        (6, 20, 14, 20, 0.400, 0.090, 0.619),
    ],
)
def test_newcombe_matches_science_vectors(
    k1: int, n1: int, k2: int, n2: int, diff: float, low: float, high: float
) -> None:
    result = newcombe(k1, n1, k2, n2)
    assert result.diff == pytest.approx(diff, abs=5e-4)
    assert result.low == pytest.approx(low, abs=5e-4)
    assert result.high == pytest.approx(high, abs=5e-4)


def test_newcombe_p_value_is_the_pooled_score_test() -> None:
    result = newcombe(6, 20, 14, 20)
    table = [[6, 14], [14, 6]]
    chi2 = sps.chi2_contingency(table, correction=False)
    assert result.p == pytest.approx(chi2.pvalue)
    assert result.z == pytest.approx(math.sqrt(chi2.statistic))


def test_newcombe_at_the_extremes() -> None:
    result = newcombe(0, 5, 5, 5)
    assert result.diff == 1.0
    assert result.low is not None and result.high is not None
    assert -1.0 <= result.low < result.diff <= result.high <= 1.0
    same = newcombe(5, 5, 8, 8)
    assert same.diff == 0.0
    assert same.p == 1.0


def test_newcombe_without_answers_is_undefined() -> None:
    assert newcombe(0, 0, 3, 5) == Comparison(None, None, None, None)
    assert two_proportion_p(1, 5, 0, 0) is None


# --- Benjamini-Hochberg --------------------------------------------------------------------

# Benjamini & Hochberg (1995), section 4: fifteen p-values from a clinical trial.
BH_1995 = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.3240,
    0.4262,
    0.5719,
    0.6528,
    0.7590,
    1.000,
]


def test_bh_reproduces_the_1995_example() -> None:
    assert benjamini_hochberg(BH_1995, q=0.05) == [True] * 4 + [False] * 11
    assert benjamini_hochberg(BH_1995, q=0.10) == [True] * 9 + [False] * 6


def test_bh_steps_up_past_a_p_value_above_its_own_threshold() -> None:
    # 0.04 > 2/4 * 0.05, yet it survives because 0.05 <= 4/4 * 0.05 further up.
    assert benjamini_hochberg([0.01, 0.04, 0.045, 0.05], q=0.05) == [True] * 4


def test_bh_keeps_input_order_and_skips_tests_not_run() -> None:
    order = [14, 0, 9, 3, 8, 4, 1, 13, 2, 5, 6, 7, 10, 11, 12]
    shuffled = benjamini_hochberg([BH_1995[i] for i in order], q=0.05)
    assert shuffled == [i < 4 for i in order]
    assert benjamini_hochberg([None, 0.04, None, 0.01], q=0.10) == [False, True, False, True]
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([None]) == [False]


def test_bh_rejects_impossible_p_values() -> None:
    with pytest.raises(ValueError):
        benjamini_hochberg([0.5, 1.5])


def _step_up(p_values: list[float], q: float) -> list[bool]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= rank / m * q:
            cutoff = rank
    keep = set(order[:cutoff])
    return [i in keep for i in range(m)]


@PROPERTY
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), max_size=60))
def test_bh_equals_the_textbook_step_up(p_values: list[float]) -> None:
    # Avoid values that sit exactly on a threshold, where rounding in either method decides.
    m = len(p_values)
    thresholds = [k / m * 0.10 for k in range(1, m + 1)]
    if any(abs(p - t) < 1e-12 for p in p_values for t in thresholds):
        return
    assert benjamini_hochberg(p_values, q=0.10) == _step_up(p_values, 0.10)


# --- change flags --------------------------------------------------------------------------


def test_flag_when_all_three_conditions_hold() -> None:
    flag = change_flag(Comparison(12.0, 3.0, 21.0, 0.01), MID_0_100, survives_bh=True)
    assert flag.flagged
    assert flag.direction == "up"


def test_no_flag_when_interval_includes_zero() -> None:
    flag = change_flag(Comparison(-12.0, -25.0, 1.0, 0.08), MID_0_100, survives_bh=True)
    assert not flag.flagged
    assert flag.direction == "down"
    assert flag.reason == "the interval includes no change"


def test_no_flag_when_smaller_than_the_minimal_important_difference() -> None:
    flag = change_flag(Comparison(6.0, 1.0, 11.0, 0.02), MID_0_100, survives_bh=True)
    assert not flag.flagged
    assert flag.reason == "smaller than the 10-point change that matters"


def test_no_flag_when_not_surviving_bh() -> None:
    flag = change_flag(Comparison(15.0, 1.0, 29.0, 0.04), MID_0_100, survives_bh=False)
    assert not flag.flagged
    assert flag.reason == (
        "did not survive the correction for the number of comparisons on this page"
    )


def test_no_flag_without_a_comparison() -> None:
    flag = change_flag(Comparison(None, None, None, None), MID_0_100, survives_bh=True)
    assert not flag.flagged
    assert flag.direction == "none"
    assert "too few answers" in flag.reason


def test_mid_reached_despite_floating_point_difference() -> None:
    diff = 3.4 - 3.0  # 0.3999999999999999
    assert diff < MID_1_5
    flag = change_flag(Comparison(diff, 0.1, 0.7, 0.01), MID_1_5, survives_bh=True)
    assert flag.flagged
    small = change_flag(Comparison(0.3, 0.1, 0.5, 0.01), MID_1_5, survives_bh=True)
    assert small.reason == "smaller than the 0.4-point change that matters"


def test_science_welch_vector_flags_on_1_to_5_when_it_survives() -> None:
    result = welch(from_values([2, 3, 3, 4, 2, 3, 4]), from_values([4, 4, 3, 5, 4, 3, 4, 5]))
    [survives] = benjamini_hochberg([result.p])
    assert change_flag(result, MID_1_5, survives).flagged


# --- non-response --------------------------------------------------------------------------


def test_nonresponse_bounds_science_example() -> None:
    bounds = nonresponse_bounds(4, 6, 10)
    assert bounds == pytest.approx((0.4, 0.8))


def test_nonresponse_bounds_edges() -> None:
    assert nonresponse_bounds(0, 0, 0) is None
    assert nonresponse_bounds(3, 5, 5) == pytest.approx((0.6, 0.6))
    with pytest.raises(ValueError):
        nonresponse_bounds(3, 6, 5)


@PROPERTY
@given(st.integers(0, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_nonresponse_bounds_contain_the_observed_share(kr: tuple[int, int]) -> None:
    k, respondents = kr
    invited = respondents + 7
    bounds = nonresponse_bounds(k, respondents, invited)
    assert bounds is not None
    low, high = bounds
    assert 0.0 <= low <= high <= 1.0
    if respondents:
        assert low <= k / respondents <= high


def test_response_rate_low_and_shown() -> None:
    rate = response_rate(4, 10)
    assert rate.rate == pytest.approx(0.4)
    assert rate.shown and rate.low_response
    assert not response_rate(5, 10).low_response
    few = response_rate(1, 4)
    assert not few.shown and not few.low_response
    assert response_rate(0, 0).rate is None
    with pytest.raises(ValueError):
        response_rate(6, 5)


# --- groups of teams -----------------------------------------------------------------------


def test_combining_teams_equals_pooling_their_people() -> None:
    team_a = [50.0, 75.0, 25.0, 100.0]
    team_b = [0.0, 50.0, 50.0]
    parts = [
        DimensionSums(len(t), sum(t), sum(v * v for v in t), sum(v >= 50 for v in t))
        for t in (team_a, team_b)
    ]
    group = combine_sums(parts)
    assert group.n == 7 and group.at_risk == 5
    assert group.estimate() == from_values(team_a + team_b)
    assert group.at_risk_share() == wilson(5, 7)
    assert combine_sums([]) == DimensionSums()


def test_combining_value_counts() -> None:
    assert combine_counts([{1: 2, 5: 1}, {5: 3, 3: 1}, {}]) == {1: 2, 5: 4, 3: 1}


@PROPERTY
@given(st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=2, max_size=200))
def test_mean_interval_from_sums_equals_the_one_from_raw_values(values: list[float]) -> None:
    est = from_values(values)
    assert est.mean == pytest.approx(np.mean(values), abs=1e-9)
    assert est.sd is not None and est.half_width is not None
    assert est.sd == pytest.approx(np.std(values, ddof=1), abs=1e-5)
    se = np.std(values, ddof=1) / math.sqrt(len(values))
    expected = sps.t.ppf(0.975, len(values) - 1) * se
    assert est.half_width == pytest.approx(expected, abs=1e-5)
