"""HR's import pages: upload, preview, apply; who may use them; stale and changed uploads."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org import services
from pulse.org.models import Person, Role, Team
from tests.conftest import build_app, login
from tests.factories import NOW, PASSWORD, make_person, make_staff

CSV = b"""email,name,team,role,manages,manager_email
grace@example.com,Grace Hopper,Acme/Engineering,,Acme/Engineering,
ada@example.com,Ada Lovelace,Acme/Engineering/Platform,,,grace@example.com
hr@example.com,Harriet Rowe,Acme/People,hr,,
"""
TOKEN_URL = re.compile(r"/directory/import/([A-Za-z0-9_-]{32})$")
UNKNOWN_TOKEN = "A" * 32


@pytest.fixture
def hr(app: Flask, client: FlaskClient) -> Person:
    person = make_staff(Role.HR, email="hr@example.com", name="Harriet Rowe", team="Acme/People")
    db.session.commit()
    login(client, "hr@example.com")
    return person


def upload(client: FlaskClient, data: bytes, *, deactivate_missing: bool = False) -> TestResponse:
    form: dict[str, object] = {"file": (io.BytesIO(data), "people.csv")}
    if deactivate_missing:
        form["deactivate_missing"] = "y"
    return client.post("/directory/import", data=form, content_type="multipart/form-data")


def uploaded_token(client: FlaskClient, data: bytes, **options: bool) -> str:
    response = upload(client, data, **options)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = TOKEN_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def count(model: type) -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def stored_files(app: Flask) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_upload_page_explains_the_file(client: FlaskClient, hr: Person) -> None:
    response = client.get("/directory/import")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "CSV file",
        "Deactivate people who are not in this file",
        "Preview import",
        "manager_email",
        "Acme/Engineering/Platform",
        'enctype="multipart/form-data"',
    ):
        assert text in html


def test_upload_preview_and_apply(app: Flask, client: FlaskClient, hr: Person) -> None:
    token = uploaded_token(client, CSV)
    [stored] = stored_files(app)
    assert stored.name == f"{token}.csv"
    assert stored.read_bytes() == CSV
    assert count(Person) == 1  # nothing imported yet

    preview = client.get(f"/directory/import/{token}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Ada Lovelace" in html
    assert "Grace Hopper" in html
    assert "Acme/Engineering/Platform" in html
    assert "Apply import" in html
    assert count(Person) == 1

    applied = client.post(f"/directory/import/{token}/apply")
    assert applied.status_code == 302
    assert applied.headers["Location"].endswith("/directory")
    assert count(Person) == 3
    assert count(Team) == 4
    assert stored_files(app) == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "directory.import"))
    assert event is not None and event.actor_id == hr.id

    page = client.get("/directory").get_data(as_text=True)
    assert "Imported: 2 new, 0 changed, 0 reactivated, 0 deactivated, 2 new teams." in page

    # The token is used up: applying again is refused politely and changes nothing.
    again = client.post(f"/directory/import/{token}/apply")
    assert again.status_code == 302
    assert again.headers["Location"].endswith("/directory/import")
    assert count(AuditEvent) == 1


def test_reimport_through_the_web_changes_nothing(client: FlaskClient, hr: Person) -> None:
    client.post(f"/directory/import/{uploaded_token(client, CSV)}/apply")
    token = uploaded_token(client, CSV)
    assert "applying it changes nothing" in client.get(f"/directory/import/{token}").get_data(
        as_text=True
    )
    client.post(f"/directory/import/{token}/apply")
    assert "Nothing to change" in client.get("/directory").get_data(as_text=True)
    assert count(AuditEvent) == 1


def test_upload_with_errors_lists_every_line_and_stores_nothing(
    app: Flask, client: FlaskClient, hr: Person
) -> None:
    bad = CSV + b"not-an-email,Bob,Acme,,,\ncy@example.com,Cy,Acme//X,,,\n"
    response = upload(client, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html
    assert "the file has 2 problems" in html
    assert "Line 5:</strong>" in html
    assert "Line 6:</strong>" in html
    assert stored_files(app) == []
    assert count(Person) == 1
    assert count(Team) == 2


def test_upload_without_a_file_is_refused(client: FlaskClient, hr: Person) -> None:
    response = client.post("/directory/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file to import." in response.get_data(as_text=True)


def test_too_many_rows_for_the_configured_limit(
    app: Flask, client: FlaskClient, hr: Person
) -> None:
    app.config["IMPORT_MAX_ROWS"] = 2
    response = upload(client, CSV)
    assert response.status_code == 400
    assert "Line 4:</strong> the file has more than 2 people" in response.get_data(as_text=True)
    assert count(Person) == 1
    assert stored_files(app) == []


def test_upload_over_the_size_limit_is_refused(app: Flask, client: FlaskClient, hr: Person) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    response = upload(client, CSV + b"x" * 3_000)
    assert response.status_code == 413
    assert count(Person) == 1
    assert stored_files(app) == []


def test_names_are_stored_verbatim_and_shown_escaped(client: FlaskClient, hr: Person) -> None:
    name = "<script>alert(1)</script> {{7*7}}"
    data = f"email,name,team\nx@example.com,{name},<img src=x onerror=alert(1)>\n".encode()
    token = uploaded_token(client, data)
    html = client.get(f"/directory/import/{token}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    client.post(f"/directory/import/{token}/apply")
    db.session.rollback()
    assert db.session.scalar(select(Person.name).where(Person.email == "x@example.com")) == name


def test_deactivation_is_listed_in_the_preview_only_when_asked(
    client: FlaskClient, hr: Person
) -> None:
    make_person(email="left@example.com", name="Left Early")
    db.session.commit()

    html = client.get(f"/directory/import/{uploaded_token(client, CSV)}").get_data(as_text=True)
    assert "Left Early" not in html
    assert "1 active person is not in this file and will stay active" in html

    token = uploaded_token(client, CSV, deactivate_missing=True)
    html = client.get(f"/directory/import/{token}").get_data(as_text=True)
    assert "Left Early" in html
    assert "left@example.com" in html
    client.post(f"/directory/import/{token}/apply")
    db.session.rollback()
    left = db.session.scalar(select(Person).where(Person.email == "left@example.com"))
    harriet = db.session.get(Person, hr.id)
    assert left is not None and not left.active
    assert harriet is not None and harriet.active


def test_changed_directory_makes_the_stored_file_invalid(client: FlaskClient, hr: Person) -> None:
    boss = make_person(email="boss@example.com", name="Boss")
    db.session.commit()
    data = b"email,name,team,manager_email\nnew@example.com,New,Acme,boss@example.com\n"
    token = uploaded_token(client, data)

    services.deactivate_person(boss, now=NOW, actor=None)  # meanwhile the manager leaves
    db.session.commit()

    preview = client.get(f"/directory/import/{token}").get_data(as_text=True)
    assert "Line 2:</strong> the line manager boss@example.com" in preview
    assert "Apply import" not in preview

    response = client.post(f"/directory/import/{token}/apply")
    assert response.status_code == 409
    assert "Line 2:</strong>" in response.get_data(as_text=True)
    assert count(Person) == 2
    assert count(AuditEvent) == 1  # only the deactivation


def test_unknown_token_sends_hr_back_to_upload(client: FlaskClient, hr: Person) -> None:
    for response in (
        client.get(f"/directory/import/{UNKNOWN_TOKEN}"),
        client.get("/directory/import/..pulse.db"),
        client.post(f"/directory/import/{UNKNOWN_TOKEN}/apply"),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/directory/import")
    page = client.get("/directory/import").get_data(as_text=True)
    assert "That import is no longer available" in page
    assert count(Person) == 1


def test_token_belongs_to_the_session_that_uploaded_it(
    app: Flask, client: FlaskClient, hr: Person
) -> None:
    token = uploaded_token(client, CSV)
    make_staff(Role.HR, email="hr2@example.com")
    db.session.commit()
    other = app.test_client()
    login(other, "hr2@example.com")
    assert other.get(f"/directory/import/{token}").status_code == 302
    assert other.post(f"/directory/import/{token}/apply").status_code == 302
    assert count(Person) == 2


def test_a_new_upload_replaces_the_previous_one(
    app: Flask, client: FlaskClient, hr: Person
) -> None:
    first = uploaded_token(client, CSV)
    second = uploaded_token(client, CSV)
    assert [p.name for p in stored_files(app)] == [f"{second}.csv"]
    assert client.get(f"/directory/import/{first}").status_code == 302


# --- Permissions ----------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/directory/import"),
    ("POST", "/directory/import"),
    ("GET", f"/directory/import/{UNKNOWN_TOKEN}"),
    ("POST", f"/directory/import/{UNKNOWN_TOKEN}/apply"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, method: str, url: str) -> None:
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LEADER])
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_other_staff_are_refused(
    app: Flask, client: FlaskClient, role: Role, method: str, url: str
) -> None:
    make_staff(role, email="staff@example.com")
    db.session.commit()
    login(client, "staff@example.com")
    response = client.open(
        url,
        method=method,
        data={"file": (io.BytesIO(CSV), "people.csv")} if method == "POST" else None,
        content_type="multipart/form-data" if method == "POST" else None,
    )
    assert response.status_code == 403
    assert count(Person) == 1
    assert stored_files(app) == []


def test_forms_need_a_csrf_token(tmp_path: Path) -> None:
    app = build_app(
        f"sqlite:///{tmp_path / 'csrf.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True
    )
    with app.app_context():
        db.create_all()
        make_staff(Role.HR, email="hr@example.com")
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert csrf is not None
        client.post(
            "/login",
            data={"email": "hr@example.com", "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        assert upload(client, CSV).status_code == 400
        assert client.post(f"/directory/import/{UNKNOWN_TOKEN}/apply").status_code == 400
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Person)) == 1
        db.session.remove()
        db.engine.dispose()
