"""Results views: the heatmap of teams against dimensions, and the CSV exports.

The heatmap and both exports are built from the gated report objects (`report.heatmap`,
`report.dashboard`); this module only chooses the pulse, lays out what the report allows
(levels, order, words for colours) and never computes a figure itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from pulse.auth.permissions import require_role
from pulse.db import utcnow
from pulse.results import cache, exports, queries, report
from pulse.results.routes import (
    RESULT_ROLES,
    Context,
    ScopedPulses,
    bp,
    load_context,
    pick_pulse,
    require_team,
    scoped_pulses,
)
from pulse.surveys.library import DIMENSIONS
from pulse.surveys.models import Pulse, PulseState, ReleaseMode

# Above this many teams the page opens with two levels; "all levels" is one click away.
ALL_LEVELS_UP_TO = 60
COLLAPSED_LEVELS = 2
LEVEL_LINKS = 4  # "Show 1 / 2 / 3 / 4 levels / all levels"
CUES = ("!!", "!", "○", "✓", "✓✓")  # band 0 (very poor) .. 4 (very good), never colour alone
MARKERS = "abcdefghijklmnopqrstuvwxyz"


# --- building -----------------------------------------------------------------------------------


def default_pulse(pulses: Sequence[Pulse], now: datetime) -> Pulse | None:
    """The newest pulse that has something to show: an open pulse that releases results only
    when it closes would be a page of dashes, so the one before it is the better start."""
    for pulse in reversed(pulses):
        if not (pulse.state(now) is PulseState.OPEN and pulse.release is ReleaseMode.AFTER_CLOSE):
            return pulse
    return pulses[-1] if pulses else None


def chosen_pulse(scoped: ScopedPulses) -> Pulse | None:
    """`?pulse=<id>` (404 when it is not a pulse with results for these teams), else the
    default among the pulses that asked all of them."""
    pulse_id = request.args.get("pulse", type=int)
    if pulse_id is None:
        return default_pulse(scoped.defaults, utcnow())
    return pick_pulse(scoped.listed, pulse_id)


_heatmaps: cache.Kept[report.Heatmap] = cache.Kept(32)


def build_heatmap(context: Context, pulses: Sequence[Pulse], pulse: Pulse) -> report.Heatmap:
    """The gated heatmap of `pulse`, with changes since the pulse before it.

    When both pulses have settled (closed a while ago), the result depends only on the tree,
    the names and the viewer's family, so it is kept and reused (see pulse.results.cache).
    """
    now = utcnow()
    index = list(pulses).index(pulse)
    compared = [pulse, *([pulses[index - 1]] if index > 0 else [])]
    if context.key and all(queries.is_settled(p, now) for p in compared):
        key = (context.key, context.viewer.roots, *((p.id, p.closes_at) for p in compared))
        return _heatmaps.get_or_make(key, lambda: _build_heatmap(context, pulses, pulse, now))
    return _build_heatmap(context, pulses, pulse, now)


def _build_heatmap(
    context: Context, pulses: Sequence[Pulse], pulse: Pulse, now: datetime
) -> report.Heatmap:
    index = list(pulses).index(pulse)
    # No per-value counts: the heatmap shows no question, and they are most of the rows.
    tallies = queries.load_pulse_tallies(pulse, now, with_values=False)
    forest = context.prepared()  # one family, two pulses
    current = report.view(context.tree, tallies, context.groups, forest)
    previous = None
    if index > 0:
        earlier = queries.load_pulse_tallies(
            pulses[index - 1], now, with_values=False, with_invited=False
        )
        previous = report.view(context.tree, earlier, context.groups, forest)
    return report.heatmap(
        context.tree, context.names, context.groups, context.team_order(), current, previous
    )


def dashboard_history(
    context: Context, pulses: Sequence[Pulse], pulse: Pulse
) -> list[report.PulseView]:
    """What `routes.history_until` gives, as `report.dashboard` reads it: earlier pulses feed
    only scores (trend and changes), so they are read without per-value counts or invitations,
    and the viewer's family is prepared once for all of them."""
    now = utcnow()
    forest = context.prepared()
    upto = list(pulses)[: list(pulses).index(pulse) + 1]
    return [
        report.view(
            context.tree,
            queries.load_pulse_tallies(p, now, with_values=p is pulse, with_invited=p is pulse),
            context.groups,
            forest,
        )
        for p in upto
    ]


