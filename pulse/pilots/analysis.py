"""Pilot versus comparison teams: difference-in-differences with a team-level interval (pure).

Input is one dimension's figures per unit (an assigned team with its whole subtree pooled) and
per pulse: respondents n and the mean 0-100 score. Nothing here sees an individual answer, a
database or Flask; the report (pulse/pilots/report.py) feeds in only figures that passed the
anonymity gate.

The estimate (SCIENCE.md, "Pilot versus comparison teams") is the difference-in-differences of
arm means weighted by n: (pilot after - pilot baseline) - (comparison after - comparison
baseline), where the baseline pools every baseline pulse and "after" is the final pulse, or the
latest pulse during the pilot when the final one has no results yet. Only units with figures at
both the baseline and that pulse take part, so a team dropping out (or hidden by the gate) does
not pass for a change in the others; the report lists such composition changes.

Why a permutation interval, and not a wild cluster bootstrap
-------------------------------------------------------------
Teams, not people, were assigned to the pilot, so the interval comes from rearranging teams.
For a candidate effect d we subtract d from the pilot units' "after" means, reassign the arm
labels among the units in every possible way (or, when there are more than ENUMERATE_UP_TO
arrangements, in PERMUTATIONS random ones drawn with a fixed seed, plus the real one), and keep
d when the real arrangement is not extreme among them (two-sided p > 0.05). The kept values
form the 95% interval. Each arrangement keeps d exactly on an interval of values, so the bounds
are found in closed form (no search grid).

This test is exact under exchangeable teams whatever their number: with 3 pilot and 3
comparison teams there are 20 arrangements, the smallest reachable two-sided p-value is 0.1,
and the interval is honestly unbounded ("too few teams to tell"). The wild cluster bootstrap with
Webb weights is the usual alternative below about 12 clusters, but it is known to over- or
under-reject badly when few clusters are treated (MacKinnon and Webb), and it would quietly
report a finite interval for 3 versus 3 teams. The permutation interval passed the simulation
acceptance tests T1-T3 (tests/pilots/test_simulation.py). Teams are seldom assigned at random
in a real pilot, so the interval assumes the arms are comparable; the pre-pilot trend check is
the evidence for that, and the verdict says so when it fails.

A fixed seed makes a report reproducible: the same figures always give the same interval.
"% who improved" is never computed here: without a true effect about half of people "improve"
by chance, so it is not an effect (SCIENCE.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

SEED = 20260105
PERMUTATIONS = 4999  # random arrangements when there are too many to enumerate
ENUMERATE_UP_TO = 20_000  # enumerate every arrangement up to this many
ALPHA = 0.05
MIN_TEAMS_PER_ARM = 5  # below this the verdict calls the evidence weak whatever the interval

Phase = Literal["baseline", "during", "final"]
MINUS = "\u2212"


@dataclass(frozen=True)
class PulseInfo:
    """One of the pilot's pulses, in time order."""

    key: int  # the pulse id
    title: str
    phase: Phase


@dataclass(frozen=True)
class Cell:
    """One unit's figures at one pulse (only what passed the gate)."""

    n: int
    mean: float


@dataclass(frozen=True)
class Unit:
    key: int  # the team id
    name: str
    pilot: bool  # True: pilot arm; False: comparison arm
    cells: Mapping[int, Cell]  # pulse key -> figures; missing where hidden or no answers


@dataclass(frozen=True)
class Interval:
    """A 95% interval; a side is None when no finite bound is supported (too few teams)."""

    low: float | None
    high: float | None
    arrangements: int  # how many arrangements of teams the test used
    enumerated: bool  # True: every arrangement; False: random ones with a fixed seed
    min_p: float  # the smallest two-sided p-value any effect could get from these teams

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def excludes_zero(self) -> bool:
        return (self.low is not None and self.low > 0) or (self.high is not None and self.high < 0)

    @property
    def can_reach(self) -> bool:
        """Whether these teams could show a difference at the 5% level at all."""
        return self.min_p < ALPHA


@dataclass(frozen=True)
class ArmFigures:
    """One arm's pooled figures: respondents and n-weighted mean, or None without units."""

    units: int
    n: int
    mean: float | None


@dataclass(frozen=True)
class Did:
    """A difference-in-differences between a set of earlier pulses and one later pulse."""

    estimate: float
    interval: Interval
    pilot_before: ArmFigures
    pilot_after: ArmFigures
    comparison_before: ArmFigures
    comparison_after: ArmFigures
    left_out: tuple[str, ...]  # units without figures at both ends


