"""Hostile input on the pilot, outcome-metric, action and reminder forms never gives a 500.

Each test sends malformed, missing, oversized, wrong-type and unicode values, as HR (and as a
manager where managers may use the form), and checks two things: the answer is a handled status
(never 500), and a refused request wrote nothing (no table gained or lost a row, and no row
of a table these forms update in place changed).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from pulse.actions.services import ActionFields, ActionLink, log_action
from pulse.db import utcnow
from pulse.extensions import db
from pulse.notify.mail import stop_reminders_token
from pulse.org.models import Person, Role, Team
from pulse.pilots.models import Phase, Pilot
from pulse.pilots.services import create_pilot
from pulse.surveys.services import create_pulse, open_pulse
from tests.conftest import login
from tests.factories import make_person, make_staff, make_team

# Hostile values: empty, blank, control characters, markup, SQL, very
# long, non-numeric, out-of-range numbers and dates, right-to-left and astral unicode.
GARBAGE = [
    "",
    "   ",
    "\x00",
    "\u202e\u0635\u0628\u0627\u062d",
    "\U0001f525" * 50,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 100_000,
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "0001-01-01",
    "9999-12-31",
    "2027-02-30",
    "2027-13-01T25:61",
]

# The most telling of GARBAGE, for loops over every field of a big form (keeps the file fast).
FEW = ["", "\x00", "\u202e\u0635\u0628\u0627\u062d", "x" * 100_000, "-1", "9" * 23, "2027-02-30"]

# Tables whose rows the forms under test update (rather than add or delete).
CHANGED_IN_PLACE = frozenset(
    {"pulse", "pilot", "pilot_pulse", "action", "action_update", "person", "outcome_metric"}
)


@dataclass
class World:
    team_a: Team
    team_a1: Team
    team_b: Team
    team_c: Team
    hr: Person
    manager: Person
    employee: Person
    pulse_id: int
    pilot_id: int
    baseline_id: int
    final_id: int
    action_id: int


def _world(*, full: bool = True) -> World:
    """Teams and staff; with `full`, also an open pulse, a scheduled pilot and an action."""
    team_a = make_team("Acme/A")
    team_a1 = make_team("Acme/A/A1")
    team_b = make_team("Acme/B")
    team_c = make_team("Acme/C")
    hr = make_staff(Role.HR, email="hr@example.com")
    manager = make_staff(Role.MANAGER, manages=[team_a], email="ma@example.com")
    employee = make_person(team=team_a1, email="employee@example.com")
    for _ in range(5):
        make_person(team=team_a1)
    if not full:
        db.session.commit()
        return World(team_a, team_a1, team_b, team_c, hr, manager, employee, 0, 0, 0, 0, 0)
    now = utcnow()
    pulse = create_pulse(
        title="Open pulse", set_ref="builtin:core", teams=[team_a], now=now, actor=None
    )
    open_pulse(
        pulse,
        now=now,
        secret_key=current_app.config["SECRET_KEY"],
        actor=None,
        closes_at=now + timedelta(days=7),
    )
    pilot = create_pilot(
        name="Review pilot",
        hypothesis="A four-day week lowers burnout.",
        starts_on=now.date() + timedelta(days=60),
        ends_on=now.date() + timedelta(days=120),
        pilot_teams=[team_a1],
        comparison_teams=[team_c],
        now=now,
        actor=None,
    )
    action = log_action(
        ActionLink(team=team_a1, pulse=pulse, dimension="burnout", source="dashboard"),
        ActionFields(title="Protect focus time", owner=manager),
        actor=manager,
        now=now,
    )
    db.session.commit()
    baseline = next(p for p in pilot.pulses if p.phase is Phase.BASELINE)
    final = next(p for p in pilot.pulses if p.phase is Phase.FINAL)
    return World(
        team_a,
        team_a1,
        team_b,
        team_c,
        hr,
        manager,
        employee,
        pulse.id,
        pilot.id,
        baseline.pulse_id,
        final.pulse_id,
        action.id,
    )


@pytest.fixture
def world(app: Flask) -> World:
    return _world()


@pytest.fixture
def lean(app: Flask) -> World:
    """The people and teams only, for pages that need no pulse, pilot or action (faster)."""
    return _world(full=False)


@pytest.fixture
def lean_hr(client: FlaskClient, lean: World) -> FlaskClient:
    login(client, lean.hr.email)
    return client


@pytest.fixture
def hr_client(client: FlaskClient, world: World) -> FlaskClient:
    login(client, world.hr.email)
    return client


@pytest.fixture
def manager_client(client: FlaskClient, world: World) -> FlaskClient:
    login(client, world.manager.email)
    return client


def _snapshot() -> dict[str, list[tuple[object, ...]]]:
    """Row counts of every table, and every row of the tables these forms change in place.

    Enough to prove a refused request wrote nothing, and cheap enough to take hundreds of times.
    """
    db.session.expire_all()
    tables = db.metadata.sorted_tables
    counts = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    rows: dict[str, list[tuple[object, ...]]] = {
        "counts": [tuple(db.session.execute(counts).one())]
    }
    for table in tables:
        if table.name in CHANGED_IN_PLACE:
            found = db.session.execute(table.select()).all()
            rows[table.name] = sorted((tuple(r) for r in found), key=repr)
    db.session.rollback()
    return rows


def _changed(before: dict[str, list[tuple[object, ...]]]) -> list[str]:
    after = _snapshot()
    return [name for name in before if before[name] != after[name]]


def _not_500(response: TestResponse, what: str) -> None:
    response.close()
    assert response.status_code < 500, f"{what} -> {response.status_code}"


def _refused(client: FlaskClient, cases: Iterable[tuple[str, str, dict[str, object]]]) -> None:
    """Each (method, url, data) must be refused without a 500 and without writing anything."""
    before = _snapshot()
    for method, url, data in cases:
        response = client.open(url, method=method, data=data)
        what = f"{method} {url} {_short(data)}"
        _not_500(response, what)
        changed = _changed(before)
        assert not changed, f"{what} wrote {changed}"


def _short(data: dict[str, object]) -> str:
    return repr({k: (v[:40] if isinstance(v, str) else v) for k, v in data.items()})


# --- Pilots: set-up ------------------------------------------------------------------------------


def _pilot_form(world: World, **overrides: object) -> dict[str, object]:
    start = utcnow().date() + timedelta(weeks=8)
    data: dict[str, object] = {
        "name": "Hybrid pilot",
        "hypothesis": "Two office days help.",
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(weeks=10)).isoformat(),
        "pilot_teams": [str(world.team_a1.id)],
        "comparison_teams": [str(world.team_b.id)],
        "question_set": "builtin:four_day_week",
        "baseline_pulses": "2",
        "cadence_weeks": "2",
        "open_days": "7",
        "timezone": "Europe/Berlin",
        "min_group": "5",
        "min_comment_group": "10",
    }
    data.update(overrides)
    return data


PILOT_FIELDS = [
    "name",
    "hypothesis",
    "starts_on",
    "ends_on",
    "pilot_teams",
    "comparison_teams",
    "question_set",
    "baseline_pulses",
    "cadence_weeks",
    "open_days",
    "timezone",
    "min_group",
    "min_comment_group",
]


def test_pilot_setup_refuses_garbage_in_every_field(hr_client: FlaskClient, world: World) -> None:
    cases = [("POST", "/pilots/new", {})]
    for name in PILOT_FIELDS:
        form = _pilot_form(world)
        del form[name]
        if name not in {"hypothesis", "comparison_teams", "cadence_weeks"}:  # optional or defaulted
            cases.append(("POST", "/pilots/new", form))
        for value in FEW:
            if (name == "hypothesis" and len(value) <= 2000) or (name == "name" and value.strip()):
                continue  # acceptable free text: checked below
            if name in {"starts_on", "ends_on"} and value in {"0001-01-01", "9999-12-31"}:
                continue  # far dates have their own tests below
            cases.append(("POST", "/pilots/new", _pilot_form(world, **{name: value})))
    cases += [
        ("POST", "/pilots/new", _pilot_form(world, pilot_teams=["abc", "999999"])),
        (
            "POST",
            "/pilots/new",
            _pilot_form(world, pilot_teams=[str(world.team_a.id), str(world.team_a1.id)]),
        ),  # nested teams
        (
            "POST",
            "/pilots/new",
            _pilot_form(world, comparison_teams=[str(world.team_a1.id)]),  # in both arms
        ),
        ("POST", "/pilots/new", _pilot_form(world, name="Review pilot")),  # duplicate name
        ("POST", "/pilots/new", _pilot_form(world, timezone="../../etc/passwd")),
        ("POST", "/pilots/new", _pilot_form(world, timezone="Mars/Olympus_Mons")),
        ("POST", "/pilots/new", _pilot_form(world, min_group="10", min_comment_group="5")),
    ]
    _refused(hr_client, cases)


def test_pilot_setup_accepts_unicode_name(hr_client: FlaskClient, world: World) -> None:
    name = "Vier\u2011Tage\u2011Woche \U0001f525 \u0635\u0628\u0627\u062d"
    response = hr_client.post("/pilots/new", data=_pilot_form(world, name=name))
    assert response.status_code == 302
    assert db.session.query(Pilot).filter_by(name=name).count() == 1


def test_pilot_setup_refuses_a_start_in_year_one(hr_client: FlaskClient, world: World) -> None:
    """Baselines come weeks before the start: date arithmetic before year 1 must not 500."""
    _refused(
        hr_client,
        [("POST", "/pilots/new", _pilot_form(world, starts_on="0001-01-05"))],
    )


def test_pilot_setup_refuses_an_end_in_year_9999(hr_client: FlaskClient, world: World) -> None:
    """The last pulse would close after 9999-12-31: must be a message, not an OverflowError."""
    _refused(
        hr_client,
        [
            (
                "POST",
                "/pilots/new",
                _pilot_form(world, starts_on="9999-11-01", ends_on="9999-12-31"),
            )
        ],
    )


def test_pilot_setup_is_forbidden_to_managers(manager_client: FlaskClient, world: World) -> None:
    _refused(manager_client, [("POST", "/pilots/new", _pilot_form(world))])


# --- Pilots: schedule edits ----------------------------------------------------------------------


def test_move_pulse_refuses_garbage(hr_client: FlaskClient, world: World) -> None:
    base = f"/pilots/{world.pilot_id}/pulses/{world.baseline_id}/move"
    cases: list[tuple[str, str, dict[str, object]]] = [("POST", base, {})]
    for value in [*GARBAGE, "2099-12-31T23:59", "1970-01-01T00:00", "9999-12-31T23:59"]:
        cases.append(("POST", base, {"opens_at": value}))
        cases.append(("POST", base, {"opens_at": "2099-01-01T09:00", "closes_at": value}))
    later = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    cases += [
        ("POST", base, {"opens_at": later, "closes_at": "2000-01-01T00:00"}),  # closes first
        ("POST", f"/pilots/{world.pilot_id}/pulses/{world.pulse_id}/move", {"opens_at": later}),
        ("POST", f"/pilots/{world.pilot_id}/pulses/999999/move", {"opens_at": later}),
        ("POST", f"/pilots/999999/pulses/{world.baseline_id}/move", {"opens_at": later}),
        ("POST", base, {"opens_at": [later, "garbage"]}),
    ]
    _refused(hr_client, cases)


def test_skip_pulse_refuses_what_it_must(hr_client: FlaskClient, world: World) -> None:
    pilot = f"/pilots/{world.pilot_id}/pulses"
    _refused(
        hr_client,
        [
            ("POST", f"{pilot}/{world.final_id}/skip", {}),  # the final pulse stays
            ("POST", f"{pilot}/{world.pulse_id}/skip", {}),  # not in this pilot
            ("POST", f"{pilot}/999999/skip", {}),
            ("POST", f"/pilots/999999/pulses/{world.baseline_id}/skip", {}),
        ],
    )


def test_add_pulse_refuses_garbage(hr_client: FlaskClient, world: World) -> None:
    url = f"/pilots/{world.pilot_id}/pulses"
    cases: list[tuple[str, str, dict[str, object]]] = [("POST", url, {})]
    for value in GARBAGE:
        if value in {"9999-12-31"}:
            continue  # its own test below
        cases.append(("POST", url, {"phase": "during", "day": value}))
        cases.append(("POST", url, {"phase": value, "day": "2099-01-01"}))
    cases += [
        ("POST", url, {"phase": "final", "day": "2099-01-01"}),  # a final exists already
        ("POST", url, {"phase": "baseline", "day": "2000-01-01"}),  # in the past
        ("POST", url, {"phase": ["during", "final"], "day": "2099-01-01"}),
        ("POST", "/pilots/999999/pulses", {"phase": "during", "day": "2099-01-01"}),
    ]
    _refused(hr_client, cases)


def test_add_pulse_refuses_a_day_in_year_9999(hr_client: FlaskClient, world: World) -> None:
    """A pulse on 9999-12-31 would close after the last representable day: a message, not 500."""
    url = f"/pilots/{world.pilot_id}/pulses"
    _refused(
        hr_client,
        [("POST", url, {"phase": phase, "day": "9999-12-31"}) for phase in ("baseline", "final")],
    )


def test_schedule_edits_are_forbidden_to_managers(
    manager_client: FlaskClient, world: World
) -> None:
    pulses = f"/pilots/{world.pilot_id}/pulses"
    later = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    _refused(
        manager_client,
        [
            ("POST", f"{pulses}/{world.baseline_id}/move", {"opens_at": later}),
            ("POST", f"{pulses}/{world.baseline_id}/skip", {}),
            ("POST", pulses, {"phase": "during", "day": "2099-01-01"}),
        ],
    )


# --- Pilots: report query arguments -------------------------------------------------------------


@pytest.mark.parametrize("who", ["hr", "manager"])
def test_pilot_report_ignores_garbage_arguments(
    client: FlaskClient, world: World, who: str
) -> None:
    login(client, world.hr.email if who == "hr" else world.manager.email)
    for args in [
        "dimension=garbage",
        "dimension=",
        "dimension=%00",
        "dimension=%3Cscript%3E",
        "dimension=burnout&dimension=trust",
        "dimension=" + "x" * 5000,
        "unit=abc&arm=-1&page=-1",
    ]:
        for path in ("report", "report.csv"):
            url = f"/pilots/{world.pilot_id}/{path}?{args}"
            _not_500(client.get(url), url)


# --- Outcome metrics ----------------------------------------------------------------------------

HEADER = b"team,metric,period_start,period_end,value\n"


def _upload(client: FlaskClient, content: bytes, filename: str = "figures.csv") -> TestResponse:
    data = {"file": (io.BytesIO(content), filename)}
    return client.post("/results/metrics/import", data=data, content_type="multipart/form-data")


BAD_FILES = {
    "empty": b"",
    "blank lines": b"\n\n \n",
    "binary garbage": bytes(range(256)) * 40,
    "nul bytes": HEADER + b"Acme/A,absence_days,2027-01-01,2027-01-31,1\x00\n",
    "latin-1": HEADER + "Acme/\xc4rger,absence_days,2027-01-01,2027-01-31,1\n".encode("latin-1"),
    "huge line": HEADER + b"Acme/A,absence_days,2027-01-01,2027-01-31," + b"9" * 300_000 + b"\n",
    "huge unquoted cell": b"x" * 200_000 + b"\n",
    "huge quoted cell": b'"' + b"x" * 200_000 + b'"\n',
    "wrong headers": b"name,when,amount\nAcme/A,2027-01,3\n",
    "header only": HEADER,
    "semicolons": b"team;metric;period_start;period_end;value\nAcme/A;absence_days;2027-01-01;"
    b"2027-01-31;1\n",
    "semicolons with BOM": b"\xef\xbb\xbfteam;metric;period_start;period_end;value\n",
    "open quote": HEADER + b'"Acme/A,absence_days,2027-01-01,2027-01-31,1\n',
    "too many cells": HEADER + b"Acme/A,absence_days,2027-01-01,2027-01-31,1,2,3\n",
    "unknown team": HEADER
    + "\u202eAcme/\U0001f525,absence_days,2027-01-01,2027-01-31,1\n".encode(),
    "unknown metric": HEADER + b"Acme/A,<script>,2027-01-01,2027-01-31,1\n",
    "bad dates": HEADER + b"Acme/A,absence_days,2027-02-30,0000-00-00,1\n",
    "end before start": HEADER + b"Acme/A,absence_days,2027-02-01,2027-01-01,1\n",
    "bad values": HEADER
    + b"Acme/A,absence_days,2027-01-01,2027-01-31,NaN\n"
    + b"Acme/A,leavers,2027-01-01,2027-01-31,1e309\n"
    + b"Acme/A,overtime_hours,2027-01-01,2027-01-31,-4\n"
    + b"Acme/A,output,2027-01-01,2027-01-31,1_000\n",
    "duplicate rows": HEADER
    + b"Acme/A,absence_days,2027-01-01,2027-01-31,1\n"
    + b"acme/a,Absence_Days,2027-01-01,2027-01-31,2\n",
    "one bad row among good": HEADER
    + b"Acme/A,absence_days,2027-01-01,2027-01-31,1\n"
    + b"Acme/A,absence_days,2027-02-01,2027-02-28,x\n",
}


def test_metrics_import_refuses_bad_files(lean_hr: FlaskClient, lean: World) -> None:
    before = _snapshot()
    for name, content in BAD_FILES.items():
        response = _upload(lean_hr, content)
        response.close()
        assert response.status_code == 400, f"{name} -> {response.status_code}"
        changed = _changed(before)
        assert not changed, f"{name} wrote {changed}"


def test_metrics_import_refuses_missing_or_wrong_type_file(
    lean_hr: FlaskClient, lean: World
) -> None:
    _refused(
        lean_hr,
        [
            ("POST", "/results/metrics/import", {}),
            ("POST", "/results/metrics/import", {"file": "not a file"}),
            ("POST", "/results/metrics/import", {"file": ""}),
        ],
    )
    response = _upload(lean_hr, b"", filename="")
    _not_500(response, "upload with no file name")


def test_metrics_import_accepts_bom_and_crlf(lean_hr: FlaskClient, lean: World) -> None:
    content = b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n")
    content += b"Acme/A,absence_days,2027-01-01,2027-01-31,3\r\n"
    response = _upload(lean_hr, content)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_metrics_import_apply_refuses_bad_tokens(lean_hr: FlaskClient, lean: World) -> None:
    cases: list[tuple[str, str, dict[str, object]]] = []
    tokens = ["A" * 32, "x", "A" * 31 + "%00", "..%2F..%2Fetc%2Fpasswd", "\u00e9" * 32, "A" * 5000]
    for token in tokens:
        cases.append(("POST", f"/results/metrics/import/{token}/apply", {}))
    _refused(lean_hr, cases)


def test_metrics_import_apply_of_another_sessions_token_writes_nothing(
    app: Flask, lean_hr: FlaskClient, lean: World
) -> None:
    good = HEADER + b"Acme/A,absence_days,2027-01-01,2027-01-31,3\n"
    response = _upload(lean_hr, good)
    assert response.status_code == 302
    token = response.headers["Location"].split("token=")[1]
    other = app.test_client()
    login(other, lean.hr.email)
    _refused(other, [("POST", f"/results/metrics/import/{token}/apply", {})])


def test_metrics_import_preview_ignores_garbage_tokens(lean_hr: FlaskClient, lean: World) -> None:
    for token in ["x", "A" * 32, "%00", "\u00e9" * 32, "../" * 20]:
        _not_500(lean_hr.get(f"/results/metrics/import?token={token}"), token)


def test_metrics_routes_are_forbidden_to_managers(client: FlaskClient, lean: World) -> None:
    login(client, lean.manager.email)
    _refused(
        client,
        [
            ("POST", "/results/metrics/import", {}),
            ("POST", "/results/metrics/import/" + "A" * 32 + "/apply", {}),
        ],
    )
    before = _snapshot()
    response = _upload(client, HEADER + b"Acme/A,absence_days,2027-01-01,2027-01-31,3\n")
    assert response.status_code == 403
    assert not _changed(before)


def test_metrics_list_ignores_garbage_arguments(lean_hr: FlaskClient, lean: World) -> None:
    for args in [
        "page=-1&metric=x",
        "page=0",
        "page=abc",
        "page=1.5",
        "page=99999",
        "metric=%00",
        "metric=" + "x" * 5000,
        "metric=absence_days&metric=leavers",
    ]:
        _not_500(lean_hr.get(f"/results/metrics?{args}"), args)


def test_metrics_list_survives_an_enormous_page_number(lean_hr: FlaskClient, lean: World) -> None:
    """page=10**20 makes an OFFSET larger than SQLite's 64-bit integer."""
    _not_500(lean_hr.get("/results/metrics?page=" + "9" * 20), "page=9...9")


