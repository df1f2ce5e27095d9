"""Custom questions and question sets: checking them (pure) and saving them (services).

A question set file is YAML or JSON describing one set:

    name: Team climate
    description: Optional words for HR.
    questions:
      - key: climate.clear_goals          # a new question: text, dimension and scale required
        text: Our team's goals are clear to me.
        dimension: empowerment
        scale: agree5
        reverse: false                    # optional
        required: true                    # optional: respondents must answer it
        construct: role clarity           # optional
        source: Our own wording           # optional: the published scale it is modelled on
        licence: none needed              # optional
      - key: burnout.drained              # a question already in the library, by key alone
      - enps.recommend                    # or just the key as text

A file is accepted whole or not at all: every problem is reported with where it is
("questions[3].scale: ..."), questions numbered from 1 as HR counts them. A question already in
the library may be repeated, but never with another scale, text, dimension or reverse flag:
answers to one question must always mean the same thing across pulses (SCIENCE.md). Saving never
touches a pulse: pulses hold frozen copies of their questions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.models import Person
from pulse.surveys.library import DIMENSIONS, QUESTION_SETS, QUESTIONS, ScaleKind
from pulse.surveys.models import CustomQuestion, QuestionSet, QuestionSetItem

MAX_FILE_BYTES = 256 * 1024
MAX_QUESTIONS = 60
MAX_ERRORS = 100
KEY_MAX = 80
TEXT_MAX = 500
NAME_MAX = 120
DESCRIPTION_MAX = 1000
CONSTRUCT_MAX = 200
SOURCE_MAX = 300
LICENCE_MAX = 300
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")

_TOP_FIELDS = ("name", "description", "questions")
_QUESTION_FIELDS = (
    "key",
    "text",
    "dimension",
    "scale",
    "reverse",
    "required",
    "construct",
    "source",
    "licence",
)
_SCALE_VALUES = frozenset(kind.value for kind in ScaleKind)
SCALE_CODES = ", ".join(kind.value for kind in ScaleKind)
DIMENSION_CODES = ", ".join(DIMENSIONS)


# --- Plain data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownQuestion:
    """A question already in the library (built-in or custom), as the checks need it."""

    key: str
    text: str
    dimension: str
    scale: str
    reverse: bool


@dataclass(frozen=True)
class Library:
    """What exists already: questions by key, and set names folded to lower case."""

    questions: Mapping[str, KnownQuestion]
    set_names: frozenset[str]

    def key_for_text(self, text: str) -> str | None:
        wanted = fold(text)
        for question in self.questions.values():
            if fold(question.text) == wanted:
                return question.key
        return None


@dataclass(frozen=True)
class NewQuestion:
    key: str
    text: str
    dimension: str
    scale: ScaleKind
    reverse: bool = False
    construct: str = ""
    modelled_on: str = ""
    licence_note: str = ""


@dataclass(frozen=True)
class SetEntry:
    key: str
    required: bool = False


@dataclass(frozen=True)
class SetSpec:
    """A checked set, ready to save: its questions in order and the ones to add to the library."""

    name: str
    description: str
    entries: tuple[SetEntry, ...]
    new_questions: tuple[NewQuestion, ...] = ()


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with where it is ("questions[3].scale") when that is known."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class ParsedSet:
    spec: SetSpec | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.problems


def clean(text: str) -> str:
    """Collapse runs of whitespace, so spacing never makes two texts differ."""
    return " ".join(text.split())


def fold(text: str) -> str:
    return clean(text).casefold()


def builtin_library() -> dict[str, KnownQuestion]:
    return {
        q.key: KnownQuestion(q.key, q.text, q.dimension, q.scale.value, q.reverse)
        for q in QUESTIONS.values()
    }


def builtin_set_names() -> set[str]:
    return {fold(s.name) for s in QUESTION_SETS.values()}


# --- Checks shared by the forms and the file import -------------------------------------------


def check_key(key: str, library: Library) -> str | None:
    """Why `key` cannot name a new question, or None."""
    if not key:
        return "give the question a key"
    if len(key) > KEY_MAX:
        return f"a key can be at most {KEY_MAX} characters"
    if not KEY_PATTERN.fullmatch(key):
        return (
            "use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(for example team.clear_goals)"
        )
    if key in library.questions:
        return f"the key {key!r} is already in the library"
    return None


def check_new_question(question: NewQuestion, library: Library) -> dict[str, str]:
    """Problems with a question someone wants to add, by field name (source = modelled_on)."""
    problems: dict[str, str] = {}
    key_problem = check_key(question.key, library)
    if key_problem:
        problems["key"] = key_problem
    if not question.text:
        problems["text"] = "the question text cannot be empty"
    elif len(question.text) > TEXT_MAX:
        problems["text"] = f"the text can be at most {TEXT_MAX} characters"
    else:
        existing = library.key_for_text(question.text)
        if existing is not None:
            problems["text"] = (
                f"this text is already in the library as {existing!r}; use that question so "
                "its answers stay comparable"
            )
    if question.dimension not in DIMENSIONS:
        problems["dimension"] = (
            f"{question.dimension!r} is not a dimension Pulse knows; use one of {DIMENSION_CODES}"
        )
    for name, value, limit in (
        ("construct", question.construct, CONSTRUCT_MAX),
        ("source", question.modelled_on, SOURCE_MAX),
        ("licence", question.licence_note, LICENCE_MAX),
    ):
        if len(value) > limit:
            problems[name] = f"can be at most {limit} characters"
    return problems


def check_set_name(name: str, library: Library) -> str | None:
    if not name:
        return "give the set a name"
    if len(name) > NAME_MAX:
        return f"a name can be at most {NAME_MAX} characters"
    if fold(name) in library.set_names or fold(name) in builtin_set_names():
        return f"a question set called {name!r} already exists; choose another name"
    return None


def check_entries_count(count: int) -> str | None:
    if count == 0:
        return "a set needs at least one question"
    if count > MAX_QUESTIONS:
        return f"a set can have at most {MAX_QUESTIONS} questions; this one has {count}"
    return None


def slug_key(text: str, dimension: str, taken: Mapping[str, object]) -> str:
    """A readable, unused key for a question HR typed in without one."""
    words = re.findall(r"[a-z0-9]+", text.lower())[:6]
    stem = f"{dimension}.{'_'.join(words) or 'question'}"[: KEY_MAX - 4].rstrip("._-")
    key, n = stem, 2
    while key in taken:
        key, n = f"{stem}-{n}", n + 1
    return key


# --- Reading a file ---------------------------------------------------------------------------


class _DuplicateField(ValueError):
    def __init__(self, name: object, line: int | None = None) -> None:
        self.name, self.line = name, line
        super().__init__(f"the field {name!r} appears twice")


def _yaml_duplicate(root: Any) -> _DuplicateField | None:
    """The first mapping that names the same key twice (YAML itself would keep the last one)."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen_nodes:
            continue  # aliases can point back up the tree
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            names: set[str] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in names:
                        return _DuplicateField(key_node.value, key_node.start_mark.line + 1)
                    names.add(key_node.value)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateField(key)
        result[key] = value
    return result