def levels(tree: Mapping[int, int | None], team_ids: Sequence[int]) -> dict[int, int]:
    """Each row's indentation: how many of its ancestors are rows too.

    A manager's teams all start at level 0 wherever they sit in the organisation.
    """
    shown = set(team_ids)
    result: dict[int, int] = {}
    for team in team_ids:
        level, parent = 0, tree.get(team)
        while parent is not None:
            if parent in shown:
                level += 1
            parent = tree.get(parent)
        result[team] = level
    return result


def teams_below(order: Sequence[int], level: Mapping[int, int]) -> dict[int, int]:
    """How many rows sit below each row (rows are in tree order: a row's descendants follow
    it until the next row at its level or higher)."""
    below = dict.fromkeys(order, 0)
    open_rows: list[int] = []
    for team in order:
        while open_rows and level[open_rows[-1]] >= level[team]:
            open_rows.pop()
        for ancestor in open_rows:
            below[ancestor] += 1
        open_rows.append(team)
    return below


# --- the page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """The page's options, parsed leniently: anything unknown falls back to the default."""

    sort: str | None
    descending: bool
    depth: int | None  # levels shown; None means all
    depth_given: bool

    @classmethod
    def parse(cls, args: MultiDict[str, str], codes: Sequence[str]) -> Query:
        sort = args.get("sort")
        depth_text = args.get("depth", "")
        depth: int | None = None
        if len(depth_text) <= 3:  # "²" passes isdigit() but not int(): parse, do not guess
            try:
                depth = int(depth_text)
            except ValueError:
                depth = None
        if depth is not None and depth < 1:
            depth = None
        return cls(
            sort=sort if sort in codes else None,
            descending=args.get("dir") == "desc",
            depth=depth,
            depth_given=depth is not None or depth_text == "all",
        )


@dataclass(frozen=True)
class CellView:
    text: str  # the number, or an em dash when hidden
    band: int | None
    cue: str | None  # the band as symbols
    band_word: str | None
    imprecise: bool
    marker: str | None  # footnote letter for a hidden cell's reason
    reason: str | None
    arrow: str | None  # a flagged change: ↑ or ↓, the direction the score moved
    change_word: str | None  # "improved" / "worsened"
    change_text: str | None  # the whole change in words, for screen readers


@dataclass(frozen=True)
class RowView:
    team_id: int
    name: str
    url: str
    level: int
    parent_name: str | None  # shown when sorted, since indentation then means nothing
    below_hidden: int  # teams below this one that the chosen depth folds away
    respondents: int | None  # None when hidden
    invited: int
    participation_marker: str | None
    participation_reason: str | None
    rate: str | None
    low_response: bool
    cells: tuple[CellView, ...]
    log_action_url: str | None = None  # "Log an action" for this team (actions feature)


@dataclass(frozen=True)
class ColumnView:
    code: str
    name: str
    url: str
    aria_sort: str | None
    arrow: str | None
    next_label: str  # what following the header link does


@dataclass(frozen=True)
class LevelLink:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class BandKey:
    band: int
    cue: str
    word: str
    ranges: str


@dataclass
class HeatmapPage:
    pulse: Pulse
    pulses: list[Pulse]
    columns: list[ColumnView]
    rows: list[RowView]
    total_rows: int
    levels: list[LevelLink]
    sorted_by: str | None
    descending: bool
    tree_order_url: str
    reasons: list[tuple[str, str]]  # (marker, reason) for the legend
    bands: list[BandKey]
    previous_title: str | None
    csv_url: str
    query: Query
    depth_param: str | None  # the chosen depth, kept when another pulse is picked
    min_group: int


def dashboard_url(team_id: int, pulse_id: int) -> str:
    """The team dashboard, by endpoint once it exists (another view module builds it)."""
    if "results.dashboard" in current_app.view_functions:
        try:
            return url_for("results.dashboard", team_id=team_id, pulse=pulse_id)
        except BuildError:
            pass
    return f"/results/teams/{team_id}?pulse={pulse_id}"


def log_action_url(team_id: int, pulse_id: int) -> str | None:
    """Log an action for a row's team. Every row is a team the viewer may open, and whoever may
    open a team may log actions for it (pulse.actions.permissions.can_log_for)."""
    if "actions.new" not in current_app.view_functions:
        return None
    return url_for("actions.new", team=team_id, pulse=pulse_id, source="heatmap")


