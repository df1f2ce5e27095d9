"""Pure statistics for results pages: scores, intervals, comparisons and change flags.

Everything here works on what the tallies hold (counts, sums and sums of squares), never on
individual answers, so the dashboard and heatmap can show intervals without touching raw data.
The rules and test vectors come from SCIENCE.md: 95% analytic intervals without finite-population
correction, t-intervals for means, Wilson for proportions, Welch and Newcombe for changes between
pulses, and Benjamini-Hochberg across the tests on one page.

Quantiles and tail probabilities come from `scipy.special` (the functions behind `scipy.stats`,
without its per-call overhead of tens of microseconds; a heatmap computes thousands of them).
Undefined results (too few answers) are `None`, never an exception, so a page can always render
and say why a number is missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special, stats

ScoreScale = Literal["0-100", "1-5"]
Direction = Literal["up", "down", "none"]
PrecisionWord = Literal["good", "fair", "low precision"]

DEFAULT_CONFIDENCE = 0.95
BH_Q = 0.10

# Minimal important differences (SCIENCE.md gives the first two). eNPS moves in steps of
# 100/n per person, so 10 points is the same bar as on 0-100 scores; for shares we use
# 10 percentage points for the same reason.
MID_0_100 = 10.0
MID_1_5 = 0.4
MID_ENPS = 10.0
MID_SHARE = 0.10

# "Low precision" above these half-widths (SCIENCE.md). "Fair" starts at half of them: an
# interval narrower than +-7.5 points on 0-100 (+-0.375 on 1-5) separates teams a full
# minimal important difference apart; between the two it only separates large gaps.
_LOW_PRECISION_ABOVE: dict[ScoreScale, float] = {"0-100": 15.0, "1-5": 0.75}
_FAIR_ABOVE: dict[ScoreScale, float] = {"0-100": 7.5, "1-5": 0.375}

ENPS_MIN_N = 10  # SCIENCE.md: hide eNPS below n = 10
RESPONSE_RATE_MIN_INVITED = 5  # a rate over fewer invitations says more about people than teams
LOW_RESPONSE_BELOW = 0.5

# Differences computed in floating point (3.4 - 3.0 = 0.3999...) must not miss the MID.
_MID_TOLERANCE = 1e-9


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


def _z(confidence: float) -> float:
    """Two-sided standard normal quantile, e.g. 1.96 for 95%."""
    _check_confidence(confidence)
    return float(special.ndtri(0.5 + confidence / 2.0))


def _t(df: float, confidence: float) -> float:
    """Two-sided Student t quantile; df may be fractional (Welch)."""
    _check_confidence(confidence)
    return float(special.stdtrit(df, 0.5 + confidence / 2.0))


# --- Means ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its t-interval; `None` where the data cannot support a value."""

    n: int
    mean: float | None  # None when n = 0
    sd: float | None  # sample SD (n - 1); None when n < 2
    low: float | None  # interval bounds; None when n < 2
    high: float | None
    half_width: float | None

    @property
    def has_interval(self) -> bool:
        return self.low is not None

    def clipped(self, lowest: float, highest: float) -> MeanEstimate:
        """The same estimate with bounds cut to the scale, for display.

        The interval itself is left unclipped (SCIENCE's vector reaches 5.06 on a 1-5 scale);
        a page may clip what it draws, but the half-width keeps its honest value.
        """
        if self.low is None or self.high is None:
            return self
        return MeanEstimate(
            self.n,
            self.mean,
            self.sd,
            max(self.low, lowest),
            min(self.high, highest),
            self.half_width,
        )


