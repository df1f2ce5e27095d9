"""Concurrent submissions: one link used at once by 32 threads, and 2,000 links from 8 workers.

Each thread works as a request would: its own app context (so its own session and connection),
`find_invitation`, `record_response`, commit. On SQLite every write transaction starts with
BEGIN IMMEDIATE and waits up to the busy timeout, so writers queue instead of failing; on
PostgreSQL the conditional UPDATE of the invitation blocks on the row lock of the first writer
and then finds nothing left to update.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from pulse.extensions import db
from pulse.surveys import services
from pulse.surveys.models import Invitation, Response, ResponseTally, UsedLink, ValueTally
from tests.factories import NOW
from tests.surveys.conftest import (
    OpenedPulse,
    assert_tallies_match_answers,
    count,
    open_pulse_for,
    random_answers,
)

THREADS_ON_ONE_LINK = 32


def _submit(app: Flask, opened: OpenedPulse, token: str, seed: int) -> str:
    """Submit one response as a request would; the outcome as a word, never an exception."""
    with app.app_context():
        try:
            invitation = services.find_invitation(token)
            services.record_response(
                invitation,  # type: ignore[arg-type]
                random_answers(opened.questions, random.Random(seed)),
                now=NOW,
            )
            db.session.commit()
        except services.TokenAlreadyUsed:
            db.session.rollback()
            return "already answered"
        except (OperationalError, IntegrityError) as exc:
            db.session.rollback()
            return f"database error: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        return "recorded"


def _run_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported below, so a crash cannot look like a refusal
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a submitting thread hung"
    assert not errors, errors
    return results


def test_32_threads_submitting_one_link_record_exactly_one_response(wide_app: Flask) -> None:
    opened = open_pulse_for(wide_app, people=6, now=NOW)
    token = opened.tokens[0]
    barrier = threading.Barrier(THREADS_ON_ONE_LINK)

    def work(i: int) -> str:
        barrier.wait(timeout=30)  # all threads start their transaction together
        return _submit(wide_app, opened, token, seed=i)

    outcomes = Counter(_run_threads(THREADS_ON_ONE_LINK, work))

    assert outcomes == {"recorded": 1, "already answered": THREADS_ON_ONE_LINK - 1}, outcomes
    db.session.expire_all()
    assert count(Response) == 1
    assert count(UsedLink) == 1
    # Settling marks exactly the invitation whose link was used as answered.
    used = services.find_invitation(token)
    assert used is not None
    services.settle_answers(used.pulse)
    db.session.commit()
    answered = db.session.scalars(select(Invitation).where(Invitation.answered.is_(True))).all()
    assert [inv.token_hash for inv in answered] == [
        services.find_invitation(token).token_hash  # type: ignore[union-attr]
    ]
    assert db.session.scalar(select(func.sum(ResponseTally.count))) == 1
    assert_tallies_match_answers()


def test_2000_distinct_submissions_from_8_workers_are_all_recorded(wide_app: Flask) -> None:
    total, workers = 2000, 8
    opened = open_pulse_for(wide_app, people=total, now=NOW)
    shares = [opened.tokens[i::workers] for i in range(workers)]
    barrier = threading.Barrier(workers)

    def work(w: int) -> Counter[str]:
        barrier.wait(timeout=30)
        outcomes: Counter[str] = Counter()
        for j, token in enumerate(shares[w]):
            outcomes[_submit(wide_app, opened, token, seed=w * 10_000 + j)] += 1
        return outcomes

    started = time.perf_counter()
    outcomes = sum(_run_threads(workers, work), Counter())
    elapsed = time.perf_counter() - started
    print(
        f"{total} submissions from {workers} threads in {elapsed:.1f} s "
        f"({total / elapsed:.0f}/s, {db.engine.dialect.name})"
    )

    assert outcomes == {"recorded": total}, outcomes  # no "database is locked", no refusals
    db.session.expire_all()
    assert count(Response) == total
    assert db.session.scalar(select(func.count()).select_from(UsedLink)) == total
    assert db.session.scalar(select(func.sum(ResponseTally.count))) == total
    assert db.session.scalar(select(func.count()).select_from(ValueTally)) > 0
    assert_tallies_match_answers()