# --- Actions ------------------------------------------------------------------------------------


def _action_form(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "team": str(world.team_a1.id),
        "title": "Quiet mornings",
        "description": "No meetings before ten.",
        "outcome": "",
        "pulse": str(world.pulse_id),
        "dimension": "burnout",
        "owner": str(world.manager.id),
        "due_on": (utcnow().date() + timedelta(days=30)).isoformat(),
        "status": "planned",
        "drop_reason": "",
        "visible": "y",
    }
    data.update(overrides)
    return data


ACTION_FIELDS = ["team", "title", "outcome", "pulse", "dimension", "owner", "due_on", "status"]


def _action_cases(world: World, url: str) -> list[tuple[str, str, dict[str, object]]]:
    cases: list[tuple[str, str, dict[str, object]]] = [("POST", url, {})]
    for name in ACTION_FIELDS:
        form = _action_form(world)
        del form[name]
        if name in {"team", "title", "owner"}:
            cases.append(("POST", url, form))
        for value in FEW:
            if name == "title" and value.strip() and len(value) <= 200:
                continue  # a usable title
            if name in {"outcome", "pulse", "dimension"} and value == "":
                continue  # "None" is a valid choice
            if name == "due_on" and value in {"", "   "}:
                continue  # the due date is optional
            cases.append(("POST", url, _action_form(world, **{name: value})))
    cases += [
        ("POST", url, _action_form(world, description="x" * 5001)),
        ("POST", url, _action_form(world, status="dropped", drop_reason="")),
        ("POST", url, _action_form(world, status="dropped", drop_reason="x" * 501)),
        ("POST", url, _action_form(world, due_on="1999-12-31")),
        ("POST", url, _action_form(world, due_on="2100-01-01")),
    ]
    return cases


