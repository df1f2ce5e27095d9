"""Browser tests: a live Pulse per test, Debian's Chromium driven by Playwright, axe on every page.

Every page a browser test visits is checked with axe; serious and critical accessibility
violations fail the test. A failing test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from pulse.extensions import db
from tests.conftest import build_app
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
E2E_DIR = Path(__file__).resolve().parent

_axe = Axe()
_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    # Keep each phase's report on the test, so the page fixture knows whether to take a screenshot.
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


# --- The application under test ------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Flask

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Pulse on a fresh SQLite file, served on a free loopback port with real CSRF checks.

    Seed data with the factories inside `with live_server.app.app_context():` and commit.
    """
    app = build_app(
        f"sqlite:///{tmp_path / 'e2e.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True
    )
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pulse-e2e", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


# --- The browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: run make test, which installs Debian's chromium"
        if os.environ.get("PULSE_REQUIRE_POSTGRES") == "1":  # set by make test: never skip there
            pytest.fail(message)
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def _open_page(
    browser: Browser, request: pytest.FixtureRequest, **context_options: Any
) -> Iterator[Page]:
    context = browser.new_context(**context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        reports = request.node.stash.get(_reports, {})
        if any(report.failed for report in reports.values()):
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the real failure
                print(f"could not save a screenshot: {exc}")
        context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A desktop-sized page in a fresh browser context (no cookies shared between tests)."""
    yield from _open_page(browser, request, viewport=DESKTOP)


@pytest.fixture
def phone_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A phone-sized, touch page in a fresh browser context."""
    yield from _open_page(
        browser, request, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )


# --- Helpers for the tests -----------------------------------------------------------------------


def axe_check(page: Page) -> None:
    """Fail listing every serious or critical accessibility violation on the current page."""
    page.wait_for_load_state("load")
    violations = _axe.run(page).response["violations"]
    bad = [v for v in violations if v.get("impact") in {"serious", "critical"}]
    if not bad:
        return
    lines = [f"axe: {len(bad)} serious or critical violation(s) on {page.url}"]
    for violation in bad:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(str(part) for part in node['target'])}")
    pytest.fail("\n".join(lines), pytrace=False)


def visit(page: Page, url: str) -> None:
    """Open a URL, check it answered, and run axe on it."""
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    axe_check(page)


def sign_in(page: Page, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form as a person would, and check the landing page with axe."""
    visit(page, server.at("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, "sign-in failed: still on the login page"
    axe_check(page)
