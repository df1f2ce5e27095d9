"""The business-outcomes panel gates on the head counts of the teams that reported a figure, so
a parent minus a visible child never gives a small team's figure (a bug found in review: it
gated on whole subtrees while the figures covered only the reporting teams).

Acme > Eng (2 people directly in Eng) > Web (7) and Ops (3). Head counts: Eng 12, Web 7, Ops 3.
The gate (k = 5) hides Ops; Eng minus Web is 5 people (Ops + Eng's own 2), so Web stays visible.
HR imports leavers per working team (Web and Ops), none for Eng itself - the usual shape of HR
data. Eng's panel then shows Web + Ops, Web's panel shows Web, and the difference is Ops (3
people): "2 of the 3 people in Ops left".
"""

from __future__ import annotations

from datetime import date

from pulse.results import gate, metrics
from pulse.results import report as results_report

ACME, ENG, WEB, OPS = 1, 2, 3, 4
TREE = {ACME: None, ENG: ACME, WEB: ENG, OPS: ENG}
HEADS = {ENG: 2, WEB: 7, OPS: 3}
START, END = date(2026, 1, 1), date(2026, 3, 31)
FIGURES = [
    metrics.Figure(WEB, "leavers", START, END, 1.0),
    metrics.Figure(OPS, "leavers", START, END, 2.0),
]


def _total(panel: metrics.OutcomePanel) -> float | None:
    if not panel.visible:
        return None
    line = next(line for line in panel.lines if line.metric.key == "leavers")
    return line.latest.total


def test_parent_minus_visible_child_never_gives_a_small_teams_outcome_figure() -> None:
    viewer = results_report.Viewer((ENG,), whole_org=False)  # a manager of Eng (same for HR)
    forest = gate.prepare(TREE, results_report.family(TREE, viewer))
    eng = metrics.outcome_panel(forest, ENG, gate.subtree(TREE, ENG), HEADS, FIGURES)
    web = metrics.outcome_panel(forest, WEB, gate.subtree(TREE, WEB), HEADS, FIGURES)
    ops = metrics.outcome_panel(forest, OPS, gate.subtree(TREE, OPS), HEADS, FIGURES)
    assert not ops.visible  # the gate means to hide Ops' figure ...
    eng_total, web_total = _total(eng), _total(web)
    # ... but Eng's total minus Web's total is exactly Ops' figure (2 leavers out of 3 people).
    assert eng_total is None or web_total is None or eng_total - web_total != 2.0, (
        f"Eng {eng_total} - Web {web_total} = Ops' leavers, a team of {HEADS[OPS]}"
    )