def _manager_cases(world: World, url: str) -> list[tuple[str, str, dict[str, object]]]:
    """What differs for a manager: teams outside the subtree, the organisation, other owners."""
    return [
        ("POST", url, _action_form(world, team=str(world.team_b.id))),
        ("POST", url, _action_form(world, team="org")),
        ("POST", url, _action_form(world, team="999999")),
        ("POST", url, _action_form(world, owner=str(world.hr.id))),
        ("POST", url, _action_form(world, owner="999999")),
        ("POST", url, _action_form(world, pulse=str(world.baseline_id))),  # not opened
    ]


def test_new_action_refuses_garbage(hr_client: FlaskClient, world: World) -> None:
    _refused(hr_client, _action_cases(world, "/actions/new"))


def test_edit_action_refuses_garbage(hr_client: FlaskClient, world: World) -> None:
    _refused(hr_client, _action_cases(world, f"/actions/{world.action_id}/edit"))
    _refused(hr_client, [("POST", "/actions/999999/edit", _action_form(world))])


def test_manager_cannot_log_or_edit_outside_their_reach(
    manager_client: FlaskClient, world: World
) -> None:
    _refused(manager_client, _manager_cases(world, "/actions/new"))
    _refused(manager_client, _manager_cases(world, f"/actions/{world.action_id}/edit"))


