"""Benchmark: `flask pulse tick` mailing a pulse of 10,000 invitees to the outbox folder.

Run from the project root:  .venv/bin/python bench/tick.py [--people 10000] [--answered 0.4]

It builds a fresh SQLite file under /tmp with bench/heatmap.py's organisation builder (--people
people in --teams teams, the HR account among them, no pulses), then schedules one pulse of the
core set for the whole organisation with the real service (`surveys.services.create_pulse`),
opening an hour from now and closing six days later. Mail goes to the outbox: no SMTP host is
configured, so every message is written as an .eml file to a fresh folder under /tmp
(pulse/notify/mail.py), which measures building and rendering the mail, not a mail server.

Then it runs the real command, `flask pulse tick --now ...`, through `app.test_cli_runner()`
three times and times each run:

1. a minute after the opening time: opens the pulse (creates --people invitations with their
   tokens) and emails every invitation;
2. just after halfway, once --answered of the invitees have used their link (their used-link
   markers are inserted in bulk beforehand, exactly the rows `record_response` inserts to
   consume a link): settles those answers into the invitations and sends the first reminder to
   everyone else;
3. a minute later: nothing is due, so it only settles (finds nothing) and claims nothing.

For each run it prints the wall time, each step of the tick (settle, open, invitations,
reminders, digests), the time spent rendering the messages and delivering them (MIME plus
writing the file), emails per second, the .eml files written, and the process's peak resident
set size so far (resource.getrusage; it only grows, so each figure is the peak up to that run).

Not part of the test suite: no timing is ever asserted.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import heatmap  # bench/heatmap.py: the organisation builder
import numpy as np
from flask import Flask
from pilot_report import build_org, machine
from sqlalchemy import insert, select

from pulse import create_app
from pulse.extensions import db
from pulse.notify import digests, mail
from pulse.notify import tick as steps
from pulse.org.models import Team
from pulse.surveys import mailing, services
from pulse.surveys.models import Invitation, UsedLink


@dataclass
class Probe:
    """Seconds and calls spent in a few functions during one tick."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed


# The tick calls these through their modules' attributes, so wrapping the attributes times
# the real command without changing what it does.
PROBED = [
    (steps, "settle", "settle answers"),
    (steps, "open_due", "open due pulses (invitations created)"),
    (steps, "send_invitations", "send invitations"),
    (steps, "send_reminders", "send reminders"),
    (digests, "send_results_digests", "results digests"),
    (digests, "send_action_reminders", "action reminders"),
    (digests, "send_weekly_digests", "weekly digests"),
    (mailing, "_build_one", "  of which: render one message"),
    (mail, "deliver", "  of which: deliver one (MIME + .eml file)"),
]


@contextmanager
def probing() -> Iterator[Probe]:
    probe = Probe()
    originals = [(module, attr, getattr(module, attr)) for module, attr, _ in PROBED]
    for (module, attr, label), (_, _, original) in zip(PROBED, originals, strict=True):
        setattr(module, attr, probe.wrap(label, original))
    try:
        yield probe
    finally:
        for module, attr, original in originals:
            setattr(module, attr, original)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def tick_app(path: Path, outbox: Path) -> Flask:
    """The testing configuration (BASE_URL set for the links) with no SMTP host: the outbox."""
    instance = Path(tempfile.gettempdir()) / "pulse-bench-instance"
    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "MAIL_SMTP_HOST": None,
            "MAIL_OUTBOX_DIR": str(outbox),
        },
        environ={"PULSE_INSTANCE_PATH": str(instance)},
    )


def schedule(opens_at: datetime) -> int:
    root = db.session.scalars(select(Team).where(Team.parent_id.is_(None))).one()
    pulse = services.create_pulse(
        title="Autumn pulse",
        set_ref="builtin:core",
        teams=[root],
        now=opens_at - timedelta(hours=1),
        actor=None,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(days=6),
    )
    db.session.commit()
    return pulse.id


