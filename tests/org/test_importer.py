"""The pure import core: parsing, row checks and planning, on plain data without a database."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from pulse.org.importer import (
    DirectorySnapshot,
    ExistingPerson,
    ExistingTeam,
    ImportPlan,
    _EmailChecker,
    capped,
    check_rows,
    parse_csv,
    plan_import,
    read_people_csv,
)
from pulse.org.models import Role

HEADER = "email,name,team"


def plan_of(
    text: str | bytes,
    snapshot: DirectorySnapshot | None = None,
    *,
    deactivate_missing: bool = False,
    protect_ids: tuple[int, ...] = (),
    max_rows: int = 1000,
) -> ImportPlan:
    data = text.encode() if isinstance(text, str) else text
    checked = read_people_csv(data, max_rows=max_rows)
    return plan_import(
        checked,
        snapshot or DirectorySnapshot(),
        deactivate_missing=deactivate_missing,
        protect_ids=protect_ids,
    )


def messages(plan: ImportPlan) -> list[str]:
    return [str(e) for e in plan.errors]


def snapshot_with(
    *people: ExistingPerson, teams: dict[str, int] | None = None
) -> DirectorySnapshot:
    snapshot = DirectorySnapshot()
    for label, team_id in (teams or {}).items():
        key = tuple(part.casefold() for part in label.split("/"))
        snapshot.teams[key] = ExistingTeam(team_id, f"/{team_id}/", label)
    for person in people:
        snapshot.people[person.email] = person
    return snapshot


def existing(
    person_id: int,
    email: str,
    name: str,
    team: str | None = "Acme",
    *,
    role: Role = Role.EMPLOYEE,
    active: bool = True,
    manager: str | None = None,
    manages: tuple[str, ...] = (),
) -> ExistingPerson:
    def key(path: str) -> tuple[str, ...]:
        return tuple(part.casefold() for part in path.split("/"))

    return ExistingPerson(
        id=person_id,
        email=email,
        name=name,
        team=key(team) if team else None,
        role=role,
        active=active,
        line_manager_email=manager,
        managed=frozenset(key(m) for m in manages),
    )


# --- Parsing --------------------------------------------------------------------------------------


def test_valid_file_gives_normalised_rows() -> None:
    plan = plan_of(f"{HEADER}\n  Ada@Example.COM , Ada Lovelace ,  Acme / Engineering  \n")
    assert plan.errors == []
    [new] = plan.new
    assert new.row.email == "ada@example.com"
    assert new.row.name == "Ada Lovelace"
    assert new.row.team == ("acme", "engineering")
    assert new.role is Role.EMPLOYEE
    assert [plan.label(k) for k in plan.teams_to_create] == ["Acme", "Acme/Engineering"]


def test_bom_and_header_spelling_are_accepted() -> None:
    data = "\ufeffEmail, NAME ,Team,Manager Email\r\nada@example.com,Ada,Acme,\r\n".encode()
    plan = plan_of(data)
    assert plan.errors == []
    assert "manager_email" in plan.columns


def test_unknown_columns_are_a_warning_not_an_error() -> None:
    plan = plan_of(f"{HEADER},department\nada@example.com,Ada,Acme,R&D\n")
    assert plan.errors == []
    assert [str(w) for w in plan.warnings] == [
        "line 1: ignoring columns Pulse does not use: \u201cdepartment\u201d"
    ]


def test_blank_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    plan = plan_of(f"{HEADER}\n\nada@example.com,Ada,Acme\n,,\n\nnot-an-email,Bob,Acme\n")
    assert messages(plan)[0].startswith("line 6: ")


def test_multi_line_record_is_reported_where_it_starts() -> None:
    text = f'{HEADER},notes\nada@example.com,Ada,Acme,"two\nlines"\nbad,Bob,Acme,\n'
    plan = plan_of(text)
    assert len(plan.new) == 1
    assert messages(plan) == [
        "line 4: \u201cbad\u201d is not a valid email address: "
        "An email address must have an @-sign."
    ]
    plan = plan_of(f'{HEADER}\nbad,"Bob\nBobby",Acme\n')
    assert all(m.startswith("line 2: ") for m in messages(plan))


def test_names_are_trimmed_and_inner_whitespace_collapsed() -> None:
    plan = plan_of(
        f'{HEADER}\nada@example.com,"  Ada\t\n Lovelace ",Acme\nb@example.com,B\x01,Acme\n'
    )
    assert plan.new[0].row.name == "Ada Lovelace"
    assert messages(plan) == ["line 4: the name contains a control character"]


def test_crlf_and_lone_cr_line_endings_count_as_lines() -> None:
    assert messages(plan_of(f"{HEADER}\r\nada@example.com,Ada,Acme\r\nx,B,Acme\r\n"))[0].startswith(
        "line 3: "
    )
    assert messages(plan_of(f"{HEADER}\rada@example.com,Ada,Acme\rx,B,Acme\r"))[0].startswith(
        "line 3: "
    )


def test_empty_file() -> None:
    for data in (b"", b"   \n\n", b"\xef\xbb\xbf"):
        assert messages(plan_of(data)) == ["line 1: the file is empty"]


def test_header_only_file() -> None:
    assert messages(plan_of(f"{HEADER}\n")) == [
        "line 1: the file has a header row but no people below it"
    ]


def test_missing_required_column() -> None:
    [message] = messages(plan_of("email,name\nada@example.com,Ada\n"))
    assert message.startswith("line 1: the header is missing the column team")


def test_semicolon_separated_file_gets_a_hint() -> None:
    [message] = messages(plan_of("email;name;team\nada@example.com;Ada;Acme\n"))
    assert message.startswith("line 1: the header is missing the columns email, name, team")
    assert message.endswith("values must be separated by commas, not semicolons or tabs")


def test_duplicate_column() -> None:
    [message] = messages(plan_of("email,name,team,Email\nada@example.com,Ada,Acme,x\n"))
    assert message == "line 1: the column \u201cemail\u201d appears twice"


def test_not_utf8_names_the_line_of_the_first_bad_byte() -> None:
    data = (
        f"{HEADER}\nada@example.com,Ada,Acme\n".encode()
        + "jos\xe9@example.com,Jos\xe9,Acme\n".encode("latin-1")
    )
    [message] = messages(plan_of(data))
    assert message.startswith("line 3: the file is not UTF-8 text")


def test_utf16_file_is_refused_as_not_utf8() -> None:
    [message] = messages(plan_of(f"{HEADER}\nada@example.com,Ada,Acme\n".encode("utf-16")))
    assert message.startswith("line 1: the file is not UTF-8 text")


def test_nul_bytes_are_reported_on_each_line() -> None:
    text = f"{HEADER}\nada@example.com,Ada\x00,Acme\nbob@example.com,Bob,Acme\nc\x00@x.com,C,Acme\n"
    plan = plan_of(text)
    assert [e.line for e in plan.errors] == [2, 4]
    assert all("NUL byte" in e.message for e in plan.errors)


def test_unbalanced_quote_at_the_end_of_the_file() -> None:
    text = (
        f'{HEADER}\nada@example.com,Ada,Acme\nbob@example.com,"Bob,Acme\ncy@example.com,Cy,Acme\n'
    )
    [message] = messages(plan_of(text))
    assert message.startswith("line 3: a quoted value is never closed (unbalanced quote)")


def test_text_after_a_closing_quote_is_reported_and_later_lines_still_checked() -> None:
    text = f'{HEADER}\nada@example.com,"Ada" L,Acme\nbob@example.com,Bob,Acme\nbad,Cy,Acme\n'
    plan = plan_of(text)
    assert [e.line for e in plan.errors] == [2, 4]
    assert "unbalanced quote" in plan.errors[0].message


def test_wrong_number_of_values() -> None:
    text = (
        f"{HEADER}\nada@example.com,Ada\nbob@example.com,Bob,Acme,extra\ncy@example.com,Cy,Acme,,\n"
    )
    plan = plan_of(text)
    assert messages(plan) == [
        "line 2: this row has 2 values but the header has 3 columns",
        "line 3: this row has 4 values but the header has 3 columns",
    ]
    assert [n.row.email for n in plan.new] == ["cy@example.com"]  # empty trailing cells are fine


def test_too_many_rows_names_the_first_line_over_the_limit() -> None:
    text = HEADER + "".join(f"\np{i}@example.com,P{i},Acme" for i in range(5))
    [message] = messages(plan_of(text, max_rows=3))
    assert message.startswith("line 5: the file has more than 3 people")


def test_file_over_the_byte_limit() -> None:
    parsed = parse_csv(b"x" * 100, max_rows=10, max_bytes=50)
    assert [str(e) for e in parsed.errors] == [
        "line 1: the file is larger than the upload limit of 50 bytes; split it"
    ]


# --- Row checks -----------------------------------------------------------------------------------


def test_every_problem_on_every_line_is_collected() -> None:
    text = (
        f"{HEADER},role\n"
        "not-an-email,,Acme//Eng,boss\n"
        "ada@example.com,Ada,Acme,\n"
        "bob@example,Bob,/Acme,\n"
    )
    plan = plan_of(text)
    lines = [e.line for e in plan.errors]
    assert lines == [2, 2, 2, 2, 4, 4]
    assert "empty team name" in plan.errors[2].message
    assert "is not one of employee, manager, leader, hr" in plan.errors[3].message


def test_duplicate_email_differing_in_case() -> None:
    plan = plan_of(
        f"{HEADER}\nada@example.com,Ada,Acme\nbob@example.com,Bob,Acme\nADA@example.COM,A,Acme\n"
    )
    assert messages(plan) == [
        "line 4: ada@example.com already appears on line 2 "
        "(emails are compared without regard to upper and lower case)"
    ]


def test_team_inside_itself_case_insensitive() -> None:
    [message] = messages(plan_of(f"{HEADER}\nada@example.com,Ada,Acme/Eng/ACME\n"))
    assert message == (
        "line 2: team: the team path \u201cAcme/Eng/ACME\u201d would put a team inside itself "
        "(\u201cACME\u201d appears twice)"
    )


def test_long_values_are_refused() -> None:
    long_name = "x" * 201
    plan = plan_of(f"{HEADER}\nada@example.com,{long_name},Acme/{'t' * 121}\n")
    assert messages(plan) == [
        "line 2: the name is longer than 200 characters",
        f"line 2: team: the team name \u201c{'t' * 59}…\u201d is longer than 120 characters",
    ]
    long_email = "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com"
    assert "longer than 254" in messages(plan_of(f"{HEADER}\n{long_email},A,Acme\n"))[0]


def test_role_rules() -> None:
    text = (
        "email,name,team,role,manages\n"
        "a@example.com,A,Acme,,Acme\n"  # blank role + manages -> manager
        "b@example.com,B,Acme,HR,Acme\n"  # explicit role wins, case-insensitive
        "c@example.com,C,Acme,employee,Acme\n"  # contradiction
        "d@example.com,D,Acme,,\n"
    )
    plan = plan_of(text)
    assert [(n.row.email, n.role) for n in plan.new] == [
        ("a@example.com", Role.MANAGER),
        ("b@example.com", Role.HR),
        ("d@example.com", Role.EMPLOYEE),
    ]
    assert messages(plan) == [
        "line 4: the role is employee but the manages column lists teams; "
        "leave the role blank or make it manager"
    ]


def test_manages_lists_several_teams_and_creates_them() -> None:
    plan = plan_of("email,name,team,manages\na@example.com,A,Acme,Acme/X; Acme/Y ;;acme/x\n")
    [new] = plan.new
    assert new.row.manages == (("acme", "x"), ("acme", "y"))
    assert [plan.label(k) for k in plan.teams_to_create] == ["Acme", "Acme/X", "Acme/Y"]


def test_email_shortcut_agrees_with_email_validator() -> None:
    samples = [
        "ada@example.com",
        "Ada.Lovelace+pulse@Example.COM",
        "a_b%c-d@sub.example.co.uk",
        "x@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@example..com",
        "a@localhost",
        "a@example.test",
        "a@example.local",
        "a@123.com",
        "a@example.123",
        "l" * 64 + "@example.com",
        "l" * 65 + "@example.com",
        "a@" + "d" * 64 + ".com",
        "a@example.com.",
        "o'brien@example.com",
        "jos\u00e9@example.com",
        "a@ex\u00e4mple.com",
    ]
    checker = _EmailChecker()
    checker.clean("warm@example.com")  # the domain is now known to the shortcut
    for text in samples:
        try:
            expected: str | None = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            expected = None
        for _ in range(2):  # the second call may take the shortcut
            try:
                got: str | None = checker.clean(text)
            except Exception:
                got = None
            assert got == (expected.lower() if expected else None), text


# --- Planning -------------------------------------------------------------------------------------


def test_unknown_manager_is_an_error_but_a_known_active_one_is_fine() -> None:
    snapshot = snapshot_with(
        existing(1, "boss@example.com", "Boss"),
        existing(2, "gone@example.com", "Gone", active=False),
        teams={"Acme": 1},
    )
    text = (
        "email,name,team,manager_email\n"
        "a@example.com,A,Acme,boss@example.com\n"
        "b@example.com,B,Acme,gone@example.com\n"
        "c@example.com,C,Acme,nobody@example.com\n"
        "d@example.com,D,Acme,a@example.com\n"
    )
    plan = plan_of(text, snapshot)
    assert messages(plan) == [
        "line 3: the line manager gone@example.com is not in this file and not an active "
        "person in the directory",
        "line 4: the line manager nobody@example.com is not in this file and not an active "
        "person in the directory",
    ]


def test_manager_about_to_be_deactivated_is_an_error() -> None:
    snapshot = snapshot_with(existing(1, "boss@example.com", "Boss"), teams={"Acme": 1})
    text = "email,name,team,manager_email\na@example.com,A,Acme,boss@example.com\n"
    assert plan_of(text, snapshot).errors == []
    [message] = messages(plan_of(text, snapshot, deactivate_missing=True))
    assert message.startswith("line 2: the line manager boss@example.com is not in this file")


def test_manager_of_a_row_with_other_errors_is_not_unknown() -> None:
    text = (
        "email,name,team,manager_email\n"
        "boss@example.com,,Acme,\n"
        "a@example.com,A,Acme,boss@example.com\n"
    )
    assert messages(plan_of(text)) == ["line 2: the name is empty"]


def test_manager_loops_name_every_line_involved() -> None:
    text = (
        "email,name,team,manager_email\n"
        "a@example.com,A,Acme,b@example.com\n"
        "x@example.com,X,Acme,\n"
        "b@example.com,B,Acme,c@example.com\n"
        "c@example.com,C,Acme,a@example.com\n"
        "self@example.com,S,Acme,SELF@example.com\n"
    )
    assert messages(plan_of(text)) == [
        "line 2: line managers form a loop: a@example.com \u2192 b@example.com \u2192 "
        "c@example.com \u2192 a@example.com (lines 2, 4, 5)",
        "line 6: self@example.com is named as their own line manager",
    ]


def test_manager_loop_through_someone_not_in_the_file() -> None:
    snapshot = snapshot_with(
        existing(1, "boss@example.com", "Boss", manager="a@example.com"),
        existing(2, "a@example.com", "A"),
        teams={"Acme": 1},
    )
    text = "email,name,team,manager_email\na@example.com,A,Acme,boss@example.com\n"
    [message] = messages(plan_of(text, snapshot))
    assert message.startswith("line 2: line managers form a loop: a@example.com")


def test_identical_file_plans_no_changes() -> None:
    snapshot = snapshot_with(
        existing(1, "a@example.com", "A", "Acme/Eng", role=Role.MANAGER, manages=("Acme/Eng",)),
        existing(2, "b@example.com", "B", "Acme/Eng", manager="a@example.com"),
        teams={"Acme": 1, "Acme/Eng": 2},
    )
    text = (
        "email,name,team,role,manages,manager_email\n"
        "A@example.com,A,acme/eng,,ACME/Eng,\n"
        "b@example.com,B,Acme/Eng,employee,,a@example.com\n"
    )
    plan = plan_of(text, snapshot, deactivate_missing=True)
    assert plan.errors == []
    assert not plan.has_changes
    assert plan.unchanged == 2


def test_changes_are_listed_field_by_field() -> None:
    snapshot = snapshot_with(
        existing(1, "a@example.com", "Ada", "Acme/Eng", role=Role.MANAGER, manages=("Acme/Eng",)),
        existing(2, "b@example.com", "Bob", "Acme/Eng"),
        existing(3, "c@example.com", "Cy", "Acme/Eng", active=False),
        teams={"Acme": 1, "Acme/Eng": 2},
    )
    text = (
        "email,name,team,role,manages,manager_email\n"
        "a@example.com,Ada L,Acme/Eng,,Acme/Eng;Acme/Ops,\n"
        "b@example.com,Bob,Acme/Sales,leader,,a@example.com\n"
        "c@example.com,Cy,Acme/Eng,,,\n"
    )
    plan = plan_of(text, snapshot)
    assert plan.errors == []
    changes = {u.row.email: [(c.field, c.old, c.new) for c in u.changes] for u in plan.changed}
    assert changes == {
        "a@example.com": [
            ("name", "Ada", "Ada L"),
            ("manages", "Acme/Eng", "Acme/Eng; Acme/Ops"),
        ],
        "b@example.com": [
            ("team", "Acme/Eng", "Acme/Sales"),
            ("role", "employee", "leader"),
            ("line manager", "—", "a@example.com"),
        ],
    }
    [back] = plan.reactivated
    assert [(c.field, c.old, c.new) for c in back.changes] == [("status", "deactivated", "active")]
    assert [plan.label(k) for k in plan.teams_to_create] == ["Acme/Ops", "Acme/Sales"]


def test_absent_columns_keep_what_people_have() -> None:
    snapshot = snapshot_with(
        existing(1, "a@example.com", "A", role=Role.LEADER, manages=("Acme",)),
        existing(2, "b@example.com", "B", manager="a@example.com"),
        teams={"Acme": 1},
    )
    plan = plan_of("email,name,team\na@example.com,A,Acme\nb@example.com,B,Acme\n", snapshot)
    assert not plan.has_changes


def test_blank_role_with_manages_keeps_a_staff_role() -> None:
    snapshot = snapshot_with(existing(1, "a@example.com", "A", role=Role.HR), teams={"Acme": 1})
    plan = plan_of("email,name,team,role,manages\na@example.com,A,Acme,,Acme\n", snapshot)
    [update] = plan.changed
    assert update.role is Role.HR
    assert update.fields == {"manages"}


def test_deactivation_only_when_asked_and_never_the_importer() -> None:
    snapshot = snapshot_with(
        existing(1, "hr@example.com", "Harriet", role=Role.HR),
        existing(2, "left@example.com", "Left"),
        existing(3, "gone@example.com", "Gone", active=False),
        existing(4, "a@example.com", "A"),
        teams={"Acme": 1},
    )
    text = f"{HEADER}\na@example.com,A,Acme\n"
    plan = plan_of(text, snapshot, protect_ids=(1,))
    assert plan.deactivated == []
    assert plan.missing == 1
    plan = plan_of(text, snapshot, deactivate_missing=True, protect_ids=(1,))
    assert [d.email for d in plan.deactivated] == ["left@example.com"]


def test_importer_cannot_change_their_own_role() -> None:
    snapshot = snapshot_with(existing(1, "hr@example.com", "H", role=Role.HR), teams={"Acme": 1})
    plan = plan_of(
        "email,name,team,role\nhr@example.com,H,Acme,employee\n", snapshot, protect_ids=(1,)
    )
    assert messages(plan) == [
        "line 2: this would change your own role from hr to employee; "
        "ask another HR person to do that"
    ]


def test_new_team_under_an_existing_one_uses_the_directory_spelling() -> None:
    snapshot = snapshot_with(teams={"Acme": 1})
    plan = plan_of(f"{HEADER}\na@example.com,A,ACME/New Team\n", snapshot)
    assert [plan.label(k) for k in plan.teams_to_create] == ["Acme/New Team"]
    assert plan.new[0].team_label == "Acme/New Team"


def test_errors_are_sorted_by_line() -> None:
    text = "email,name,team,manager_email\na@example.com,A,Acme,zz@example.com\nbad,B,Acme,\n"
    assert [e.line for e in plan_of(text).errors] == [2, 3]


@pytest.mark.parametrize(("size", "more"), [(3, 0), (250, 50)])
def test_capped_lists(size: int, more: int) -> None:
    shown = capped(list(range(size)), 200)
    assert len(shown.items) == min(size, 200)
    assert shown.more == more
    assert shown.total == size


def test_check_rows_reports_progress() -> None:
    rows = "".join(f"p{i}@example.com,P,Acme\n" for i in range(2500))
    parsed = parse_csv(f"{HEADER}\n{rows}".encode(), max_rows=5000)
    steps: list[int] = []
    check_rows(parsed, progress=steps.append)
    assert sum(steps) == 2500