def test_new_action_query_arguments_never_500(hr_client: FlaskClient, world: World) -> None:
    for args in [
        "team=abc&pulse=999999&dimension=%3Cscript%3E",
        "team=999999",
        "team=-1",
        "team=" + "9" * 30,
        "pulse=abc&outcome=%00&source=%3Cscript%3E",
        f"pulse={world.baseline_id}",  # not opened yet
        "pulse=" + "9" * 30,
        "dimension=" + "\U0001f525" * 100,
        "team=org&team=1",
    ]:
        _not_500(hr_client.get(f"/actions/new?{args}"), args)
        # The same garbage in the query string of a submitted form.
        _refused(hr_client, [("POST", f"/actions/new?{args}", {})])


def test_new_action_posted_to_a_url_with_bad_arguments_is_handled(
    hr_client: FlaskClient, world: World
) -> None:
    """The form posts back to its own URL, query string included; the form's values decide."""
    response = hr_client.post(
        "/actions/new?pulse=999999&dimension=garbage", data=_action_form(world)
    )
    _not_500(response, "valid form, bad query")


def test_add_update_refuses_garbage(client: FlaskClient, world: World) -> None:
    login(client, world.manager.email)
    url = f"/actions/{world.action_id}/update"
    cases: list[tuple[str, str, dict[str, object]]] = [("POST", url, {})]
    for value in GARBAGE:
        cases.append(("POST", url, {"status": value, "note": ""}))
        if not value.strip():
            cases.append(("POST", url, {"note": value}))
    cases += [
        ("POST", url, {"note": "x" * 5001}),
        ("POST", url, {"status": "planned"}),  # no change, no note
        ("POST", url, {"status": "dropped", "drop_reason": ""}),
        ("POST", url, {"status": "dropped", "drop_reason": "x" * 501}),
        ("POST", "/actions/999999/update", {"note": "x"}),
    ]
    _refused(client, cases)


