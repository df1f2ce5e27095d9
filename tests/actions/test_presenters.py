"""Wording prepared for the action pages, tested without a database or an app."""

from __future__ import annotations

from pulse.actions.impact import PilotEffect
from pulse.actions.presenters import pilot_effect_text


def test_a_pilot_estimate_is_signed_and_rounded_with_its_interval() -> None:
    text = pilot_effect_text(PilotEffect("Four-day week", 3.4, -0.6, 7.5, "Unclear"))
    assert text is not None
    assert text.label is not None and "difference-in-differences" in text.label
    assert text.estimate == "+3 points"
    assert text.interval == "95% interval -1 to +8"


def test_a_pilot_without_comparison_teams_says_so_and_may_lack_an_interval() -> None:
    text = pilot_effect_text(PilotEffect("Trial", -2.0, None, None, "Too early", comparison=False))
    assert text is not None
    assert text.label == "Change in the pilot teams (there are no comparison teams)"
    assert (text.estimate, text.interval) == ("-2 points", None)


def test_no_estimate_leaves_only_the_verdict() -> None:
    text = pilot_effect_text(PilotEffect("Trial", None, None, None, "Not enough answers yet"))
    assert text is not None
    assert (text.label, text.estimate, text.interval) == (None, None, None)
    assert text.verdict == "Not enough answers yet"
    assert pilot_effect_text(None) is None