def _number(code: str, mean: float) -> str:
    if code == "enps":
        value = round(mean)
        return f"+{value}" if value > 0 else str(value)
    return str(round(mean))


def _cell(cell: report.HeatCell, previous_title: str | None, markers: dict[str, str]) -> CellView:
    score = cell.score
    if not score.visible or score.mean is None:
        reason = score.reason or "Hidden"
        return CellView(
            "—", None, None, None, False, _marker(markers, reason), reason, None, None, None
        )
    band = cell.band
    arrow = change_word = change_text = None
    change = cell.change
    if change and change.flag and change.flag.flagged and change.comparison:
        diff = change.comparison.diff or 0.0
        arrow = "↑" if diff > 0 else "↓"
        change_word = "improved" if change.improved else "worsened"
        points = round(abs(diff))
        way = "up" if diff > 0 else "down"
        change_text = f"{change_word}: {way} {points} points since {previous_title}"
    return CellView(
        text=_number(cell.code, score.mean),
        band=band,
        cue=CUES[band] if band is not None else None,
        band_word=exports.BAND_WORDS[band] if band is not None else None,
        imprecise=score.precision == "low precision",
        marker=None,
        reason=None,
        arrow=arrow,
        change_word=change_word,
        change_text=change_text,
    )


def _participation(
    part: report.Participation, markers: dict[str, str]
) -> tuple[str | None, str | None, str | None, bool]:
    """(marker, reason, rate text, low response) for one row's participation."""
    if not part.visible or part.respondents is None:
        reason = part.reason or "Hidden"
        return (_marker(markers, reason), reason, None, False)
    rate = part.rate
    rate_text = None
    if rate is not None and rate.shown and rate.rate is not None:
        rate_text = f"{round(100 * rate.rate)}%"
    return (None, None, rate_text, bool(rate and rate.low_response))


def _marker(markers: dict[str, str], reason: str) -> str:
    """The footnote letter of a reason for hiding, the same letter wherever it recurs."""
    return markers.setdefault(reason, MARKERS[len(markers) % len(MARKERS)])


def _band_ranges(band: int) -> str:
    low, high = 20 * band, 20 * band + 20
    return (
        f"{low}–{high} on most scales; burnout {100 - high}–{100 - low}; "
        f"eNPS {2 * low - 100:+d} to {2 * high - 100:+d}"
    )


_layouts: cache.Kept[tuple[dict[int, int], dict[int, int]]] = cache.Kept(64)


