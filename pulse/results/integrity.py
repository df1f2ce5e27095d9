"""Recompute tallies from raw answers and compare them with the stored ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from pulse.extensions import db
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import (
    Answer,
    DimensionTally,
    PulseQuestion,
    Response,
    ResponseTally,
    ValueTally,
)
from pulse.surveys.scoring import ScoredItem, dimension_scores, is_at_risk

# Sums of floating-point scores may differ in the last bits depending on addition order.
TOLERANCE = 1e-6

Key = tuple[object, ...]
Row = tuple[float, ...]


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: Key
    stored: Row | None
    recomputed: Row | None

    def describe(self) -> str:
        return f"{self.table} {self.key}: stored {self.stored}, recomputed {self.recomputed}"


def verify_pulse_tallies(pulse_id: int) -> list[Mismatch]:
    """Every difference between the stored tallies of one pulse and a recount from answers."""
    questions = db.session.scalars(
        select(PulseQuestion).where(PulseQuestion.pulse_id == pulse_id)
    ).all()
    items = [ScoredItem(q.id, q.dimension, ScaleKind(q.scale), q.reverse) for q in questions]
    rows = db.session.execute(
        select(Response.id, Response.team_id).where(Response.pulse_id == pulse_id)
    ).all()
    teams: dict[str, int] = {row.id: row.team_id for row in rows}
    answers: dict[str, dict[int, int]] = defaultdict(dict)
    for response_id, question_id, value in db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.pulse_id == pulse_id)
    ):
        answers[response_id][question_id] = value

    want_responses: dict[Key, Row] = {}
    want_values: dict[Key, Row] = {}
    want_dims: dict[Key, Row] = {}
    for response_id, team_id in teams.items():
        _add(want_responses, (team_id,), (1,))
        given = answers.get(response_id, {})
        for question_id, value in given.items():
            _add(want_values, (team_id, question_id, value), (1,))
        for dimension, score in dimension_scores(items, given).items():
            risk = 1 if is_at_risk(dimension, score) else 0
            _add(want_dims, (team_id, dimension), (1, score, score * score, risk))

    have_responses: dict[Key, Row] = {
        (t,): (float(c),)
        for t, c in db.session.execute(
            select(ResponseTally.team_id, ResponseTally.count).where(
                ResponseTally.pulse_id == pulse_id
            )
        )
    }
    have_values: dict[Key, Row] = {
        (t, q, v): (float(c),)
        for t, q, v, c in db.session.execute(
            select(
                ValueTally.team_id, ValueTally.question_id, ValueTally.value, ValueTally.count
            ).where(ValueTally.pulse_id == pulse_id)
        )
    }
    have_dims: dict[Key, Row] = {
        (t, d): (float(n), total, total_sq, float(r))
        for t, d, n, total, total_sq, r in db.session.execute(
            select(
                DimensionTally.team_id,
                DimensionTally.dimension,
                DimensionTally.n,
                DimensionTally.total,
                DimensionTally.total_sq,
                DimensionTally.at_risk,
            ).where(DimensionTally.pulse_id == pulse_id)
        )
    }
    return (
        _compare("tally_response", have_responses, want_responses)
        + _compare("tally_value", have_values, want_values)
        + _compare("tally_dimension", have_dims, want_dims)
    )


def _add(into: dict[Key, Row], key: Key, amounts: Row) -> None:
    current = into.get(key)
    into[key] = (
        amounts if current is None else tuple(a + b for a, b in zip(current, amounts, strict=True))
    )


def _compare(table: str, have: dict[Key, Row], want: dict[Key, Row]) -> list[Mismatch]:
    mismatches = []
    for key in sorted(set(have) | set(want), key=repr):
        stored, recomputed = have.get(key), want.get(key)
        if stored is not None and recomputed is None and not any(stored):
            continue  # a stored row of zeros is the same as no row
        if stored is None or recomputed is None or not _close(stored, recomputed):
            mismatches.append(Mismatch(table, key, stored, recomputed))
    return mismatches


def _close(a: Row, b: Row) -> bool:
    return len(a) == len(b) and all(
        abs(x - y) <= TOLERANCE * max(1.0, abs(x), abs(y)) for x, y in zip(a, b, strict=True)
    )
