"""Link tokens never reach the logs: werkzeug's and gunicorn's access logs are redacted."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pulse.core.logging import REDACTED, RedactTokens, redact

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gFepAP0w3CtI1nrncSQhcYdGdICZ8MCraAbFRosGJjA"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET /p/{TOKEN} HTTP/1.1" 303 -', f'"GET /p/{REDACTED} HTTP/1.1" 303 -'),
        (f"GET /p/{TOKEN}?utm=mail HTTP/1.1", f"GET /p/{REDACTED}?utm=mail HTTP/1.1"),
        (f"GET /set-password/{TOKEN}.abc HTTP/1.1", f"GET /set-password/{REDACTED} HTTP/1.1"),
        (f"GET /login?next=%2Fp%2F{TOKEN} HTTP/1.1", f"GET /login?next=%2Fp%2F{REDACTED} HTTP/1.1"),
        (f"Exception on /p/{TOKEN} [GET]", f"Exception on /p/{REDACTED} [GET]"),
        ("POST /reminders/stop/MQ.x-y_z HTTP/1.1", f"POST /reminders/stop/{REDACTED} HTTP/1.1"),
        ("GET /you-said-we-did/7-AbC_d HTTP/1.1", f"GET /you-said-we-did/{REDACTED} HTTP/1.1"),
        ("GET /answer HTTP/1.1", "GET /answer HTTP/1.1"),
        ("GET /static/pulse.css HTTP/1.1", "GET /static/pulse.css HTTP/1.1"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_filter_formats_then_redacts_and_keeps_the_line() -> None:
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s %s',
        ("127.0.0.1", "now", f"GET /p/{TOKEN} HTTP/1.1", "303", "-"), None,
    )  # fmt: skip
    assert RedactTokens().filter(record) is True
    assert TOKEN not in record.getMessage() and "/p/[redacted]" in record.getMessage()


def test_development_server_access_log_has_no_token(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in (f"/p/{TOKEN}", f"/set-password/{TOKEN}"):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/p/[redacted]" in line for line in access), access
    assert any("/set-password/[redacted]" in line for line in access), access
    assert not any(TOKEN in r.getMessage() for r in caplog.records)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_gunicorn_access_log_has_no_token(tmp_path: Path) -> None:
    """gunicorn with the repository's gunicorn.conf.py, as production runs it."""
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "PULSE_ENV": "testing",
        "PULSE_INSTANCE_PATH": str(tmp_path / "instance"),
        "PULSE_DATABASE_URL": f"sqlite:///{tmp_path / 'pulse.db'}",
    }
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--access-logfile", str(access_log), "wsgi:app",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        status = _get_when_ready(port, f"/p/{TOKEN}", referer=f"https://x.example/p/{TOKEN}")
        assert status == 303
        deadline = time.monotonic() + 10
        while "/p/" not in _read(access_log) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    log = _read(access_log)
    assert f"GET /p/{REDACTED} HTTP/1.1" in log, log
    assert TOKEN not in log
    assert TOKEN not in stderr.decode()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _get_when_ready(port: int, path: str, *, referer: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Referer": referer})
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
