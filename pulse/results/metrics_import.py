"""Outcome metrics import: a CSV of business figures per team and period, all or nothing.

Like the directory import (pulse.org.importer) the steps are separate so each is tested on plain
data: `parse_metrics_csv` turns bytes into rows, `check_metric_rows` validates each row and the
file as a whole, and `plan_metrics` compares the rows with what is stored. Every error names the
physical line of the file (the header is line 1). `import_metrics` writes only when no line has
an error, and a row is keyed by team, metric and period start, so importing the same file again
changes nothing.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.importer import LineError, TeamKey, too_large
from pulse.org.importer import team_key as name_key
from pulse.org.models import Person
from pulse.org.queries import full_team_names
from pulse.results.metrics import METRICS
from pulse.results.models import OutcomeMetric

COLUMNS = ("team", "metric", "period_start", "period_end", "value")
MAX_VALUE = 1e12
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")

RowKey = tuple[int, str, date]
"""What identifies a stored figure: (team id, metric key, period start)."""


@dataclass(frozen=True)
class RawMetricRow:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class MetricRow:
    """One valid row: the team found, the metric key, the period and the value."""

    line: int
    team_id: int
    team_label: str
    metric: str
    period_start: date
    period_end: date
    value: float

    @property
    def key(self) -> RowKey:
        return (self.team_id, self.metric, self.period_start)


@dataclass(frozen=True)
class StoredFigure:
    period_end: date
    value: float


@dataclass
class MetricPlan:
    """What an import would write; nothing may be applied while `errors` is non-empty."""

    rows: int = 0
    new: list[MetricRow] = field(default_factory=list)
    changed: list[MetricRow] = field(default_factory=list)
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed)

    def summary(self) -> str:
        return f"{len(self.new):,} new, {len(self.changed):,} changed, {self.unchanged:,} unchanged"


# --- Step 1: bytes to rows ----------------------------------------------------------------------


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def parse_metrics_csv(
    data: bytes, *, max_rows: int, max_bytes: int | None = None
) -> tuple[list[RawMetricRow], list[LineError]]:
    """The file's rows keyed by column, with every problem found reading it."""
    if max_bytes is not None and len(data) > max_bytes:
        return [], [too_large(max_bytes)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK_BYTES.findall(data[: exc.start])) + 1
        return [], [LineError(line, "the file is not UTF-8 text; save it as \u201cCSV UTF-8\u201d")]
    if "\x00" in text:
        return [], [LineError(1, "the file contains NUL bytes; it is damaged or not a CSV file")]
    if not text.strip():
        return [], [LineError(1, "the file is empty")]
    rows: list[RawMetricRow] = []
    errors: list[LineError] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append(
                LineError(start, "the line cannot be read as CSV (is a quote left open?)")
            )
            break  # after a broken quote nothing later can be trusted
        previous_end = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [_column(cell) for cell in record]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                message = (
                    f"the header is missing {', '.join(missing)} (the first line must name the "
                    f"columns {', '.join(COLUMNS)})"
                )
                if len(record) == 1 and (";" in record[0] or "\t" in record[0]):
                    message += "; values must be separated by commas"
                return [], [LineError(start, message)]
            continue
        if len(rows) >= max_rows:
            errors.append(LineError(start, f"the file has more than {max_rows:,} rows; split it"))
            break
        if len(record) != len(header):
            errors.append(
                LineError(
                    start,
                    f"this row has {len(record)} values but the header has {len(header)} columns",
                )
            )
            continue
        rows.append(RawMetricRow(start, dict(zip(header, record, strict=True))))
    if header is None:
        errors.append(LineError(1, "the file is empty"))
    elif not rows and not errors:
        errors.append(LineError(1, "the file has a header row but no figures below it"))
    return rows, errors


# --- Step 2: checking rows ----------------------------------------------------------------------


def metric_lookup() -> dict[str, str]:
    """Metric keys and labels, case-folded, to the metric key."""
    lookup: dict[str, str] = {}
    for key, metric in METRICS.items():
        lookup[key.casefold()] = key
        lookup[name_key(metric.label)] = key
    return lookup


def _shown(value: str) -> str:
    value = value.strip()
    return f"\u201c{value[:59] + '…' if len(value) > 60 else value}\u201d"


def _date(raw: str, what: str) -> date | str:
    text = raw.strip()
    if not text:
        return f"the {what} is empty"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return f"the {what} {_shown(text)} is not a date like 2027-01-31"


def _value(raw: str) -> float | str:
    text = raw.strip()
    if not text:
        return "the value is empty"
    try:
        number = float(text)
    except ValueError:
        return f"the value {_shown(text)} is not a number (use a dot for decimals: 12.5)"
    if not math.isfinite(number) or abs(number) > MAX_VALUE:
        return f"the value {_shown(text)} is not a usable number"
    if number < 0:
        return f"the value {_shown(text)} is negative; figures must be 0 or more"
    return number


