"""The directory import against a real database: all or nothing, idempotent, bulk writes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org import services
from pulse.org.importer import ImportPlan
from pulse.org.models import Person, Role, Team, team_managers
from tests.factories import NOW, make_person, make_staff, make_team

pytestmark = pytest.mark.usefixtures("app")

FULL_HEADER = "email,name,team,role,manages,manager_email"
DIRECTORY = f"""{FULL_HEADER}
grace@example.com,Grace Hopper,Acme/Engineering,,Acme/Engineering,
ada@example.com,Ada Lovelace,Acme/Engineering/Platform,,,grace@example.com
alan@example.com,Alan Turing,Acme/Engineering/Platform,employee,,ada@example.com
mary@example.com,Mary Jackson,Acme/Sales,leader,,
"""


def run(
    text: str | bytes,
    *,
    deactivate_missing: bool = False,
    actor: Person | None = None,
    max_rows: int = 1000,
) -> ImportPlan:
    data = text.encode() if isinstance(text, str) else text
    return services.import_directory(
        data, deactivate_missing=deactivate_missing, actor=actor, now=NOW, max_rows=max_rows
    )


def count(table: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(table)) or 0


def person(email: str) -> Person:
    found = db.session.scalar(select(Person).where(Person.email == email))
    assert found is not None, email
    return found


def team_names(p: Person) -> list[str]:
    return sorted(t.name for t in p.managed_teams)


def database_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the directory tables (and the audit log), to compare before and after."""
    return {
        "person": [tuple(r) for r in db.session.execute(select(Person.__table__)).all()],
        "team": [tuple(r) for r in db.session.execute(select(Team.__table__)).all()],
        "team_manager": [tuple(r) for r in db.session.execute(select(team_managers)).all()],
        "audit": [tuple(r) for r in db.session.execute(select(AuditEvent.__table__)).all()],
    }


def assert_rejected(text: str | bytes, line: int, fragment: str, **options: Any) -> None:
    """The file is refused with an error on `line`, and not a single row is written."""
    people, teams = count(Person), count(Team)
    plan = run(text, **options)
    db.session.commit()  # even a commit after the refusal has nothing to write
    found = [str(e) for e in plan.errors]
    assert any(e.line == line and fragment in e.message for e in plan.errors), found
    assert all(m.startswith("line ") for m in found)
    assert count(Person) == people
    assert count(Team) == teams
    assert count(AuditEvent) == 0


# --- Bad files: nothing is written and the error names the line -----------------------------------


def test_bad_email_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,\nada.example.com,Ada,Acme,,,\n",
        3,
        "is not a valid email address",
    )


def test_duplicate_email_in_other_case_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,\nbob@example.com,Bob,Acme,,,\n"
        "Ada@EXAMPLE.com,Ada again,Acme,,,\n",
        4,
        "already appears on line 2",
    )


def test_unknown_manager_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,\nbob@example.com,Bob,Acme,,,nobody@example.com\n",
        3,
        "the line manager nobody@example.com is not in this file",
    )


def test_inactive_manager_outside_the_file_is_refused() -> None:
    make_person(email="left@example.com", active=False)
    db.session.commit()
    assert_rejected(
        f"{FULL_HEADER}\nbob@example.com,Bob,Acme,,,left@example.com\n",
        2,
        "not an active person in the directory",
    )


def test_team_cycle_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme/Eng,,,\nbob@example.com,Bob,Acme/Eng/acme,,,\n",
        3,
        "would put a team inside itself",
    )


def test_team_cycle_in_manages_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,Acme/Ops/Acme,\n",
        2,
        "manages: the team path \u201cAcme/Ops/Acme\u201d would put a team inside itself",
    )


def test_manager_cycle_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,bob@example.com\n"
        "cy@example.com,Cy,Acme,,,\nbob@example.com,Bob,Acme,,,ada@example.com\n",
        2,
        "line managers form a loop: ada@example.com \u2192 bob@example.com \u2192 "
        "ada@example.com (lines 2, 4)",
    )


def test_own_line_manager_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,ADA@example.com\n",
        2,
        "is named as their own line manager",
    )


