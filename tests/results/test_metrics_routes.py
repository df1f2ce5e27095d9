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
from pulse.results import gate, metrics, metrics_routes, report
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


# --- The stored list ----------------------------------------------------------------------------


def _three_leaver_figures(org: dict[str, Team]) -> None:
    for month in (1, 2, 3):
        _figure(org["sales"], "leavers", date(2027, month, 1), month)
    db.session.commit()


def test_a_page_past_the_end_of_the_list_shows_the_last_page(
    client: FlaskClient, org: dict[str, Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_routes, "PER_PAGE", 2)
    _three_leaver_figures(org)
    _as(client, Role.HR)
    for page in ("2", "3", "99999", "9" * 20):
        response = client.get(f"/results/metrics?metric=leavers&page={page}")
        assert response.status_code == 200, page
        text = response.get_data(as_text=True)
        # Newest period first, so the last page holds January alone.
        assert "2027-01-01 to 2027-01-28" in text and "2027-03-01" not in text, page
        assert "Showing 3–3 of 3" in text


def test_the_list_uses_the_shared_pager_and_keeps_the_filter(
    client: FlaskClient, org: dict[str, Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_routes, "PER_PAGE", 2)
    _three_leaver_figures(org)
    _as(client, Role.HR)
    text = client.get("/results/metrics?metric=leavers").get_data(as_text=True)
    assert '<a aria-current="page" href="/results/metrics?page=1&amp;metric=leavers">1</a>' in text
    assert 'href="/results/metrics?page=2&amp;metric=leavers" rel="next"' in text


def test_a_metric_filter_that_matches_nothing_offers_to_clear_it(
    client: FlaskClient, org: dict[str, Team]
) -> None:
    _three_leaver_figures(org)
    _as(client, Role.HR)
    text = client.get("/results/metrics?metric=output").get_data(as_text=True)
    assert "No outcome figures match these filters" in text
    assert "No outcome figures yet" not in text
    assert '<a href="/results/metrics">Clear the filters' in text
    everything = client.get("/results/metrics").get_data(as_text=True)
    assert "No outcome figures" not in everything


def test_without_figures_the_list_invites_an_import(
    client: FlaskClient, org: dict[str, Team]
) -> None:
    _as(client, Role.HR)
    text = client.get("/results/metrics?page=4").get_data(as_text=True)
    assert "No outcome figures yet" in text


def test_the_pages_state_the_group_size_the_gate_uses(
    client: FlaskClient, org: dict[str, Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "OUTCOME_K", 7)
    _as(client, Role.HR)
    assert "at least 7 active people" in client.get("/results/metrics").get_data(as_text=True)
    upload = client.get("/results/metrics/import").get_data(as_text=True)
    assert "at least 7 active people" in upload


def test_hr_finds_outcome_figures_in_the_navigation(
    client: FlaskClient, org: dict[str, Team]
) -> None:
    _as(client, Role.HR)
    assert ">Outcome figures</a>" in client.get("/results/").get_data(as_text=True)


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
    # Platform (8) and Tiny (3) both report leavers: Eng's figure covers 11 people, and Eng
    # minus Platform would reveal Tiny's, so Platform's figure is hidden.
    tree = {t.id: t.parent_id for t in org.values()}
    groups = report.family(tree, report.Viewer(tuple(gate.roots(tree)), whole_org=True))
    forest = gate.prepare(tree, groups)
    counts = metrics.active_head_counts()
    jan = (date(2027, 1, 1), date(2027, 1, 31))
    figures = [
        metrics.Figure(org["platform"].id, "leavers", *jan, 1),
        metrics.Figure(org["tiny"].id, "leavers", *jan, 2),
    ]
    panel = metrics.outcome_panel(
        forest, org["platform"].id, frozenset({org["platform"].id}), counts, figures
    )
    assert not panel.visible and panel.reason == metrics.SUBTRACTION
    eng = gate.subtree(tree, org["eng"].id)
    shown = metrics.outcome_panel(forest, org["eng"].id, eng, counts, figures)
    (line,) = shown.lines
    assert line.latest.total == 3 and line.latest.head_count == 11


def test_a_figure_counts_only_the_people_of_the_teams_that_reported_it(
    app: Flask, org: dict[str, Team]
) -> None:
    # Only Platform reported: Eng's figure is Platform's alone, over Platform's 8 people, and
    # Tiny (no figure) gives nothing away, so both are shown.
    tree = {t.id: t.parent_id for t in org.values()}
    groups = report.family(tree, report.Viewer(tuple(gate.roots(tree)), whole_org=True))
    forest = gate.prepare(tree, groups)
    counts = metrics.active_head_counts()
    figure = metrics.Figure(org["platform"].id, "leavers", date(2027, 1, 1), date(2027, 1, 31), 4)
    eng = gate.subtree(tree, org["eng"].id)
    (line,) = metrics.outcome_panel(forest, org["eng"].id, eng, counts, [figure]).lines
    assert line.latest.head_count == 8 and line.latest.per_person == 0.5


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


def test_mean_metrics_average_and_are_not_per_person(app: Flask, org: dict[str, Team]) -> None:
    sat = metrics.METRICS["customer_satisfaction"]
    tree = {t.id: t.parent_id for t in org.values()}
    groups = report.family(tree, report.Viewer(tuple(gate.roots(tree)), whole_org=True))
    forest = gate.prepare(tree, groups)
    jan = (date(2027, 1, 1), date(2027, 1, 31))
    figures = [
        metrics.Figure(org["platform"].id, sat.key, *jan, 4.0),
        metrics.Figure(org["sales"].id, sat.key, *jan, 5.0),
    ]
    root = gate.roots(tree)[0]
    panel = metrics.outcome_panel(
        forest, root, gate.subtree(tree, root), metrics.active_head_counts(), figures
    )
    (line,) = panel.lines
    assert line.latest.total == 4.5 and line.latest.per_person is None
    assert line.latest.teams == 2 and line.previous is None
