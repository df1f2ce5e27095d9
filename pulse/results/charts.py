"""Chart geometry and number wording for results pages: pure functions over gated report data.

The templates in templates/results/_charts.html only loop over what these functions return and
draw it as SVG; templates/results/_score.html words single figures with the `*_text` filters
below. Every input has already passed the anonymity gate (pulse.results.report): a hidden group
carries no number, so it can get no position, label or table cell here either, only its reason.

Coordinates are viewBox units. Each SVG is WIDTH units wide and scales to its container, so a
chart fits a phone as well as a printed page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pulse.results import report, stats
from pulse.results.report import Change, QuestionRow, Score, TrendPoint
from pulse.surveys.library import DIMENSIONS, ScaleKind

WIDTH = 320.0
FONT = 12.0  # viewBox units: about 11 px on a phone; the stylesheet shrinks it on wide screens
MINUS = "\u2212"  # a real minus sign: screen readers say "minus", and it lines up with "+"

Anchor = Literal["start", "middle", "end"]
SegmentKind = Literal["favourable", "neutral", "unfavourable"]
MarkerKind = Literal["parent", "org"]


# --- wording of single figures ---------------------------------------------------------------


def _signed(value: float) -> str:
    whole = round(value)
    if whole > 0:
        return f"+{whole}"
    if whole < 0:
        return f"{MINUS}{-whole}"
    return "0"


def number_text(value: float, code: str) -> str:
    """A score as shown: whole points, with a sign on eNPS's -100..100 scale."""
    return _signed(value) if code == "enps" else f"{round(value)}"


def range_text(low: float, high: float, code: str) -> str:
    """An interval as shown; "to" rather than a dash where the bounds may carry minus signs."""
    if code == "enps":
        return f"{number_text(low, code)} to {number_text(high, code)}"
    return f"{round(low)}\u2013{round(high)}"


def domain(code: str) -> tuple[float, float]:
    """The scale a dimension's score lives on."""
    return (-100.0, 100.0) if code == "enps" else (0.0, 100.0)


@dataclass(frozen=True)
class Shown:
    """A visible score's point and interval as drawn and printed: clipped to its scale."""

    value: float
    low: float | None
    high: float | None
    n: int


def shown(code: str, score: Score) -> Shown | None:
    """The figures of a visible score, or None for a hidden one.

    Intervals are clipped to the scale for display (a t-interval near 0 or 100 can reach past
    it); eNPS uses its own clipped interval.
    """
    estimate = score.estimate
    if not score.visible or estimate is None or estimate.mean is None:
        return None
    mean = estimate.mean
    if score.enps is not None and score.enps.score is not None:
        return Shown(score.enps.score, score.enps.low, score.enps.high, estimate.n)
    lowest, highest = domain(code)
    clipped = estimate.clipped(lowest, highest)
    return Shown(mean, clipped.low, clipped.high, estimate.n)


def score_text(score: Score, code: str) -> str:
    """The score alone ("62", "+12"); empty for a hidden score, whose reason is shown instead."""
    figures = shown(code, score)
    return number_text(figures.value, code) if figures else ""


def score_interval_text(score: Score, code: str) -> str:
    """The score's 95% interval ("55-70"); empty when hidden or without an interval."""
    figures = shown(code, score)
    if figures is None or figures.low is None or figures.high is None:
        return ""
    return range_text(figures.low, figures.high, code)


def percent_text(share: float | None) -> str:
    """A share in 0..1 as a whole percentage."""
    return "" if share is None else f"{round(100 * share)}%"


def share_interval_text(proportion: stats.Proportion | None) -> str:
    """A Wilson interval as whole percentages ("20-52%")."""
    if proportion is None or proportion.low is None or proportion.high is None:
        return ""
    return f"{round(100 * proportion.low)}\u2013{round(100 * proportion.high)}%"


def change_text(change: Change) -> str:
    """The size of a change in points with its sign ("+12 points")."""
    if change.comparison is None or change.comparison.diff is None:
        return ""
    diff = change.comparison.diff
    unit = "point" if round(abs(diff)) == 1 else "points"
    return f"{_signed(diff)} {unit}"


def change_interval_text(change: Change) -> str:
    """The change's 95% interval in points ("+3 to +21")."""
    comparison = change.comparison
    if comparison is None or comparison.low is None or comparison.high is None:
        return ""
    return f"{_signed(comparison.low)} to {_signed(comparison.high)}"


