"""CSV exports of results pages: what the viewer may see there, safe to open in a spreadsheet.

Rows are built from the same report objects the pages render (`report.heatmap`,
`report.dashboard`), which have already passed the anonymity gate, so an export can never hold
more than the page: a hidden figure is an empty cell with the gate's reason beside it, and no row
ever describes a single respondent.

Every export is "tidy": one figure per row (team, section, item, measure, value, interval, note,
reason), which sorts, filters and pivots well in a spreadsheet and leaves one obvious place for
the reason a figure is missing.

Spreadsheets run a cell as a formula when it starts with `=`, `+`, `-` or `@` (and some also
after a tab, CR or NUL), so any *text* starting with one gets a leading apostrophe (SECURITY.md).
Numbers are typed as numbers before they get here and are written as plain numerals, never
escaped, so a negative eNPS stays a number a spreadsheet can sum. The module is pure: report
objects in, text out.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from pulse.results import report, stats
from pulse.surveys.library import DIMENSIONS

Cell = str | int | float | None
Row = tuple[Cell, ...]
# One figure: (measure, value, low, high, note, reason).
Figure = tuple[str, Cell, Cell, Cell, Cell, Cell]

HEADER: tuple[str, ...] = (
    "pulse",
    "team_id",
    "team",
    "parent_team",
    "section",
    "item",
    "measure",
    "value",
    "low",
    "high",
    "note",
    "reason",
)

# Characters that make a spreadsheet treat a text cell as a formula (SECURITY.md, "Exports").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one

# Plain words for the heatmap's five colour bands (report.band: 4 is always the good end), so
# that a band is never told by colour alone, on the page or in an export.
BAND_WORDS: tuple[str, ...] = ("very poor", "poor", "middling", "good", "very good")


# --- cells ---------------------------------------------------------------------------------------


def safe_text(text: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets an apostrophe."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def format_cell(value: Cell) -> str:
    """One cell as CSV text: numbers as plain numerals (one decimal for fractions), text escaped.

    A non-finite float (which no report should produce) becomes an empty cell rather than "nan",
    which a spreadsheet would read as text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):  # bool is an int; say what it means rather than "True"
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = f"{value:.1f}"
        return "0.0" if text == "-0.0" else text
    return safe_text(value)


def to_csv(rows: Iterable[Sequence[Cell]], header: Sequence[str] = HEADER) -> str:
    """The whole file as text: a BOM, the header, then one line per row (CRLF, RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(name) for name in header])
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"A row has {len(row)} cells; the header has {len(header)}.")
        writer.writerow([format_cell(value) for value in row])
    return BOM + buffer.getvalue()


def export_filename(kind: str, title: str) -> str:
    """A filename safe in any Content-Disposition header and file system: ASCII letters, digits
    and hyphens, e.g. "heatmap-november-pulse.csv"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", f"{kind} {ascii_title}".lower()).strip("-")[:80].strip("-")
    return f"{slug or 'results'}.csv"


# --- figures -------------------------------------------------------------------------------------


def _percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def _band_word(band: int | None) -> str | None:
    return None if band is None else f"band {band + 1} of 5: {BAND_WORDS[band]}"


def _precision_note(word: str | None) -> str | None:
    """ "good precision", "fair precision", "low precision"."""
    if word is None or word.endswith("precision"):
        return word
    return f"{word} precision"


def _score_measures(score: report.Score) -> list[Figure]:
    """(measure, value, low, high, note, reason) for one score: its mean, and for burnout and
    wellbeing the share at risk. A hidden score is one row with its reason and no figures."""
    if not score.visible or score.estimate is None:
        return [("score", None, None, None, None, score.reason)]
    precision = _precision_note(score.precision)
    if score.enps is not None:
        enps = score.enps
        return [("score", enps.score, enps.low, enps.high, precision, None)]
    estimate = score.estimate.clipped(0.0, 100.0)
    measures: list[Figure] = [
        ("score", estimate.mean, estimate.low, estimate.high, precision, None)
    ]
    if score.risk is not None:
        risk = score.risk
        note = f"{risk.k} of {risk.n} answers"
        measures.append(
            ("at risk %", _percent(risk.p), _percent(risk.low), _percent(risk.high), note, None)
        )
    return measures


def _change_measure(change: report.Change) -> Figure:
    measure = f"change {change.label}"
    comparison = change.comparison
    if comparison is None or change.flag is None:
        return (measure, None, None, None, f"against {change.against}", change.reason)
    if change.flag.flagged:
        verdict = "improved" if change.improved else "worsened"
        note = f"{verdict} against {change.against}: {change.flag.reason}"
    else:
        note = f"not flagged against {change.against}: {change.flag.reason}"
    return (measure, comparison.diff, comparison.low, comparison.high, note, None)


