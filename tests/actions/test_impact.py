"""Impact figures beside actions obey the anonymity gate, and the roll-up counts verdicts."""

from __future__ import annotations

import csv
import html
import io
import re

from flask.testing import FlaskClient

from pulse.actions import impact
from pulse.actions.models import ActionStatus
from pulse.results import report, stats
from tests.actions.conftest import World
from tests.conftest import login


def _impact_text(page: str) -> str:
    start = page.index('id="impact-heading"')
    section = page[start : page.index("</section>", start)]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)))


def _csv(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    text = client.get(f"/actions.csv{query}").get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_visible_team_shows_both_scores_and_the_flagged_change(
    client: FlaskClient, world: World
) -> None:
    action = world.log("Sales", by="sales")
    login(client, "sales@example.com")
    text = _impact_text(client.get(f"/actions/{action.id}").get_data(as_text=True))
    assert "Spring pulse" in text and "Autumn pulse" in text
    assert "95% interval" in text and "improved" in text
    row = _csv(client)[0]
    assert row["score_at_pulse"] and row["score_later"] and row["change"]
    assert row["verdict"] == "improved" and row["hidden_reason"] == ""


def test_a_team_below_k_shows_no_number_anywhere(client: FlaskClient, world: World) -> None:
    action = world.log("Tiny", by="eng")
    login(client, "eng@example.com")
    text = _impact_text(client.get(f"/actions/{action.id}").get_data(as_text=True))
    assert "Fewer than 5 answers" in text
    # The threshold in the reason is the only number: no score, interval, count or change.
    assert not re.search(r"\d", text.replace("Fewer than 5 answers", "")), text
    row = _csv(client)[0]
    assert (row["score_at_pulse"], row["score_later"], row["change"]) == ("", "", "")
    assert row["change_low"] == row["change_high"] == ""
    assert "Fewer than 5 answers" in row["hidden_reason"]
    assert row["verdict"] == impact.CANNOT_JUDGE


def test_a_team_hidden_by_complementary_suppression_shows_no_number(
    client: FlaskClient, world: World
) -> None:
    # Platform has 8 answers, but Eng minus Platform would give Tiny's 3 away.
    action = world.log("Platform", by="eng")
    login(client, "eng@example.com")
    text = _impact_text(client.get(f"/actions/{action.id}").get_data(as_text=True))
    assert not re.search(r"\d", text), text
    assert _csv(client)[0]["score_at_pulse"] == ""


def test_without_a_later_pulse_the_reason_is_shown(client: FlaskClient, world: World) -> None:
    action = world.log("Sales", pulse=1, by="sales")
    login(client, "sales@example.com")
    text = _impact_text(client.get(f"/actions/{action.id}").get_data(as_text=True))
    assert impact.NO_LATER in text


def test_the_roll_up_counts_finished_actions_by_verdict(client: FlaskClient, world: World) -> None:
    world.log("Sales", status=ActionStatus.DONE)  # improved
    world.log(None, status=ActionStatus.DONE)  # the organisation: improved
    world.log("Tiny", status=ActionStatus.DONE)  # hidden: cannot judge
    world.log("Sales", status=ActionStatus.DONE, pulse=1)  # no later pulse: cannot judge
    world.log("Sales", status=ActionStatus.IN_PROGRESS)  # not finished: not counted
    world.log("Sales", status=ActionStatus.DONE, dimension=None)  # no dimension: not counted
    login(client, "hr@example.com")
    page = html.unescape(re.sub(r"<[^>]+>", "", client.get("/actions").get_data(as_text=True)))
    assert "Of 4 finished actions linked to a dimension" in page
    assert "2 improved clearly" in page
    assert "0 showed no clear change" in page
    assert "0 got clearly worse" in page
    assert "2 cannot be judged yet" in page
    assert "regression to the mean" in page


def _change(diff: float, low: float, high: float, p: float) -> report.Change:
    comparison = stats.Comparison(diff, low, high, p)
    flag = stats.change_flag(comparison, stats.MID_0_100, p < 0.05)
    improved = None
    if flag.flagged:
        improved = flag.direction == "up"
    return report.Change("since", "Spring", comparison, flag, None, improved)


def test_verdicts_follow_the_flag_rule() -> None:
    assert impact.verdict(None) == impact.CANNOT_JUDGE
    hidden = report.Change("since", "Spring", None, None, "Fewer than 5 answers")
    assert impact.verdict(hidden) == impact.CANNOT_JUDGE
    assert impact.verdict(_change(20.0, 10.0, 30.0, 0.001)) == impact.IMPROVED
    assert impact.verdict(_change(-20.0, -30.0, -10.0, 0.001)) == impact.DECLINED
    assert impact.verdict(_change(2.0, -5.0, 9.0, 0.5)) == impact.NO_CLEAR_CHANGE
    summary = impact.summarise(
        [impact.IMPROVED, impact.DECLINED, impact.CANNOT_JUDGE, impact.CANNOT_JUDGE]
    )
    assert (summary.improved, summary.declined, summary.no_clear_change) == (1, 1, 0)
    assert summary.cannot_judge == 2 and summary.total == 4


# --- pilots ---------------------------------------------------------------------------------------


def _pilot(world: World) -> None:
    """Sales in the pilot arm and Platform as comparison, Spring the baseline, Autumn the final
    pulse. Platform is hidden organisation-wide (Eng minus Platform would give Tiny's 3 away),
    so the pilot report can only give the pilot arm's before/after change."""
    from datetime import timedelta

    from pulse.db import utcnow
    from pulse.extensions import db
    from pulse.pilots.models import Arm, Phase, Pilot, PilotPulse, PilotTeam

    today = utcnow().date()
    pilot = Pilot(
        name="Four-day week",
        starts_on=today - timedelta(days=40),
        ends_on=today - timedelta(days=25),
        created_at=utcnow(),
    )
    db.session.add(pilot)
    db.session.flush()
    db.session.add(PilotTeam(pilot_id=pilot.id, team_id=world.teams["Sales"].id, arm=Arm.PILOT))
    db.session.add(
        PilotTeam(pilot_id=pilot.id, team_id=world.teams["Platform"].id, arm=Arm.COMPARISON)
    )
    for position, (pulse, phase) in enumerate(
        ((world.pulses[0], Phase.BASELINE), (world.pulses[1], Phase.FINAL)), start=1
    ):
        db.session.add(
            PilotPulse(pulse_id=pulse.id, pilot_id=pilot.id, phase=phase, position=position)
        )
    db.session.commit()


def test_an_action_in_a_pilot_team_shows_the_pilots_estimate(
    client: FlaskClient, world: World
) -> None:
    _pilot(world)
    inside = world.log("Sales")
    outside = world.log("Tiny")
    login(client, "hr@example.com")
    text = _impact_text(client.get(f"/actions/{inside.id}").get_data(as_text=True))
    assert "In the pilot “Four-day week”" in text
    assert "Change in the pilot teams (there are no comparison teams)" in text
    assert "Without comparison teams this cannot separate the pilot" in text
    text = _impact_text(client.get(f"/actions/{outside.id}").get_data(as_text=True))
    assert "Four-day week" not in text