def mean_text(estimate: stats.MeanEstimate | None) -> str:
    """A question's mean to one decimal (hours, 0-10 answers)."""
    if estimate is None or estimate.mean is None:
        return ""
    return f"{estimate.mean:.1f}"


def mean_interval_text(estimate: stats.MeanEstimate | None) -> str:
    if estimate is None or estimate.low is None or estimate.high is None:
        return ""
    return f"{max(0.0, estimate.low):.1f} to {estimate.high:.1f}"


# --- shared pieces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: Anchor = "middle"


@dataclass(frozen=True)
class Tick:
    at: float  # position along the axis
    label: str


@dataclass(frozen=True)
class DataTable:
    """The numbers behind a chart, for the "Show the numbers" disclosure."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class LinearScale:
    """Maps values in [low, high] onto positions in [start, end] (end may be below start)."""

    low: float
    high: float
    start: float
    end: float

    def position(self, value: float) -> float:
        clamped = min(max(value, self.low), self.high)
        ratio = (clamped - self.low) / (self.high - self.low)
        return round(self.start + ratio * (self.end - self.start), 2)


def _half_width(text: str) -> float:
    """About half a label's width: an average character is roughly 0.6 em wide."""
    return len(text) * FONT * 0.3


def _anchored(x: float, y: float, text: str, left: float, right: float) -> Label:
    """A label centred on x, unless that would push it past the picture's edges."""
    room = _half_width(text)
    if x - left < room:
        return Label(max(x, left), y, text, "start")
    if right - x < room:
        return Label(min(x, right), y, text, "end")
    return Label(x, y, text, "middle")


def _score_ticks(code: str, scale: LinearScale) -> tuple[Tick, ...]:
    lowest, highest = domain(code)
    step = 50.0 if code == "enps" else 25.0
    values = []
    value = lowest
    while value <= highest:
        values.append(value)
        value += step
    return tuple(Tick(scale.position(v), number_text(v, code)) for v in values)


def _direction_words(code: str) -> str:
    return "Higher is better." if DIMENSIONS[code].higher_is_better else "Lower is better."


def _scale_words(code: str) -> str:
    return "on a scale from \u2212100 to +100" if code == "enps" else "out of 100"


def _score_cells(code: str, score: Score) -> tuple[str, str, str]:
    """(score, interval, answers) for a data table; a hidden score gets its reason only."""
    figures = shown(code, score)
    if figures is None:
        return (f"Not shown: {score.reason or 'too few answers'}", "", "")
    interval = score_interval_text(score, code) or "none (too few answers)"
    return (number_text(figures.value, code), interval, str(figures.n))


# --- score with interval ---------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A comparison group's score, drawn as a labelled vertical rule across the plot."""

    kind: MarkerKind
    x: float
    label: Label


@dataclass(frozen=True)
class ScorePlot:
    id: str
    title: str
    desc: str
    height: float
    axis_y: float
    axis_start: float
    axis_end: float
    ticks: tuple[Tick, ...]
    tick_label_y: float
    row_y: float  # where the team's point and interval sit
    rule_top: float
    rule_bottom: float
    point_x: float | None
    low_x: float | None
    high_x: float | None
    value_label: Label | None
    markers: tuple[Marker, ...]
    hidden_label: Label | None  # the gate's reason, where the point would be
    table: DataTable
    width: float = WIDTH


# Layout of the score plot, top to bottom: parent label, organisation label, the team's point
# and interval between the two comparison rules, the axis, its tick labels.
_PLOT_LEFT, _PLOT_RIGHT = 24.0, WIDTH - 24.0
_PARENT_LABEL_Y, _ORG_LABEL_Y = 13.0, 28.0
_RULE_TOP, _RULE_BOTTOM = 33.0, 70.0
_VALUE_LABEL_Y, _ROW_Y = 44.0, 56.0
_AXIS_Y, _TICK_LABEL_Y, _PLOT_HEIGHT = 72.0, 88.0, 94.0


