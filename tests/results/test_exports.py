"""CSV exports: formula-injection safety, numbers kept as numbers, and rows built only from what
the gated report objects allow (pure: no database)."""

from __future__ import annotations

import csv
import io

import pytest

from pulse.results import exports, gate, report
from pulse.results.queries import PulseTallies, QuestionInfo
from pulse.results.stats import DimensionSums
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import PulseState, ReleaseMode

# --- cells ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example","x")', "+1", "-2", "@x", "\tcmd", "\rcmd", "\0cmd"],
)
def test_text_starting_with_a_formula_character_gets_an_apostrophe(text: str) -> None:
    assert exports.safe_text(text) == "'" + text
    assert exports.format_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Sales", "R&D", "1 team", " =not first", "", "Ünïcode"])
def test_other_text_is_left_alone(text: str) -> None:
    assert exports.format_cell(text) == text


def test_numbers_stay_numbers_even_when_negative() -> None:
    assert exports.format_cell(-95.0) == "-95.0"
    assert exports.format_cell(-2) == "-2"
    assert exports.format_cell(66.6666) == "66.7"
    assert exports.format_cell(-0.04) == "0.0"  # no "-0.0"
    assert exports.format_cell(0) == "0"


def test_missing_and_odd_values() -> None:
    assert exports.format_cell(None) == ""
    assert exports.format_cell(float("nan")) == ""
    assert exports.format_cell(float("-inf")) == ""
    assert exports.format_cell(True) == "yes"


def test_file_starts_with_a_bom_and_uses_crlf() -> None:
    text = exports.to_csv([("P", 1, "=1+1", None, "s", "i", "m", -3.25, None, None, None, None)])
    assert text.startswith("\ufeffpulse,team_id,team,")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[1] == ["P", "1", "'=1+1", "", "s", "i", "m", "-3.2", "", "", "", ""]


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="cells"):
        exports.to_csv([("too", "short")])


@pytest.mark.parametrize(
    ("kind", "title", "expected"),
    [
        ("heatmap", "November pulse", "heatmap-november-pulse.csv"),
        ("heatmap", 'Q4 "final"; rm -rf /\r\nX: y', "heatmap-q4-final-rm-rf-x-y.csv"),
        ("heatmap", "Ünïcödé pülse", "heatmap-unicode-pulse.csv"),
        ("", "", "results.csv"),
    ],
)
def test_filenames_are_plain_ascii(kind: str, title: str, expected: str) -> None:
    assert exports.export_filename(kind, title) == expected


# --- rows from report objects --------------------------------------------------------------------

# Acme (1) holds Eng (2) and Sales (3); Tiny (4) sits under Eng with only three respondents.
TREE: dict[int, int | None] = {1: None, 2: 1, 3: 1, 4: 2}
NAMES = {1: "Acme", 2: "=Eng", 3: "Sales", 4: "Tiny"}
QUESTIONS = [
    QuestionInfo(10, "trust.q", "trust", ScaleKind.AGREE5, False, "I trust them.", True),
    QuestionInfo(11, "enps.q", "enps", ScaleKind.SCORE11, False, "Recommend us?", True),
]


def sums(scores: list[float]) -> DimensionSums:
    return DimensionSums(len(scores), sum(scores), sum(s * s for s in scores), 0)


def tallies(pulse_id: int, title: str, trust: dict[int, list[float]]) -> PulseTallies:
    enps = {2: [-100.0] * 8 + [0.0] * 2, 3: [-100.0] * 6 + [100.0] * 4, 4: [100.0] * 3}
    return PulseTallies(
        pulse_id,
        title,
        None,
        PulseState.CLOSED,
        5,
        10,
        ReleaseMode.AFTER_CLOSE,
        questions=QUESTIONS,
        responses={team: len(scores) for team, scores in trust.items()},
        invited={2: 12, 3: 11, 4: 4},
        dimensions={
            "trust": {team: sums(scores) for team, scores in trust.items()},
            "enps": {team: sums(scores) for team, scores in enps.items()},
        },
        values={10: {2: {4: 6, 5: 4}, 3: {2: 5, 3: 5}, 4: {1: 3}}},
    )


BEFORE = {2: [20.0, 25.0, 30.0, 25.0, 20.0, 30.0, 25.0, 20.0, 30.0, 25.0], 3: [50.0] * 10}
AFTER = {2: [80.0, 85.0, 90.0, 85.0, 80.0, 90.0, 85.0, 80.0, 90.0, 85.0], 3: [50.0] * 10}
# Tiny's three people all score 17.3: the number that must never leave the gate.
BEFORE[4] = AFTER[4] = [17.3, 17.3, 17.3]


