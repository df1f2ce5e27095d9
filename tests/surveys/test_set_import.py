"""Question set files: good ones are read whole; bad ones list every problem and write nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.surveys import services, set_import
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import CustomQuestion, PulseQuestion, QuestionSet
from pulse.surveys.queries import library_snapshot
from pulse.surveys.set_import import (
    KnownQuestion,
    Library,
    NewQuestion,
    SetEntry,
    builtin_library,
    parse_set_file,
)
from tests.factories import NOW, make_person, make_team

GOOD_YAML = b"""
name: Team climate
description: Goals and safety.
questions:
  - key: climate.clear_goals
    text: I know what my team is trying to achieve this quarter.
    dimension: empowerment
    scale: agree5
    required: true
    construct: role clarity
    source: Own wording
    licence: none needed
  - key: climate.blame
    text: When something goes wrong here, people look for someone to blame.
    dimension: psych_safety
    scale: agree5
    reverse: true
  - key: burnout.drained
  - enps.recommend
"""


def library(**custom: KnownQuestion) -> Library:
    return Library({**builtin_library(), **custom}, frozenset({"existing set"}))


def problems_of(
    data: bytes | str, filename: str = "set.yaml", lib: Library | None = None
) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    parsed = parse_set_file(raw, filename, lib or library())
    assert parsed.spec is None
    assert parsed.problems
    return [str(p) for p in parsed.problems]


def yaml_set(*questions: str, name: str = "A set") -> str:
    body = "\n".join(f"  - {q}" for q in questions)
    return f"name: {name}\nquestions:\n{body}\n"


# --- Good files ------------------------------------------------------------------------------


def test_a_good_yaml_file_gives_new_questions_and_references() -> None:
    parsed = parse_set_file(GOOD_YAML, "climate.yaml", library())
    assert parsed.ok, parsed.problems
    spec = parsed.spec
    assert spec is not None
    assert spec.name == "Team climate" and spec.description == "Goals and safety."
    assert spec.entries == (
        SetEntry("climate.clear_goals", True),
        SetEntry("climate.blame", False),
        SetEntry("burnout.drained", False),
        SetEntry("enps.recommend", False),
    )
    first, second = spec.new_questions
    assert first == NewQuestion(
        "climate.clear_goals",
        "I know what my team is trying to achieve this quarter.",
        "empowerment",
        ScaleKind.AGREE5,
        False,
        "role clarity",
        "Own wording",
        "none needed",
    )
    assert second.reverse is True and second.dimension == "psych_safety"


def test_a_good_json_file_with_a_bom() -> None:
    document = {
        "name": "Sleep check",
        "questions": [
            {
                "key": "sleep.hours",
                "text": "About how many hours did you sleep last night?",
                "dimension": "wellbeing",
                "scale": "hours",
            },
            {"key": "wellbeing.rested", "required": True},
        ],
    }
    data = b"\xef\xbb\xbf" + json.dumps(document).encode()
    parsed = parse_set_file(data, "sleep.JSON", library())
    assert parsed.ok, parsed.problems
    assert parsed.spec is not None
    assert [e.key for e in parsed.spec.entries] == ["sleep.hours", "wellbeing.rested"]
    assert parsed.spec.entries[1].required is True


def test_restating_a_library_question_exactly_is_allowed() -> None:
    text = "How often do you end the working day  feeling completely drained?"  # extra space
    data = yaml_set(f"{{key: burnout.drained, text: '{text}', scale: freq5, dimension: burnout}}")
    parsed = parse_set_file(data.encode(), "x.yml", library())
    assert parsed.ok, parsed.problems
    assert parsed.spec is not None and parsed.spec.new_questions == ()


# --- Bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "x.yaml", "file: the file is empty"),
        (b"name: [unclosed", "x.yaml", "line 1: not valid YAML"),
        (b'{"name": "x",', "x.json", "line 1: not valid JSON"),
        (b"\xff\xfe\x00n", "x.yaml", "NUL bytes"),
        (b"name: caf\xe9", "x.yaml", "not UTF-8"),
        (b"- just\n- a list\n", "x.yaml", "must describe one question set"),
        (b"just text", "x.yaml", "must describe one question set"),
        (b"name: x\nname: y\nquestions: []\n", "x.yaml", "line 2: the field 'name' appears twice"),
        (b'{"name": "x", "name": "y"}', "x.json", "the field 'name' appears twice"),
        (b"name: x\nquestions: nope\n", "x.yaml", "questions: must be a list of questions"),
        (b"name: x\n", "x.yaml", "questions: missing"),
        (b"name: x\nquestions: []\n", "x.yaml", "questions: a set needs at least one question"),
        (b"questions: [burnout.drained]\n", "x.yaml", "name: missing"),
        (b"name: 12\nquestions: [burnout.drained]\n", "x.yaml", "name: must be text, not a number"),
        (b"name: ' '\nquestions: [burnout.drained]\n", "x.yaml", "name: cannot be empty"),
        (b"name: x\nversion: 2\nquestions: [enps.recommend]\n", "x.yaml", "version: unknown"),
        (b"a: &a [*a, *a]\nname: x\nquestions: [burnout.drained]\n", "x.yaml", "a: unknown field"),
        (b"[" * 100_000, "x.json", "not valid JSON"),
    ],
)
def test_unreadable_files_are_refused(data: bytes, filename: str, expected: str) -> None:
    problems = problems_of(data, filename)
    assert any(expected in p for p in problems), problems


def test_a_file_over_256_kb_is_refused_before_reading() -> None:
    data = b"name: x\n" + b"#" * (256 * 1024)
    assert problems_of(data) == ["file: the file is larger than 256 KB"]


def test_more_than_60_questions_is_refused() -> None:
    questions = [
        f"{{key: many.q{i}, text: 'Question {i}', dimension: trust, scale: agree5}}"
        for i in range(61)
    ]
    assert problems_of(yaml_set(*questions)) == [
        "questions: a set can have at most 60 questions; this one has 61"
    ]


def test_every_problem_is_listed_with_where_it_is() -> None:
    data = yaml_set(
        "{key: ok.one, text: 'One', dimension: trust, scale: agree5}",
        "{key: bad.scale, text: 'Two', dimension: trust, scale: likert7}",
        "{key: bad.dimension, text: 'Three', dimension: happiness, scale: agree5}",
        "{key: ok.one, text: 'Four', dimension: trust, scale: agree5}",
        "{key: bad.empty, text: '  ', dimension: trust, scale: agree5}",
        "{key: bad.types, text: 5, dimension: trust, scale: agree5, reverse: 'yes'}",
        "{key: burnout.drained, scale: agree5}",
        "{key: burnout.dread, text: 'Do you dread Mondays?'}",
        "{key: enps.recommend, reverse: true, dimension: trust}",
        "{key: Bad Key!, text: 'Five', dimension: trust, scale: agree5}",
        "{key: unknown.only}",
        "{key: bad.extra, text: 'Six', dimension: trust, scale: agree5, colour: blue}",
        "{key: bad.copy, text: 'I can rely on what management tells us.', dimension: trust, "
        "scale: agree5}",
        "42",
        "{text: 'No key', dimension: trust, scale: agree5}",
        name="Existing Set",
    )
    problems = problems_of(data)
    expected = [
        "name: a question set called 'Existing Set' already exists",
        "questions[2].scale: 'likert7' is not a scale Pulse knows",
        "questions[3].dimension: 'happiness' is not a dimension Pulse knows",
        "questions[4].key: 'ok.one' appears more than once (first at questions[1])",
        "questions[5].text: the question text cannot be empty",
        "questions[6].text: must be text, not a number",
        "questions[6].reverse: must be true or false, not str",
        "questions[7].scale: 'burnout.drained' is already in the library with scale freq5",
        "questions[8].text: 'burnout.dread' is already in the library with different text",
        "questions[9].dimension: 'enps.recommend' is already in the library under enps",
        "questions[9].reverse: 'enps.recommend' is already in the library with reverse: false",
        "questions[10].key: use lower-case letters",
        "questions[11]: 'unknown.only' is not in the library; give its text, dimension, scale",
        "questions[12].colour: unknown field",
        "questions[13].text: this text is already in the library as 'trust.rely_on_management'",
        "questions[14]: must be a question",
        "questions[15].key: missing",
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
    assert not any(p.startswith("questions[1]") for p in problems), problems


def test_a_built_in_set_name_is_taken_too() -> None:
    problems = problems_of(yaml_set("burnout.drained", name="core PULSE"))
    assert problems == [
        "name: a question set called 'core PULSE' already exists; choose another name"
    ]


def test_a_custom_question_keeps_its_scale() -> None:
    custom = KnownQuestion("team.goals", "Goals are clear.", "empowerment", "agree5", False)
    lib = library(**{"team.goals": custom})
    problems = problems_of(yaml_set("{key: team.goals, scale: score11}"), lib=lib)
    assert problems[0].startswith("questions[1].scale: 'team.goals' is already in the library")
    parsed = parse_set_file(yaml_set("team.goals").encode(), "x.yaml", lib)
    assert parsed.ok


def test_two_new_questions_with_the_same_text_are_refused() -> None:
    problems = problems_of(
        yaml_set(
            "{key: a.one, text: 'Same words', dimension: trust, scale: agree5}",
            "{key: a.two, text: 'same   WORDS', dimension: trust, scale: freq5}",
        )
    )
    assert problems == ["questions[2].text: the same text as questions[1]"]


# --- Helpers shared with the forms -----------------------------------------------------------


def test_slug_keys_are_readable_and_unused() -> None:
    taken = {"trust.do_you_trust_your_manager": object()}
    key = set_import.slug_key("Do you trust your manager?", "trust", taken)
    assert key == "trust.do_you_trust_your_manager-2"
    assert set_import.slug_key("¿¡!", "heard", {}) == "heard.question"
    long_key = set_import.slug_key("word " * 100, "psych_safety", {})
    assert len(long_key) <= set_import.KEY_MAX


def test_check_set_reports_name_count_and_unknown_keys() -> None:
    problems = set_import.check_set("Existing set", "", [], library())
    assert [p.where for p in problems] == ["name", "questions"]
    problems = set_import.check_set(
        "New", "", [SetEntry("nope"), SetEntry("burnout.drained")], library()
    )
    assert [str(p) for p in problems] == ["questions: not in the library: nope"]


# --- Saving ------------------------------------------------------------------------------------


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_saving_adds_the_new_questions_and_the_set(app: Flask) -> None:
    parsed = parse_set_file(GOOD_YAML, "climate.yaml", library_snapshot())
    assert parsed.spec is not None
    qset = set_import.save_question_set(parsed.spec, now=NOW, actor=None, imported=True)
    db.session.commit()
    assert count(CustomQuestion) == 2
    assert [(i.position, i.question_key, i.required) for i in qset.items] == [
        (1, "climate.clear_goals", True),
        (2, "climate.blame", False),
        (3, "burnout.drained", False),
        (4, "enps.recommend", False),
    ]
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.action == "question_set.import"
    # The same file again: the set name is taken and nothing more is written.
    again = parse_set_file(GOOD_YAML, "climate.yaml", library_snapshot())
    assert again.spec is None
    assert [p.where for p in again.problems] == ["name"]
    # The new questions now count as library questions: a file restating them is fine.
    renamed = GOOD_YAML.replace(b"Team climate", b"Climate again")
    assert parse_set_file(renamed, "climate.yaml", library_snapshot()).ok


def test_importing_never_changes_a_pulse_that_has_opened(app: Flask) -> None:
    parsed = parse_set_file(GOOD_YAML, "climate.yaml", library_snapshot())
    assert parsed.spec is not None
    qset = set_import.save_question_set(parsed.spec, now=NOW, actor=None, imported=True)
    team = make_team("Acme/Eng")
    make_person(team=team)
    pulse = services.create_pulse(
        title="Climate", set_ref=f"custom:{qset.id}", teams=[team], now=NOW, actor=None
    )
    services.open_pulse(
        pulse, now=NOW, secret_key="k" * 40, actor=None, closes_at=NOW + timedelta(days=3)
    )
    db.session.commit()
    before = [
        (q.question_key, q.text, q.scale, q.reverse, q.required)
        for q in db.session.scalars(select(PulseQuestion).order_by(PulseQuestion.id))
    ]
    # An attempt to change a question the pulse asks is refused outright ...
    changed = GOOD_YAML.replace(b"Team climate", b"Climate v2").replace(
        b"people look for someone to blame.", b"people look for a scapegoat."
    )
    refused = parse_set_file(changed, "climate.yaml", library_snapshot())
    assert [p.where for p in refused.problems] == ["questions[2].text"]
    # ... and a new set reusing them with other required flags leaves the pulse as it was.
    reuse = yaml_set(
        "{key: climate.blame, required: true}", "climate.clear_goals", name="Climate v3"
    )
    accepted = parse_set_file(reuse.encode(), "v3.yaml", library_snapshot())
    assert accepted.spec is not None
    set_import.save_question_set(accepted.spec, now=NOW, actor=None, imported=True)
    db.session.commit()
    after = [
        (q.question_key, q.text, q.scale, q.reverse, q.required)
        for q in db.session.scalars(select(PulseQuestion).order_by(PulseQuestion.id))
    ]
    assert after == before
    assert count(QuestionSet) == 2


def test_the_examples_on_the_import_page_are_valid() -> None:
    from pulse.surveys.routes import FILE_EXAMPLE_JSON, FILE_EXAMPLE_YAML

    for text, filename in ((FILE_EXAMPLE_YAML, "x.yaml"), (FILE_EXAMPLE_JSON, "x.json")):
        parsed = parse_set_file(text.encode(), filename, library())
        assert parsed.ok, parsed.problems
