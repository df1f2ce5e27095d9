"""Outcome metric pages: import with preview (HR), the stored list, and the dashboard panel."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pulse.extensions import db
from pulse.org.models import Role, Team
from pulse.results import gate, metrics, report
from pulse.results.models import OutcomeMetric
from tests.conftest import login
from tests.factories import NOW, make_person, make_staff, make_team

HEADER = "team,metric,period_start,period_end,value\n"
GOOD = HEADER + "Acme/Eng/Platform,absence_days,2027-01-01,2027-01-31,16\n"


def _stored() -> int:
    return int(db.session.scalar(select(func.count()).select_from(OutcomeMetric)) or 0)


@pytest.fixture
def org(app: Flask) -> dict[str, Team]:
    teams = {
        "acme": make_team("Acme"),
        "eng": make_team("Acme/Eng"),
        "platform": make_team("Acme/Eng/Platform"),
        "tiny": make_team("Acme/Eng/Tiny"),
        "sales": make_team("Acme/Sales"),
    }
    for name, size in (("platform", 8), ("tiny", 3), ("sales", 7)):
        for _ in range(size):
            make_person(team=teams[name])
    db.session.commit()
    return teams


def _as(client: FlaskClient, role: Role, manages: list[Team] | None = None) -> None:
    person = make_staff(role, manages=manages, team=None)  # outside the teams counted here
    db.session.commit()
    login(client, person.email)


def _upload(client: FlaskClient, text: str) -> object:
    data = {"file": (io.BytesIO(text.encode()), "figures.csv")}
    return client.post("/results/metrics/import", data=data, content_type="multipart/form-data")


# --- Permissions --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, org: dict[str, Team]) -> None:
    for method, url in [
        ("get", "/results/metrics"),
        ("get", "/results/metrics/import"),
        ("post", "/results/metrics/import"),
        ("post", "/results/metrics/import/" + "a" * 32 + "/apply"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.LEADER, Role.MANAGER])
def test_only_hr_may_import_or_list(client: FlaskClient, org: dict[str, Team], role: Role) -> None:
    _as(client, role, manages=[org["eng"]] if role is Role.MANAGER else None)
    assert client.get("/results/metrics").status_code == 403
    assert client.get("/results/metrics/import").status_code == 403
    assert _upload(client, GOOD).status_code == 403  # type: ignore[attr-defined]
    assert client.post("/results/metrics/import/" + "a" * 32 + "/apply").status_code == 403
    assert _stored() == 0


# --- Import flow --------------------------------------------------------------------------------


def test_hr_previews_then_applies(client: FlaskClient, org: dict[str, Team]) -> None:
    _as(client, Role.HR)
    assert client.get("/results/metrics/import").status_code == 200
    response = _upload(client, GOOD)
    assert response.status_code == 302  # type: ignore[attr-defined]
    preview_url = response.headers["Location"]  # type: ignore[attr-defined]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Nothing has been saved yet" in page and _stored() == 0
    token = re.search(r"/results/metrics/import/([A-Za-z0-9_-]{32})/apply", page)
    assert token is not None
    response = client.post(f"/results/metrics/import/{token.group(1)}/apply")
    assert response.status_code == 302 and response.headers["Location"].endswith("/results/metrics")
    assert _stored() == 1
    listing = client.get("/results/metrics").get_data(as_text=True)
    assert "Absence days" in listing and "Acme/Eng/Platform" in listing
    # The token is spent: applying again is refused without writing.
    again = client.post(f"/results/metrics/import/{token.group(1)}/apply")
    assert again.status_code == 302 and _stored() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"team,metric\n",
        (HEADER + 'Acme/Sales,"leavers,2027-01-01,2027-01-31,1\n').encode(),
        (HEADER + "Acme/Sales,leavers,2027-01-01,2027-01-31,-1\n").encode(),
    ],
)
def test_bad_files_are_explained_never_a_500(
    client: FlaskClient, org: dict[str, Team], body: bytes
) -> None:
    _as(client, Role.HR)
    data = {"file": (io.BytesIO(body), "figures.csv")}
    response = client.post("/results/metrics/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert _stored() == 0


def test_upload_without_a_file_is_explained(client: FlaskClient, org: dict[str, Team]) -> None:
    _as(client, Role.HR)
    response = client.post("/results/metrics/import", data={})
    assert response.status_code == 400
    assert "Choose a CSV file" in response.get_data(as_text=True)


def test_unknown_preview_token_redirects(client: FlaskClient, org: dict[str, Team]) -> None:
    _as(client, Role.HR)
    response = client.get("/results/metrics/import?token=../../etc/passwd")
    assert response.status_code == 302
    assert client.get("/results/metrics?metric=nope&page=-3").status_code == 200


# --- Dashboard panel ----------------------------------------------------------------------------


def _figure(team: Team, metric: str, start: date, value: float) -> None:
    db.session.add(
        OutcomeMetric(
            team_id=team.id,
            metric=metric,
            period_start=start,
            period_end=start.replace(day=28),
            value=value,
            imported_at=NOW,
        )
    )


def test_panel_shows_per_person_figures_for_a_large_group(
    client: FlaskClient, org: dict[str, Team]
) -> None:
    _figure(org["sales"], "absence_days", date(2027, 1, 1), 14)
    _figure(org["sales"], "absence_days", date(2027, 2, 1), 7)
    db.session.commit()
    _as(client, Role.HR)
    page = client.get(f"/results/teams/{org['sales'].id}").get_data(as_text=True)
    panel = page[page.index('id="outcomes-heading"') :]
    cells = [
        re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", panel, re.S)
    ]
    assert cells[0][0] == "1"  # 7 days for 7 people, the latest period
    assert cells[1][0] == "2"  # 14 days for 7 people, the period before
    assert "per person" in panel
    assert "(better)" in page


def test_small_team_figure_is_hidden_with_a_reason(
    client: FlaskClient, org: dict[str, Team]
) -> None:
    _figure(org["tiny"], "leavers", date(2027, 1, 1), 2)
    db.session.commit()
    _as(client, Role.HR)
    page = client.get(f"/results/teams/{org['tiny'].id}").get_data(as_text=True)
    assert metrics.SMALL_GROUP in page
    assert "Leavers" not in page


def test_complementary_suppression_hides_the_sibling_that_would_give_tiny_away(
    app: Flask, org: dict[str, Team]
) -> None:
    # Eng (11 people) minus Platform (8) would reveal Tiny (3): Platform's figures are hidden.
    tree = {t.id: t.parent_id for t in org.values()}
    groups = report.family(tree, report.Viewer(tuple(gate.roots(tree)), whole_org=True))
    forest = gate.prepare(tree, groups)
    counts = metrics.active_head_counts()
    figure = metrics.Figure(org["platform"].id, "leavers", date(2027, 1, 1), date(2027, 1, 31), 1)
    panel = metrics.outcome_panel(
        forest, org["platform"].id, frozenset({org["platform"].id}), counts, [figure]
    )
    assert not panel.visible and panel.reason == metrics.SUBTRACTION
    eng = gate.subtree(tree, org["eng"].id)
    shown = metrics.outcome_panel(forest, org["eng"].id, eng, counts, [figure])
    assert shown.visible and shown.head_count == 11


def test_empty_panel_links_hr_to_the_import(client: FlaskClient, org: dict[str, Team]) -> None:
    _as(client, Role.HR)
    page = client.get(f"/results/teams/{org['eng'].id}").get_data(as_text=True)
    assert "No business figures have been imported" in page
    assert "/results/metrics/import" in page


def test_managers_see_no_import_link(client: FlaskClient, org: dict[str, Team]) -> None:
    _as(client, Role.MANAGER, manages=[org["eng"]])
    page = client.get(f"/results/teams/{org['eng'].id}").get_data(as_text=True)
    assert "No business figures have been imported" in page
    assert "/results/metrics/import" not in page


def test_mean_metrics_average_and_are_not_per_person() -> None:
    sat = metrics.METRICS["customer_satisfaction"]
    figures = [
        metrics.Figure(1, sat.key, date(2027, 1, 1), date(2027, 1, 31), 4.0),
        metrics.Figure(2, sat.key, date(2027, 1, 1), date(2027, 1, 31), 5.0),
    ]
    (line,) = metrics.outcome_lines(figures, head_count=20)
    assert line.latest.total == 4.5 and line.latest.per_person is None
    assert line.latest.teams == 2 and line.previous is None
