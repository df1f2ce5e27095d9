"""Small per-process stores for results that cannot change any more.

A closed pulse's tallies never change after it has settled, and neither do the gate's decisions
for one viewer's family over them, as long as the team tree is the same. Keeping those in each
web process makes a results page cost the same at 100 or 100,000 employees. Everything kept is
keyed by what it was computed from (database, tree and names fingerprint, viewer, pulses), so a
directory import or a change of managed teams simply misses and recomputes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

from flask import current_app

V = TypeVar("V")


def enabled() -> bool:
    """On in production; tests turn it on explicitly (they rewrite data between requests)."""
    return bool(current_app.config.get("RESULTS_CACHE_SETTLED", not current_app.testing))


class Kept(Generic[V]):
    """A least-recently-used store with a fixed number of entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if not enabled():
            return make()
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        value = make()
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()


def fingerprint(mapping: Mapping[int, object]) -> int:
    """A cheap identity for the team tree or the team names as they are now."""
    return hash(tuple(sorted(mapping.items(), key=lambda item: item[0])))