def _participation_measures(
    participation: report.Participation,
) -> list[Figure]:
    """Respondents, invited and the response rate (only when at least five were invited)."""
    rows: list[Figure] = []
    if participation.visible:
        rows.append(("respondents", participation.respondents, None, None, None, None))
    else:
        rows.append(("respondents", None, None, None, None, participation.reason))
    rows.append(("invited", participation.invited, None, None, None, None))
    rate = participation.rate
    if rate is not None and rate.shown:
        note = "low response: fewer than half answered" if rate.low_response else None
        rows.append(("response rate %", _percent(rate.rate), None, None, note, None))
    elif participation.visible:
        reason = f"Shown when at least {stats.RESPONSE_RATE_MIN_INVITED} were invited"
        rows.append(("response rate %", None, None, None, None, reason))
    return rows


# --- the heatmap ---------------------------------------------------------------------------------


def heatmap_rows(heatmap: report.Heatmap, parents: Mapping[int, int | None]) -> list[Row]:
    """Every heatmap row the viewer may see, in tree order: participation, then per dimension
    the score with its band and the change since the previous pulse.

    `parents` maps each team to its parent; a parent is named only when it is a row too.
    """
    names = {row.team_id: row.name for row in heatmap.rows}
    pulse = heatmap.pulse.title
    out: list[Row] = []
    for row in heatmap.rows:
        parent_id = parents.get(row.team_id)
        parent = names.get(parent_id) if parent_id is not None else None
        lead: tuple[Cell, ...] = (pulse, row.team_id, row.name, parent)
        for figure in _participation_measures(row.participation):
            out.append((*lead, "participation", "", *figure))
        for cell in row.cells:
            item = DIMENSIONS[cell.code].name
            for measure, value, low, high, note, reason in _score_measures(cell.score):
                if measure == "score" and cell.band is not None:
                    note = "; ".join(str(n) for n in (_band_word(cell.band), note) if n)
                out.append((*lead, "dimension", item, measure, value, low, high, note, reason))
            if cell.change is not None:
                out.append((*lead, "dimension", item, *_change_measure(cell.change)))
    return out


# --- the team dashboard --------------------------------------------------------------------------


def dashboard_rows(board: report.Dashboard, team_id: int) -> list[Row]:
    """Everything the team dashboard shows, figure by figure: participation; per dimension the
    score, the changes, the parent team and the organisation, and the trend; per question the
    distribution with its non-response bounds, or the mean."""
    pulse = board.pulse.title
    parent = board.parent_name
    lead: tuple[Cell, ...] = (team_id, board.title, parent)
    out: list[Row] = []
    for figure in _participation_measures(board.participation):
        out.append((pulse, *lead, "participation", "", *figure))
    for row in board.rows:
        for figure in _score_measures(row.current):
            out.append((pulse, *lead, "dimension", row.name, *figure))
        for change in row.changes:
            out.append((pulse, *lead, "dimension", row.name, *_change_measure(change)))
        for label, other in ((f"parent team ({parent})", row.parent), ("organisation", row.org)):
            if other is None:
                continue
            for measure, value, low, high, note, reason in _score_measures(other):
                item = f"{measure}, {label}"
                out.append(
                    (pulse, *lead, "comparison", row.name, item, value, low, high, note, reason)
                )
        for point in row.trend:
            for figure in _score_measures(point.score)[:1]:
                out.append((point.pulse_title, *lead, "trend", row.name, *figure))
    for question in board.questions:
        out.extend(
            (pulse, *lead, "question", question.question.text, *m)
            for m in _question_measures(question)
        )
    return out


def _question_measures(row: report.QuestionRow) -> list[Figure]:
    if not row.visible:
        return [("answers", None, None, None, None, row.reason)]
    dimension = (
        DIMENSIONS[row.question.dimension].name if row.question.dimension in DIMENSIONS else None
    )
    if row.distribution is not None and row.percentages is not None:
        dist = row.distribution
        rows: list[Figure] = [("answers", dist.n, None, None, dimension, None)]
        for label, share, whole in zip(
            ("favourable %", "neutral %", "unfavourable %"),
            (dist.favourable, dist.neutral, dist.unfavourable),
            row.percentages,
            strict=True,
        ):
            rows.append((label, whole, _percent(share.low), _percent(share.high), None, None))
        if row.bounds is not None:
            low, high = row.bounds
            note = "if everyone invited had answered: all unfavourable .. all favourable"
            rows.append(("favourable % range", None, _percent(low), _percent(high), note, None))
        return rows
    if row.mean is not None:
        mean = row.mean
        return [
            ("answers", mean.n, None, None, dimension, None),
            ("mean", mean.mean, mean.low, mean.high, None, None),
        ]
    return [("answers", None, None, None, None, row.reason)]