def score_plot(
    chart_id: str,
    code: str,
    team_name: str,
    team: Score,
    parent: tuple[str, Score] | None = None,
    org: Score | None = None,
) -> ScorePlot:
    """A dot plot of one dimension: the team's score and 95% interval on the full scale, with
    rules where the parent team and the whole organisation stand (when they are visible)."""
    lowest, highest = domain(code)
    scale = LinearScale(lowest, highest, _PLOT_LEFT, _PLOT_RIGHT)
    name = DIMENSIONS[code].name
    figures = shown(code, team)
    point_x = low_x = high_x = None
    value_label = hidden_label = None
    sentences = []
    if figures is not None:
        point_x = scale.position(figures.value)
        value_label = _anchored(
            point_x, _VALUE_LABEL_Y, number_text(figures.value, code), _PLOT_LEFT, _PLOT_RIGHT
        )
        sentence = f"{team_name}: {number_text(figures.value, code)} {_scale_words(code)}"
        if figures.low is not None and figures.high is not None:
            low_x, high_x = scale.position(figures.low), scale.position(figures.high)
            sentence += f", 95% interval {range_text(figures.low, figures.high, code)}"
        if team.precision:
            sentence += f" ({team.precision})"
        sentences.append(sentence + ".")
    else:
        reason = team.reason or "Too few answers"
        hidden_label = Label(WIDTH / 2, _ROW_Y + 4, f"Not shown: {reason}", "middle")
        sentences.append(f"{team_name}: not shown. {reason}.")

    markers = []
    rows = [(team_name, *_score_cells(code, team))]
    comparisons: list[tuple[MarkerKind, str, str, Score, float]] = []
    if parent is not None:
        parent_name, parent_score = parent
        comparisons.append(
            ("parent", f"Parent team ({parent_name})", "Parent", parent_score, _PARENT_LABEL_Y)
        )
    if org is not None:
        comparisons.append(("org", "Whole organisation", "Organisation", org, _ORG_LABEL_Y))
    for kind, long_name, short_name, other, label_y in comparisons:
        rows.append((long_name, *_score_cells(code, other)))
        other_figures = shown(code, other)
        if other_figures is None:
            sentences.append(f"{long_name}: not shown.")
            continue
        x = scale.position(other_figures.value)
        text = f"{short_name} {number_text(other_figures.value, code)}"
        markers.append(Marker(kind, x, _anchored(x, label_y, text, 2.0, WIDTH - 2.0)))
        sentences.append(f"{long_name}: {number_text(other_figures.value, code)}.")
    sentences.append(_direction_words(code))
    return ScorePlot(
        id=chart_id,
        title=f"{name}: score with 95% interval",
        desc=" ".join(sentences),
        height=_PLOT_HEIGHT,
        axis_y=_AXIS_Y,
        axis_start=_PLOT_LEFT,
        axis_end=_PLOT_RIGHT,
        ticks=_score_ticks(code, scale),
        tick_label_y=_TICK_LABEL_Y,
        row_y=_ROW_Y,
        rule_top=_RULE_TOP,
        rule_bottom=_RULE_BOTTOM,
        point_x=point_x,
        low_x=low_x,
        high_x=high_x,
        value_label=value_label,
        markers=tuple(markers),
        hidden_label=hidden_label,
        table=DataTable(
            f"{name}: the numbers behind the chart",
            ("Group", "Score", "95% interval", "Answers"),
            tuple(rows),
        ),
    )


# --- stacked distribution bar ----------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    name: str
    percent: int
    x: float
    width: float
    label: Label | None  # the percentage, when the segment is wide enough to hold it


@dataclass(frozen=True)
class StackedBar:
    id: str
    title: str
    desc: str
    height: float
    bar_y: float
    bar_height: float
    segments: tuple[Segment, ...]
    table: DataTable
    width: float = WIDTH


_BAR_Y, _BAR_HEIGHT, _BAR_TOTAL_HEIGHT = 1.0, 24.0, 26.0
_MIN_LABEL_WIDTH = 34.0  # room for "100%" at FONT
SEGMENT_NAMES: dict[SegmentKind, str] = {
    "favourable": "Favourable",
    "neutral": "Neutral",
    "unfavourable": "Unfavourable",
}


