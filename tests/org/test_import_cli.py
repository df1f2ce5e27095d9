"""`flask pulse import-people`: preview, confirmation, errors with line numbers, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org import cli as org_cli
from pulse.org.models import Person, Team
from tests.factories import make_person

CSV = """email,name,team,manager_email
grace@example.com,Grace Hopper,Acme/Engineering,
ada@example.com,Ada Lovelace,Acme/Engineering/Platform,grace@example.com
alan@example.com,Alan Turing,Acme/Engineering/Platform,ada@example.com
"""


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def invoke(runner: FlaskCliRunner, *args: str, input: str | None = None) -> Result:
    return runner.invoke(args=["pulse", "import-people", *args], input=input)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_yes_imports_and_prints_a_summary(runner: FlaskCliRunner, people_csv: Path) -> None:
    result = invoke(runner, str(people_csv), "--yes")
    assert result.exit_code == 0, result.output
    assert "people.csv: 3 people checked." in result.stdout
    assert "new:                    3" in result.stdout
    assert "Acme/Engineering/Platform" in result.stdout
    assert "Imported: 3 new, 0 changed, 0 reactivated, 0 deactivated, 3 new teams." in result.stdout
    assert count(Person) == 3
    assert count(Team) == 3
    event = db.session.scalar(select(AuditEvent))
    assert event is not None and event.actor_id is None and event.action == "directory.import"


def test_errors_go_to_stderr_with_line_numbers_and_nothing_is_written(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV + "bad-email,Bob,Acme,\ncy@example.com,Cy,Acme,nobody@example.com\n")
    result = invoke(runner, str(path), "--yes")
    assert result.exit_code == 1
    assert "line 5: \u201cbad-email\u201d is not a valid email address" in result.stderr
    assert "line 6: the line manager nobody@example.com is not in this file" in result.stderr
    assert "Nothing was imported: 2 problems found." in result.stderr
    assert "Imported" not in result.stdout
    assert count(Person) == 0
    assert count(Team) == 0


def test_dry_run_only_shows_the_changes(runner: FlaskCliRunner, people_csv: Path) -> None:
    result = invoke(runner, str(people_csv), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "new:                    3" in result.stdout
    assert "Dry run: nothing was changed." in result.stdout
    assert count(Person) == 0


def test_without_yes_or_a_terminal_it_refuses(runner: FlaskCliRunner, people_csv: Path) -> None:
    result = invoke(runner, str(people_csv))
    assert result.exit_code == 1
    assert "Not applied: there is no terminal to confirm on" in result.stderr
    assert count(Person) == 0


def test_asks_before_applying(
    runner: FlaskCliRunner, people_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(org_cli, "stdin_is_interactive", lambda: True)

    declined = invoke(runner, str(people_csv), input="n\n")
    assert declined.exit_code == 1
    assert "Apply these changes?" in declined.stdout
    assert "Cancelled: nothing was changed." in declined.stdout
    assert count(Person) == 0

    accepted = invoke(runner, str(people_csv), input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Imported: 3 new" in accepted.stdout
    assert count(Person) == 3


def test_directory_changed_while_asking_is_checked_again(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    boss = make_person(email="boss@example.com")
    db.session.commit()
    path = tmp_path / "people.csv"
    path.write_text("email,name,team,manager_email\nnew@example.com,New,Acme,boss@example.com\n")

    def answer_after_the_boss_leaves(*args: object, **kwargs: object) -> bool:
        boss.active = False  # someone deactivates the manager while the prompt is shown
        db.session.commit()
        return True

    monkeypatch.setattr(org_cli, "stdin_is_interactive", lambda: True)
    monkeypatch.setattr(org_cli.click, "confirm", answer_after_the_boss_leaves)
    result = invoke(runner, str(path))
    assert result.exit_code == 1
    assert "line 2: the line manager boss@example.com" in result.stderr
    assert count(Person) == 1


def test_reimport_reports_nothing_to_change(runner: FlaskCliRunner, people_csv: Path) -> None:
    invoke(runner, str(people_csv), "--yes")
    result = invoke(runner, str(people_csv), "--yes")
    assert result.exit_code == 0, result.output
    assert "Nothing to change: the directory already matches the file." in result.stdout
    assert count(AuditEvent) == 1


def test_deactivate_missing(runner: FlaskCliRunner, people_csv: Path) -> None:
    make_person(email="left@example.com", name="Left Early")
    db.session.commit()

    kept = invoke(runner, str(people_csv), "--yes")
    assert "1 active people are not in the file and stay active" in kept.stdout

    result = invoke(runner, str(people_csv), "--yes", "--deactivate-missing")
    assert result.exit_code == 0, result.output
    assert "left@example.com (Left Early)" in result.stdout
    left = db.session.scalar(select(Person).where(Person.email == "left@example.com"))
    assert left is not None and not left.active


def test_progress_bars_for_big_files(
    runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(org_cli, "PROGRESS_FROM_ROWS", 10)
    path = tmp_path / "big.csv"
    rows = "".join(f"p{i}@example.com,Person {i},Acme/Team {i % 7}\n" for i in range(1200))
    path.write_text("email,name,team\n" + rows)
    result = invoke(runner, str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert "Checking rows" in result.stderr
    assert "Writing" in result.stderr
    assert "  ... and 1,180 more" in result.stdout
    assert count(Person) == 1200


def test_file_over_the_upload_limit(app: Flask, runner: FlaskCliRunner, people_csv: Path) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    result = invoke(runner, str(people_csv), "--yes")
    assert result.exit_code == 1
    assert "line 1: the file is larger than the upload limit of 100 bytes" in result.stderr
    assert count(Person) == 0


def test_missing_file_is_a_usage_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = invoke(runner, str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