def use_links(pulse_id: int, share: float, secret: str, seed: int) -> int:
    """Consume the links of a random `share` of the invitations, as answering does."""
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.pulse_id == pulse_id).order_by(Invitation.id)
    ).all()
    rng = np.random.default_rng(seed)
    chosen = rng.random(len(invitations)) < share
    rows = [
        {"marker": services.used_marker(inv, secret), "pulse_id": pulse_id}
        for inv, yes in zip(invitations, chosen, strict=True)
        if yes
    ]
    db.session.execute(insert(UsedLink), rows)
    db.session.commit()
    db.session.expunge_all()
    return len(rows)


@dataclass
class Run:
    label: str
    seconds: float
    emails: int
    files: int
    peak_mb: float
    output: str
    probe: Probe


def run_tick(app: Flask, label: str, now: datetime, outbox: Path) -> Run:
    before = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    runner = app.test_cli_runner()
    with probing() as probe:
        started = time.perf_counter()
        result = runner.invoke(args=["pulse", "tick", "--now", now.isoformat()])
        seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"tick failed: {result.output}\n{result.exception!r}")
    files = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    emails = probe.calls.get("  of which: deliver one (MIME + .eml file)", 0)
    return Run(label, seconds, emails, files - before, peak_rss_mb(), result.output, probe)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--answered", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    print(machine())
    path = Path(args.dir) / "pulse-bench-tick.db"
    outbox = Path(args.dir) / "pulse-bench-tick-outbox"
    shutil.rmtree(outbox, ignore_errors=True)
    size = heatmap.Size("tick", args.people, args.teams, 4, (2, 6), 0)
    started = time.perf_counter()
    org = build_org(path, size, args.seed)
    print(
        f"built {path} in {time.perf_counter() - started:.1f} s: {org.people:,} people in "
        f"{org.teams:,} teams; outbox {outbox}; peak RSS so far {peak_rss_mb():.0f} MB"
    )

    app = tick_app(path, outbox)
    secret = str(app.config["SECRET_KEY"])
    opens_at = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    runs = []
    with app.app_context():
        pulse_id = schedule(opens_at)
        db.session.remove()
    with app.app_context():
        runs.append(run_tick(app, "open + invitations", opens_at + timedelta(minutes=1), outbox))
    with app.app_context():
        used = use_links(pulse_id, args.answered, secret, args.seed)
        db.session.remove()
    print(f"{used:,} links used ({args.answered:.0%}) before the halfway tick")
    halfway = opens_at + timedelta(days=3, minutes=1)
    with app.app_context():
        runs.append(run_tick(app, "halfway: settle + reminders", halfway, outbox))
    with app.app_context():
        runs.append(run_tick(app, "nothing to do", halfway + timedelta(minutes=1), outbox))
    with app.app_context():
        counts = db.session.execute(
            select(Invitation.answered, Invitation.reminders_sent, db.func.count())
            .where(Invitation.pulse_id == pulse_id)
            .group_by(Invitation.answered, Invitation.reminders_sent)
        ).all()
        db.session.remove()

    for run in runs:
        rate = f"{run.emails / run.seconds:,.0f} emails/s" if run.emails else "no email"
        print(
            f"\n{run.label}: {run.seconds:.2f} s, {run.emails:,} emails ({rate}), "
            f"{run.files:,} .eml files, peak RSS {run.peak_mb:.0f} MB"
        )
        for line in run.output.strip().splitlines():
            print(f"    | {line}")
        for _, _, label in PROBED:
            if label in run.probe.seconds:
                print(
                    f"    {label:<44} {run.probe.seconds[label]:8.2f} s"
                    f"  ({run.probe.calls[label]:,} calls)"
                )
    print(
        "\ninvitations by (answered, reminders sent): "
        + ", ".join(f"{tuple(c[:2])}: {c[2]:,}" for c in counts)
    )


if __name__ == "__main__":
    main()