def stacked_bar(chart_id: str, title: str, row: QuestionRow) -> StackedBar | None:
    """Favourable, neutral and unfavourable shares of one question as one horizontal bar.

    Neutral is always a segment, even at 0%, so the legend and table always show it. Hidden
    questions get no bar at all (the page shows the gate's reason).
    """
    if not row.visible or row.distribution is None or row.percentages is None:
        return None
    dist = row.distribution
    proportions = (dist.favourable, dist.neutral, dist.unfavourable)
    kinds: tuple[SegmentKind, ...] = ("favourable", "neutral", "unfavourable")
    segments = []
    table_rows = []
    x = 0.0
    for kind, percent, proportion in zip(kinds, row.percentages, proportions, strict=True):
        width = round(WIDTH * percent / 100, 2)
        label = None
        if width >= _MIN_LABEL_WIDTH:
            label = Label(
                round(x + width / 2, 2), _BAR_Y + _BAR_HEIGHT / 2 + FONT / 3, f"{percent}%"
            )
        segments.append(Segment(kind, SEGMENT_NAMES[kind], percent, round(x, 2), width, label))
        table_rows.append(
            (SEGMENT_NAMES[kind], f"{percent}%", share_interval_text(proportion), str(proportion.k))
        )
        x += width
    desc = ", ".join(
        f"{p}% {SEGMENT_NAMES[k].lower()}" for k, p in zip(kinds, row.percentages, strict=True)
    )
    return StackedBar(
        id=chart_id,
        title=f"Answers to: {title}",
        desc=f"{desc}, of {dist.n} answers.",
        height=_BAR_TOTAL_HEIGHT,
        bar_y=_BAR_Y,
        bar_height=_BAR_HEIGHT,
        segments=tuple(segments),
        table=DataTable(
            f"Answers by kind to: {title}",
            ("Answer", "Share", "95% interval", "Answers"),
            tuple(table_rows),
        ),
    )


# --- trend over pulses -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrendMark:
    """One pulse on the trend chart: a point with its interval whisker, or a gap mark."""

    x: float
    y: float | None
    low_y: float | None
    high_y: float | None
    value_label: Label | None
    gap_label: Label | None  # where the score is hidden


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class TrendChart:
    id: str
    title: str
    desc: str
    height: float
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_ticks: tuple[Tick, ...]
    x_labels: tuple[Label, ...]
    marks: tuple[TrendMark, ...]
    lines: tuple[Line, ...]  # only between neighbouring visible pulses: hidden ones leave a gap
    table: DataTable
    width: float = WIDTH


_TREND_LEFT, _TREND_RIGHT = 36.0, WIDTH - 14.0
_TREND_TOP, _TREND_BOTTOM = 22.0, 142.0
_TREND_LABEL_Y, _TREND_HEIGHT = 160.0, 166.0
_MAX_X_LABELS = 6
_MAX_VALUE_LABELS = 8  # above this many pulses the labels would collide; the table has them
GAP_MARK = "\u00d7"  # multiplication sign: "no value here"


def _date_label(when: datetime | None, several_years: bool) -> str:
    if when is None:
        return ""
    if several_years:
        return f"{when:%b} \u2019{when:%y}"
    return f"{when.day} {when:%b}"


def _date_text(when: datetime | None) -> str:
    return "" if when is None else f"{when.day} {when:%b %Y}"