def test_nul_byte_is_refused() -> None:
    assert_rejected(
        f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,\nbob@example.com,B\x00b,Acme,,,\n",
        3,
        "NUL byte",
    )


def test_unbalanced_quote_is_refused() -> None:
    assert_rejected(
        f'{FULL_HEADER}\nada@example.com,Ada,Acme,,,\nbob@example.com,"Bob,Acme,,,\n'
        "cy@example.com,Cy,Acme,,,\n",
        3,
        "unbalanced quote",
    )


def test_missing_column_is_refused() -> None:
    assert_rejected("email,name,role\nada@example.com,Ada,employee\n", 1, "missing the column team")


def test_empty_file_is_refused() -> None:
    assert_rejected(b"", 1, "the file is empty")


def test_header_only_file_is_refused() -> None:
    assert_rejected(f"{FULL_HEADER}\n", 1, "no people below it")


def test_file_with_too_many_rows_is_refused() -> None:
    rows = "".join(f"p{i}@example.com,P{i},Acme,,,\n" for i in range(4))
    assert_rejected(f"{FULL_HEADER}\n{rows}", 5, "more than 3 people", max_rows=3)


def test_non_utf8_file_is_refused() -> None:
    data = f"{FULL_HEADER}\nada@example.com,Ada,Acme,,,\n".encode() + (
        "jose@example.com,Jos\xe9,Acme,,,\n".encode("cp1252")
    )
    assert_rejected(data, 3, "not UTF-8")


def test_one_bad_row_among_good_ones_writes_nothing() -> None:
    assert_rejected(DIRECTORY + "broken@,Broken,Acme,,,\n", 6, "is not a valid email address")


def test_every_error_is_reported_at_once() -> None:
    plan = run(
        f"{FULL_HEADER}\nbad,Ada,Acme,,,\nbob@example.com,,Acme,,,\n"
        "cy@example.com,Cy,Acme//X,,,\ndee@example.com,Dee,Acme,,,nobody@example.com\n"
    )
    assert [e.line for e in plan.errors] == [2, 3, 4, 5]
    assert count(Person) == 0


def test_bom_is_accepted() -> None:
    plan = run(b"\xef\xbb\xbf" + DIRECTORY.encode())
    assert plan.errors == []
    assert count(Person) == 4


# --- Applying -------------------------------------------------------------------------------------


def test_import_creates_people_teams_managers_and_one_audit_event() -> None:
    plan = run(DIRECTORY)
    db.session.commit()
    assert plan.errors == []
    assert str(plan.counts) == "4 new, 0 changed, 0 reactivated, 0 deactivated, 4 new teams"

    teams = {t.name: t for t in db.session.scalars(select(Team))}
    assert set(teams) == {"Acme", "Engineering", "Platform", "Sales"}
    acme, eng, platform = teams["Acme"], teams["Engineering"], teams["Platform"]
    assert (acme.parent_id, acme.depth, acme.path) == (None, 0, f"/{acme.id}/")
    assert (eng.parent_id, eng.depth, eng.path) == (acme.id, 1, f"/{acme.id}/{eng.id}/")
    assert platform.path == f"/{acme.id}/{eng.id}/{platform.id}/"
    assert platform.depth == 2

    grace, ada, alan, mary = (person(f"{n}@example.com") for n in ("grace", "ada", "alan", "mary"))
    assert (grace.role, grace.team, grace.line_manager) == (Role.MANAGER, eng, None)
    assert team_names(grace) == ["Engineering"]
    assert (ada.role, ada.team, ada.line_manager) == (Role.EMPLOYEE, platform, grace)
    assert alan.line_manager == ada
    assert mary.role is Role.LEADER
    assert all(p.active and p.session_version == 1 and p.created_at == NOW for p in (ada, mary))
    assert mary.password_hash is None

    [event] = db.session.scalars(select(AuditEvent)).all()
    assert event.action == "directory.import"
    assert event.detail == {
        "new": 4,
        "changed": 0,
        "reactivated": 0,
        "deactivated": 0,
        "teams_created": 4,
        "rows": 4,
        "deactivate_missing": False,
    }