@dataclass(frozen=True)
class EventPoint:
    """The arms' gap at one pulse minus their (pooled) baseline gap."""

    pulse: PulseInfo
    did: Did | None  # None when an arm has no unit with figures at the pulse and baseline


@dataclass(frozen=True)
class ArmCount:
    teams: int
    respondents: int


@dataclass(frozen=True)
class PulseCount:
    """Teams and respondents per arm at one pulse (of this dimension's gated figures)."""

    pulse: PulseInfo
    pilot: ArmCount
    comparison: ArmCount
    missing: tuple[str, ...]  # units without figures at this pulse


@dataclass(frozen=True)
class PreTrend:
    did: Did
    diverging: bool
    verdict: str


@dataclass(frozen=True)
class BeforeAfter:
    """Without comparison teams: the pilot arm's change only."""

    before: ArmFigures
    after: ArmFigures
    change: float
    left_out: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    """Everything the report says about one dimension."""

    code: str
    name: str
    higher_is_better: bool
    after: PulseInfo | None  # the pulse the effect is read at
    after_is_final: bool
    effect: Did | None
    before_after: BeforeAfter | None  # only without comparison teams
    pre_trend: PreTrend | None
    events: tuple[EventPoint, ...]
    counts: tuple[PulseCount, ...]
    verdict: str
    weak: bool
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- wording -------------------------------------------------------------------------------------


def signed(value: float) -> str:
    """Whole points with a sign, using a real minus sign."""
    whole = round(value)
    if whole > 0:
        return f"+{whole}"
    if whole < 0:
        return f"{MINUS}{-whole}"
    return "0"


def interval_text(interval: Interval) -> str:
    low = "no lower limit" if interval.low is None else signed(interval.low)
    high = "no upper limit" if interval.high is None else signed(interval.high)
    return f"{low} to {high}"


def _points(value: float) -> str:
    whole = abs(round(value))
    if whole == 0:
        return "less than a point"
    return f"{whole} point" if whole == 1 else f"{whole} points"


def _teams(count: int) -> str:
    return f"{count} team" if count == 1 else f"{count} teams"


# --- arrangements of teams -----------------------------------------------------------------------


def arrangements(units: int, pilots: int, seed: int, permutations: int) -> tuple[np.ndarray, bool]:
    """Boolean rows (arrangement x unit), True for pilot; row 0 is the real one (the first
    `pilots` units). Every arrangement when there are at most ENUMERATE_UP_TO of them, else the
    real one plus `permutations` random ones from a generator seeded with `seed`.

    Pure in its arguments: the same arguments always give the same rows.
    """
    if not 0 < pilots < units:
        raise ValueError("Both arms need at least one unit.")
    total = math.comb(units, pilots)
    if total <= ENUMERATE_UP_TO:
        rows = np.zeros((total, units), dtype=bool)
        for i, chosen in enumerate(itertools.combinations(range(units), pilots)):
            rows[i, list(chosen)] = True  # combinations start with (0, 1, ..., pilots - 1)
        rows.flags.writeable = False
        return rows, True
    rng = np.random.default_rng(seed)
    # A random permutation's first `pilots` positions are a uniform random subset.
    keys = rng.random((permutations, units))
    ranks = keys.argsort(axis=1).argsort(axis=1)
    rows = np.vstack([np.arange(units) < pilots, ranks < pilots])
    rows.flags.writeable = False
    return rows, False


