"""Benchmark: answering a pulse over HTTP, against gunicorn serving the real app.

Run from the project root:

    .venv/bin/python bench/submit_throughput.py                       # SQLite, 2,000 answers
    .venv/bin/python bench/submit_throughput.py --clients 16 --count 1000
    .venv/bin/python bench/submit_throughput.py --postgres postgresql+psycopg:///pulse_bench

It creates a fresh database (a SQLite file under a temporary folder, or every table dropped and
created again in the PostgreSQL database given), seeds one open Core pulse with --count
invitations, and starts gunicorn (--workers, default 2, sync workers) on a free 127.0.0.1 port
with the production configuration. Then --clients threads each walk the real answer flow for one
invitation after another, with the standard library's http.client:

    GET /p/<token>   -> 303 to /answer, session cookie set
    GET /answer      -> 200, the form and its CSRF token
    POST /answer     -> 303 to /thanks (answers to all ten questions, one comment in three)

and it reports completed submissions per second, the p50/p95/max latency of the POST alone and
of the whole three-request flow, and the machine it ran on. Finally it checks in the database
that every accepted submission is there exactly once. Only loopback is used; the run is bounded
by --count and by --max-seconds. Not part of the test suite: no timing is ever asserted.

The answer endpoint's per-IP rate limit stays on (every request here comes from 127.0.0.1), set
high enough never to trigger, so its cost is part of the figures.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (throwaway)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- The app, as gunicorn's workers build it --------------------------------------------------


def wsgi_app() -> Any:
    """gunicorn's entry point (`submit_throughput:wsgi_app()`): the production app, with the
    database and instance folder of this run from the environment."""
    from pulse import create_app

    return create_app(
        {
            # Every request comes from 127.0.0.1: keep the limiter working, never limiting.
            "ANSWER_RATE_LIMIT": "1000000 per minute",
            "RATELIMIT_ENABLED": True,
        },
        environ=os.environ,
    )


def _environment(database_url: str, folder: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PULSE_ENV": "production",
            "PULSE_SECRET_KEY": SECRET_KEY,
            "PULSE_DATABASE_URL": database_url,
            "PULSE_INSTANCE_PATH": str(folder / "instance"),
            "PULSE_OUTBOX_DIR": str(folder / "outbox"),
            "PULSE_BASE_URL": f"http://127.0.0.1:{port}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
        }
    )
    return env


# --- Seeding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    tokens: list[str]
    fields: list[tuple[str, str]]  # (field name, scale) of each question, in order


def seed(database_url: str, folder: Path, port: int, count: int) -> Seeded:
    """A fresh schema, a team of `count` people and one open Core pulse inviting them."""
    os.environ.update(_environment(database_url, folder, port))
    from sqlalchemy import insert, select

    from pulse.db import utcnow
    from pulse.extensions import db
    from pulse.org.models import Person, Role
    from pulse.org.services import ensure_team_path
    from pulse.surveys import services
    from pulse.surveys.models import Invitation

    app = wsgi_app()
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.create_all()
        now = utcnow()
        team = ensure_team_path(["Bench", "Everyone"], now=now)
        db.session.flush()
        db.session.execute(
            insert(Person),
            [
                {
                    "email": f"person{i}@bench.example",
                    "name": f"Person {i}",
                    "team_id": team.id,
                    "role": Role.EMPLOYEE,
                    "active": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        pulse = services.create_pulse(
            title="Benchmark pulse", set_ref="builtin:core", teams=[team], now=now, actor=None
        )
        services.open_pulse(
            pulse, now=now, secret_key=SECRET_KEY, actor=None, closes_at=now + timedelta(days=1)
        )
        db.session.commit()
        invitations = db.session.scalars(
            select(Invitation).where(Invitation.pulse_id == pulse.id).order_by(Invitation.id)
        ).all()
        tokens = [services.invitation_token(inv, SECRET_KEY) for inv in invitations]
        fields = [(f"q{q.id}", q.scale) for q in pulse.questions]
        db.session.remove()
        db.engine.dispose()
    return Seeded(tokens, fields)


def count_stored(database_url: str) -> tuple[int, int, int]:
    """(responses, answered invitations, tallied responses) as stored, after settling answers
    into the invitations as `flask pulse tick` does."""
    from sqlalchemy import func, select

    from pulse.extensions import db
    from pulse.surveys import services
    from pulse.surveys.models import Invitation, Pulse, Response, ResponseTally

    app = wsgi_app()
    with app.app_context():
        for pulse in db.session.scalars(select(Pulse)).all():
            services.settle_answers(pulse)
        db.session.commit()
        result = (
            db.session.scalar(select(func.count()).select_from(Response)) or 0,
            db.session.scalar(
                select(func.count()).select_from(Invitation).where(Invitation.answered.is_(True))
            )
            or 0,
            db.session.scalar(select(func.coalesce(func.sum(ResponseTally.count), 0))) or 0,
        )
        db.session.remove()
        db.engine.dispose()
    return result


# --- The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(
    database_url: str, folder: Path, port: int, workers: int, threads: int
) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "submit_throughput:wsgi_app()",
    ]
    server = subprocess.Popen(  # gunicorn.conf.py (token-redacting logs) is read from ROOT
        command, cwd=ROOT, env=_environment(database_url, folder, port)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/protection")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not answer within 30 s")


# --- The clients --------------------------------------------------------------------------------


class Browser:
    """One respondent: a cookie jar and a connection to the server (reopened when closed)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        headers = {"User-Agent": "pulse-bench/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        response.text = response.read().decode()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()  # http.client reconnects on the next request
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response


def answers(fields: list[tuple[str, str]], rng: random.Random) -> dict[str, str]:
    bounds = {"agree5": (1, 5), "freq5": (1, 5), "score11": (0, 10), "hours": (0, 100)}
    form = {}
    for name, scale in fields:
        if scale == "text":
            if rng.random() < 1 / 3:
                form[name] = "More time to focus, fewer status meetings."
        else:
            form[name] = str(rng.randint(*bounds[scale]))
    return form


@dataclass
class Results:
    post_seconds: list[float] = field(default_factory=list)
    flow_seconds: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def answer_one(port: int, token: str, fields: list[tuple[str, str]], results: Results) -> None:
    rng = random.Random(token)
    browser = Browser(port)
    started = time.perf_counter()
    try:
        link = browser.request("GET", f"/p/{token}")
        if link.status != 303:
            raise RuntimeError(f"link {link.status}")
        form_page = browser.request("GET", urlsplit(link.getheader("Location")).path)
        match = CSRF_RE.search(form_page.text)
        if form_page.status != 200 or match is None:
            raise RuntimeError(f"form {form_page.status}")
        form = {"csrf_token": match.group(1), **answers(fields, rng)}
        posted = time.perf_counter()
        sent = browser.request("POST", "/answer", form)
        done = time.perf_counter()
        outcome = "accepted" if sent.status == 303 else f"POST {sent.status}"
    except (OSError, RuntimeError, http.client.HTTPException) as exc:
        outcome, posted, done = f"error: {exc}", started, time.perf_counter()
    finally:
        browser.conn.close()
    with results.lock:
        results.outcomes[outcome] += 1
        if outcome == "accepted":
            results.post_seconds.append(done - posted)
            results.flow_seconds.append(done - started)


def drive(port: int, seeded: Seeded, clients: int, max_seconds: float) -> tuple[Results, float]:
    results = Results()
    deadline = time.monotonic() + max_seconds
    tokens = iter(seeded.tokens)
    tokens_lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < deadline:
            with tokens_lock:
                token = next(tokens, None)
            if token is None:
                return
            answer_one(port, token, seeded.fields, results)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    return results, time.perf_counter() - started


# --- Reporting ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {platform.platform()}; load average before: {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="invitations to answer")
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL database")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as tmp:
        folder = Path(tmp)
        database_url = args.postgres or f"sqlite:///{folder / 'bench.db'}"
        port = free_port()
        t = time.perf_counter()
        seeded = seed(database_url, folder, port, args.count)
        print(f"seeded {len(seeded.tokens)} invitations in {time.perf_counter() - t:.1f} s")
        server = start_gunicorn(database_url, folder, port, args.workers, args.threads)
        try:
            results, elapsed = drive(port, seeded, args.clients, args.max_seconds)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        stored = count_stored(database_url)

    accepted = results.outcomes["accepted"]
    backend = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    print(
        f"\n{started_at}: {backend}; gunicorn {args.workers} workers x {args.threads} threads; "
        f"{args.clients} client threads"
    )
    print(f"outcomes: {dict(results.outcomes)}")
    print(f"submissions: {accepted} in {elapsed:.1f} s = {accepted / elapsed:.1f} per second")
    for name, values in (
        ("POST /answer", results.post_seconds),
        ("whole flow", results.flow_seconds),
    ):
        print(
            f"{name:>13}: p50 {percentile(values, 50) * 1000:.0f} ms, "
            f"p95 {percentile(values, 95) * 1000:.0f} ms, "
            f"max {max(values, default=float('nan')) * 1000:.0f} ms"
        )
    responses, answered, tallied = stored
    print(f"stored: {responses} responses, {answered} answered invitations, {tallied} tallied")
    if not (responses == answered == tallied == accepted):
        print("MISMATCH between accepted submissions and what was stored", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