def built() -> tuple[list[gate.Group], report.PulseView, report.PulseView]:
    viewer = report.Viewer((1,), whole_org=True)
    groups = report.family(TREE, viewer)
    earlier = report.view(TREE, tallies(1, "Spring", BEFORE), groups)
    later = report.view(TREE, tallies(2, "Summer", AFTER), groups)
    return groups, earlier, later


def parse(rows: list[exports.Row]) -> list[dict[str, str]]:
    text = exports.to_csv(rows).removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_heatmap_rows_hide_the_small_team_and_keep_its_reason() -> None:
    groups, earlier, later = built()
    order = [(1, 0), (2, 1), (4, 2), (3, 1)]
    heat = report.heatmap(TREE, NAMES, groups, order, later, earlier)
    rows = parse(exports.heatmap_rows(heat, TREE))

    tiny = [r for r in rows if r["team"] == "Tiny"]
    assert tiny, "the hidden team still has rows, with reasons"
    figures = [r for r in tiny if r["measure"] != "invited"]  # invitations are not answers
    assert all(r["value"] == "" and r["low"] == "" and r["high"] == "" for r in figures)
    assert {r["reason"] for r in tiny if r["measure"] == "score"} == {"Fewer than 5 answers"}
    assert "17.3" not in exports.to_csv(exports.heatmap_rows(heat, TREE))
    assert tiny[0]["parent_team"] == "'=Eng"  # a parent named like a formula is escaped too


def test_heatmap_rows_carry_band_change_and_participation() -> None:
    groups, earlier, later = built()
    heat = report.heatmap(TREE, NAMES, groups, [(1, 0), (2, 1), (4, 2), (3, 1)], later, earlier)
    rows = parse(exports.heatmap_rows(heat, TREE))
    eng = {(r["item"], r["measure"]): r for r in rows if r["team_id"] == "2"}

    assert eng[("", "respondents")]["value"] == "13"  # Eng's ten and Tiny's three
    assert eng[("", "invited")]["value"] == "16"
    assert eng[("", "response rate %")]["value"] == "81.2"
    score = eng[("Trust", "score")]
    # Eng's whole subtree: (850 + 3 * 17.3) / 13, Tiny included but never shown on its own.
    assert score["value"] == "69.4" and "band 4 of 5: good" in score["note"]
    change = eng[("Trust", "change since the previous pulse")]
    assert change["value"] == "46.2" and change["note"].startswith("improved against Spring")
    # eNPS is negative and stays a plain number, never an escaped text.
    enps = eng[("eNPS", "score")]
    assert enps["value"].startswith("-") and float(enps["value"]) < 0
    assert rows[0]["team"] == "Acme" and rows[0]["parent_team"] == ""


def test_dashboard_rows_cover_scores_changes_comparisons_trend_and_questions() -> None:
    groups, earlier, later = built()
    board = report.dashboard(TREE, NAMES, groups, 3, [earlier, later])
    rows = parse(exports.dashboard_rows(board, 3))

    sections = {r["section"] for r in rows}
    assert sections == {"participation", "dimension", "comparison", "trend", "question"}
    assert {r["team"] for r in rows} == {"Sales"}
    trend = [r for r in rows if r["section"] == "trend" and r["item"] == "Trust"]
    assert [r["pulse"] for r in trend] == ["Spring", "Summer"]
    favourable = next(r for r in rows if r["measure"] == "favourable %")
    assert favourable["value"] == "0" and favourable["item"] == "I trust them."
    enps = next(r for r in rows if r["item"] == "eNPS" and r["measure"] == "score")
    assert enps["value"] == "-20.0"
    parent = next(r for r in rows if r["section"] == "comparison" and "parent team" in r["measure"])
    assert parent["measure"] == "score, parent team (Acme)"


def test_dashboard_rows_of_a_hidden_team_have_reasons_and_no_numbers() -> None:
    groups, earlier, later = built()
    board = report.dashboard(TREE, NAMES, groups, 4, [earlier, later])
    rows = parse(exports.dashboard_rows(board, 4))
    own = [r for r in rows if r["section"] in {"dimension", "trend", "question"}]
    assert own and all(r["value"] == "" for r in own)
    assert all(r["reason"] for r in own if r["measure"] in {"score", "answers"})
    assert "17.3" not in exports.to_csv(exports.dashboard_rows(board, 4))