def check_metric_rows(
    raw_rows: list[RawMetricRow], teams: Mapping[TeamKey, int], labels: Mapping[int, str]
) -> tuple[list[MetricRow], list[LineError]]:
    """Valid rows and one error per problem; `teams` maps case-folded paths to team ids."""
    lookup = metric_lookup()
    rows: list[MetricRow] = []
    errors: list[LineError] = []
    seen: dict[RowKey, int] = {}
    for raw in raw_rows:
        problems: list[str] = []
        team_text = raw.values.get("team", "").strip()
        path = tuple(name_key(part) for part in team_text.split("/")) if team_text else ()
        team_id = teams.get(path) if path else None
        if not team_text:
            problems.append("the team is empty")
        elif team_id is None:
            problems.append(
                f"the team {_shown(team_text)} is not in the directory (give its full path, "
                "for example Acme/Engineering/Platform)"
            )
        metric_text = raw.values.get("metric", "")
        metric = lookup.get(name_key(metric_text))
        if metric is None:
            known = ", ".join(METRICS)
            problems.append(f"the metric {_shown(metric_text)} is unknown (use one of: {known})")
        start = _date(raw.values.get("period_start", ""), "period start")
        end = _date(raw.values.get("period_end", ""), "period end")
        problems.extend(v for v in (start, end) if isinstance(v, str))
        if isinstance(start, date) and isinstance(end, date) and end < start:
            problems.append("the period ends before it starts")
        value = _value(raw.values.get("value", ""))
        if isinstance(value, str):
            problems.append(value)
        if problems:
            errors.extend(LineError(raw.line, p) for p in problems)
            continue
        assert team_id is not None and metric is not None  # noqa: S101 (narrowing for mypy)
        assert isinstance(start, date) and isinstance(end, date)  # noqa: S101
        assert isinstance(value, float)  # noqa: S101
        row = MetricRow(
            raw.line, team_id, labels.get(team_id, team_text), metric, start, end, value
        )
        if row.key in seen:
            errors.append(
                LineError(
                    raw.line,
                    f"the same team, metric and period start as line {seen[row.key]}",
                )
            )
            continue
        seen[row.key] = raw.line
        rows.append(row)
    return rows, errors


# --- Step 3: comparing with what is stored ------------------------------------------------------


def plan_metrics(
    rows: list[MetricRow], errors: list[LineError], stored: Mapping[RowKey, StoredFigure]
) -> MetricPlan:
    plan = MetricPlan(rows=len(rows), errors=sorted(errors, key=lambda e: e.line))
    for row in rows:
        old = stored.get(row.key)
        if old is None:
            plan.new.append(row)
        elif old.period_end != row.period_end or old.value != row.value:
            plan.changed.append(row)
        else:
            plan.unchanged += 1
    return plan


# --- Database -----------------------------------------------------------------------------------


def team_keys() -> tuple[dict[TeamKey, int], dict[int, str]]:
    """Every team's case-folded path of names to its id, and its label."""
    labels = full_team_names()
    keys = {tuple(name_key(p) for p in label.split("/")): tid for tid, label in labels.items()}
    return keys, labels


def stored_figures() -> dict[RowKey, StoredFigure]:
    rows = db.session.execute(
        select(
            OutcomeMetric.team_id,
            OutcomeMetric.metric,
            OutcomeMetric.period_start,
            OutcomeMetric.period_end,
            OutcomeMetric.value,
        )
    ).all()
    return {(r[0], r[1], r[2]): StoredFigure(r[3], float(r[4])) for r in rows}


def preview_metrics(data: bytes, *, max_rows: int, max_bytes: int | None = None) -> MetricPlan:
    """What importing `data` would do, read against the database as it is now."""
    raw, errors = parse_metrics_csv(data, max_rows=max_rows, max_bytes=max_bytes)
    if errors:
        return MetricPlan(errors=errors)
    teams, labels = team_keys()
    rows, errors = check_metric_rows(raw, teams, labels)
    return plan_metrics(rows, errors, stored_figures())


def import_metrics(
    data: bytes,
    *,
    now: datetime,
    actor: Person | None,
    max_rows: int,
    max_bytes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> MetricPlan:
    """Check the file and, only when every line is valid, write every row (flush, no commit).

    `progress` is called with the number of rows handled since its previous call.
    """
    plan = preview_metrics(data, max_rows=max_rows, max_bytes=max_bytes)
    if plan.errors:
        return plan
    if progress is not None:
        progress(plan.unchanged)
    for row in plan.new:
        db.session.add(
            OutcomeMetric(
                team_id=row.team_id,
                metric=row.metric,
                period_start=row.period_start,
                period_end=row.period_end,
                value=row.value,
                imported_at=now,
            )
        )
        if progress is not None:
            progress(1)
    if plan.changed:
        stored = {
            (m.team_id, m.metric, m.period_start): m
            for m in db.session.scalars(
                select(OutcomeMetric).where(
                    OutcomeMetric.team_id.in_({r.team_id for r in plan.changed})
                )
            )
        }
        for row in plan.changed:
            figure = stored[row.key]
            figure.period_end, figure.value, figure.imported_at = (
                row.period_end,
                row.value,
                now,
            )
            if progress is not None:
                progress(1)
    if plan.has_changes:
        audit.record(
            "metrics.import",
            actor=actor,
            now=now,
            target="outcome_metric",
            detail={"new": len(plan.new), "changed": len(plan.changed), "rows": plan.rows},
        )
    db.session.flush()
    return plan
