"""Build what results pages show, from tallies, through the anonymity gate (pure: no database).

Every number a page, CSV or email shows comes out of this module, and every one of them has
passed the gate for the viewer's whole family of groups: per dimension (people who answered any
item of it), per question (people who answered it) and for response counts. A hidden group
carries only the gate's reason, never a number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

import numpy as np
from scipy import special

from pulse.results import gate, stats
from pulse.results.gate import Decision, Group
from pulse.results.queries import PulseTallies, QuestionInfo, TeamSums
from pulse.surveys.library import DIMENSIONS, SCALES, ScaleKind

Tree = Mapping[int, int | None]

# The dimensions results pages report, in a fixed order. Comments are shown on their own page.
REPORTED = [code for code in DIMENSIONS if code != "comments"]
RISK_DIMENSIONS = {"burnout", "wellbeing"}
OPEN_HIDDEN = "Results appear when the pulse closes"


@dataclass(frozen=True)
class Viewer:
    """Whose eyes the numbers are for: the teams they may open, and the groups they can see."""

    roots: tuple[int, ...]  # managed teams (HR and leaders: the tree's roots)
    whole_org: bool


def family(tree: Tree, viewer: Viewer, compare_with_parents: bool = True) -> list[Group]:
    """Every group this viewer can reach for a pulse, across all results pages and exports.

    It holds each team under the viewer's roots, "all my teams", the organisation, and the parent
    team of each root (the comparison a dashboard offers), when that keeps the family laminar.
    """
    parents = [tree[r] for r in viewer.roots if tree.get(r) is not None]
    extra = [p for p in parents if p is not None] if compare_with_parents else []
    return gate.viewer_groups(
        tree, viewer.roots, include_org=True, include_own=False, also_subtrees=extra
    )


@dataclass
class Gated:
    """Gate decisions for one pulse and one viewer, per kind of count.

    Decisions are made for the whole family at once as arrays (`gate.Decided`) and turned into
    a `Decision` only for the keys a page asks about; per-question decisions are made on first
    use, since a heatmap never asks for them.
    """

    responses: Mapping[str, Decision]
    dimensions: dict[str, Mapping[str, Decision]]  # dimension -> group key -> decision
    questions: Mapping[int, Mapping[str, Decision]]  # question id -> group key -> decision
    forest: gate.Forest | None = None

    def dimension(self, code: str, key: str) -> Decision:
        return self.dimensions.get(code, {}).get(key, _NO_ANSWERS)

    def question(self, question_id: int, key: str) -> Decision:
        return self.questions.get(question_id, {}).get(key, _NO_ANSWERS)


_NO_ANSWERS = Decision(False, None, gate.NO_ANSWERS)


class _QuestionDecisions(Mapping[int, Mapping[str, Decision]]):
    """Per-question decisions, each made the first time a page asks for that question."""

    def __init__(self, forest: gate.Forest, tallies: PulseTallies, hidden: gate.Decided | None):
        self.forest = forest
        self.tallies = tallies
        self.hidden = hidden
        self.ids = [q.id for q in tallies.questions if q.scale is not ScaleKind.TEXT]
        self.made: dict[int, Mapping[str, Decision]] = {}

    def __getitem__(self, question_id: int) -> Mapping[str, Decision]:
        if question_id not in self.ids:
            raise KeyError(question_id)
        if self.hidden is not None:
            return self.hidden
        if not self.tallies.values_loaded:
            raise RuntimeError("Question decisions need the per-value tallies (with_values).")
        made = self.made.get(question_id)
        if made is None:
            counts = _answer_counts(self.tallies.values.get(question_id, {}))
            made = self.made[question_id] = self.forest.decide(counts, self.tallies.min_group)
        return made

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


def run_gate(
    tree: Tree, tallies: PulseTallies, groups: Sequence[Group], forest: gate.Forest | None = None
) -> Gated:
    """Apply the gate to every count a results page may show for this pulse.

    `forest` is `gate.prepare(tree, groups)` when the caller already has it (a page that gates
    several pulses for one viewer prepares the family once).
    """
    if forest is None:
        forest = gate.prepare(tree, groups)
    if tallies.hidden_while_open:
        hidden = forest.hide_all(OPEN_HIDDEN)
        # No dimension tallies are loaded while hidden: mark every reported one.
        return Gated(
            hidden,
            dict.fromkeys(REPORTED, hidden),
            _QuestionDecisions(forest, tallies, hidden),
            forest,
        )
    k = tallies.min_group
    responses = forest.decide(tallies.responses, k)
    dimensions: dict[str, Mapping[str, Decision]] = {
        code: forest.decide_arrays(sums.teams, sums.n, k)
        for code, sums in (
            (code, TeamSums.of(by_team)) for code, by_team in tallies.dimensions.items()
        )
    }
    return Gated(responses, dimensions, _QuestionDecisions(forest, tallies, None), forest)


def _answer_counts(by_team: Mapping[int, Mapping[int, int]]) -> dict[int, int]:
    return {team: sum(counts.values()) for team, counts in by_team.items()}


def group_sums(tallies: PulseTallies, code: str, teams: Iterable[int]) -> stats.DimensionSums:
    by_team = tallies.dimensions.get(code, {})
    return stats.combine_sums(by_team[t] for t in teams if t in by_team)


def group_values(tallies: PulseTallies, question_id: int, teams: Iterable[int]) -> dict[int, int]:
    by_team = tallies.values.get(question_id, {})
    return stats.combine_counts(by_team[t] for t in teams if t in by_team)


def group_total(counts: Mapping[int, int], teams: Iterable[int]) -> int:
    return sum(counts.get(t, 0) for t in teams)


# --- one group's figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A dimension's score for one group in one pulse, or why it is hidden."""

    visible: bool
    reason: str | None
    estimate: stats.MeanEstimate | None = None
    precision: str | None = None
    risk: stats.Proportion | None = None  # burnout and wellbeing: share at risk
    enps: stats.Enps | None = None

    @property
    def mean(self) -> float | None:
        return self.estimate.mean if self.estimate else None


