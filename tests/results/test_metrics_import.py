"""Outcome metrics import: every bad line listed, nothing written on any error, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.results import metrics_import
from pulse.results.metrics_import import RawMetricRow, check_metric_rows, parse_metrics_csv
from pulse.results.models import OutcomeMetric
from tests.factories import NOW, make_team

HEADER = "team,metric,period_start,period_end,value\n"
GOOD = (
    HEADER
    + "Acme/Eng/Platform,absence_days,2027-01-01,2027-01-31,14\n"
    + "Acme/Eng/Platform,Leavers,2027-01-01,2027-01-31,1\n"
    + "acme/sales,CUSTOMER SATISFACTION,2027-01-01,2027-01-31,4.5\n"
)
LIMITS = {"max_rows": 1000, "max_bytes": 100_000}


def _stored() -> int:
    return int(db.session.scalar(select(func.count()).select_from(OutcomeMetric)) or 0)


def _import(data: str) -> metrics_import.MetricPlan:
    return metrics_import.import_metrics(data.encode(), now=NOW, actor=None, **LIMITS)  # type: ignore[arg-type]


@pytest.fixture
def teams(app: Flask) -> None:
    make_team("Acme/Eng/Platform")
    make_team("Acme/Sales")


# --- Pure checks --------------------------------------------------------------------------------


def test_parse_reports_missing_columns_and_semicolons() -> None:
    _rows, errors = parse_metrics_csv(b"team;metric;value\nx;y;1\n", max_rows=10)
    assert errors[0].line == 1
    assert "separated by commas" in errors[0].message


def test_parse_skips_blank_lines_and_counts_physical_lines() -> None:
    rows, errors = parse_metrics_csv((HEADER + "\n" + "a,b,c,d,e\n").encode(), max_rows=10)
    assert errors == [] and rows[0].line == 3


def test_check_lists_every_problem_with_its_line() -> None:
    raw = [
        RawMetricRow(
            2,
            {
                "team": "Acme/Nope",
                "metric": "absence_days",
                "period_start": "2027-01-01",
                "period_end": "2027-01-31",
                "value": "1",
            },
        ),
        RawMetricRow(
            3,
            {
                "team": "Acme",
                "metric": "happiness",
                "period_start": "2027-01-01",
                "period_end": "2027-01-31",
                "value": "1",
            },
        ),
        RawMetricRow(
            4,
            {
                "team": "Acme",
                "metric": "leavers",
                "period_start": "31/01/2027",
                "period_end": "2027-01-31",
                "value": "1",
            },
        ),
        RawMetricRow(
            5,
            {
                "team": "Acme",
                "metric": "leavers",
                "period_start": "2027-02-01",
                "period_end": "2027-01-31",
                "value": "1",
            },
        ),
        RawMetricRow(
            6,
            {
                "team": "Acme",
                "metric": "leavers",
                "period_start": "2027-01-01",
                "period_end": "2027-01-31",
                "value": "many",
            },
        ),
        RawMetricRow(
            7,
            {
                "team": "Acme",
                "metric": "leavers",
                "period_start": "2027-03-01",
                "period_end": "2027-03-31",
                "value": "-2",
            },
        ),
        RawMetricRow(
            8,
            {
                "team": "Acme",
                "metric": "leavers",
                "period_start": "2027-04-01",
                "period_end": "2027-04-30",
                "value": "2",
            },
        ),
        RawMetricRow(
            9,
            {
                "team": "ACME",
                "metric": "Leavers",
                "period_start": "2027-04-01",
                "period_end": "2027-04-30",
                "value": "3",
            },
        ),
    ]
    rows, errors = check_metric_rows(raw, {("acme",): 1}, {1: "Acme"})
    by_line = {e.line: e.message for e in errors}
    assert "not in the directory" in by_line[2]
    assert "metric" in by_line[3] and "unknown" in by_line[3]
    assert "not a date" in by_line[4]
    assert "ends before it starts" in by_line[5]
    assert "not a number" in by_line[6]
    assert "negative" in by_line[7]
    assert "same team, metric and period start as line 8" in by_line[9]
    assert [r.line for r in rows] == [8]


# --- Database -----------------------------------------------------------------------------------


def test_import_writes_rows_and_reimport_changes_nothing(teams: None) -> None:
    plan = _import(GOOD)
    assert plan.errors == [] and len(plan.new) == 3
    db.session.commit()
    assert _stored() == 3
    again = _import(GOOD)
    assert not again.has_changes and again.unchanged == 3
    assert _stored() == 3
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "metrics.import")
        )
        == 1
    )


def test_a_corrected_value_replaces_the_stored_one(teams: None) -> None:
    _import(GOOD)
    plan = _import(GOOD.replace(",14\n", ",15\n"))
    assert len(plan.changed) == 1 and not plan.new
    values = set(db.session.scalars(select(OutcomeMetric.value)))
    assert 15.0 in values and 14.0 not in values


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("Acme/Unknown,leavers,2027-01-01,2027-01-31,1", "not in the directory"),
        ("Acme/Sales,morale,2027-01-01,2027-01-31,1", "unknown"),
        ("Acme/Sales,leavers,2027-13-01,2027-01-31,1", "not a date"),
        ("Acme/Sales,leavers,2027-02-01,2027-01-31,1", "ends before it starts"),
        ("Acme/Sales,leavers,2027-01-01,2027-01-31,1e999", "not a usable number"),
        ("Acme/Sales,leavers,2027-01-01,2027-01-31,abc", "not a number"),
        ("Acme/Sales,leavers,2027-01-01,2027-01-31", "values but the header has"),
        ("acme/sales,customer_satisfaction,2027-01-01,2027-01-31,4", "as line 4"),
    ],
)
def test_any_bad_line_writes_nothing(teams: None, line: str, fragment: str) -> None:
    plan = _import(GOOD + line + "\n")
    assert [e.line for e in plan.errors] == [5]
    assert fragment in plan.errors[0].message
    assert _stored() == 0


def test_cli_imports_with_a_summary(teams: None, runner: FlaskCliRunner, tmp_path: Path) -> None:
    db.session.commit()
    path = tmp_path / "figures.csv"
    path.write_text(GOOD)
    result = runner.invoke(args=["pulse", "import-metrics", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    result = runner.invoke(args=["pulse", "import-metrics", str(path)])
    assert "0 new, 0 changed, 3 unchanged" in result.output
    assert _stored() == 3


def test_cli_lists_errors_and_writes_nothing(
    teams: None, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    db.session.commit()
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "Acme/Unknown,leavers,2027-01-01,2027-01-31,1\n")
    result = runner.invoke(args=["pulse", "import-metrics", str(path)])
    assert result.exit_code == 1
    assert "line 5:" in result.output
    assert _stored() == 0


@pytest.mark.postgres
def test_import_and_reimport_on_postgres(pg_app: Flask) -> None:
    make_team("Acme/Eng/Platform")
    make_team("Acme/Sales")
    assert not _import(GOOD).errors
    db.session.commit()
    plan = _import(GOOD.replace(",14\n", ",15\n"))
    db.session.commit()
    assert len(plan.changed) == 1 and _stored() == 3
