"""Team tree look-ups and visibility."""

from __future__ import annotations

from flask import Flask

from pulse.extensions import db
from pulse.org import queries
from pulse.org.models import Role
from tests.factories import make_person, make_staff, make_team


def test_subtree_of_a_deep_company_is_one_prefix_query(app: Flask) -> None:
    deep = make_team("Acme/L2/L3/L4/L5/L6/L7")
    make_team("Acme/L2/Other")
    make_team("Acme2")  # a root whose id path could share a textual prefix
    l3 = deep.parent.parent.parent.parent  # type: ignore[union-attr]
    assert l3 is not None and l3.name == "L3"
    names = [t.name for t in queries.teams_under(l3)]
    assert names == ["L3", "L4", "L5", "L6", "L7"]
    assert deep.depth == 6
    assert len(deep.ancestor_ids()) == 7


def test_subtree_does_not_match_sibling_with_shared_id_prefix(app: Flask) -> None:
    teams = [make_team(f"Acme/T{i}") for i in range(12)]
    # "/1/2/" must not match "/1/12/": the trailing slash in the path guards the prefix.
    t = next(t for t in teams if t.path.endswith("/2/"))
    assert [x.id for x in queries.teams_under(t)] == [t.id]


def test_team_tree_counts_active_people_in_whole_subtree(app: Flask) -> None:
    make_person(team="Acme/Eng/Platform")
    make_person(team="Acme/Eng/Platform")
    make_person(team="Acme/Eng")
    make_person(team="Acme/Eng/Platform", active=False)
    make_person(team="Acme/Sales")
    (root,) = queries.team_tree()
    assert (root.name, root.direct_count, root.total_count) == ("Acme", 0, 4)
    eng, sales = root.children
    assert (eng.name, eng.direct_count, eng.total_count) == ("Eng", 1, 3)
    assert (sales.name, sales.total_count) == ("Sales", 1)
    assert [n.name for n in queries.flatten([root])] == ["Acme", "Eng", "Platform", "Sales"]


def test_manager_sees_managed_subtrees_only(app: Flask) -> None:
    eng = make_team("Acme/Eng")
    make_team("Acme/Eng/Platform")
    sales = make_team("Acme/Sales")
    manager = make_staff(Role.MANAGER, manages=[eng])
    visible = queries.visible_team_ids(manager)
    assert visible is not None
    names = {t.name for t in queries.teams_under(eng)}
    assert names == {"Eng", "Platform"}
    assert sales.id not in visible
    tree = queries.team_tree(visible)
    assert [n.name for n in tree] == ["Eng"]
    assert [c.name for c in tree[0].children] == ["Platform"]


def test_hr_and_leader_see_everything_employee_nothing(app: Flask) -> None:
    make_team("Acme/Eng")
    assert queries.visible_team_ids(make_staff(Role.HR)) is None
    assert queries.visible_team_ids(make_staff(Role.LEADER)) is None
    assert queries.visible_team_ids(make_person()) == set()


def test_people_search_is_case_insensitive_on_name_and_email(app: Flask) -> None:
    make_person(name="Zoë Okafor", email="zoe@example.com", team="Acme/Eng")
    make_person(name="Liam Chen", email="liam@example.com", team="Acme/Sales")
    found = db.session.scalars(queries.people_query(search="OKAF")).all()
    assert [p.name for p in found] == ["Zoë Okafor"]
    found = db.session.scalars(queries.people_query(search="liam@")).all()
    assert [p.name for p in found] == ["Liam Chen"]
    sales = make_team("Acme/Sales")
    assert [p.name for p in db.session.scalars(queries.people_query(team=sales))] == ["Liam Chen"]


def test_person_by_email_ignores_case_and_spaces(app: Flask) -> None:
    person = make_person(email="ada@example.com")
    assert queries.person_by_email("  ADA@Example.COM ") is person


def test_full_team_names(app: Flask) -> None:
    platform = make_team("Acme/Eng/Platform")
    assert queries.full_team_names()[platform.id] == "Acme/Eng/Platform"
