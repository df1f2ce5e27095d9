"""Pure scoring of one respondent's answers (SCIENCE.md): reverse-keying and 0-100 scores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pulse.surveys.library import SCALES, ScaleKind

# Dimensions reported as "% at risk" instead of favourable, and their cut-offs on 0-100.
BURNOUT_RISK_FROM = 50.0  # Copenhagen Burnout Inventory: at risk when the score is >= 50
WELLBEING_RISK_UPTO = 50.0  # WHO-5 style: <= 50 suggests poor wellbeing


@dataclass(frozen=True)
class ScoredItem:
    """What scoring needs to know about a question."""

    id: int
    dimension: str
    scale: ScaleKind
    reverse: bool


def reverse_key(value: int, scale: ScaleKind) -> int:
    """(min + max) - value, by question, never by position."""
    s = SCALES[scale]
    return s.minimum + s.maximum - value


def to_0_100(value: int, scale: ScaleKind) -> float:
    s = SCALES[scale]
    return (value - s.minimum) / (s.maximum - s.minimum) * 100.0


def enps_points(value: int) -> int:
    """A person's eNPS contribution: promoters (9-10) +100, passives 0, detractors (0-6) -100."""
    if value >= 9:
        return 100
    if value <= 6:
        return -100
    return 0


def is_scored(item: ScoredItem) -> bool:
    """Items that feed a 0-100 dimension score (not hours, not free text, not eNPS)."""
    return item.scale in {ScaleKind.AGREE5, ScaleKind.FREQ5} and item.dimension != "enps"


def dimension_scores(items: Iterable[ScoredItem], answers: Mapping[int, int]) -> dict[str, float]:
    """One respondent's score per dimension: the mean of their answered items, 0-100.

    eNPS is scored -100/0/+100 per person so that the mean over people is the eNPS itself.
    Skipped items are left out of the mean; a dimension with no answered item has no score.
    """
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for item in items:
        if item.id not in answers:
            continue
        value = answers[item.id]
        if item.dimension == "enps" and item.scale is ScaleKind.SCORE11:
            sums["enps"] = sums.get("enps", 0.0) + enps_points(value)
            counts["enps"] = counts.get("enps", 0) + 1
            continue
        if not is_scored(item):
            continue
        keyed = reverse_key(value, item.scale) if item.reverse else value
        sums[item.dimension] = sums.get(item.dimension, 0.0) + to_0_100(keyed, item.scale)
        counts[item.dimension] = counts.get(item.dimension, 0) + 1
    return {dim: sums[dim] / counts[dim] for dim in sums}


def is_at_risk(dimension: str, score: float) -> bool:
    """Burnout at or above 50, wellbeing at or below 50, eNPS detractors; else never."""
    if dimension == "burnout":
        return score >= BURNOUT_RISK_FROM
    if dimension == "wellbeing":
        return score <= WELLBEING_RISK_UPTO
    if dimension == "enps":
        return score < 0
    return False