def score(tallies: PulseTallies, gated: Gated, code: str, group: Group) -> Score:
    decision = gated.dimension(code, group.key)
    if not decision.visible:
        return Score(False, decision.reason)
    sums = group_sums(tallies, code, group.teams)
    if code == "enps":
        # Per-person eNPS points are -100/0/+100, so the dimension mean is the eNPS itself.
        value = stats.enps_from_sums(sums.n, sums.total, sums.total_sq)
        if value.hidden:
            return Score(False, f"eNPS is shown from {stats.ENPS_MIN_N} answers")
        return Score(
            True, None, sums.estimate(), stats.precision_word(sums.estimate()), None, value
        )
    estimate = sums.estimate()
    risk = sums.at_risk_share() if code in RISK_DIMENSIONS else None
    return Score(True, None, estimate, stats.precision_word(estimate), risk)


@dataclass(frozen=True)
class Participation:
    visible: bool
    reason: str | None
    respondents: int | None
    invited: int
    rate: stats.ResponseRate | None


def participation(tallies: PulseTallies, gated: Gated, group: Group) -> Participation:
    invited = group_total(tallies.invited, group.teams)
    decision = gated.responses.get(group.key, _NO_ANSWERS)
    if not decision.visible or decision.count is None:
        return Participation(False, decision.reason, None, invited, None)
    rate = stats.response_rate(decision.count, invited) if invited >= decision.count else None
    return Participation(True, None, decision.count, invited, rate)


@dataclass(frozen=True)
class QuestionRow:
    question: QuestionInfo
    visible: bool
    reason: str | None
    distribution: stats.Distribution | None = None
    percentages: tuple[int, int, int] | None = None
    bounds: tuple[float, float] | None = None  # favourable share if non-respondents had answered
    mean: stats.MeanEstimate | None = None  # hours and 0-10 items


