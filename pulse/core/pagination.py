"""Counted lists: a requested page number the database can serve, and counts with their noun.

A page number comes straight from the query string, so it may be missing, negative, text, or so
large that its OFFSET overflows a 64-bit integer. Lists clamp it between the first and the last
page instead of failing or showing an empty page past the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

# Far beyond any real list, yet small enough that page * per_page stays a 64-bit integer.
MAX_PAGE = 1_000_000


class Paged(Protocol):
    @property
    def pages(self) -> int: ...


P = TypeVar("P", bound=Paged)


def page_number(raw: str | None) -> int:
    """The requested page as a number from 1 to MAX_PAGE; anything unreadable is page 1."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(int(text), 1), MAX_PAGE)


def clamp(requested: int, last: int) -> int:
    """`requested` moved into 1..last (an empty list has one, empty, page)."""
    return min(max(requested, 1), max(last, 1))


def clamped_page(fetch: Callable[[int], P], raw: str | None) -> P:
    """Fetch the requested page; a page past the end fetches the last page instead.

    `fetch` takes a page number and returns a Flask-SQLAlchemy page (called with
    `error_out=False`). The second fetch happens only for a page past the end.
    """
    requested = page_number(raw)
    page = fetch(requested)
    last = clamp(requested, page.pages)
    return page if last == requested else fetch(last)


def plural(n: int, one: str, many: str) -> str:
    """`n` with the noun that fits it ("1 figure", "3 figures"), prepared for templates."""
    return f"{n} {one if n == 1 else many}"