def test_ask_in_pulse_refuses_what_it_must(hr_client: FlaskClient, world: World) -> None:
    _refused(
        hr_client,
        [
            ("POST", f"/actions/pulses/{world.pulse_id}/ask", {}),  # already open
            ("POST", "/actions/pulses/999999/ask", {}),
            ("POST", f"/actions/pulses/{world.pulse_id}/ask", {"junk": "\x00" * 1000}),
        ],
    )


def test_ask_in_pulse_is_forbidden_to_managers(manager_client: FlaskClient, world: World) -> None:
    _refused(manager_client, [("POST", f"/actions/pulses/{world.baseline_id}/ask", {})])


@pytest.mark.parametrize("who", ["hr", "manager"])
def test_action_list_ignores_garbage_filters(client: FlaskClient, world: World, who: str) -> None:
    login(client, world.hr.email if who == "hr" else world.manager.email)
    for args in [
        "status=garbage&dimension=%3Cscript%3E&outcome=%00&owner=abc&overdue=maybe",
        "team=abc",
        "team=-1",
        "team=999999",
        "team=" + "9" * 30,
        "owner=" + "9" * 30,
        "owner=-5",
        "page=-1",
        "page=0",
        "page=abc",
        "page=99999",
        "status=" + "\U0001f525" * 100,
        "team=org&team=1&status=done&status=planned",
    ]:
        for path in ("/actions", "/actions.csv"):
            _not_500(client.get(f"{path}?{args}"), f"{path}?{args}")