def _layout(context: Context, order: Sequence[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Each row's indentation and how many rows sit below it; kept per tree and viewer."""

    def make() -> tuple[dict[int, int], dict[int, int]]:
        level = levels(context.tree, order)
        return level, teams_below(order, level)

    if not context.key:
        return make()
    return _layouts.get_or_make((context.key, context.viewer.roots, len(order)), make)


def heatmap_page(
    heat: report.Heatmap,
    context: Context,
    pulses: list[Pulse],
    pulse: Pulse,
    query: Query,
) -> HeatmapPage:
    """What the template shows: rows at the chosen depth in the chosen order, in words."""
    order = heat.team_ids
    level, below = _layout(context, order)
    depth = query.depth
    if not query.depth_given and len(order) > ALL_LEVELS_UP_TO:
        depth = COLLAPSED_LEVELS
    # Only the rows shown are built: at 2,000 teams a page of two levels needs a few dozen.
    positions = [i for i, team in enumerate(order) if depth is None or level[team] < depth]
    shown = [heat.rows[i] for i in heat.order(query.sort, query.descending, positions)]

    def link(**changes: Any) -> str:
        args: dict[str, Any] = {
            "pulse": pulse.id,
            "sort": query.sort,
            "dir": "desc" if query.descending else ("asc" if query.sort else None),
            "depth": "all" if depth is None else depth,
        }
        args.update(changes)
        return url_for("results.heatmap", **{k: v for k, v in args.items() if v is not None})

    markers: dict[str, str] = {}
    rows = []
    for row in shown:
        parent_id = context.tree.get(row.team_id)
        p_marker, p_reason, rate, low = _participation(row.participation, markers)
        rows.append(
            RowView(
                team_id=row.team_id,
                name=row.name,
                url=dashboard_url(row.team_id, pulse.id),
                level=0 if query.sort else min(level[row.team_id], 6),
                parent_name=context.names.get(parent_id)
                if query.sort and parent_id in level
                else None,
                below_hidden=below[row.team_id]
                if depth is not None and level[row.team_id] == depth - 1
                else 0,
                respondents=row.participation.respondents if p_reason is None else None,
                invited=row.participation.invited,
                participation_marker=p_marker,
                participation_reason=p_reason,
                rate=rate,
                low_response=low,
                cells=tuple(_cell(c, heat.previous_title, markers) for c in row.cells),
                log_action_url=log_action_url(row.team_id, pulse.id),
            )
        )

    columns = []
    for code, name in heat.columns:
        current = query.sort == code
        descending_next = current and not query.descending
        columns.append(
            ColumnView(
                code=code,
                name=name,
                url=link(sort=code, dir="desc" if descending_next else "asc"),
                aria_sort=("descending" if query.descending else "ascending") if current else None,
                arrow=("▼" if query.descending else "▲") if current else None,
                next_label=f"sort by {name}, {'highest' if descending_next else 'lowest'} first",
            )
        )
    deepest = max(level.values(), default=0) + 1
    level_links = [
        LevelLink(f"{n} level" if n == 1 else f"{n} levels", link(depth=n), depth == n)
        for n in range(1, min(deepest, LEVEL_LINKS + 1))
    ]
    level_links.append(
        LevelLink("all levels", link(depth="all"), depth is None or depth >= deepest)
    )
    return HeatmapPage(
        pulse=pulse,
        pulses=list(reversed(pulses)),
        columns=columns,
        rows=rows,
        total_rows=len(order),
        levels=level_links,
        sorted_by=DIMENSIONS[query.sort].name if query.sort else None,
        descending=query.descending,
        tree_order_url=link(sort=None, dir=None),
        reasons=[(marker, reason) for reason, marker in markers.items()],
        bands=[
            BandKey(b, CUES[b], exports.BAND_WORDS[b], _band_ranges(b)) for b in range(4, -1, -1)
        ],
        previous_title=heat.previous_title,
        csv_url=url_for("results.heatmap_csv", pulse=pulse.id),
        query=query,
        depth_param=None if not query.depth_given else ("all" if depth is None else str(depth)),
        min_group=heat.pulse.min_group,
    )


# --- views --------------------------------------------------------------------------------------


@bp.get("/heatmap")
@require_role(*RESULT_ROLES)
def heatmap() -> str:
    """Teams (whole subtrees) against dimensions for one pulse."""
    context = load_context(current_user)
    scoped = scoped_pulses(context, context.viewer.roots)
    pulse = chosen_pulse(scoped)
    if pulse is None:
        return render_template("results/heatmap.html", page=None)
    heat = build_heatmap(context, scoped.history(pulse), pulse)
    query = Query.parse(request.args, [code for code, _name in heat.columns])
    page = heatmap_page(heat, context, scoped.listed, pulse, query)
    return render_template("results/heatmap.html", page=page)


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/heatmap.csv")
@require_role(*RESULT_ROLES)
def heatmap_csv() -> Response:
    """The heatmap as CSV: every row the viewer may see, all levels, in tree order."""
    context = load_context(current_user)
    scoped = scoped_pulses(context, context.viewer.roots)
    pulse = chosen_pulse(scoped)
    if pulse is None:
        abort(404)
    heat = build_heatmap(context, scoped.history(pulse), pulse)
    rows = exports.heatmap_rows(heat, context.tree)
    return csv_response(exports.to_csv(rows), exports.export_filename("heatmap", pulse.title))


@bp.get("/teams/<int:team_id>.csv")
@require_role(*RESULT_ROLES)
def dashboard_csv(team_id: int) -> Response:
    """A team dashboard as CSV; 404 for a team outside the viewer's subtree."""
    context = load_context(current_user)
    require_team(context, team_id)
    scoped = scoped_pulses(context, [team_id])
    pulse = chosen_pulse(scoped)
    if pulse is None:
        abort(404)
    board = report.dashboard(
        context.tree,
        context.names,
        context.groups,
        team_id,
        dashboard_history(context, scoped.history(pulse), pulse),
    )
    rows = exports.dashboard_rows(board, team_id)
    name = exports.export_filename(f"{context.names.get(team_id, 'team')} results", pulse.title)
    return csv_response(exports.to_csv(rows), name)