def mean_interval(
    n: int, total: float, total_sq: float, confidence: float = DEFAULT_CONFIDENCE
) -> MeanEstimate:
    """Mean +- t(n-1) * s / sqrt(n) from a count, a sum and a sum of squares.

    The variance is the centred sum of squares, total_sq - total * mean, over n - 1. Rounding can
    make it a hair below zero when every value is the same; that is clamped to zero rather than
    passed to sqrt. For 0-100 scores and 100,000 people the sums stay near 1e9, far from where the
    one-pass formula loses meaningful digits.
    """
    _check_confidence(confidence)
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    if n == 0:
        return MeanEstimate(0, None, None, None, None, None)
    mean = total / n
    if n == 1:
        return MeanEstimate(1, mean, None, None, None, None)
    variance = max(0.0, (total_sq - total * mean) / (n - 1))
    sd = math.sqrt(variance)
    half = _t(n - 1, confidence) * sd / math.sqrt(n)
    return MeanEstimate(n, mean, sd, mean - half, mean + half, half)


def precision_word(estimate: MeanEstimate, scale: ScoreScale = "0-100") -> PrecisionWord:
    """A plain word for how far a mean can be trusted, from its interval's half-width.

    No interval (fewer than two answers) is the lowest precision there is.
    """
    if estimate.half_width is None or estimate.half_width > _LOW_PRECISION_ABOVE[scale]:
        return "low precision"
    if estimate.half_width > _FAIR_ABOVE[scale]:
        return "fair"
    return "good"


# --- Proportions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """k of n with its Wilson score interval; `None` when n = 0."""

    k: int
    n: int
    p: float | None
    low: float | None
    high: float | None