def test_reimporting_the_same_file_changes_nothing() -> None:
    run(DIRECTORY, deactivate_missing=True)
    db.session.commit()
    before = database_state()

    plan = run(DIRECTORY, deactivate_missing=True)
    db.session.commit()

    assert plan.errors == []
    assert not plan.has_changes
    assert plan.unchanged == 4
    assert database_state() == before  # no writes, and no audit noise


def test_existing_teams_match_whatever_the_case_and_spacing() -> None:
    eng = make_team("Acme/Engineering")
    db.session.commit()
    plan = run(f"{FULL_HEADER}\nada@example.com,Ada,  acme / ENGINEERING ,,,\n")
    db.session.commit()
    assert plan.teams_to_create == []
    assert person("ada@example.com").team_id == eng.id
    assert count(Team) == 2


def test_new_teams_under_existing_ones_get_full_paths() -> None:
    eng = make_team("Acme/Engineering")
    db.session.commit()
    run(f"{FULL_HEADER}\nada@example.com,Ada,Acme/Engineering/Platform/Data,,,\n")
    db.session.commit()
    data = db.session.scalar(select(Team).where(Team.name == "Data"))
    assert data is not None and data.parent is not None
    platform = data.parent
    assert platform.parent_id == eng.id
    assert platform.path == f"{eng.path}{platform.id}/"
    assert data.path == f"{platform.path}{data.id}/"
    assert data.depth == 3


def test_changed_name_team_and_role_are_detected_and_applied() -> None:
    run(DIRECTORY)
    db.session.commit()
    before = person("alan@example.com").session_version
    changed = DIRECTORY.replace(
        "alan@example.com,Alan Turing,Acme/Engineering/Platform,employee",
        "alan@example.com,Alan M. Turing,Acme/Sales,manager",
    )
    plan = run(changed)
    db.session.commit()

    [update] = plan.changed
    assert [(c.field, c.old, c.new) for c in update.changes] == [
        ("name", "Alan Turing", "Alan M. Turing"),
        ("team", "Acme/Engineering/Platform", "Acme/Sales"),
        ("role", "employee", "manager"),
    ]
    alan = person("alan@example.com")
    assert (alan.name, alan.team.name if alan.team else None, alan.role) == (
        "Alan M. Turing",
        "Sales",
        Role.MANAGER,
    )
    assert alan.session_version == before + 1  # a new role ends old sessions
    assert person("ada@example.com").session_version == 1
    assert count(AuditEvent) == 2


def test_absent_optional_columns_keep_roles_managers_and_managed_teams() -> None:
    run(DIRECTORY)
    db.session.commit()
    plan = run(
        "email,name,team\ngrace@example.com,Grace Hopper,Acme/Engineering\n"
        "ada@example.com,Ada Lovelace,Acme/Engineering/Platform\n"
    )
    db.session.commit()
    assert not plan.has_changes
    grace = person("grace@example.com")
    assert grace.role is Role.MANAGER
    assert team_names(grace) == ["Engineering"]
    assert person("ada@example.com").line_manager == grace


def test_manages_column_replaces_managed_teams() -> None:
    run(DIRECTORY)
    db.session.commit()
    plan = run(
        DIRECTORY.replace(",Acme/Engineering,\n", ",Acme/Sales;Acme/Engineering/Platform,\n", 1)
    )
    db.session.commit()
    assert [u.row.email for u in plan.changed] == ["grace@example.com"]
    assert team_names(person("grace@example.com")) == ["Platform", "Sales"]


def test_blank_manager_email_clears_the_line_manager() -> None:
    run(DIRECTORY)
    db.session.commit()
    run(DIRECTORY.replace("Platform,,,grace@example.com", "Platform,,,"))
    db.session.commit()
    assert person("ada@example.com").line_manager_id is None


def test_new_person_can_report_to_someone_already_in_the_directory() -> None:
    boss = make_person(email="boss@example.com", name="Boss")
    db.session.commit()
    run(f"{FULL_HEADER}\nnew@example.com,New,Acme,,,boss@example.com\n")
    db.session.commit()
    assert person("new@example.com").line_manager_id == boss.id


