"""The business outcome metrics HR can import per team and period, and how each combines.

A metric describing a small team is people's data too: pages show a group's figure only when
the group's head count passes the same anonymity gate as survey answers (see the importer and
the pages that show them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: str
    unit: str
    combine: Literal["sum", "mean"]  # how teams add up: counts sum, ratings average
    higher_is_better: bool
    per_person: bool  # compare groups per head (absence days per person), not in total


METRICS: dict[str, MetricDef] = {
    m.key: m
    for m in (
        MetricDef("absence_days", "Absence days", "days", "sum", False, True),
        MetricDef("leavers", "Leavers", "people", "sum", False, True),
        MetricDef("overtime_hours", "Overtime hours", "hours", "sum", False, True),
        MetricDef("output", "Output", "units", "sum", True, True),
        MetricDef("customer_satisfaction", "Customer satisfaction", "score", "mean", True, False),
    )
}
