"""Build what results pages show, from tallies, through the anonymity gate (pure: no database).

Every number a page, CSV or email shows comes out of this module, and every one of them has
passed the gate for the viewer's whole family of groups: per dimension (people who answered any
item of it), per question (people who answered it) and for response counts. A hidden group
carries only the gate's reason, never a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pulse.results import gate, stats
from pulse.results.gate import Decision, Group
from pulse.results.queries import PulseTallies, QuestionInfo
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
    """Gate decisions for one pulse and one viewer, per kind of count."""

    responses: dict[str, Decision]
    dimensions: dict[str, dict[str, Decision]]  # dimension -> group key -> decision
    questions: dict[int, dict[str, Decision]]  # question id -> group key -> decision

    def dimension(self, code: str, key: str) -> Decision:
        return self.dimensions.get(code, {}).get(key, _NO_ANSWERS)

    def question(self, question_id: int, key: str) -> Decision:
        return self.questions.get(question_id, {}).get(key, _NO_ANSWERS)


_NO_ANSWERS = Decision(False, None, gate.NO_ANSWERS)


def run_gate(tree: Tree, tallies: PulseTallies, groups: Sequence[Group]) -> Gated:
    """Apply the gate to every count a results page may show for this pulse."""
    k = tallies.min_group
    if tallies.hidden_while_open:
        hidden = Decision(False, None, OPEN_HIDDEN)
        keys = [g.key for g in groups]
        return Gated(
            dict.fromkeys(keys, hidden),
            {code: dict.fromkeys(keys, hidden) for code in tallies.dimensions},
            {q.id: dict.fromkeys(keys, hidden) for q in tallies.questions},
        )
    responses = gate.decide(tree, tallies.responses, groups, k)
    dimensions = {
        code: gate.decide(tree, {t: s.n for t, s in by_team.items()}, groups, k)
        for code, by_team in tallies.dimensions.items()
    }
    questions = {
        q.id: gate.decide(tree, _answer_counts(tallies.values.get(q.id, {})), groups, k)
        for q in tallies.questions
        if q.scale is not ScaleKind.TEXT
    }
    return Gated(responses, dimensions, questions)


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


def view(tree: Tree, tallies: PulseTallies, groups: Sequence[Group]) -> PulseView:
    return PulseView(tallies, run_gate(tree, tallies, groups))


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
        if q.scale is not ScaleKind.TEXT
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
    rows: list[HeatRow]
    pulse: PulseTallies
    previous_title: str | None


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
    """Teams (whole subtrees) against dimensions for one pulse, with flagged changes."""
    by_key = {g.key: g for g in groups}
    codes = _dimensions_asked(current.tallies)
    cells: dict[tuple[int, str], Score] = {}
    raw: list[tuple[str, str, str, Score, Score]] = []
    index: list[tuple[int, str]] = []
    for team_id, _depth in team_order:
        group = by_key[gate.team_key(team_id)]
        for code in codes:
            now_score = score(current.tallies, current.gated, code, group)
            cells[(team_id, code)] = now_score
            if previous is not None and code in _dimensions_asked(previous.tallies):
                before = score(previous.tallies, previous.gated, code, group)
                raw.append(
                    (code, "since the previous pulse", previous.tallies.title, before, now_score)
                )
                index.append((team_id, code))
    changes = dict(zip(index, flag_changes(raw), strict=True))
    rows = []
    for team_id, depth in team_order:
        group = by_key[gate.team_key(team_id)]
        row_cells = tuple(
            HeatCell(
                code,
                cells[(team_id, code)],
                changes.get((team_id, code)),
                band(code, cells[(team_id, code)].mean),
            )
            for code in codes
        )
        rows.append(
            HeatRow(
                team_id,
                names.get(team_id, "Team"),
                depth,
                participation(current.tallies, current.gated, group),
                row_cells,
            )
        )
    return Heatmap(
        [(code, DIMENSIONS[code].name) for code in codes],
        rows,
        current.tallies,
        previous.tallies.title if previous else None,
    )


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
