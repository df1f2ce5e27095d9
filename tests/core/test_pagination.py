"""Requested page numbers: anything odd is page 1, nothing overflows, past the end is the last."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pulse.core.pagination import MAX_PAGE, clamp, clamped_page, page_number, plural


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        (" 3 ", 3),
        ("0", 1),
        ("-2", 1),
        ("1.5", 1),
        ("abc", 1),
        ("²", 1),  # a digit to str.isdigit, not to int()
        ("9" * 20, MAX_PAGE),
        (str(MAX_PAGE + 1), MAX_PAGE),
    ],
)
def test_page_number_reads_only_plain_positive_numbers(raw: str | None, expected: int) -> None:
    assert page_number(raw) == expected


def test_a_capped_page_keeps_the_offset_a_64_bit_integer() -> None:
    assert MAX_PAGE * 1000 < 2**63


def test_clamp_keeps_pages_between_the_first_and_the_last() -> None:
    assert clamp(5, 3) == 3
    assert clamp(0, 3) == 1
    assert clamp(2, 3) == 2
    assert clamp(4, 0) == 1  # an empty list still has its one empty page


@dataclass
class FakePage:
    page: int
    pages: int


def test_a_page_past_the_end_fetches_the_last_page_once_more() -> None:
    asked: list[int] = []

    def fetch(n: int) -> FakePage:
        asked.append(n)
        return FakePage(n, 4)

    assert clamped_page(fetch, "9" * 20).page == 4
    assert asked == [MAX_PAGE, 4]
    asked.clear()
    assert clamped_page(fetch, "2").page == 2
    assert asked == [2]


def test_plural_words_the_count() -> None:
    assert plural(1, "team", "teams") == "1 team"
    assert plural(0, "team", "teams") == "0 teams"
    assert plural(2, "person", "people") == "2 people"