def load_document(data: bytes, filename: str) -> tuple[object, list[Problem]]:
    """The file's content as plain Python data, or the reasons it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        return None, [Problem("file", f"the file is larger than {MAX_FILE_BYTES // 1024} KB")]
    if b"\x00" in data:
        return None, [Problem("file", "the file contains NUL bytes; save it as UTF-8 text")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem("file", f"the file is not UTF-8 text (byte {exc.start + 1})")]
    if not text.strip():
        return None, [Problem("file", "the file is empty")]
    as_json = filename.lower().endswith(".json")
    try:
        if as_json:
            document = json.loads(text, object_pairs_hook=_json_pairs)
        else:
            duplicate = _yaml_duplicate(yaml.compose(text, Loader=yaml.SafeLoader))
            if duplicate is not None:
                raise duplicate
            document = yaml.safe_load(text)
    except _DuplicateField as exc:
        where = f"line {exc.line}" if exc.line else "file"
        return None, [Problem(where, str(exc))]
    except json.JSONDecodeError as exc:
        return None, [Problem(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else "file"
        return None, [Problem(where, f"not valid YAML: {exc.problem or exc.context}")]
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        kind = "JSON" if as_json else "YAML"
        return None, [Problem("file", f"not valid {kind} ({type(exc).__name__})")]
    return document, []


def parse_set_file(data: bytes, filename: str, library: Library) -> ParsedSet:
    """Read and check a question set file against the library; nothing is written."""
    document, problems = load_document(data, filename)
    if problems:
        return ParsedSet(problems=problems)
    return check_document(document, library)


def check_document(document: object, library: Library) -> ParsedSet:
    """Check an already-loaded document (a mapping with name, description and questions)."""
    if not isinstance(document, dict):
        return ParsedSet(
            problems=[
                Problem(
                    "file",
                    "the file must describe one question set: a mapping with name, "
                    "description and questions",
                )
            ]
        )
    problems: list[Problem] = []
    for name in document:
        if name not in _TOP_FIELDS:
            problems.append(Problem(str(name), f"unknown field; use only {', '.join(_TOP_FIELDS)}"))

    name = _text(document, "name", "", NAME_MAX, problems, required=True)
    if name is not None:
        name_problem = check_set_name(name, library)
        if name_problem and name:  # an empty name is already reported
            problems.append(Problem("name", name_problem))
    description = _text(document, "description", "", DESCRIPTION_MAX, problems) or ""

    raw_questions = document.get("questions")
    entries: list[SetEntry] = []
    new_questions: list[NewQuestion] = []
    if not isinstance(raw_questions, list):
        message = (
            "missing: list the set's questions"
            if raw_questions is None
            else "must be a list of questions"
        )
        problems.append(Problem("questions", message))
    else:
        count_problem = check_entries_count(len(raw_questions))
        if count_problem:
            problems.append(Problem("questions", count_problem))
        if len(raw_questions) <= MAX_QUESTIONS:
            first_seen: dict[str, int] = {}
            new_texts: dict[str, int] = {}
            for number, raw in enumerate(raw_questions, start=1):
                _check_item(
                    raw, number, library, first_seen, new_texts, entries, new_questions, problems
                )

    if problems:
        return ParsedSet(problems=problems[:MAX_ERRORS])
    assert name is not None  # noqa: S101 (no problems means the name was read)
    return ParsedSet(
        spec=SetSpec(clean(name), clean(description), tuple(entries), tuple(new_questions))
    )


def _check_item(
    raw: object,
    number: int,
    library: Library,
    first_seen: dict[str, int],
    new_texts: dict[str, int],
    entries: list[SetEntry],
    new_questions: list[NewQuestion],
    problems: list[Problem],
) -> None:
    at = f"questions[{number}]"
    if isinstance(raw, str):
        raw = {"key": raw}
    if not isinstance(raw, dict):
        problems.append(Problem(at, "must be a question (a mapping with a key) or a key"))
        return
    before = len(problems)
    for name in raw:
        if name not in _QUESTION_FIELDS:
            problems.append(
                Problem(f"{at}.{name}", f"unknown field; use only {', '.join(_QUESTION_FIELDS)}")
            )
    key = _text(raw, "key", at, KEY_MAX, problems, required=True, collapse=False)
    text = _text(raw, "text", at, TEXT_MAX, problems)
    dimension = _text(raw, "dimension", at, 40, problems, collapse=False)
    scale = _text(raw, "scale", at, 20, problems, collapse=False)
    reverse = _flag(raw, "reverse", at, problems)
    required = _flag(raw, "required", at, problems)
    construct = _text(raw, "construct", at, CONSTRUCT_MAX, problems)
    source = _text(raw, "source", at, SOURCE_MAX, problems)
    licence = _text(raw, "licence", at, LICENCE_MAX, problems)
    if dimension is not None and dimension not in DIMENSIONS:
        problems.append(
            Problem(
                f"{at}.dimension",
                f"{dimension!r} is not a dimension Pulse knows; use one of {DIMENSION_CODES}",
            )
        )
        dimension = None
    if scale is not None and scale not in _SCALE_VALUES:
        problems.append(
            Problem(
                f"{at}.scale", f"{scale!r} is not a scale Pulse knows; use one of {SCALE_CODES}"
            )
        )
        scale = None
    if text is not None and not text:
        problems.append(Problem(f"{at}.text", "the question text cannot be empty"))
    if not key:
        return
    if key in first_seen:
        problems.append(
            Problem(
                f"{at}.key",
                f"{key!r} appears more than once (first at questions[{first_seen[key]}])",
            )
        )
        return
    first_seen[key] = number

    known = library.questions.get(key)
    if known is not None:
        _check_matches_known(known, at, text, dimension, scale, reverse, problems)
        if len(problems) == before:
            entries.append(SetEntry(key, bool(required)))
        return

    missing = [name for name in ("text", "dimension", "scale") if raw.get(name) is None]
    if missing:
        problems.append(
            Problem(at, f"{key!r} is not in the library; give its {', '.join(missing)} to add it")
        )
        return
    key_problem = check_key(key, library)
    if key_problem:
        problems.append(Problem(f"{at}.key", key_problem))
    if len(problems) > before or text is None or dimension is None or scale is None:
        return
    folded = fold(text)
    existing = library.key_for_text(text)
    if existing is not None:
        problems.append(
            Problem(
                f"{at}.text",
                f"this text is already in the library as {existing!r}; refer to that key instead",
            )
        )
        return
    if folded in new_texts:
        problems.append(Problem(f"{at}.text", f"the same text as questions[{new_texts[folded]}]"))
        return
    new_texts[folded] = number
    new_questions.append(
        NewQuestion(
            key=key,
            text=text,
            dimension=dimension,
            scale=ScaleKind(scale),
            reverse=bool(reverse),
            construct=construct or "",
            modelled_on=source or "",
            licence_note=licence or "",
        )
    )
    entries.append(SetEntry(key, bool(required)))


def _check_matches_known(
    known: KnownQuestion,
    at: str,
    text: str | None,
    dimension: str | None,
    scale: str | None,
    reverse: bool | None,
    problems: list[Problem],
) -> None:
    """A library question may be restated, but never changed (SCIENCE.md: one format each)."""
    if scale is not None and scale != known.scale:
        problems.append(
            Problem(
                f"{at}.scale",
                f"{known.key!r} is already in the library with scale {known.scale}; a question "
                "keeps its response format in every pulse, so add a new key for another scale",
            )
        )
    if text is not None and text and fold(text) != fold(known.text):
        problems.append(
            Problem(
                f"{at}.text",
                f"{known.key!r} is already in the library with different text; add a new key "
                "for new wording, or give the key alone",
            )
        )
    if dimension is not None and dimension != known.dimension:
        problems.append(
            Problem(
                f"{at}.dimension",
                f"{known.key!r} is already in the library under {known.dimension}",
            )
        )
    if reverse is not None and reverse != known.reverse:
        problems.append(
            Problem(
                f"{at}.reverse",
                f"{known.key!r} is already in the library with reverse: "
                f"{str(known.reverse).lower()}",
            )
        )


def _text(
    raw: Mapping[Any, Any],
    name: str,
    at: str,
    limit: int,
    problems: list[Problem],
    *,
    required: bool = False,
    collapse: bool = True,
) -> str | None:
    where = f"{at}.{name}" if at else name
    value = raw.get(name)
    if value is None:
        if required:
            problems.append(Problem(where, "missing"))
        return None
    if not isinstance(value, str):
        problems.append(Problem(where, f"must be text, not {_type_name(value)}"))
        return None
    value = clean(value) if collapse else value.strip()
    if len(value) > limit:
        problems.append(Problem(where, f"can be at most {limit} characters"))
        return None
    if required and not value:
        problems.append(Problem(where, "cannot be empty"))
        return ""
    return value


def _flag(raw: Mapping[Any, Any], name: str, at: str, problems: list[Problem]) -> bool | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        problems.append(Problem(f"{at}.{name}", f"must be true or false, not {_type_name(value)}"))
        return None
    return value


def _type_name(value: object) -> str:
    names = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a mapping",
    }
    return names.get(type(value), type(value).__name__)


def check_set(
    name: str, description: str, entries: Sequence[SetEntry], library: Library
) -> list[Problem]:
    """Problems with a set composed on the page from questions already in the library."""
    problems: list[Problem] = []
    name_problem = check_set_name(clean(name), library)
    if name_problem:
        problems.append(Problem("name", name_problem))
    if len(clean(description)) > DESCRIPTION_MAX:
        problems.append(Problem("description", f"can be at most {DESCRIPTION_MAX} characters"))
    count_problem = check_entries_count(len(entries))
    if count_problem:
        problems.append(Problem("questions", count_problem))
    keys = [entry.key for entry in entries]
    if len(set(keys)) != len(keys):
        problems.append(Problem("questions", "a question was chosen twice"))
    unknown = [key for key in keys if key not in library.questions]
    if unknown:
        problems.append(Problem("questions", f"not in the library: {', '.join(unknown[:5])}"))
    return problems


# --- Services: flush, never commit --------------------------------------------------------------


def create_question(
    question: NewQuestion, *, now: datetime, actor: Person | None, audit_action: str | None = None
) -> CustomQuestion:
    """Add a custom question to the library (the caller has checked it)."""
    row = CustomQuestion(
        key=question.key,
        dimension=question.dimension,
        scale=question.scale.value,
        text=question.text,
        reverse=question.reverse,
        construct=question.construct,
        modelled_on=question.modelled_on,
        licence_note=question.licence_note,
        created_at=now,
    )
    db.session.add(row)
    if audit_action:
        audit.record(
            audit_action,
            actor=actor,
            now=now,
            target=f"question:{question.key}",
            detail={"dimension": question.dimension, "scale": question.scale.value},
        )
    db.session.flush()
    return row


def save_question_set(
    spec: SetSpec, *, now: datetime, actor: Person | None, imported: bool = False
) -> QuestionSet:
    """Add the set's new questions, then the set itself; existing questions are only referenced."""
    for question in spec.new_questions:
        create_question(question, now=now, actor=actor)
    qset = QuestionSet(
        name=spec.name,
        description=spec.description,
        created_at=now,
        items=[
            QuestionSetItem(position=position, question_key=entry.key, required=entry.required)
            for position, entry in enumerate(spec.entries, start=1)
        ],
    )
    db.session.add(qset)
    db.session.flush()
    audit.record(
        "question_set.import" if imported else "question_set.create",
        actor=actor,
        now=now,
        target=f"question_set:{qset.id}",
        detail={
            "name": spec.name,
            "questions": len(spec.entries),
            "new_questions": [q.key for q in spec.new_questions],
        },
    )
    return qset
