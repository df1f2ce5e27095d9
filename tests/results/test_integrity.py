"""`flask pulse verify-tallies` recomputes tallies from raw answers."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pulse.extensions import db
from pulse.surveys.models import DimensionTally, ValueTally


def test_demo_tallies_match_the_raw_answers(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["pulse", "demo"]).exit_code == 0
    result = runner.invoke(args=["pulse", "verify-tallies"])
    assert result.exit_code == 0, result.output
    assert "All tallies match the raw answers (13 pulses checked)" in result.output


def test_a_tampered_tally_is_reported_with_exit_code_1(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["pulse", "demo"]).exit_code == 0
    value = db.session.scalars(select(ValueTally).limit(1)).one()
    value.count += 1
    dimension = db.session.scalars(
        select(DimensionTally).where(DimensionTally.pulse_id == value.pulse_id).limit(1)
    ).one()
    dimension.total += 3.0
    db.session.commit()
    result = runner.invoke(args=["pulse", "verify-tallies"])
    assert result.exit_code == 1
    assert "tally_value" in result.output and "tally_dimension" in result.output
    assert "2 differences" in result.output


def test_unknown_pulse_is_a_clear_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["pulse", "verify-tallies", "--pulse", "999"])
    assert result.exit_code != 0 and "There is no pulse 999" in result.output
