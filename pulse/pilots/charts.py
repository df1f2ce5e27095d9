"""The pilot report's event-study chart: geometry for server-rendered, accessible SVG (pure).

Each pulse is a point: how far the pilot arm's score stood from the comparison arm's at that
pulse, minus the same gap at the (pooled) baseline, with its 95% interval as a whisker. A
dashed vertical rule marks the pilot's start and a solid horizontal rule marks zero (no
difference). The template (templates/pilots/_report_chart.html) only draws what this returns;
the chart has a title and a description, every point is labelled in words in its data table,
and a pulse without a figure is marked with a cross and explained, not shown by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pulse.pilots.analysis import EventPoint, signed
from pulse.pilots.report import DimensionReport, PulseLine
from pulse.results.charts import Anchor, DataTable, Label, LinearScale, Tick

WIDTH = 320.0
HEIGHT = 200.0
LEFT, RIGHT = 40.0, WIDTH - 12.0
TOP, BOTTOM = 30.0, 150.0
TICK_LABEL_Y, PHASE_LABEL_Y = 168.0, 186.0
GAP_MARK = "\u00d7"


@dataclass(frozen=True)
class EventMark:
    x: float
    y: float | None  # None: no figure at this pulse
    low_y: float | None  # whisker ends; at the plot's edge when the interval has no limit
    high_y: float | None
    open_low: bool  # the interval runs past the plot (or has no lower limit)
    open_high: bool
    gap_label: Label | None


@dataclass(frozen=True)
class EventChart:
    id: str
    title: str
    desc: str
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    zero_y: float
    start_x: float | None  # the pilot's start, between the last baseline and the next pulse
    start_label: Label | None
    y_ticks: tuple[Tick, ...]
    x_labels: tuple[Label, ...]
    marks: tuple[EventMark, ...]
    table: DataTable
    width: float = WIDTH
    height: float = HEIGHT


def _weeks_label(line: PulseLine | None) -> str:
    if line is None or line.weeks_from_start is None:
        return ""
    weeks = line.weeks_from_start
    return f"{signed(weeks)} wk" if weeks else "0 wk"


def _extent(points: Sequence[EventPoint]) -> float:
    """Half the y range: every estimate and finite bound fits, in steps of 10 (so the ticks at
    halves are whole numbers), at least 10."""
    values = [0.0]
    for point in points:
        if point.did is None:
            continue
        values.append(point.did.estimate)
        values.extend(v for v in (point.did.interval.low, point.did.interval.high) if v is not None)
    largest = max(abs(v) for v in values)
    return float(min(100, max(10, 10 * math.ceil(largest / 10 + 1e-9))))


def _x(i: int, count: int) -> float:
    if count == 1:
        return round((LEFT + RIGHT) / 2, 2)
    return round(LEFT + 12 + i * (RIGHT - LEFT - 24) / (count - 1), 2)


def _start_label(x: float) -> Label:
    """ "Pilot starts" above the plot, kept inside the picture near either edge."""
    room = 45.0  # about half the label's width at the chart's font size
    anchor: Anchor = "end" if x > RIGHT - room else ("start" if x < LEFT + room else "middle")
    return Label(x, TOP - 12, "Pilot starts", anchor)


def event_chart(dimension: DimensionReport, lines: Sequence[PulseLine]) -> EventChart | None:
    """The event-study chart for one dimension; None without comparison figures to chart."""
    points = dimension.result.events
    if not points or all(p.did is None for p in points):
        return None
    by_pulse = {line.pulse_id: line for line in lines}
    extent = _extent(points)
    scale = LinearScale(-extent, extent, BOTTOM, TOP)
    count = len(points)
    marks: list[EventMark] = []
    x_labels: list[Label] = []
    rows: list[tuple[str, ...]] = []
    start_x: float | None = None
    last_baseline: float | None = None
    for i, point in enumerate(points):
        x = _x(i, count)
        line = by_pulse.get(point.pulse.key)
        if point.pulse.phase == "baseline":
            last_baseline = x
        elif start_x is None and last_baseline is not None:
            start_x = round((last_baseline + x) / 2, 2)
        x_labels.append(Label(x, TICK_LABEL_Y, _weeks_label(line)))
        phase = point.pulse.phase.capitalize()
        did = point.did
        if did is None:
            marks.append(
                EventMark(
                    x, None, None, None, False, False, Label(x, scale.position(0) - 8, GAP_MARK)
                )
            )
            rows.append((point.pulse.title, phase, "no figure (too few teams with results)", ""))
            continue
        low, high = did.interval.low, did.interval.high
        open_low = low is None or low < -extent
        open_high = high is None or high > extent
        marks.append(
            EventMark(
                x,
                scale.position(did.estimate),
                scale.position(-extent if low is None else low),
                scale.position(extent if high is None else high),
                open_low,
                open_high,
                None,
            )
        )
        interval = (
            f"{'no lower limit' if low is None else signed(low)} to "
            f"{'no upper limit' if high is None else signed(high)}"
        )
        rows.append((point.pulse.title, phase, f"{signed(did.estimate)} points", interval))
    ticks = tuple(
        Tick(scale.position(v), signed(v)) for v in (-extent, -extent / 2, 0.0, extent / 2, extent)
    )
    direction = "lower" if not dimension.higher_is_better else "higher"
    title = f"{dimension.name}: pilot minus comparison teams, against the baseline"
    desc = (
        f"For each pulse, how far pilot teams' {dimension.name.lower()} score stood from "
        "comparison teams', minus that gap at the baseline, in points with 95% intervals. "
        f"Zero means no difference; for {dimension.name.lower()}, {direction} is better. "
        + ("A dashed line marks the start of the pilot." if start_x is not None else "")
    )
    return EventChart(
        f"event-{dimension.code}",
        title,
        desc.strip(),
        LEFT,
        RIGHT,
        TOP,
        BOTTOM,
        scale.position(0.0),
        start_x,
        _start_label(start_x) if start_x is not None else None,
        ticks,
        tuple(x_labels),
        tuple(marks),
        DataTable(
            f"{dimension.name}: difference from the baseline gap, per pulse",
            ("Pulse", "Phase", "Pilot minus comparison, against baseline", "95% interval"),
            tuple(rows),
        ),
    )
