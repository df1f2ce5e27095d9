"""A manager's pilot report never gives them a figure that, with their own dashboard, reveals a
team below k by subtraction (a bug found in review, fixed by building their report from their
own family of groups).

Acme > Eng > Web > (Front 8, Back 8); Eng > Ops (3); Acme > C1 (8). Pilot arm: Eng (whole
subtree, 19 answers); comparison arm: C1 (8). In the organisation-wide family Ops is hidden and
so is Web (complementary), but Eng (19) is visible, so the report uses it.

A manager of Front has the family {Front, Web (parent comparison), org}. There Web is visible
(16 answers): Web minus Front is 8 and org minus Web is 11, both fine. But the pilot report
gives the same manager Eng = 19 (and its mean), so Eng - Web = 3 people = Ops exactly.
The manager's report is now gated with their own family and holds only the pilot teams that
family contains, so Eng (which contains their team) is not in it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from pulse.db import utcnow
from pulse.extensions import db
from pulse.pilots import report
from pulse.pilots.models import Arm, Phase, PilotTeam
from pulse.results import gate
from pulse.results import report as results_report
from pulse.results.queries import load_pulse_tallies, team_tree_and_names
from tests.factories import make_person, make_team
from tests.pilots.test_report import link, make_pilot, make_pulse, scores, tally

K = 5


def test_pilot_arm_minus_a_managers_parent_comparison_never_reveals_a_team_below_k(
    app: Flask,
) -> None:
    now = utcnow()
    teams = {
        "Acme": make_team("Acme"),
        "Eng": make_team("Acme/Eng"),
        "Web": make_team("Acme/Eng/Web"),
        "Front": make_team("Acme/Eng/Web/Front"),
        "Back": make_team("Acme/Eng/Web/Back"),
        "Ops": make_team("Acme/Eng/Ops"),
        "C1": make_team("Acme/C1"),
    }
    sizes = {"Front": 8, "Back": 8, "Ops": 3, "C1": 8}
    for name, size in sizes.items():
        for _ in range(size):
            make_person(team=teams[name])
    pilot = make_pilot("4dw", (now - timedelta(days=60)).date(), (now - timedelta(days=20)).date())
    db.session.add(PilotTeam(pilot_id=pilot.id, team_id=teams["Eng"].id, arm=Arm.PILOT))
    db.session.add(PilotTeam(pilot_id=pilot.id, team_id=teams["C1"].id, arm=Arm.COMPARISON))
    b1 = make_pulse("Baseline", now - timedelta(days=100))
    final = make_pulse("Final", now - timedelta(days=20), days=5)
    link(pilot, b1, Phase.BASELINE, 1)
    link(pilot, final, Phase.FINAL, 2)
    for pulse in (b1, final):
        for name, size in sizes.items():
            tally(pulse, teams[name], scores(50.0 if name != "Ops" else 97.0, 60.0, people=size))
    db.session.commit()

    front = teams["Front"].id
    viewer = results_report.Viewer((front,), whole_org=False)
    built = report.build(pilot, now, viewer=viewer, visible={front})

    # What the same manager's own results pages show (their family, their gate).
    tree, _names = team_tree_and_names()
    family = results_report.family(tree, viewer)
    own = gate.prepare(tree, family).decide(load_pulse_tallies(final, now).responses, K)
    visible_counts = {key: d.count for key, d in own.items() if d.visible and d.count}

    line = next(p for p in built.pulses if p.pulse_id == final.id)
    arm_counts = [line.pilot.respondents, line.comparison.respondents]
    leaks = [
        (arm, key, arm - seen)
        for arm in arm_counts
        if arm
        for key, seen in visible_counts.items()
        if 0 < arm - seen < K
    ]
    assert not leaks, (
        f"manager sees {visible_counts} on their dashboard and arm counts {arm_counts} on the "
        f"pilot report: differences {leaks} single out fewer than {K} people (Ops)"
    )