@lru_cache(maxsize=8)  # at most 20,000 rows x a few dozen units each: a few MB
def _weights(
    units: int, pilots: int, seed: int, permutations: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The arrangements as 0/1 floats for each arm, ready for matrix products (kept: a report
    or a simulation reuses the same few shapes many times)."""
    labels, enumerated = arrangements(units, pilots, seed, permutations)
    chosen = labels.astype(float)
    other = 1.0 - chosen
    chosen.flags.writeable = False
    other.flags.writeable = False
    return chosen, other, enumerated


# --- the core ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sums:
    """Per unit, aligned arrays: respondents and sums of n * mean at the two ends."""

    n_before: np.ndarray
    s_before: np.ndarray
    n_after: np.ndarray
    s_after: np.ndarray
    pilot: np.ndarray  # bool


def _arm(n: np.ndarray, s: np.ndarray, mask: np.ndarray) -> ArmFigures:
    total = int(n[mask].sum())
    return ArmFigures(int(mask.sum()), total, float(s[mask].sum() / total) if total else None)


def did_of(
    sums: Sums, *, seed: int = SEED, permutations: int = PERMUTATIONS, alpha: float = ALPHA
) -> tuple[float, Interval]:
    """The n-weighted difference-in-differences and its inverted-permutation interval.

    Units must be ordered pilot first (as `arrangements` assumes), each with n > 0 at both ends.
    """
    pilot = sums.pilot
    count, pilots = len(pilot), int(pilot.sum())
    if not pilot[:pilots].all():
        raise ValueError("Units must be ordered with the pilot arm first.")
    chosen, other, enumerated = _weights(count, pilots, seed, permutations)
    # Subtracting d from the real pilot units' "after" means moves an arrangement's estimate by
    # -d * w: w is the share of real pilot respondents in its pilot arm's "after" minus that
    # share in its comparison arm (1 for the real arrangement).
    real_after = sums.n_after * pilot
    columns = np.stack([sums.n_after, sums.s_after, sums.n_before, sums.s_before, real_after], 1)
    # Every arrangement's arm totals in two matrix products (one per arm).
    p_n_after, p_s_after, p_n_before, p_s_before, p_real = (chosen @ columns).T
    c_n_after, c_s_after, c_n_before, c_s_before, c_real = (other @ columns).T
    stat = (p_s_after / p_n_after - p_s_before / p_n_before) - (
        c_s_after / c_n_after - c_s_before / c_n_before
    )  # each arrangement's estimate at effect 0
    w = p_real / p_n_after - c_real / c_n_after
    estimate = float(stat[0])
    low, high, min_p = _invert(stat, w, estimate, alpha)
    return estimate, Interval(low, high, len(chosen), enumerated, min_p)


def _invert(
    stat: np.ndarray, w: np.ndarray, estimate: float, alpha: float
) -> tuple[float | None, float | None, float]:
    """The effects d for which the real arrangement is not extreme: p(d) > alpha, where
    p(d) = share of arrangements with |stat - d * w| >= |estimate - d|.

    For one arrangement, (stat - d w)^2 - (estimate - d)^2 >= 0 is a quadratic in d with leading
    coefficient w^2 - 1 <= 0 that is >= 0 at d = estimate, so it holds on an interval around the
    estimate (a half-line or everything when |w| = 1). p(d) therefore falls away from the
    estimate, and each bound is an order statistic of the arrangements' interval ends.
    """
    size = len(stat)
    a, b = stat, estimate
    quad = w * w - 1.0
    lin = 2.0 * (b - a * w)
    const = a * a - b * b
    lo = np.full(size, -np.inf)
    hi = np.full(size, np.inf)
    curved = quad < -1e-12
    if curved.any():
        qa, qb, qc = quad[curved], lin[curved], const[curved]
        root = np.sqrt(np.maximum(qb * qb - 4.0 * qa * qc, 0.0))
        # qa < 0: the parabola opens downwards; its roots bound where it is >= 0.
        r1 = (-qb + root) / (2.0 * qa)
        r2 = (-qb - root) / (2.0 * qa)
        lo[curved] = np.minimum(r1, r2)
        hi[curved] = np.maximum(r1, r2)
    flat = ~curved
    # Linear: lin * d + const >= 0.
    up = flat & (lin > 1e-12)
    down = flat & (lin < -1e-12)
    lo[up] = -const[up] / lin[up]
    hi[down] = -const[down] / lin[down]
    # Rounding can leave the real arrangement's own interval a hair off the estimate.
    lo = np.minimum(lo, b)
    hi = np.maximum(hi, b)
    # p(d) > alpha needs more than alpha * size arrangements to keep d.
    needed = math.floor(alpha * size + 1e-9) + 1
    high = float(np.partition(hi, size - needed)[size - needed])  # the needed-th largest
    low = float(np.partition(lo, needed - 1)[needed - 1])  # the needed-th smallest
    unbounded_above = int(np.isinf(hi).sum())
    unbounded_below = int(np.isinf(lo).sum())
    min_p = min(unbounded_above, unbounded_below) / size
    return (
        None if math.isinf(low) else low,
        None if math.isinf(high) else high,
        min_p,
    )


def _sums(
    units: Sequence[Unit], before: Sequence[int], after: int
) -> tuple[Sums, list[Unit], tuple[str, ...]]:
    """Units with figures at both ends, pilot first, and the names of those left out."""
    kept: list[Unit] = []
    left_out: list[str] = []
    rows: list[tuple[int, float, int, float]] = []
    for unit in sorted(units, key=lambda u: not u.pilot):  # stable: pilot units first
        nb = sum(unit.cells[p].n for p in before if p in unit.cells)
        sb = sum(unit.cells[p].n * unit.cells[p].mean for p in before if p in unit.cells)
        cell = unit.cells.get(after)
        if nb <= 0 or cell is None or cell.n <= 0:
            left_out.append(unit.name)
            continue
        kept.append(unit)
        rows.append((nb, sb, cell.n, cell.n * cell.mean))
    array = np.array(rows, dtype=float).reshape(-1, 4)
    sums = Sums(
        array[:, 0],
        array[:, 1],
        array[:, 2],
        array[:, 3],
        np.array([u.pilot for u in kept], dtype=bool),
    )
    return sums, kept, tuple(left_out)


def difference_in_differences(
    units: Sequence[Unit],
    before: Sequence[int],
    after: int,
    *,
    seed: int = SEED,
    permutations: int = PERMUTATIONS,
) -> Did | None:
    """The DiD from the pooled `before` pulses to the `after` pulse; None without a unit in
    each arm that has figures at both ends."""
    sums, _kept, left_out = _sums(units, before, after)
    pilots = int(sums.pilot.sum())
    if pilots == 0 or pilots == len(sums.pilot):
        return None
    estimate, interval = did_of(sums, seed=seed, permutations=permutations)
    pilot, comparison = sums.pilot, ~sums.pilot
    return Did(
        estimate,
        interval,
        _arm(sums.n_before, sums.s_before, pilot),
        _arm(sums.n_after, sums.s_after, pilot),
        _arm(sums.n_before, sums.s_before, comparison),
        _arm(sums.n_after, sums.s_after, comparison),
        left_out,
    )


def _before_after(units: Sequence[Unit], before: Sequence[int], after: int) -> BeforeAfter | None:
    sums, _kept, left_out = _sums(units, before, after)
    if not len(sums.pilot):
        return None
    everyone = np.ones(len(sums.pilot), dtype=bool)
    start = _arm(sums.n_before, sums.s_before, everyone)
    end = _arm(sums.n_after, sums.s_after, everyone)
    # Every kept unit has n > 0 at both ends, so both means exist.
    change = (end.mean or 0.0) - (start.mean or 0.0)
    return BeforeAfter(start, end, change, left_out)


def after_pulse(
    pulses: Sequence[PulseInfo], units: Sequence[Unit]
) -> tuple[PulseInfo | None, bool]:
    """The pulse to read the effect at: the final one when it has figures, else the latest
    pulse during the pilot with figures; and whether it is the final one."""
    has = {key for unit in units for key, cell in unit.cells.items() if cell.n > 0}
    final = [p for p in pulses if p.phase == "final" and p.key in has]
    if final:
        return final[-1], True
    during = [p for p in pulses if p.phase == "during" and p.key in has]
    return (during[-1], False) if during else (None, False)


def counts(pulses: Sequence[PulseInfo], units: Sequence[Unit]) -> tuple[PulseCount, ...]:
    rows = []
    for pulse in pulses:
        tally = {True: [0, 0], False: [0, 0]}
        missing = []
        for unit in units:
            cell = unit.cells.get(pulse.key)
            if cell is None or cell.n <= 0:
                missing.append(unit.name)
                continue
            tally[unit.pilot][0] += 1
            tally[unit.pilot][1] += cell.n
        rows.append(
            PulseCount(
                pulse,
                ArmCount(*tally[True]),
                ArmCount(*tally[False]),
                tuple(missing),
            )
        )
    return tuple(rows)


def pre_trend(
    pulses: Sequence[PulseInfo],
    units: Sequence[Unit],
    *,
    seed: int = SEED,
    permutations: int = PERMUTATIONS,
) -> PreTrend | None:
    """With two or more baselines: did the arms already drift apart between the first and the
    last baseline? None with fewer baselines or without figures in both arms."""
    baselines = [p.key for p in pulses if p.phase == "baseline"]
    if len(baselines) < 2:
        return None
    did = difference_in_differences(
        units, [baselines[0]], baselines[-1], seed=seed, permutations=permutations
    )
    if did is None:
        return None
    diverging = did.interval.excludes_zero
    if diverging:
        verdict = "Pilot teams were already diverging before the pilot: read the effect with care."
    elif not did.interval.bounded:
        verdict = (
            "Too few teams to check whether the trends were parallel before the pilot; read "
            "the effect with care."
        )
    else:
        verdict = "Trends were parallel before the pilot."
    return PreTrend(did, diverging, verdict)


def events(
    pulses: Sequence[PulseInfo],
    units: Sequence[Unit],
    *,
    seed: int = SEED,
    permutations: int = PERMUTATIONS,
) -> tuple[EventPoint, ...]:
    baselines = [p.key for p in pulses if p.phase == "baseline"]
    points = []
    for pulse in pulses:
        did = (
            difference_in_differences(
                units, baselines, pulse.key, seed=seed, permutations=permutations
            )
            if baselines
            else None
        )
        points.append(EventPoint(pulse, did))
    return tuple(points)


# --- the verdict ---------------------------------------------------------------------------------


def verdict(name: str, higher_is_better: bool, did: Did, pre: PreTrend | None) -> tuple[str, bool]:
    """Plain words that never claim more than the interval supports, and whether the
    evidence is weak (too few teams, or no arrangement of them could reach p < 0.05)."""
    pilots = did.pilot_after.units
    comparisons = did.comparison_after.units
    fewest = min(pilots, comparisons)
    interval = did.interval
    moved = "fell" if did.estimate < 0 else "rose"
    size = _points(did.estimate)
    weak = fewest < MIN_TEAMS_PER_ARM or not interval.can_reach
    if weak:
        text = (
            f"Too few teams to tell: with {_teams(pilots)} in the pilot and "
            f"{_teams(comparisons)} for comparison, even a large difference could be chance. "
            f"Relative to comparison teams, {name.lower()} in pilot teams moved "
            f"{signed(did.estimate)} points"
        )
        text += f" (interval {interval_text(interval)})" if interval.bounded else ""
        text += ", which is weak evidence, not a finding."
    elif interval.excludes_zero:
        better = (did.estimate > 0) == higher_is_better
        text = (
            f"{name} {moved} about {size} more in pilot teams than in comparison teams; "
            f"the interval ({interval_text(interval)}) excludes no change. "
            + ("That is an improvement." if better else "That is a change for the worse.")
        )
    else:
        text = (
            f"No clear difference: the interval runs from {interval_text(interval)}, "
            "so the pilot may have made no difference at all."
        )
    if pre is not None and pre.diverging:
        text += " " + pre.verdict
    return text, weak


def before_after_verdict(name: str, higher_is_better: bool, result: BeforeAfter) -> str:
    moved = "fell" if result.change < 0 else "rose"
    if round(result.change) == 0:
        head = f"{name} stayed about the same in pilot teams"
    else:
        head = f"{name} {moved} about {_points(result.change)} in pilot teams"
    return (
        f"{head}. Without comparison teams this cannot separate the pilot from everything "
        "else that changed over the same time."
    )


def analyse(
    code: str,
    name: str,
    higher_is_better: bool,
    pulses: Sequence[PulseInfo],
    units: Sequence[Unit],
    *,
    seed: int = SEED,
    permutations: int = PERMUTATIONS,
    with_events: bool = True,
) -> Analysis:
    """The whole analysis of one dimension for the report."""
    after, is_final = after_pulse(pulses, units)
    baselines = [p.key for p in pulses if p.phase == "baseline"]
    rows = counts(pulses, units)
    has_comparison = any(not u.pilot for u in units)
    notes: list[str] = []
    effect = None
    plain = None
    trend = None
    points: tuple[EventPoint, ...] = ()
    if after is None or not baselines:
        text = (
            "Not yet: the effect is read once a pulse during or at the end of the pilot "
            "has results."
        )
        if not any(p.key in {k for u in units for k in u.cells} for p in pulses):
            text = "No results yet."
        return Analysis(
            code, name, higher_is_better, after, is_final, None, None, None, (), rows, text, True
        )
    if not is_final:
        notes.append(f"The final pulse has no results yet, so the effect is read at {after.title}.")
    if has_comparison:
        trend = pre_trend(pulses, units, seed=seed, permutations=permutations)
        effect = difference_in_differences(
            units, baselines, after.key, seed=seed, permutations=permutations
        )
        if with_events:
            points = events(pulses, units, seed=seed, permutations=permutations)
    if effect is None:
        plain = _before_after([u for u in units if u.pilot], baselines, after.key)
        if plain is None:
            text = "Not yet: no pilot team has results both at baseline and since the start."
        else:
            text = before_after_verdict(name, higher_is_better, plain)
        if has_comparison:
            notes.append(
                "No comparison team has results at both ends, so only the pilot arm's change "
                "is shown."
            )
        return Analysis(
            code,
            name,
            higher_is_better,
            after,
            is_final,
            None,
            plain,
            trend,
            points,
            rows,
            text,
            True,
            tuple(notes),
        )
    text, weak = verdict(name, higher_is_better, effect, trend)
    if effect.left_out:
        notes.append(
            "Left out for lack of results at the baseline or at "
            f"{after.title}: {', '.join(effect.left_out)}."
        )
    return Analysis(
        code,
        name,
        higher_is_better,
        after,
        is_final,
        effect,
        None,
        trend,
        points,
        rows,
        text,
        weak,
        tuple(notes),
    )