def question_row(
    tallies: PulseTallies, gated: Gated, question: QuestionInfo, group: Group
) -> QuestionRow:
    decision = gated.question(question.id, group.key)
    if not decision.visible:
        return QuestionRow(question, False, decision.reason)
    counts = group_values(tallies, question.id, group.teams)
    scale = SCALES[question.scale]
    if question.scale in {ScaleKind.AGREE5, ScaleKind.FREQ5}:
        # Burnout items are worded so that agreeing is bad: favourable means "low burnout".
        reverse = question.reverse != (question.dimension == "burnout")
        dist = stats.distribution(counts, scale.minimum, scale.maximum, reverse)
        invited = group_total(tallies.invited, group.teams)
        bounds = None
        if invited >= dist.n and invited >= stats.RESPONSE_RATE_MIN_INVITED:
            bounds = stats.nonresponse_bounds(dist.favourable.k, dist.n, invited)
        return QuestionRow(question, True, None, dist, dist.percentages(), bounds)
    n = sum(counts.values())
    total = float(sum(v * c for v, c in counts.items()))
    total_sq = float(sum(v * v * c for v, c in counts.items()))
    return QuestionRow(question, True, None, mean=stats.mean_interval(n, total, total_sq))


# --- changes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A dimension's change for one group between two pulses, with SCIENCE.md's flag rule."""

    label: str  # "since the previous pulse", "since the baseline"
    against: str  # the earlier pulse's title
    comparison: stats.Comparison | None
    flag: stats.ChangeFlag | None
    reason: str | None  # why there is no comparison at all
    improved: bool | None = None  # flagged and in the good direction for this dimension


def _mid(code: str) -> float:
    return stats.MID_ENPS if code == "enps" else stats.MID_0_100


def compare(earlier: Score, later: Score) -> stats.Comparison | None:
    if not (earlier.visible and later.visible and earlier.estimate and later.estimate):
        return None
    return stats.welch(earlier.estimate, later.estimate)


def flag_changes(raw: Sequence[tuple[str, str, str, Score, Score]]) -> list[Change]:
    """Compare every (code, label, against, earlier, later) and flag with BH across all of them.

    All tests on one page are corrected together, so the caller passes the page's whole list.
    """
    comparisons = [compare(earlier, later) for _, _, _, earlier, later in raw]
    survives = stats.benjamini_hochberg([c.p if c else None for c in comparisons])
    changes = []
    for (code, label, against, earlier, later), comparison, ok in zip(
        raw, comparisons, survives, strict=True
    ):
        if comparison is None:
            reason = earlier.reason if not earlier.visible else later.reason
            changes.append(Change(label, against, None, None, reason or "Too few answers"))
            continue
        unit = "point"
        flag = stats.change_flag(comparison, _mid(code), ok, unit=unit)
        improved = None
        if flag.flagged:
            up_is_good = DIMENSIONS[code].higher_is_better
            improved = (flag.direction == "up") == up_is_good
        changes.append(Change(label, against, comparison, flag, None, improved))
    return changes


# --- the team dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    pulse_title: str
    closes_at: datetime | None
    score: Score


@dataclass
class DimensionRow:
    code: str
    name: str
    higher_is_better: bool
    current: Score
    changes: list[Change] = field(default_factory=list)
    parent: Score | None = None
    org: Score | None = None
    trend: list[TrendPoint] = field(default_factory=list)


@dataclass
class Dashboard:
    group: Group
    title: str
    pulse: PulseTallies
    participation: Participation
    rows: list[DimensionRow]
    questions: list[QuestionRow]
    parent_name: str | None
    previous_title: str | None
    baseline_title: str | None
    ranks_teams: bool = False


@dataclass(frozen=True)
class PulseView:
    """One pulse's tallies with this viewer's gate decisions."""

    tallies: PulseTallies
    gated: Gated


def view(
    tree: Tree, tallies: PulseTallies, groups: Sequence[Group], forest: gate.Forest | None = None
) -> PulseView:
    return PulseView(tallies, run_gate(tree, tallies, groups, forest))