def _check_counts(k: int, n: int) -> None:
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def wilson(k: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Proportion:
    """Wilson score interval: stays inside [0, 1] and behaves at k = 0 or k = n, unlike Wald.

    Written out rather than through `scipy.stats.binomtest`, which also runs an exact test per
    call; the tests check the two agree.
    """
    _check_counts(k, n)
    z = _z(confidence)
    if n == 0:
        return Proportion(k, n, None, None, None)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    # At k = 0 and k = n the bound is exactly 0 or 1 in theory; rounding must not move it.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Proportion(k, n, p, low, high)


def at_risk_share(at_risk: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Proportion:
    """Share of respondents "at risk" on a 0-100 dimension (burnout, wellbeing), with Wilson."""
    return wilson(at_risk, n, confidence)


@dataclass(frozen=True)
class Distribution:
    """Favourable, neutral and unfavourable shares of one question's answers."""

    favourable: Proportion
    neutral: Proportion
    unfavourable: Proportion
    n: int

    def percentages(self) -> tuple[int, int, int]:
        """Whole percentages that add up to 100 (largest remainder), for a stacked bar.

        Rounding each share alone can give 99 or 101, which a reader of a bar notices.
        """
        if self.n == 0:
            return (0, 0, 0)
        counts = (self.favourable.k, self.neutral.k, self.unfavourable.k)
        exact = [100 * c / self.n for c in counts]
        whole = [math.floor(x) for x in exact]
        by_remainder = sorted(range(3), key=lambda i: exact[i] - whole[i], reverse=True)
        for i in by_remainder[: 100 - sum(whole)]:
            whole[i] += 1
        return (whole[0], whole[1], whole[2])


def distribution(
    value_counts: Mapping[int, int],
    scale_min: int,
    scale_max: int,
    reverse: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Distribution:
    """Split answers into favourable / neutral / unfavourable after reverse-keying.

    Above the scale's midpoint is favourable, the midpoint neutral, below it unfavourable: on
    1-5 that is 4-5, 3 and 1-2 as SCIENCE.md sets out; even-length scales have no neutral.
    """
    if scale_max <= scale_min:
        raise ValueError(f"empty scale {scale_min}..{scale_max}")
    favourable = neutral = unfavourable = 0
    for value, count in value_counts.items():
        if not scale_min <= value <= scale_max:
            raise ValueError(f"value {value} is outside the scale {scale_min}..{scale_max}")
        if count < 0:
            raise ValueError(f"negative count for value {value}")
        keyed = scale_min + scale_max - value if reverse else value
        # Compare doubled values so the midpoint of an odd scale stays an integer.
        twice, middle = 2 * keyed, scale_min + scale_max
        if twice > middle:
            favourable += count
        elif twice == middle:
            neutral += count
        else:
            unfavourable += count
    n = favourable + neutral + unfavourable
    return Distribution(
        wilson(favourable, n, confidence),
        wilson(neutral, n, confidence),
        wilson(unfavourable, n, confidence),
        n,
    )


# --- eNPS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enps:
    """eNPS in -100..100 with its interval; score and bounds are `None` when hidden."""

    n: int
    hidden: bool
    score: float | None
    low: float | None
    high: float | None


def enps_groups(value_counts: Mapping[int, int]) -> tuple[int, int, int]:
    """(promoters, passives, detractors) from counts of 0-10 answers: 9-10, 7-8 and 0-6."""
    promoters = passives = detractors = 0
    for value, count in value_counts.items():
        if not 0 <= value <= 10:
            raise ValueError(f"eNPS answers run from 0 to 10, got {value}")
        if value >= 9:
            promoters += count
        elif value >= 7:
            passives += count
        else:
            detractors += count
    return promoters, passives, detractors


def enps(
    promoters: int, passives: int, detractors: int, confidence: float = DEFAULT_CONFIDENCE
) -> Enps:
    """% promoters - % detractors, with the t-interval of the per-person score (+100/0/-100).

    eNPS is the mean of that per-person score, so it gets the same t-interval as every other
    mean on the page (and the same one the "enps" dimension tally gives); the bounds are clipped
    to -100..100. Below ten people it is hidden: the interval would span most of the scale.
    """
    if min(promoters, passives, detractors) < 0:
        raise ValueError("eNPS group counts must not be negative")
    n = promoters + passives + detractors
    total = 100.0 * (promoters - detractors)
    total_sq = 10_000.0 * (promoters + detractors)
    return enps_from_sums(n, total, total_sq, confidence)


def enps_from_sums(
    n: int, total: float, total_sq: float, confidence: float = DEFAULT_CONFIDENCE
) -> Enps:
    """eNPS from the "enps" dimension tally, whose per-person scores are -100, 0 or +100."""
    if n < ENPS_MIN_N:
        return Enps(n, True, None, None, None)
    estimate = mean_interval(n, total, total_sq, confidence)
    if estimate.mean is None or estimate.low is None or estimate.high is None:
        return Enps(n, True, None, None, None)  # unreachable for n >= 10; keeps types honest
    return Enps(
        n,
        False,
        estimate.mean,
        max(-100.0, estimate.low),
        min(100.0, estimate.high),
    )


# --- Comparisons between pulses ------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Later minus earlier, with interval and two-sided p-value; `None` where undefined.

    Welch fills `t` and `df`; Newcombe fills `z` (the two-proportion score statistic behind `p`).
    """

    diff: float | None
    low: float | None
    high: float | None
    p: float | None
    t: float | None = None
    df: float | None = None
    z: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def welch(
    earlier: MeanEstimate, later: MeanEstimate, confidence: float = DEFAULT_CONFIDENCE
) -> Comparison:
    """Welch's unequal-variance t-test and interval for later.mean - earlier.mean.

    Anonymous pulses are independent samples (nobody can be linked across them), so this is the
    two-sample test, not a paired one. When both groups gave identical answers within themselves
    the standard error is zero: the difference is then taken as exact (interval of width zero,
    p = 0, or p = 1 when the means agree), since nothing in the data suggests otherwise.
    """
    _check_confidence(confidence)
    if earlier.mean is None or later.mean is None:
        return Comparison(None, None, None, None)
    diff = later.mean - earlier.mean
    if earlier.sd is None or later.sd is None:
        return Comparison(diff, None, None, None)
    va = earlier.sd**2 / earlier.n
    vb = later.sd**2 / later.n
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Comparison(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    df = (va + vb) ** 2 / (va**2 / (earlier.n - 1) + vb**2 / (later.n - 1))
    t = diff / se
    p = 2.0 * float(special.stdtr(df, -abs(t)))
    half = _t(df, confidence) * se
    return Comparison(diff, diff - half, diff + half, min(1.0, p), t=t, df=df)


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float] | None:
    """(z, two-sided p) of the pooled two-proportion z-test, the score test for p1 = p2.

    This is Pearson's chi-square test of the 2x2 table without continuity correction. It is the
    p-value Benjamini-Hochberg sees for shares; the flag also needs the Newcombe interval to
    exclude zero, so a borderline disagreement between the two can only hold a flag back.
    """
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    if n1 == 0 or n2 == 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    diff = k2 / n2 - k1 / n1
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance == 0.0:
        # Everyone in both pulses answered the same way: no evidence of any difference.
        return 0.0, 1.0
    z = diff / math.sqrt(variance)
    return z, 2.0 * float(special.ndtr(-abs(z)))


def newcombe(
    k1: int, n1: int, k2: int, n2: int, confidence: float = DEFAULT_CONFIDENCE
) -> Comparison:
    """Newcombe's hybrid score interval (method 10) for p2 - p1, built from two Wilson intervals.

    Unlike the Wald interval for a difference it stays sensible for small teams and for shares
    at 0% or 100%. The p-value is the pooled score test (`two_proportion_p`).
    """
    first = wilson(k1, n1, confidence)
    second = wilson(k2, n2, confidence)
    test = two_proportion_p(k1, n1, k2, n2)
    p1, l1, u1 = first.p, first.low, first.high
    p2, l2, u2 = second.p, second.low, second.high
    if p1 is None or l1 is None or u1 is None or p2 is None or l2 is None or u2 is None:
        return Comparison(None, None, None, None)
    if test is None:  # pragma: no cover - both n > 0 here, so the test is defined
        return Comparison(None, None, None, None)
    diff = p2 - p1
    low = diff - math.hypot(p2 - l2, u1 - p1)
    high = diff + math.hypot(u2 - p2, p1 - l1)
    z, p = test
    return Comparison(diff, max(-1.0, low), min(1.0, high), p, z=z)


def benjamini_hochberg(p_values: Sequence[float | None], q: float = BH_Q) -> list[bool]:
    """Which tests survive the Benjamini-Hochberg step-up procedure at false discovery rate q.

    Tests that could not be run (`None`) neither survive nor count towards the number of
    tests. The answer keeps the input order. scipy's adjusted p-values are used: a test
    survives exactly when its adjusted p-value is at most q, which is the step-up rule.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be between 0 and 1, got {q}")
    positions = [i for i, p in enumerate(p_values) if p is not None]
    survives = [False] * len(p_values)
    if not positions:
        return survives
    observed = np.array([p_values[i] for i in positions], dtype=float)
    if np.any((observed < 0.0) | (observed > 1.0)) or np.any(np.isnan(observed)):
        raise ValueError("p-values must lie between 0 and 1")
    adjusted = stats.false_discovery_control(observed, method="bh")
    for i, adj in zip(positions, adjusted, strict=True):
        survives[i] = bool(adj <= q)
    return survives


@dataclass(frozen=True)
class ChangeFlag:
    """Whether a change is flagged, which way it went, and a sentence saying why (or why not)."""

    flagged: bool
    direction: Direction
    reason: str


def _format_mid(mid: float, unit: str) -> str:
    return f"{mid:g}-{unit}"


def change_flag(
    comparison: Comparison,
    minimal_important_difference: float,
    survives_bh: bool,
    unit: str = "point",
) -> ChangeFlag:
    """SCIENCE.md's rule: flag only when (a) the interval excludes 0, (b) |diff| >= the MID and
    (c) the test survived Benjamini-Hochberg on the page. The first unmet condition is the reason.

    `direction` is the sign of the point estimate even when not flagged; whether up is good
    depends on the dimension (burnout up is bad), which is the page's call.
    """
    diff = comparison.diff
    direction: Direction = "none"
    if diff is not None and diff > 0:
        direction = "up"
    elif diff is not None and diff < 0:
        direction = "down"
    if diff is None or comparison.low is None or comparison.high is None:
        return ChangeFlag(False, direction, "too few answers to compare the two pulses")
    if comparison.low <= 0.0 <= comparison.high:
        return ChangeFlag(False, direction, "the interval includes no change")
    mid = _format_mid(minimal_important_difference, unit)
    if abs(diff) < minimal_important_difference - _MID_TOLERANCE:
        return ChangeFlag(False, direction, f"smaller than the {mid} change that matters")
    if not survives_bh:
        return ChangeFlag(
            False,
            direction,
            "did not survive the correction for the number of comparisons on this page",
        )
    return ChangeFlag(
        True,
        direction,
        f"at least the {mid} change that matters, and unlikely to be chance",
    )


# --- Non-response --------------------------------------------------------------------------


def nonresponse_bounds(
    k_favourable: int, respondents: int, invited: int
) -> tuple[float, float] | None:
    """Best and worst case share if every non-respondent had been unfavourable / favourable.

    4 of 6 favourable with 10 invited gives 0.4 to 0.8. `None` when nobody was invited.
    """
    _check_counts(k_favourable, respondents)
    if invited < respondents:
        raise ValueError(f"{respondents} respondents but only {invited} invited")
    if invited == 0:
        return None
    missing = invited - respondents
    return k_favourable / invited, (k_favourable + missing) / invited


@dataclass(frozen=True)
class ResponseRate:
    """Response rate, whether it is worth showing, and whether to grey the team out."""

    respondents: int
    invited: int
    rate: float | None

    @property
    def shown(self) -> bool:
        """SCIENCE.md: show the rate only when at least five were invited."""
        return self.invited >= RESPONSE_RATE_MIN_INVITED

    @property
    def low_response(self) -> bool:
        """Below 50%: the team's numbers may say more about who answered than about the team."""
        return self.shown and self.rate is not None and self.rate < LOW_RESPONSE_BELOW


def response_rate(respondents: int, invited: int) -> ResponseRate:
    """Share of the invited who answered; the rate is `None` when nobody was invited."""
    if respondents < 0 or invited < respondents:
        raise ValueError(f"need 0 <= respondents <= invited, got {respondents} of {invited}")
    return ResponseRate(respondents, invited, respondents / invited if invited else None)


# --- Groups of teams -----------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionSums:
    """What a dimension tally holds for one team, or summed over several.

    Counts, sums and sums of squares add across disjoint teams, so a subtree's mean and interval
    come from its teams' tallies without reading a single answer.
    """

    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    at_risk: int = 0

    def __add__(self, other: DimensionSums) -> DimensionSums:
        return DimensionSums(
            self.n + other.n,
            self.total + other.total,
            self.total_sq + other.total_sq,
            self.at_risk + other.at_risk,
        )

    def estimate(self, confidence: float = DEFAULT_CONFIDENCE) -> MeanEstimate:
        return mean_interval(self.n, self.total, self.total_sq, confidence)

    def at_risk_share(self, confidence: float = DEFAULT_CONFIDENCE) -> Proportion:
        return at_risk_share(self.at_risk, self.n, confidence)


def combine_sums(parts: Iterable[DimensionSums]) -> DimensionSums:
    """Sum the tallies of several teams into one group."""
    combined = DimensionSums()
    for part in parts:
        combined = combined + part
    return combined


def combine_counts(parts: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Sum per-value answer counts of several teams into one group's counts."""
    combined: dict[int, int] = {}
    for part in parts:
        for value, count in part.items():
            combined[value] = combined.get(value, 0) + count
    return combined
