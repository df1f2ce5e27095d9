"""Chart geometry and figure wording: pure, so tested without a database or an app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pulse.results import charts, report, stats
from pulse.results.queries import QuestionInfo
from pulse.results.report import QuestionRow, Score, TrendPoint
from pulse.surveys.library import ScaleKind

HIDDEN = Score(False, "Fewer than 5 answers")


def visible(values: list[float], precision: str = "fair") -> Score:
    estimate = stats.mean_interval(len(values), sum(values), sum(v * v for v in values))
    return Score(True, None, estimate, precision)


def enps_score(promoters: int, passives: int, detractors: int) -> Score:
    n = promoters + passives + detractors
    total, total_sq = 100.0 * (promoters - detractors), 10_000.0 * (promoters + detractors)
    return Score(
        True,
        None,
        stats.mean_interval(n, total, total_sq),
        "fair",
        None,
        stats.enps(promoters, passives, detractors),
    )


def question(values: dict[int, int], visible_row: bool = True) -> QuestionRow:
    info = QuestionInfo(7, "trust.x", "trust", ScaleKind.AGREE5, False, "I trust them.", True)
    if not visible_row:
        return QuestionRow(info, False, "Fewer than 5 answers")
    dist = stats.distribution(values, 1, 5)
    return QuestionRow(info, True, None, dist, dist.percentages(), (0.4, 0.8))


# --- wording ---------------------------------------------------------------------------------


def test_scores_are_whole_points_and_enps_is_signed() -> None:
    assert charts.number_text(61.6, "trust") == "62"
    assert charts.number_text(12.0, "enps") == "+12"
    assert charts.number_text(-30.4, "enps") == "\u221230"
    assert charts.number_text(0.2, "enps") == "0"
    assert charts.range_text(55.2, 70.9, "trust") == "55\u201371"
    assert charts.range_text(-30.0, 12.0, "enps") == "\u221230 to +12"


def test_hidden_scores_have_no_text_at_all() -> None:
    assert charts.score_text(HIDDEN, "trust") == ""
    assert charts.score_interval_text(HIDDEN, "trust") == ""
    assert charts.shown("trust", HIDDEN) is None


def test_intervals_are_clipped_to_the_scale_for_display() -> None:
    score = visible([100.0, 100.0, 75.0, 100.0, 100.0])
    assert score.estimate is not None and score.estimate.high is not None
    assert score.estimate.high > 100  # the honest interval reaches past the scale
    figures = charts.shown("trust", score)
    assert figures is not None and figures.high == 100.0
    assert charts.score_interval_text(score, "trust").endswith("\u2013100")


def test_enps_uses_its_own_interval() -> None:
    score = enps_score(6, 2, 4)
    figures = charts.shown("enps", score)
    assert score.enps is not None
    assert figures is not None and (figures.low, figures.high) == (score.enps.low, score.enps.high)
    assert charts.score_text(score, "enps") == "+17"


def test_shares_changes_and_means_are_worded() -> None:
    assert charts.percent_text(0.375) == "38%"
    assert charts.percent_text(None) == ""
    assert charts.share_interval_text(stats.wilson(4, 6)) == "30\u201390%"
    one = report.Change(
        "since the previous pulse", "Spring", stats.Comparison(1.2, -3, 5, 0.5), None, None
    )
    assert charts.change_text(one) == "+1 point"
    assert charts.change_interval_text(one) == "\u22123 to +5"
    none = report.Change("since the baseline", "Spring", None, None, "Fewer than 5 answers")
    assert charts.change_text(none) == "" and charts.change_interval_text(none) == ""
    mean = stats.mean_interval(4, 160.0, 6416.0)
    assert charts.mean_text(mean) == "40.0"
    assert charts.mean_interval_text(mean).count(" to ") == 1
    assert charts.mean_text(None) == ""


# --- scales ----------------------------------------------------------------------------------


def test_linear_scale_maps_and_clamps() -> None:
    scale = charts.LinearScale(0, 100, 20, 220)
    assert scale.position(0) == 20 and scale.position(50) == 120 and scale.position(100) == 220
    assert scale.position(-10) == 20 and scale.position(130) == 220
    upside_down = charts.LinearScale(0, 100, 140, 20)
    assert upside_down.position(100) == 20 and upside_down.position(25) == 110


# --- score plot ------------------------------------------------------------------------------


def test_score_plot_places_the_point_interval_and_comparisons() -> None:
    team = visible([50.0, 60.0, 70.0, 40.0, 80.0])
    plot = charts.score_plot(
        "score-trust",
        "trust",
        "Eng",
        team,
        ("Acme", visible([30.0] * 4 + [40.0])),
        visible([90.0] * 6),
    )
    scale = charts.LinearScale(0, 100, plot.axis_start, plot.axis_end)
    assert plot.point_x == scale.position(60.0)
    assert plot.low_x is not None and plot.high_x is not None
    assert plot.low_x < plot.point_x < plot.high_x
    assert [m.kind for m in plot.markers] == ["parent", "org"]
    assert plot.markers[0].x == scale.position(32.0)
    assert plot.markers[0].label.text == "Parent 32"
    assert plot.markers[1].label.text == "Organisation 90"
    assert plot.markers[1].label.anchor == "end"  # kept inside the picture
    assert [t.label for t in plot.ticks] == ["0", "25", "50", "75", "100"]
    assert plot.hidden_label is None
    assert "Eng: 60 out of 100, 95% interval" in plot.desc and "Higher is better." in plot.desc
    assert plot.table.rows[0][:2] == ("Eng", "60")
    assert plot.title == "Trust: score with 95% interval"


def test_a_hidden_score_gets_a_reason_and_no_geometry() -> None:
    plot = charts.score_plot("score-burnout", "burnout", "Tiny", HIDDEN, ("Eng", HIDDEN), None)
    assert plot.point_x is None and plot.low_x is None and plot.value_label is None
    assert plot.markers == ()
    assert plot.hidden_label is not None and "Fewer than 5 answers" in plot.hidden_label.text
    assert plot.table.rows[0] == ("Tiny", "Not shown: Fewer than 5 answers", "", "")
    assert plot.table.rows[1][0] == "Parent team (Eng)" and plot.table.rows[1][2:] == ("", "")
    assert "Lower is better." in plot.desc


def test_enps_plot_runs_from_minus_to_plus_100() -> None:
    plot = charts.score_plot("score-enps", "enps", "Eng", enps_score(4, 4, 4))
    assert [t.label for t in plot.ticks] == ["\u2212100", "\u221250", "0", "+50", "+100"]
    assert plot.point_x == round((plot.axis_start + plot.axis_end) / 2, 2)


# --- stacked bar -----------------------------------------------------------------------------


def test_stacked_bar_segments_fill_the_width_in_order() -> None:
    bar = charts.stacked_bar("question-7", "I trust them.", question({5: 6, 3: 2, 1: 2}))
    assert bar is not None
    assert [s.kind for s in bar.segments] == ["favourable", "neutral", "unfavourable"]
    assert [s.percent for s in bar.segments] == [60, 20, 20]
    assert sum(s.width for s in bar.segments) == pytest.approx(charts.WIDTH)
    assert bar.segments[1].x == pytest.approx(bar.segments[0].width)
    assert all(s.label is not None for s in bar.segments)
    assert bar.desc == "60% favourable, 20% neutral, 20% unfavourable, of 10 answers."
    assert [row[0] for row in bar.table.rows] == ["Favourable", "Neutral", "Unfavourable"]


def test_neutral_is_always_a_segment_and_thin_ones_carry_no_label() -> None:
    bar = charts.stacked_bar("question-7", "I trust them.", question({5: 39, 1: 1}))
    assert bar is not None
    neutral = bar.segments[1]
    assert neutral.kind == "neutral" and neutral.percent == 0 and neutral.width == 0
    assert neutral.label is None and bar.segments[2].label is None  # 3% is too thin
    assert bar.table.rows[1][:2] == ("Neutral", "0%")


def test_a_hidden_question_has_no_bar() -> None:
    assert charts.stacked_bar("question-7", "I trust them.", question({}, False)) is None


# --- trend -----------------------------------------------------------------------------------


def _points(scores: list[Score]) -> list[TrendPoint]:
    return [
        TrendPoint(f"Pulse {i + 1}", datetime(2026, 1 + i % 12, 10, tzinfo=UTC), s)
        for i, s in enumerate(scores)
    ]


def test_trend_breaks_the_line_at_hidden_pulses() -> None:
    a, b = visible([40.0, 50.0, 60.0, 50.0, 45.0]), visible([70.0, 60.0, 65.0, 75.0, 70.0])
    chart = charts.trend_chart("trend-trust", "trust", _points([a, HIDDEN, a, b]))
    xs = [m.x for m in chart.marks]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert chart.marks[1].y is None and chart.marks[1].gap_label is not None
    assert chart.marks[1].low_y is None and chart.marks[1].value_label is None
    # Only pulses 3 and 4 are neighbours that are both visible.
    assert len(chart.lines) == 1
    assert (chart.lines[0].x1, chart.lines[0].x2) == (xs[2], xs[3])
    # Higher scores sit higher (smaller y); whiskers surround the point.
    top, bottom = chart.marks[3], chart.marks[2]
    assert top.y is not None and bottom.y is not None and top.y < bottom.y
    assert top.high_y is not None and top.low_y is not None and top.high_y < top.y < top.low_y
    assert "hidden for 1" in chart.desc and "Latest: 68" in chart.desc
    assert chart.table.rows[1][2] == "Not shown: Fewer than 5 answers"
    assert len(chart.table.rows) == 4


def test_a_single_pulse_sits_in_the_middle() -> None:
    chart = charts.trend_chart("trend-trust", "trust", _points([visible([50.0] * 4 + [60.0])]))
    (mark,) = chart.marks
    assert mark.x == round((chart.plot_left + chart.plot_right) / 2, 2)
    assert chart.lines == ()


def test_many_pulses_thin_out_the_labels_but_keep_the_last() -> None:
    scores = [visible([50.0, 55.0, 60.0, 65.0, 52.0]) for _ in range(26)]
    chart = charts.trend_chart("trend-trust", "trust", _points(scores))
    assert len(chart.x_labels) <= 6
    assert chart.x_labels[-1].x == chart.marks[-1].x
    assert all(m.value_label is None for m in chart.marks)  # the table has the values
    assert len(chart.lines) == 25
    assert all(chart.plot_left <= m.x <= chart.plot_right for m in chart.marks)


def test_trend_labels_add_the_year_when_pulses_span_several() -> None:
    points = [
        TrendPoint("Old", datetime(2025, 11, 3, tzinfo=UTC), HIDDEN),
        TrendPoint("New", datetime(2026, 2, 3, tzinfo=UTC), HIDDEN),
    ]
    chart = charts.trend_chart("trend-trust", "trust", points)
    assert [label.text for label in chart.x_labels] == ["Nov \u201925", "Feb \u201926"]
    assert chart.lines == ()


# --- a whole dashboard -----------------------------------------------------------------------


def _charts_for(percentages: list[tuple[int, int, int]]) -> list[charts.QuestionCharts]:
    result = []
    for i, (fav, neu, unf) in enumerate(percentages):
        row = question({5: fav, 3: neu, 1: unf})
        row = QuestionRow(row.question, True, None, row.distribution, (fav, neu, unf), None)
        result.append(
            charts.QuestionCharts(row, charts.stacked_bar(f"q{i}", "x", row), "", "Trust")
        )
    return result


def test_lowest_questions_are_the_least_favourable() -> None:
    questions = _charts_for([(60, 20, 20), (10, 30, 60), (40, 40, 20), (10, 20, 70), (80, 10, 10)])
    lowest = charts.lowest_questions(questions)
    assert [q.row.percentages for q in lowest] == [(10, 20, 70), (10, 30, 60), (40, 40, 20)]
    assert charts.lowest_questions(questions[:3]) == ()  # "the lowest three of three" says nothing


def test_dashboard_charts_cover_every_dimension_and_question() -> None:
    from tests.results.test_report import NAMES, TREE, hr_groups, tallies

    data = tallies({3: [50.0, 60.0, 55.0, 65.0, 40.0, 70.0, 45.0, 50.0], 4: [70.0] * 9})
    board = report.dashboard(TREE, NAMES, hr_groups(), 3, [report.view(TREE, data, hr_groups())])
    built = charts.dashboard_charts(board)
    (dimension,) = built.dimensions
    assert dimension.plot.id == "score-trust" and dimension.trend.id == "trend-trust"
    assert dimension.plot.point_x is not None
    assert [m.kind for m in dimension.plot.markers] == ["parent", "org"]
    # Ops sits right under the only root: its parent is the organisation, drawn once.
    once = charts.dashboard_charts(board, parent_is_org=True).dimensions[0].plot
    assert [m.kind for m in once.markers] == ["org"]
    (q,) = built.questions
    assert q.bar is not None and q.dimension == "Trust"
    assert built.lowest == ()