def test_action_list_survives_an_enormous_page_number(hr_client: FlaskClient, world: World) -> None:
    """page=10**20 makes an OFFSET larger than SQLite's 64-bit integer."""
    _not_500(hr_client.get("/actions?page=" + "9" * 20), "page=9...9")


# --- Stop reminders (public) --------------------------------------------------------------------


def test_stop_reminders_refuses_bad_tokens(client: FlaskClient, lean: World) -> None:
    good = stop_reminders_token(lean.employee.id, current_app.config["SECRET_KEY"])
    cases: list[tuple[str, str, dict[str, object]]] = []
    for token in [
        "x",
        "A" * 5000,
        "%00",
        "\u00e9\U0001f525",
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # tampered signature
        good.split(".")[0],  # no signature
        "e30.garbage",
    ]:
        cases.append(("POST", f"/reminders/stop/{token}", {}))
        _not_500(client.get(f"/reminders/stop/{token}"), token)
    _refused(client, cases)


def test_stop_reminders_for_a_removed_person_writes_nothing(app: Flask, lean: World) -> None:
    token = stop_reminders_token(10**9, current_app.config["SECRET_KEY"])
    _refused(app.test_client(), [("POST", f"/reminders/stop/{token}", {})])


def test_stop_reminders_ignores_posted_fields(client: FlaskClient, lean: World) -> None:
    token = stop_reminders_token(lean.employee.id, current_app.config["SECRET_KEY"])
    response = client.post(
        f"/reminders/stop/{token}", data={"person": "1", "no_reminders": "0", "x": "\x00" * 1000}
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Person, lean.employee.id).no_reminders is True  # type: ignore[union-attr]
