"""`flask pulse links PULSE_ID` (`flask pulse tick` is tested in tests/notify/test_tick.py)."""

from __future__ import annotations

import csv
import io
import stat
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pulse.audit.models import AuditEvent
from pulse.db import utcnow
from pulse.extensions import db
from pulse.surveys import services
from tests.surveys.conftest import tick_pulse


def test_links_prints_csv_for_an_open_pulse(app: Flask, runner: FlaskCliRunner) -> None:
    pulse = tick_pulse(opens_in=-timedelta(minutes=1))
    services.open_pulse(pulse, now=utcnow(), secret_key=app.config["SECRET_KEY"], actor=None)
    db.session.commit()
    result = runner.invoke(args=["pulse", "links", str(pulse.id)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4
    assert {r["team"] for r in rows} == {"Acme/Eng"}
    assert "'@SUM(1+1)" in {r["name"] for r in rows}
    for row in rows:
        assert row["link"].startswith("http://localhost/p/")
        assert services.find_invitation(row["link"].rsplit("/", 1)[1]) is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pulse.export_links"))
    assert event.one().detail == {"links": 4, "via": "cli"}


def test_links_to_a_private_file(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    pulse = tick_pulse(opens_in=-timedelta(minutes=1))
    services.open_pulse(pulse, now=utcnow(), secret_key=app.config["SECRET_KEY"], actor=None)
    db.session.commit()
    output = tmp_path / "links.csv"
    result = runner.invoke(args=["pulse", "links", str(pulse.id), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "Wrote 4 links to" in result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    text = output.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "email,name,team,link"
    assert len(text.splitlines()) == 5


def test_links_refuses_unknown_and_unopened_pulses(runner: FlaskCliRunner) -> None:
    missing = runner.invoke(args=["pulse", "links", "999"])
    assert missing.exit_code == 1 and "There is no pulse 999." in missing.output
    draft = tick_pulse()
    refused = runner.invoke(args=["pulse", "links", str(draft.id)])
    assert refused.exit_code == 1
    assert "only be exported while the pulse is open" in refused.output
    junk = runner.invoke(args=["pulse", "links", "abc"])
    assert junk.exit_code == 2