def test_people_missing_from_the_file_stay_unless_hr_asks() -> None:
    hr = make_staff(Role.HR, email="hr@example.com")
    left = make_person(email="left@example.com", name="Left Early")
    db.session.commit()

    plan = run(DIRECTORY, actor=hr)
    db.session.commit()
    assert plan.deactivated == []
    assert plan.missing == 1
    assert person("left@example.com").active

    plan = run(DIRECTORY, actor=hr, deactivate_missing=True)
    db.session.commit()
    assert [(d.email, d.name) for d in plan.deactivated] == [("left@example.com", "Left Early")]
    left = person("left@example.com")
    assert not left.active
    assert left.deactivated_at == NOW
    assert left.session_version == 2
    assert person("hr@example.com").active  # the person importing is never deactivated


def test_person_in_the_file_who_was_deactivated_comes_back() -> None:
    make_person(email="ada@example.com", name="Ada Lovelace", active=False)
    db.session.commit()
    plan = run(f"{FULL_HEADER}\nada@example.com,Ada Lovelace,Acme,,,\n")
    db.session.commit()
    [back] = plan.reactivated
    assert [(c.field, c.old, c.new) for c in back.changes] == [("status", "deactivated", "active")]
    assert plan.changed == []
    ada = person("ada@example.com")
    assert ada.active
    assert ada.deactivated_at is None


def test_names_with_markup_are_stored_verbatim() -> None:
    name = '<script>alert(1)</script> "><img src=x onerror=alert(1)> {{7*7}}'
    quoted = name.replace('"', '""')
    run(f'{FULL_HEADER}\nada@example.com,"{quoted}",Acme &amp; <b>Co,,,\n')
    db.session.commit()
    assert person("ada@example.com").name == name
    assert db.session.scalar(select(Team.name)) == "Acme &amp; <b>Co"


def test_apply_import_refuses_a_plan_with_errors() -> None:
    plan = services.preview_import(
        b"email,name,team\nbad,Bad,Acme\n", deactivate_missing=False, actor=None, max_rows=10
    )
    with pytest.raises(services.ImportInvalid) as caught:
        services.apply_import(plan, now=NOW, actor=None)
    assert [e.line for e in caught.value.errors] == [2]
    assert count(Person) == 0


def test_plan_is_checked_against_the_directory_when_applied(app: Flask) -> None:
    boss = make_person(email="boss@example.com")
    db.session.commit()
    text = f"{FULL_HEADER}\nnew@example.com,New,Acme,,,boss@example.com\n"
    assert run_preview(text).errors == []

    services.deactivate_person(boss, now=NOW, actor=None)  # meanwhile, the manager leaves
    db.session.commit()

    plan = run(text)
    assert [e.line for e in plan.errors] == [2]
    assert count(Person) == 1


def run_preview(text: str) -> ImportPlan:
    plan = services.preview_import(
        text.encode(), deactivate_missing=False, actor=None, max_rows=100
    )
    db.session.rollback()
    return plan


@pytest.mark.postgres
def test_import_round_trip_on_postgresql(pg_app: Flask) -> None:
    """The bulk statements (executemany, id look-ups, IN lists) behave the same on PostgreSQL."""
    hr = make_staff(Role.HR, email="hr@example.com", team="Acme/People")
    make_person(email="left@example.com")
    db.session.commit()

    plan = run(DIRECTORY, actor=hr, deactivate_missing=True)
    db.session.commit()
    assert str(plan.counts) == "4 new, 0 changed, 0 reactivated, 1 deactivated, 3 new teams"
    assert person("ada@example.com").line_manager == person("grace@example.com")
    assert team_names(person("grace@example.com")) == ["Engineering"]
    platform = person("ada@example.com").team
    assert platform is not None and platform.path.count("/") == 4

    before = database_state()
    assert not run(DIRECTORY, actor=hr, deactivate_missing=True).has_changes
    db.session.commit()
    assert database_state() == before

    changed = DIRECTORY.replace("Alan Turing,Acme/Engineering/Platform,employee", "Alan,Acme/X,")
    plan = run(changed, actor=hr)
    db.session.commit()
    assert [u.fields for u in plan.changed] == [frozenset({"name", "team"})]
    assert person("alan@example.com").team.name == "X"  # type: ignore[union-attr]
