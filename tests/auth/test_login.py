"""Signing in: identical failures, who may sign in, safe redirects, sessions, rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pulse.auth import passwords
from pulse.auth.routes import LOGIN_FAILED, safe_next
from pulse.extensions import db
from pulse.org.models import Person, Role
from tests.conftest import build_app, login
from tests.factories import PASSWORD, make_person, make_staff


def _post_login(client: FlaskClient, email: str, password: str, **extra: str) -> str:
    response = client.post("/login", data={"email": email, "password": password, **extra})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_staff_signs_in_and_last_login_is_recorded(app: Flask, client: FlaskClient) -> None:
    hr = make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    response = client.post("/login", data={"email": " HR@Example.com ", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    db.session.expire_all()
    person = db.session.get(Person, hr.id)
    assert person is not None and person.last_login_at is not None


def test_wrong_password_and_unknown_email_give_the_same_page(
    app: Flask, client: FlaskClient
) -> None:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    wrong_password = _post_login(client, "hr@example.com", "not the password at all")
    unknown_email = _post_login(client, "nobody@example.com", "not the password at all")
    assert LOGIN_FAILED in wrong_password
    assert LOGIN_FAILED in unknown_email
    # Apart from the echoed email, the two pages are byte for byte the same.
    assert wrong_password.replace("hr@example.com", "X") == unknown_email.replace(
        "nobody@example.com", "X"
    )


def test_unknown_email_still_costs_one_hash(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    real = passwords.verify_password

    def counting(stored: str | None, password: str, method: str) -> bool:
        calls.append(stored)
        return real(stored, password, method)

    monkeypatch.setattr(passwords, "verify_password", counting)
    _post_login(client, "nobody@example.com", "whatever password")
    assert calls == [None]


@pytest.mark.parametrize(
    "kind",
    ["employee", "deactivated", "no_password", "deactivated_employee"],
)
def test_people_who_may_not_sign_in_see_the_same_message(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    if kind == "employee":
        make_person(email="x@example.com", password=PASSWORD)
    elif kind == "deactivated":
        make_staff(Role.MANAGER, email="x@example.com", active=False)
    elif kind == "no_password":
        make_person(email="x@example.com", role=Role.LEADER)
    else:
        make_person(email="x@example.com", password=PASSWORD, active=False)
    db.session.commit()
    page = _post_login(client, "x@example.com", PASSWORD)
    assert LOGIN_FAILED in page
    assert client.get("/").status_code == 302


def test_signed_in_session_is_permanent_and_fresh(app: Flask, client: FlaskClient) -> None:
    make_staff(Role.LEADER, email="leader@example.com")
    db.session.commit()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker before sign-in"
    login(client, "leader@example.com")
    with client.session_transaction() as sess:
        assert sess.permanent
        assert "planted" not in sess
        assert sess["_user_id"].endswith(":1")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None and cookie.expires is not None
    assert cookie.http_only


def test_names_with_markup_render_escaped(app: Flask, client: FlaskClient) -> None:
    make_staff(Role.LEADER, email="leader@example.com", name='<script>alert(1)</script>"><img>')
    db.session.commit()
    login(client, "leader@example.com")
    page = client.get("/account/password").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Safe `next` ---------------------------------------------------------------------------------

REDIRECT_VECTORS = [
    "//evil.example",
    "/\\evil",
    "https:evil",
    "javascript:alert(1)",
    "\\\\evil",
    "%2F%2Fevil.example",
    "/%5Cevil",
    "/%2F/evil.example",
    "http://evil.example",
    " //evil",
    "/\t/evil",
    "/\\t/evil",
    "/\n/evil",
    "https://evil.example/directory",
]


@pytest.mark.parametrize("target", REDIRECT_VECTORS)
def test_safe_next_refuses_redirect_vectors(target: str) -> None:
    assert safe_next(target) is None


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/directory?x=1") == "/directory?x=1"
    assert safe_next("/directory/people?q=a%20b") == "/directory/people?q=a%20b"
    assert safe_next("") is None
    assert safe_next(None) is None


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme in {"", "http"}
        and parts.netloc in {"", "localhost"}
        and location.startswith("/")
        and not location.startswith("//")
    )


@pytest.mark.parametrize("target", REDIRECT_VECTORS)
def test_login_never_redirects_off_site(app: Flask, client: FlaskClient, target: str) -> None:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    # Through the hidden form field, as a crafted page would post it ...
    response = client.post(
        "/login", data={"email": "hr@example.com", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert _is_local(response.headers["Location"]), response.headers["Location"]
    assert response.headers["Location"] == "/"
    # ... and through the query string of an already signed-in visit.
    response = client.get(f"/login?next={quote(target, safe='')}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_keeps_a_local_next(app: Flask, client: FlaskClient) -> None:
    make_staff(Role.HR, email="hr@example.com")
    db.session.commit()
    form = client.get("/login?next=%2Fdirectory%3Fx%3D1").get_data(as_text=True)
    assert 'value="/directory?x=1"' in form
    response = client.post(
        "/login", data={"email": "hr@example.com", "password": PASSWORD, "next": "/directory?x=1"}
    )
    assert response.headers["Location"] == "/directory?x=1"


# Rate limits ---------------------------------------------------------------------------------


@pytest.fixture
def limited_app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(
        f"sqlite:///{tmp_path / 'limited.db'}",
        tmp_path / "instance",
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT_IP="4 per minute",
        LOGIN_RATE_LIMIT_ACCOUNT="2 per minute",
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = passwords.verify_password

    def counting(stored: str | None, password: str, method: str) -> bool:
        calls.append(password)
        return real(stored, password, method)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return calls


def _attempt(client: FlaskClient, email: str, ip: str) -> int:
    response = client.post(
        "/login",
        data={"email": email, "password": "a wrong password"},
        environ_base={"REMOTE_ADDR": ip},
    )
    return response.status_code


def test_rate_limit_per_account_stops_before_hashing(
    limited_app: Flask, hash_calls: list[str]
) -> None:
    client = limited_app.test_client()
    assert _attempt(client, "target@example.com", "10.0.0.1") == 200
    assert _attempt(client, "Target@Example.com ", "10.0.0.2") == 200
    # Third try on the same account from yet another address: refused, and nothing hashed.
    response = client.post(
        "/login",
        data={"email": "TARGET@example.com", "password": "x"},
        environ_base={"REMOTE_ADDR": "10.0.0.3"},
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers
    assert len(hash_calls) == 2
    # Another account from the same addresses is unaffected.
    assert _attempt(client, "other@example.com", "10.0.0.3") == 200


def test_rate_limit_per_ip_stops_before_hashing(limited_app: Flask, hash_calls: list[str]) -> None:
    client = limited_app.test_client()
    for n in range(4):
        assert _attempt(client, f"user{n}@example.com", "10.0.0.9") == 200
    assert _attempt(client, "fresh@example.com", "10.0.0.9") == 429
    assert len(hash_calls) == 4
    assert _attempt(client, "fresh@example.com", "10.0.0.10") == 200


def test_rate_limit_applies_to_posts_only(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for _ in range(8):
        assert client.get("/login").status_code == 200


def test_change_password_is_rate_limited_per_account(
    limited_app: Flask, hash_calls: list[str]
) -> None:
    make_staff(Role.LEADER, email="l@example.com")
    db.session.commit()
    client = limited_app.test_client()
    login(client, "l@example.com")
    data = {
        "current_password": "a guess",
        "new_password": "x" * 12 + "yz",
        "confirm": "x" * 12 + "yz",
    }
    assert client.post("/account/password", data=data).status_code == 200
    assert client.post("/account/password", data=data).status_code == 200
    before = len(hash_calls)
    assert client.post("/account/password", data=data).status_code == 429
    assert len(hash_calls) == before