def dashboard(
    tree: Tree,
    names: Mapping[int, str],
    groups: Sequence[Group],
    team_id: int,
    history: Sequence[PulseView],
) -> Dashboard:
    """A team's (whole subtree's) dashboard for the last pulse in `history` (oldest first)."""
    by_key = {g.key: g for g in groups}
    group = by_key[gate.team_key(team_id)]
    parent_id = tree.get(team_id)
    parent = by_key.get(gate.team_key(parent_id)) if parent_id is not None else None
    org = by_key.get(gate.ORG_KEY)
    current = history[-1]
    previous = history[-2] if len(history) >= 2 else None
    baseline = history[0] if len(history) >= 3 else None
    asked = _dimensions_asked(current.tallies)

    rows = []
    raw_changes: list[tuple[str, str, str, Score, Score]] = []
    for code in asked:
        now_score = score(current.tallies, current.gated, code, group)
        row = DimensionRow(
            code, DIMENSIONS[code].name, DIMENSIONS[code].higher_is_better, now_score
        )
        if parent is not None:
            row.parent = score(current.tallies, current.gated, code, parent)
        if org is not None and org.teams != group.teams:
            row.org = score(current.tallies, current.gated, code, org)
        row.trend = [
            TrendPoint(v.tallies.title, v.tallies.closes_at, score(v.tallies, v.gated, code, group))
            for v in history
            if code in _dimensions_asked(v.tallies)
        ]
        for label, earlier in (
            ("since the previous pulse", previous),
            ("since the baseline", baseline),
        ):
            if earlier is not None and code in _dimensions_asked(earlier.tallies):
                before = score(earlier.tallies, earlier.gated, code, group)
                raw_changes.append((code, label, earlier.tallies.title, before, now_score))
        rows.append(row)

    changes = iter(flag_changes(raw_changes))
    for code, _label, _against, _before, _after in raw_changes:
        next(r for r in rows if r.code == code).changes.append(next(changes))

    questions = [
        question_row(current.tallies, current.gated, q, group)
        for q in current.tallies.questions
        if q.scale is not ScaleKind.TEXT and _asked_in(tree, q, team_id)
    ]
    return Dashboard(
        group=group,
        title=names.get(team_id, "Team"),
        pulse=current.tallies,
        participation=participation(current.tallies, current.gated, group),
        rows=rows,
        questions=questions,
        parent_name=names.get(parent_id) if parent is not None and parent_id is not None else None,
        previous_title=previous.tallies.title if previous else None,
        baseline_title=baseline.tallies.title if baseline else None,
    )


def _asked_in(tree: Tree, question: QuestionInfo, team_id: int) -> bool:
    """Whether anyone in this team's subtree was asked the question: one asked only of another
    team (a rating of that team's action) has nothing to show here, not even its title."""
    audience = question.audience_team_id
    if audience is None:
        return True
    return audience in gate.ancestors(tree, team_id) or team_id in gate.ancestors(tree, audience)


def _dimensions_asked(tallies: PulseTallies) -> list[str]:
    asked = {q.dimension for q in tallies.questions if q.scale is not ScaleKind.TEXT}
    asked -= {"comments"}
    return [code for code in REPORTED if code in asked and _scored(code, tallies)]


def _scored(code: str, tallies: PulseTallies) -> bool:
    """Hours-only dimensions (no 1-5 or 0-10 item) have no 0-100 score."""
    return any(
        q.dimension == code and q.scale in {ScaleKind.AGREE5, ScaleKind.FREQ5, ScaleKind.SCORE11}
        for q in tallies.questions
    )


# --- the heatmap ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    code: str
    score: Score
    change: Change | None
    band: int | None  # 0 (worst) .. 4 (best), for colour and its text equivalent


@dataclass(frozen=True)
class HeatRow:
    team_id: int
    name: str
    depth: int
    participation: Participation
    cells: tuple[HeatCell, ...]