def _label_every(count: int) -> int:
    return max(1, -(-count // _MAX_X_LABELS))


def trend_chart(chart_id: str, code: str, points: Sequence[TrendPoint]) -> TrendChart:
    """A dimension's score over pulses (oldest first) with 95% interval whiskers.

    Hidden pulses keep their place on the time axis with a gap mark and break the line, so a
    reader never sees a line drawn through a value nobody may see.
    """
    name = DIMENSIONS[code].name
    lowest, highest = domain(code)
    y_scale = LinearScale(lowest, highest, _TREND_BOTTOM, _TREND_TOP)
    count = len(points)
    years = {p.closes_at.year for p in points if p.closes_at is not None}
    every = _label_every(count)
    marks: list[TrendMark] = []
    x_labels: list[Label] = []
    lines: list[Line] = []
    rows: list[tuple[str, ...]] = []
    hidden = 0
    for i, point in enumerate(points):
        if count == 1:
            x = round((_TREND_LEFT + _TREND_RIGHT) / 2, 2)
        else:
            x = round(_TREND_LEFT + 12 + i * (_TREND_RIGHT - _TREND_LEFT - 24) / (count - 1), 2)
        if i % every == 0 or i == count - 1:
            if i == count - 1 and i % every != 0 and x_labels:
                x_labels.pop()  # the last pulse's label wins over a crowded neighbour
            x_labels.append(
                _anchored(
                    x,
                    _TREND_LABEL_Y,
                    _date_label(point.closes_at, len(years) > 1),
                    _TREND_LEFT - 20,
                    _TREND_RIGHT + 14,
                )
            )
        figures = shown(code, point.score)
        rows.append(
            (point.pulse_title, _date_text(point.closes_at), *_score_cells(code, point.score))
        )
        if figures is None:
            hidden += 1
            gap = Label(x, _TREND_BOTTOM - 6, GAP_MARK)
            marks.append(TrendMark(x, None, None, None, None, gap))
            continue
        y = y_scale.position(figures.value)
        low_y = high_y = None
        if figures.low is not None and figures.high is not None:
            low_y, high_y = y_scale.position(figures.low), y_scale.position(figures.high)
        label = None
        if count <= _MAX_VALUE_LABELS:
            top = high_y if high_y is not None else y
            label = Label(x, max(FONT, top - 5), number_text(figures.value, code))
        marks.append(TrendMark(x, y, low_y, high_y, label, None))
        previous = marks[-2] if len(marks) >= 2 else None
        if previous is not None and previous.y is not None:
            lines.append(Line(previous.x, previous.y, x, y))

    shown_count = count - hidden
    desc = f"{name} over {count} {'pulse' if count == 1 else 'pulses'}"
    if count:
        first, last = points[0].closes_at, points[-1].closes_at
        if count > 1 and first is not None and last is not None:
            desc += f", from {_date_text(first)} to {_date_text(last)}"
        desc += f": shown for {shown_count}"
        if hidden:
            desc += f", hidden for {hidden} (too few answers or still open)"
        latest = shown(code, points[-1].score)
        if latest is not None:
            desc += f". Latest: {number_text(latest.value, code)}"
    desc += f". {_direction_words(code)}"
    return TrendChart(
        id=chart_id,
        title=f"{name} over time",
        desc=desc,
        height=_TREND_HEIGHT,
        plot_left=_TREND_LEFT,
        plot_right=_TREND_RIGHT,
        plot_top=_TREND_TOP,
        plot_bottom=_TREND_BOTTOM,
        y_ticks=_score_ticks(code, y_scale),
        x_labels=tuple(x_labels),
        marks=tuple(marks),
        lines=tuple(lines),
        table=DataTable(
            f"{name} by pulse",
            ("Pulse", "Closed", "Score", "95% interval", "Answers"),
            tuple(rows),
        ),
    )


# --- a whole dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionCharts:
    row: report.DimensionRow
    plot: ScorePlot
    trend: TrendChart


@dataclass(frozen=True)
class QuestionCharts:
    row: QuestionRow
    bar: StackedBar | None
    unit: str  # for means: "hours" or "out of 10"
    dimension: str  # the dimension's name


@dataclass(frozen=True)
class DashboardCharts:
    dimensions: tuple[DimensionCharts, ...]
    questions: tuple[QuestionCharts, ...]
    lowest: tuple[QuestionCharts, ...]  # least favourable questions, "where to look first"


LOWEST_COUNT = 3


def _mean_unit(row: QuestionRow) -> str:
    if row.question.scale is ScaleKind.HOURS:
        return "hours"
    if row.question.scale is ScaleKind.SCORE11:
        return "out of 10"
    return ""


def _dimension_name(code: str) -> str:
    dimension = DIMENSIONS.get(code)
    return dimension.name if dimension else code


def lowest_questions(
    questions: Sequence[QuestionCharts], count: int = LOWEST_COUNT
) -> tuple[QuestionCharts, ...]:
    """The questions with the smallest favourable share, least favourable first.

    Only when there are more visible distributions than we would pick: otherwise "the lowest"
    would just be all of them.
    """
    with_bars = [
        (q, q.row.percentages)
        for q in questions
        if q.bar is not None and q.row.percentages is not None
    ]
    if len(with_bars) <= count:
        return ()
    # Least favourable first; among equals, the one with more unfavourable answers.
    with_bars.sort(key=lambda pair: (pair[1][0], -pair[1][2]))
    return tuple(q for q, _ in with_bars[:count])


def dashboard_charts(board: report.Dashboard, parent_is_org: bool = False) -> DashboardCharts:
    """Every chart of a team dashboard, built from the gated dashboard report.

    When the parent team is the whole organisation (the team sits right under the only root),
    it is drawn once, as the organisation.
    """
    dimensions = []
    for row in board.rows:
        parent = None
        if row.parent is not None and not parent_is_org:
            parent = (board.parent_name or "Parent team", row.parent)
        plot = score_plot(f"score-{row.code}", row.code, board.title, row.current, parent, row.org)
        trend = trend_chart(f"trend-{row.code}", row.code, row.trend)
        dimensions.append(DimensionCharts(row, plot, trend))
    questions = tuple(
        QuestionCharts(
            q,
            stacked_bar(f"question-{q.question.id}", q.question.text, q),
            _mean_unit(q),
            _dimension_name(q.question.dimension),
        )
        for q in board.questions
    )
    return DashboardCharts(tuple(dimensions), questions, lowest_questions(questions))