@dataclass
class Heatmap:
    columns: list[tuple[str, str]]  # (code, name)
    rows: Sequence[HeatRow]  # built on first access: a page may show a few of 2,000 rows
    pulse: PulseTallies
    previous_title: str | None
    means: dict[str, np.ndarray] = field(default_factory=dict)  # code -> rows' scores, NaN hidden
    team_ids: list[int] = field(default_factory=list)  # each row's team, without making rows

    def order(self, code: str | None, descending: bool, among: Iterable[int]) -> list[int]:
        """Row positions from `among`, sorted by one dimension's score with hidden cells last,
        as `sort_rows` sorts rows (ties keep their order); None keeps the order given."""
        picked = list(among)
        if code is None:
            return picked
        positions = np.array(picked, dtype=np.int64)
        means = self.means[code][positions]
        hidden = np.isnan(means)
        value = np.where(hidden, 0.0, -means if descending else means)
        return [picked[i] for i in np.lexsort((value, hidden)).tolist()]


def band(code: str, mean: float | None) -> int | None:
    """Five colour bands on 0-100 (eNPS: -100..100), always oriented so 4 is the good end."""
    if mean is None:
        return None
    position = (mean + 100) / 2 if code == "enps" else mean
    if not DIMENSIONS[code].higher_is_better:
        position = 100 - position
    return min(4, max(0, int(position // 20)))


def heatmap(
    tree: Tree,
    names: Mapping[int, str],
    groups: Sequence[Group],
    team_order: Sequence[tuple[int, int]],  # (team id, depth) in tree order
    current: PulseView,
    previous: PulseView | None,
) -> Heatmap:
    """Teams (whole subtrees) against dimensions for one pulse, with flagged changes.

    The figures of every cell are computed at once with arrays (2,000 teams times 8 dimensions
    is 16,000 scores and as many comparisons, all corrected together with Benjamini-Hochberg, as
    on any page); a row's objects are made only when a page or export reads it. Each cell holds
    exactly what `score` and `flag_changes` would give for its group.
    """
    codes = _dimensions_asked(current.tallies)
    team_ids = [team for team, _depth in team_order]
    keys = [gate.team_key(team) for team in team_ids]
    now = _Figures(current, codes, keys)
    before = None
    if previous is not None:
        earlier = set(_dimensions_asked(previous.tallies))
        before = _Figures(previous, [c for c in codes if c in earlier], keys)
    changes = _Changes(now, before) if before is not None else None
    invited = now.invited()

    def make_row(i: int) -> HeatRow:
        team_id, depth = team_order[i]
        cells = tuple(
            HeatCell(
                code,
                now.score(code, i),
                changes.change(code, i) if changes is not None else None,
                band(code, now.mean(code, i)),
            )
            for code in codes
        )
        return HeatRow(
            team_id,
            names.get(team_id, "Team"),
            depth,
            now.participation(i, int(invited[i])),
            cells,
        )

    return Heatmap(
        [(code, DIMENSIONS[code].name) for code in codes],
        _LazyRows(len(team_order), make_row),
        current.tallies,
        previous.tallies.title if previous else None,
        {code: now.means(code) for code in codes},
        team_ids,
    )


class _LazyRows(Sequence[HeatRow]):
    """Rows made on first access and kept."""

    def __init__(self, size: int, make: Callable[[int], HeatRow]) -> None:
        self.size = size
        self.make = make
        self.made: dict[int, HeatRow] = {}

    @overload
    def __getitem__(self, index: int) -> HeatRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[HeatRow]: ...
    def __getitem__(self, index: int | slice) -> HeatRow | list[HeatRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        row = self.made.get(index)
        if row is None:
            row = self.made[index] = self.make(index)
        return row

    def __len__(self) -> int:
        return self.size


class _Figures:
    """One pulse's figures for every heatmap row (a team's whole subtree) and dimension.

    Sums, visibility and means are arrays over all rows; a cell's interval and objects are
    made by the same functions `score` uses, when the cell is read.
    """

    def __init__(self, pulse: PulseView, codes: Sequence[str], keys: Sequence[str]) -> None:
        self.pulse = pulse
        forest = pulse.gated.forest
        if forest is None:
            raise ValueError("The heatmap needs decisions made by run_gate.")
        self.forest = forest
        self.codes = list(codes)
        self.keys = keys
        self.nodes = np.array(list(map(forest.node_of_key.__getitem__, keys)), dtype=np.int64)
        if (self.nodes < 0).any():
            raise ValueError("Every heatmap row must be a team of the viewer's family.")
        # Per team: n, total, total_sq, at_risk for each dimension, summed up the forest.
        columns = []
        for code in self.codes:
            sums = TeamSums.of(pulse.tallies.dimensions.get(code, {}))
            stacked = np.column_stack([sums.n, sums.total, sums.total_sq, sums.at_risk])
            columns.append(forest.dense_arrays(sums.teams, stacked.astype(float)))
        per_team = np.hstack(columns) if columns else np.zeros((len(forest.teams), 0))
        rows = forest.aggregate(per_team)[self.nodes] if len(self.nodes) else per_team[:0]
        self.n = {code: rows[:, 4 * c].astype(np.int64) for c, code in enumerate(self.codes)}
        self.total = {code: rows[:, 4 * c + 1] for c, code in enumerate(self.codes)}
        self.total_sq = {code: rows[:, 4 * c + 2] for c, code in enumerate(self.codes)}
        self.at_risk = {
            code: rows[:, 4 * c + 3].astype(np.int64) for c, code in enumerate(self.codes)
        }
        self.visible: dict[str, np.ndarray] = {}
        self.mean_of: dict[str, np.ndarray] = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for code in self.codes:
                n = self.n[code]
                decided = pulse.gated.dimensions.get(code)
                shown = (
                    decided.visible[self.nodes] & (n > 0)
                    if isinstance(decided, gate.Decided)
                    else np.zeros(len(self.nodes), dtype=bool)
                )
                if code == "enps":
                    shown &= n >= stats.ENPS_MIN_N
                self.visible[code] = shown
                self.mean_of[code] = np.where(n > 0, self.total[code] / n, np.nan)

    def mean(self, code: str, i: int) -> float | None:
        return float(self.mean_of[code][i]) if self.visible[code][i] else None

    def means(self, code: str) -> np.ndarray:
        """Every row's score, NaN where hidden."""
        return np.where(self.visible[code], self.mean_of[code], np.nan)

    def sd(self, code: str) -> np.ndarray:
        """Every row's standard deviation, as `stats.mean_interval` computes it (NaN below 2)."""
        n, total = self.n[code], self.total[code]
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = np.maximum(0.0, (self.total_sq[code] - total * self.mean_of[code]) / (n - 1))
            return np.where(n > 1, np.sqrt(variance), np.nan)

    def sums(self, code: str, i: int) -> stats.DimensionSums:
        return stats.DimensionSums(
            int(self.n[code][i]),
            float(self.total[code][i]),
            float(self.total_sq[code][i]),
            int(self.at_risk[code][i]),
        )

    def reason(self, code: str, i: int) -> str:
        decision = self.pulse.gated.dimension(code, self.keys[i])
        if not decision.visible:
            return decision.reason or gate.NO_ANSWERS
        return f"eNPS is shown from {stats.ENPS_MIN_N} answers"

    def score(self, code: str, i: int) -> Score:
        """What `score` gives for row i's group."""
        if not self.visible[code][i]:
            return Score(False, self.reason(code, i))
        sums = self.sums(code, i)
        estimate = sums.estimate()
        precision = stats.precision_word(estimate)
        if code == "enps":
            value = stats.enps_from_sums(sums.n, sums.total, sums.total_sq)
            return Score(True, None, estimate, precision, None, value)
        risk = sums.at_risk_share() if code in RISK_DIMENSIONS else None
        return Score(True, None, estimate, precision, risk)

    def invited(self) -> np.ndarray:
        invited = self.forest.aggregate(self.forest.dense(self.pulse.tallies.invited, np.int64))
        return invited[self.nodes] if len(self.nodes) else invited[:0]

    def participation(self, i: int, invited: int) -> Participation:
        """What `participation` gives for row i's group."""
        decision = self.pulse.gated.responses.get(self.keys[i], _NO_ANSWERS)
        if not decision.visible or decision.count is None:
            return Participation(False, decision.reason, None, invited, None)
        count = decision.count
        rate = stats.response_rate(count, invited) if invited >= count else None
        return Participation(True, None, count, invited, rate)


class _Changes:
    """Every cell's change since the previous pulse, flagged as `flag_changes` does.

    Benjamini-Hochberg needs every p-value of the page, so Welch's p is computed for all cells
    at once (the same arithmetic as `stats.welch`); a cell's full comparison and flag are made
    with `stats.welch` and `stats.change_flag` when the cell is read.
    """

    LABEL = "since the previous pulse"

    def __init__(self, now: _Figures, before: _Figures) -> None:
        self.now, self.before = now, before
        self.survives: dict[str, np.ndarray] = {}
        p_values = []
        compared = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for code in before.codes:
                n1, n2 = before.n[code], now.n[code]
                va = before.sd(code) ** 2 / n1
                vb = now.sd(code) ** 2 / n2
                se = np.sqrt(va + vb)
                diff = now.mean_of[code] - before.mean_of[code]
                df = (va + vb) ** 2 / (va**2 / (n1 - 1) + vb**2 / (n2 - 1))
                p = np.minimum(1.0, 2.0 * special.stdtr(df, -np.abs(diff / se)))
                p = np.where(se == 0.0, np.where(diff == 0, 1.0, 0.0), p)
                p_values.append(p)
                compared.append(before.visible[code] & now.visible[code] & ~np.isnan(p))
        survives = np.zeros(0, dtype=bool)
        if p_values:
            every_p, tested = np.concatenate(p_values), np.concatenate(compared)
            survives = np.zeros(len(every_p), dtype=bool)
            # As stats.benjamini_hochberg: tests that could not run take no part.
            survives[tested] = stats.benjamini_hochberg(every_p[tested].tolist())
        rows = len(now.nodes)
        for c, code in enumerate(before.codes):
            self.survives[code] = survives[c * rows : (c + 1) * rows]

    def change(self, code: str, i: int) -> Change | None:
        """What `flag_changes` gives for row i's cell; None when the earlier pulse lacks it."""
        if code not in self.survives:
            return None
        against = self.before.pulse.tallies.title
        earlier_shown, later_shown = self.before.visible[code][i], self.now.visible[code][i]
        if not (earlier_shown and later_shown):
            reason = self.before.reason(code, i) if not earlier_shown else self.now.reason(code, i)
            return Change(self.LABEL, against, None, None, reason or "Too few answers")
        earlier = self.before.sums(code, i).estimate()
        later = self.now.sums(code, i).estimate()
        comparison = stats.welch(earlier, later)
        flag = stats.change_flag(comparison, _mid(code), bool(self.survives[code][i]))
        improved = None
        if flag.flagged:
            improved = (flag.direction == "up") == DIMENSIONS[code].higher_is_better
        return Change(self.LABEL, against, comparison, flag, None, improved)


def sort_rows(rows: Sequence[HeatRow], code: str | None, descending: bool) -> list[HeatRow]:
    """Rows sorted by one dimension's score; hidden cells always last. None keeps tree order."""
    if code is None:
        return list(rows)

    def key(row: HeatRow) -> tuple[int, float]:
        cell = next((c for c in row.cells if c.code == code), None)
        mean = cell.score.mean if cell else None
        if mean is None:
            return (1, 0.0)
        return (0, -mean if descending else mean)

    return sorted(rows, key=key)
