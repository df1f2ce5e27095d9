"""Directory import: read a people CSV, check every row and plan the changes (pure, no database).

The steps are separate so each can be tested on plain data:

1. `parse_csv` turns bytes into raw rows, catching encoding, NUL, quoting and header problems;
2. `check_rows` validates each row on its own (emails, names, team paths, roles) and the file as
   a whole (duplicate emails);
3. `plan_import` compares the rows with a `DirectorySnapshot` (plain data read from the database)
   and returns an `ImportPlan`: who is new, who changed and how, who is reactivated or
   deactivated, which teams must be created, and every error found on the way.

Every error names the physical line of the file it comes from (the header is line 1; a record
whose quoted field spans several lines is reported on the line where it starts).
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from email_validator import EmailNotValidError, validate_email

from pulse.org.models import Role

REQUIRED_COLUMNS = ("email", "name", "team")
OPTIONAL_COLUMNS = ("role", "manages", "manager_email")
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_TEAM_NAME_LENGTH = 120
# Team.path stores the chain of ids ("/1/7/42/") in 1,000 characters; 50 levels of ids up to
# ten digits fit with room to spare, and no real organisation is deeper.
MAX_TEAM_DEPTH = 50
ERROR_LIMIT = 200
NONE_SHOWN = "—"

TeamKey = tuple[str, ...]
"""A team identified by its full path of names, case-folded: ("acme", "engineering")."""

Progress = Callable[[int], None]
"""Called with the number of rows handled since the previous call (drives a progress bar)."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PROGRESS_EVERY = 1000

T = TypeVar("T")


# --- Results -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class LineError:
    """A problem on one line of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class RawRow:
    line: int
    values: dict[str, str]


@dataclass
class ParsedCsv:
    """The file split into rows; `columns` are the known columns found in the header."""

    columns: frozenset[str] = frozenset()
    rows: list[RawRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)


@dataclass(slots=True)
class ImportRow:
    """One valid person row, normalised: trimmed names, lower-case emails, team keys."""

    line: int
    email: str
    name: str
    team: TeamKey
    role: Role | None  # None: the role column is absent or blank
    manages: tuple[TeamKey, ...]
    manager_email: str | None


@dataclass
class CheckedFile:
    """The rows that passed every per-row check, and what was wrong with the others."""

    columns: frozenset[str]
    rows: list[ImportRow]
    errors: list[LineError]
    warnings: list[LineError]
    # Every well-formed email in the file with its line, rows with other errors included, so a
    # manager whose own row has a typo in the team is not also reported as unknown.
    emails: dict[str, int]
    team_labels: dict[TeamKey, str]


@dataclass(frozen=True)
class ExistingTeam:
    id: int
    path: str  # the materialised id path, e.g. "/1/7/"
    label: str  # full path of names as stored, e.g. "Acme/Engineering"


@dataclass(slots=True)
class ExistingPerson:
    id: int
    email: str
    name: str
    team: TeamKey | None
    role: Role
    active: bool
    line_manager_email: str | None
    managed: frozenset[TeamKey]


@dataclass
class DirectorySnapshot:
    """What the directory holds now, as plain data (built by queries.import_snapshot)."""

    people: dict[str, ExistingPerson] = field(default_factory=dict)
    teams: dict[TeamKey, ExistingTeam] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(slots=True)
class NewPerson:
    row: ImportRow
    role: Role
    team_label: str


@dataclass(slots=True)
class PersonUpdate:
    """An existing person whose details differ from the file (or who comes back)."""

    row: ImportRow
    person_id: int
    role: Role
    changes: tuple[FieldChange, ...]
    fields: frozenset[str]  # the attributes to write: name, team, role, line_manager, manages
    reactivate: bool


@dataclass(frozen=True)
class Departure:
    person_id: int
    email: str
    name: str


@dataclass(frozen=True)
class ImportCounts:
    new: int = 0
    changed: int = 0
    reactivated: int = 0
    deactivated: int = 0
    teams_created: int = 0

    @property
    def total(self) -> int:
        return self.new + self.changed + self.reactivated + self.deactivated + self.teams_created

    def as_dict(self) -> dict[str, int]:
        return {
            "new": self.new,
            "changed": self.changed,
            "reactivated": self.reactivated,
            "deactivated": self.deactivated,
            "teams_created": self.teams_created,
        }

    def __str__(self) -> str:
        teams = "team" if self.teams_created == 1 else "teams"
        return (
            f"{self.new:,} new, {self.changed:,} changed, {self.reactivated:,} reactivated, "
            f"{self.deactivated:,} deactivated, {self.teams_created:,} new {teams}"
        )


@dataclass
class ImportPlan:
    """Everything an import would do; nothing may be applied while `errors` is non-empty."""

    snapshot: DirectorySnapshot
    columns: frozenset[str]
    deactivate_missing: bool
    row_count: int = 0
    new: list[NewPerson] = field(default_factory=list)
    changed: list[PersonUpdate] = field(default_factory=list)
    reactivated: list[PersonUpdate] = field(default_factory=list)
    deactivated: list[Departure] = field(default_factory=list)
    teams_to_create: list[TeamKey] = field(default_factory=list)  # parents before children
    team_labels: dict[TeamKey, str] = field(default_factory=dict)
    unchanged: int = 0
    # Active people absent from the file; deactivated only when HR asks (deactivate_missing).
    missing: int = 0
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)

    @property
    def counts(self) -> ImportCounts:
        return ImportCounts(
            new=len(self.new),
            changed=len(self.changed),
            reactivated=len(self.reactivated),
            deactivated=len(self.deactivated),
            teams_created=len(self.teams_to_create),
        )

    @property
    def has_changes(self) -> bool:
        return self.counts.total > 0

    def label(self, key: TeamKey) -> str:
        return self.team_labels.get(key) or "/".join(key)


@dataclass(frozen=True)
class Capped(Generic[T]):
    """The first items of a long list and how many were left out ("and 120 more")."""

    items: Sequence[T]
    more: int

    @property
    def total(self) -> int:
        return len(self.items) + self.more


def capped(items: Sequence[T], limit: int) -> Capped[T]:
    return Capped(items[:limit], max(len(items) - limit, 0))


# --- Step 1: bytes to rows -----------------------------------------------------------------------


class _LineIndex:
    """Maps a character offset in the text to its physical line (counting \\r\\n, \\r and \\n)."""

    def __init__(self, text: str) -> None:
        self._ends = [m.end() for m in _LINE_BREAK.finditer(text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._ends, offset) + 1


def _normalise_column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return (
            'a quoted value is never closed (unbalanced quote); every opening " needs a '
            'closing ", and a " inside a quoted value must be doubled'
        )
    if "expected after" in text:
        return (
            'unexpected text after a closing quote (unbalanced quote); a " inside a quoted '
            "value must be doubled"
        )
    if "field larger than field limit" in text:
        return "a value is far too long (is a quote left open?)"
    return f"the line cannot be read as CSV ({text})"


def parse_csv(data: bytes, *, max_rows: int, max_bytes: int | None = None) -> ParsedCsv:
    """Split an uploaded file into rows keyed by column name, with every problem found."""
    result = ParsedCsv()
    errors = result.errors
    if max_bytes is not None and len(data) > max_bytes:
        errors.append(too_large(max_bytes))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK_BYTES.findall(data[: exc.start])) + 1
        errors.append(
            LineError(
                line,
                "the file is not UTF-8 text (this line has a byte that is not valid UTF-8); "
                "save it as \u201cCSV UTF-8\u201d and upload it again",
            )
        )
        return result
    if not text.strip():
        errors.append(LineError(1, "the file is empty"))
        return result

    nul_lines: set[int] = set()
    if "\x00" in text:
        index = _LineIndex(text)
        nul_lines = {index.line_of(m.start()) for m in re.finditer("\x00", text)}
        errors.extend(
            LineError(n, "this line contains a NUL byte; the file is damaged or not a CSV file")
            for n in sorted(nul_lines)
        )

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    row_count = 0
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LineError(start, _csv_problem(exc)))
            if header is None or reader.line_num <= previous_end:
                break  # without a header, or without progress, nothing more can be trusted
            previous_end = reader.line_num
            continue
        end = previous_end = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank lines and rows of empty cells (spreadsheets add them) are skipped
        if nul_lines and any(n in nul_lines for n in range(start, end + 1)):
            if header is None:
                break
            continue  # already reported
        if header is None:
            header = _read_header(record, start, result)
            if header is None:
                break
            continue
        row_count += 1
        if row_count > max_rows:
            errors.append(
                LineError(
                    start,
                    f"the file has more than {max_rows:,} people, the most one import accepts; "
                    "split it into smaller files",
                )
            )
            break
        if len(record) != len(header):
            extra = record[len(header) :]
            if len(record) < len(header) or any(cell.strip() for cell in extra):
                errors.append(
                    LineError(
                        start,
                        f"this row has {len(record)} values but the header has "
                        f"{len(header)} columns",
                    )
                )
                continue
        values = {name: record[i] for i, name in enumerate(header) if name in KNOWN_COLUMNS}
        result.rows.append(RawRow(start, values))

    if header is not None and not result.rows and not errors:
        errors.append(LineError(1, "the file has a header row but no people below it"))
    if header is None and not errors:
        errors.append(LineError(1, "the file is empty"))
    return result


def _read_header(record: list[str], line: int, result: ParsedCsv) -> list[str] | None:
    names = [_normalise_column(cell) for cell in record]
    seen: set[str] = set()
    ok = True
    for name in names:
        if name in seen and name in KNOWN_COLUMNS:
            result.errors.append(LineError(line, f"the column \u201c{name}\u201d appears twice"))
            ok = False
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        message = (
            f"the header is missing the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the first line must name the columns: email, name, team, "
            "and optionally role, manages, manager_email)"
        )
        if len(record) == 1 and (";" in record[0] or "\t" in record[0]):
            # Spreadsheets in many locales save "CSV" with semicolons or tabs between values.
            message += "; values must be separated by commas, not semicolons or tabs"
        result.errors.append(LineError(line, message))
        ok = False
    unknown = [
        cell.strip() for cell, name in zip(record, names, strict=True) if name not in KNOWN_COLUMNS
    ]
    if any(unknown):
        shown = ", ".join(f"\u201c{u}\u201d" for u in unknown if u)
        result.warnings.append(LineError(line, f"ignoring columns Pulse does not use: {shown}"))
    if not ok:
        return None
    result.columns = frozenset(n for n in names if n in KNOWN_COLUMNS)
    return names


def too_large(max_bytes: int) -> LineError:
    """The error for a file over the upload limit (before a single line is read)."""
    mib = 1024 * 1024
    limit = f"{max_bytes / mib:.0f} MB" if max_bytes >= mib else f"{max_bytes:,} bytes"
    return LineError(1, f"the file is larger than the upload limit of {limit}; split it")


# --- Step 2: checking rows -----------------------------------------------------------------------


class _Bad(Exception):
    """One problem with one value; collected, never raised out of this module."""


def _shown(value: str, limit: int = 60) -> str:
    value = value.strip()
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return f"\u201c{value}\u201d"


def _clean_email(raw: str) -> str:
    """A valid email, normalised and in lower case (raises _Bad with a readable reason)."""
    text = raw.strip()
    if not text:
        raise _Bad("the email is empty")
    if len(text) > MAX_EMAIL_LENGTH:
        raise _Bad(f"the email is longer than {MAX_EMAIL_LENGTH} characters")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise _Bad(f"{_shown(text)} is not a valid email address: {exc}") from None
    return result.normalized.lower()


# Addresses of the everyday shape: an ASCII local part of letters, digits, dots and _%+- (no
# leading, trailing or doubled dot) and an ASCII domain. For these, email_validator's verdict
# depends only on the domain, so the domain is checked once by email_validator itself and every
# later address at it only needs this pattern. Anything else gets the full check every time.
_PLAIN_EMAIL = re.compile(r"([A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)@([A-Za-z0-9.-]+)")
_MAX_LOCAL_PART = 64


class _EmailChecker:
    """_clean_email with a per-domain memo (100,000 addresses at one domain: one domain check)."""

    def __init__(self) -> None:
        self._good_domains: set[str] = set()

    def clean(self, text: str) -> str:
        match = _PLAIN_EMAIL.fullmatch(text)
        if match is not None and len(text) <= MAX_EMAIL_LENGTH:
            local, domain = match.groups()
            if len(local) <= _MAX_LOCAL_PART and domain.lower() in self._good_domains:
                return text.lower()
        address = _clean_email(text)
        if match is not None and address == text.lower():
            # Only when normalising changed nothing but case, so the shortcut gives the same
            # answer as the full check.
            self._good_domains.add(match.group(2).lower())
        return address


def _clean_name(raw: str) -> str:
    # Runs of spaces, tabs or line breaks become one space, as when staff accounts are created.
    name = " ".join(raw.split())
    if not name:
        raise _Bad("the name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise _Bad(f"the name is longer than {MAX_NAME_LENGTH} characters")
    if _CONTROL.search(name):
        raise _Bad("the name contains a control character")
    return name


def team_key(name: str) -> str:
    """How team names are compared: spaces collapsed, case ignored."""
    return " ".join(name.split()).casefold()


def _parse_team_path(raw: str) -> tuple[TeamKey, str]:
    """A team path such as "Acme/Engineering/Platform" as (key, cleaned label)."""
    text = raw.strip()
    if not text:
        raise _Bad("the team is empty")
    names = [" ".join(part.split()) for part in text.split("/")]
    if any(not name for name in names):
        raise _Bad(
            f"the team path {_shown(text)} has an empty team name "
            "(look for \u201c//\u201d or a \u201c/\u201d at the start or end)"
        )
    for name in names:
        if len(name) > MAX_TEAM_NAME_LENGTH:
            raise _Bad(
                f"the team name {_shown(name)} is longer than {MAX_TEAM_NAME_LENGTH} characters"
            )
        if _CONTROL.search(name):
            raise _Bad(f"the team name {_shown(name)} contains a control character")
    if len(names) > MAX_TEAM_DEPTH:
        raise _Bad(f"the team path {_shown(text)} is more than {MAX_TEAM_DEPTH} levels deep")
    key = tuple(n.casefold() for n in names)
    seen: set[str] = set()
    for name, part in zip(names, key, strict=True):
        if part in seen:
            raise _Bad(
                f"the team path {_shown(text)} would put a team inside itself "
                f"({_shown(name)} appears twice)"
            )
        seen.add(part)
    return key, "/".join(names)


def check_rows(parsed: ParsedCsv, *, progress: Progress | None = None) -> CheckedFile:
    """Validate every row; rows with any problem are left out and their problems listed."""
    checked = CheckedFile(
        columns=parsed.columns,
        rows=[],
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
        emails={},
        team_labels={},
    )
    checker = _EmailChecker()
    email_cache: dict[str, str | _Bad] = {}
    team_cache: dict[str, TeamKey | _Bad] = {}

    def email(raw: str) -> str:
        # Manager emails repeat many times; validating each distinct value once saves seconds.
        key = raw.strip()
        found = email_cache.get(key)
        if found is None:
            try:
                found = checker.clean(key)
            except _Bad as exc:
                found = exc
            email_cache[key] = found
        if isinstance(found, _Bad):
            raise found
        return found

    def team(raw: str, what: str) -> TeamKey:
        # A file names a few thousand teams for a hundred thousand people: parse each path once.
        found = team_cache.get(raw)
        if found is None:
            try:
                key, label = _parse_team_path(raw)
            except _Bad as exc:
                found = exc
            else:
                found = key
                names = label.split("/")
                for depth in range(1, len(key) + 1):
                    checked.team_labels.setdefault(key[:depth], "/".join(names[:depth]))
            team_cache[raw] = found
        if isinstance(found, _Bad):
            raise _Bad(f"{what}: {found}")
        return found

    done = 0
    for raw in parsed.rows:
        row, problems = _check_row(raw, email, team, checked.emails)
        if problems:
            checked.errors.extend(LineError(raw.line, p) for p in problems)
        elif row is not None:
            checked.rows.append(row)
        done += 1
        if progress is not None and done % _PROGRESS_EVERY == 0:
            progress(_PROGRESS_EVERY)
    if progress is not None and done % _PROGRESS_EVERY:
        progress(done % _PROGRESS_EVERY)
    return checked


def _check_row(
    raw: RawRow,
    email: Callable[[str], str],
    team: Callable[[str, str], TeamKey],
    seen: dict[str, int],
) -> tuple[ImportRow | None, list[str]]:
    """One row checked field by field, so every problem on the line is reported at once."""
    values = raw.values
    problems: list[str] = []

    def attempt(check: Callable[[], T]) -> T | None:
        try:
            return check()
        except _Bad as exc:
            problems.append(str(exc))
            return None

    address = attempt(lambda: email(values["email"]))
    name = attempt(lambda: _clean_name(values["name"]))
    team_path = attempt(lambda: team(values["team"], "team"))
    role = attempt(lambda: _parse_role(values.get("role", "")))
    manages = attempt(lambda: _parse_manages(values.get("manages", ""), team))
    manager = attempt(lambda: _parse_manager(values.get("manager_email", ""), email))

    if address is not None:
        first = seen.get(address)
        if first is not None:
            problems.append(
                f"{address} already appears on line {first} "
                "(emails are compared without regard to upper and lower case)"
            )
        else:
            seen[address] = raw.line
        if manager == address:
            problems.append(f"{address} is named as their own line manager")
    if role is Role.EMPLOYEE and manages:
        problems.append(
            "the role is employee but the manages column lists teams; "
            "leave the role blank or make it manager"
        )
    if problems or address is None or name is None or team_path is None:
        return None, problems
    row = ImportRow(
        line=raw.line,
        email=address,
        name=name,
        team=team_path,
        role=role,
        manages=manages or (),
        manager_email=manager,
    )
    return row, problems


def _parse_role(raw: str) -> Role | None:
    text = raw.strip().lower()
    if not text:
        return None
    try:
        return Role(text)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise _Bad(f"the role {_shown(raw)} is not one of {allowed}") from None


def _parse_manages(raw: str, team: Callable[[str, str], TeamKey]) -> tuple[TeamKey, ...]:
    keys: list[TeamKey] = []
    for part in raw.split(";"):
        if part.strip():
            key = team(part, "manages")
            if key not in keys:
                keys.append(key)
    return tuple(keys)


def _parse_manager(raw: str, email: Callable[[str], str]) -> str | None:
    if not raw.strip():
        return None
    try:
        return email(raw)
    except _Bad as exc:
        raise _Bad(f"manager_email: {exc}") from None


def read_people_csv(
    data: bytes, *, max_rows: int, max_bytes: int | None = None, progress: Progress | None = None
) -> CheckedFile:
    """Parse and check a file in one go."""
    return check_rows(parse_csv(data, max_rows=max_rows, max_bytes=max_bytes), progress=progress)


# --- Step 3: the plan ----------------------------------------------------------------------------


def final_role(row: ImportRow, existing: ExistingPerson | None) -> Role:
    """The role column wins; otherwise people keep theirs and whoever manages a team manages."""
    if row.role is not None:
        return row.role
    role = existing.role if existing is not None else Role.EMPLOYEE
    if row.manages and role is Role.EMPLOYEE:
        return Role.MANAGER
    return role


def plan_import(
    checked: CheckedFile,
    snapshot: DirectorySnapshot,
    *,
    deactivate_missing: bool,
    protect_ids: Collection[int] = (),
) -> ImportPlan:
    """Compare the checked rows with the directory and list every change and every error.

    `protect_ids` are never deactivated nor given another role (the HR person importing).
    """
    plan = ImportPlan(
        snapshot=snapshot,
        columns=checked.columns,
        deactivate_missing=deactivate_missing,
        row_count=len(checked.rows),
        errors=list(checked.errors),
        warnings=list(checked.warnings),
    )
    plan.team_labels = dict(checked.team_labels)
    plan.team_labels.update({key: team.label for key, team in snapshot.teams.items()})
    has_manager_column = "manager_email" in checked.columns
    has_manages_column = "manages" in checked.columns
    people = snapshot.people

    leaving: set[str] = set()
    for person in people.values():
        if person.active and person.email not in checked.emails and person.id not in protect_ids:
            leaving.add(person.email)
    plan.missing = len(leaving)

    needed_teams: set[TeamKey] = set()
    for row in checked.rows:
        for key in (row.team, *row.manages):
            needed_teams.update(key[:depth] for depth in range(1, len(key) + 1))
    plan.teams_to_create = sorted(
        (key for key in needed_teams if key not in snapshot.teams), key=lambda k: (len(k), k)
    )
    for key in plan.teams_to_create:
        # A new team under an existing one shows the parent as the directory spells it.
        own_name = plan.label(key).rsplit("/", 1)[-1]
        plan.team_labels[key] = f"{plan.label(key[:-1])}/{own_name}" if len(key) > 1 else own_name

    for row in checked.rows:
        existing = people.get(row.email)
        role = final_role(row, existing)
        if row.manager_email is not None:
            _check_manager(plan, row, checked, leaving if deactivate_missing else set())
        if existing is None:
            plan.new.append(NewPerson(row, role, plan.label(row.team)))
            continue
        if existing.id in protect_ids and role is not existing.role:
            plan.errors.append(
                LineError(
                    row.line,
                    f"this would change your own role from {existing.role.value} to "
                    f"{role.value}; ask another HR person to do that",
                )
            )
            continue
        update = _compare(plan, row, existing, role, has_manager_column, has_manages_column)
        if update is None:
            plan.unchanged += 1
        elif update.reactivate:
            plan.reactivated.append(update)
        else:
            plan.changed.append(update)

    plan.errors.extend(_manager_loops(checked, snapshot, has_manager_column))
    if deactivate_missing:
        plan.deactivated = sorted(
            (Departure(people[e].id, e, people[e].name) for e in leaving),
            key=lambda d: (d.name.casefold(), d.email),
        )
    plan.errors.sort(key=lambda e: e.line)  # stable: problems on one line keep their order
    return plan


def _check_manager(
    plan: ImportPlan, row: ImportRow, checked: CheckedFile, leaving: set[str]
) -> None:
    manager = row.manager_email
    if manager is None or manager in checked.emails:
        return
    known = plan.snapshot.people.get(manager)
    if known is None or not known.active:
        plan.errors.append(
            LineError(
                row.line,
                f"the line manager {manager} is not in this file and not an active person "
                "in the directory",
            )
        )
    elif manager in leaving:
        plan.errors.append(
            LineError(
                row.line,
                f"the line manager {manager} is not in this file, so this import would "
                "deactivate them",
            )
        )


def _compare(
    plan: ImportPlan,
    row: ImportRow,
    existing: ExistingPerson,
    role: Role,
    has_manager_column: bool,
    has_manages_column: bool,
) -> PersonUpdate | None:
    changes: list[FieldChange] = []
    fields: set[str] = set()
    if not existing.active:
        changes.append(FieldChange("status", "deactivated", "active"))
    if existing.name != row.name:
        changes.append(FieldChange("name", existing.name, row.name))
        fields.add("name")
    if existing.team != row.team:
        old = plan.label(existing.team) if existing.team is not None else NONE_SHOWN
        changes.append(FieldChange("team", old, plan.label(row.team)))
        fields.add("team")
    if existing.role is not role:
        changes.append(FieldChange("role", existing.role.value, role.value))
        fields.add("role")
    if has_manager_column and existing.line_manager_email != row.manager_email:
        changes.append(
            FieldChange(
                "line manager",
                existing.line_manager_email or NONE_SHOWN,
                row.manager_email or NONE_SHOWN,
            )
        )
        fields.add("line_manager")
    if has_manages_column and existing.managed != frozenset(row.manages):
        changes.append(
            FieldChange(
                "manages",
                _team_list(plan, existing.managed),
                _team_list(plan, row.manages),
            )
        )
        fields.add("manages")
    if not changes:
        return None
    return PersonUpdate(
        row=row,
        person_id=existing.id,
        role=role,
        changes=tuple(changes),
        fields=frozenset(fields),
        reactivate=not existing.active,
    )


def _team_list(plan: ImportPlan, keys: Collection[TeamKey]) -> str:
    labels = sorted((plan.label(k) for k in keys), key=str.casefold)
    return "; ".join(labels) or NONE_SHOWN


def _manager_loops(
    checked: CheckedFile, snapshot: DirectorySnapshot, has_manager_column: bool
) -> list[LineError]:
    """Line-manager loops (A reports to B, B reports to A) once the file is applied.

    Managers come from the file where it says so and from the directory otherwise, so a loop
    closed through someone not in the file is found too. Self-references are reported when the
    row is checked.
    """
    lines: dict[str, int] = {}
    edges: dict[str, str] = {}
    for person in snapshot.people.values():
        if person.line_manager_email is not None:
            edges[person.email] = person.line_manager_email
    for row in checked.rows:
        lines[row.email] = row.line
        if has_manager_column:
            if row.manager_email is None:
                edges.pop(row.email, None)
            else:
                edges[row.email] = row.manager_email

    errors: list[LineError] = []
    state: dict[str, int] = {}  # 1: on the current walk, 2: finished
    for start in lines:
        walk: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            following = edges.get(node)
            node = following if following != node else None
        if node is not None and state.get(node) == 1:
            loop = walk[walk.index(node) :]
            loop_lines = sorted(lines[e] for e in loop if e in lines)
            if loop_lines and len(loop) > 1:
                chain = " \u2192 ".join([*loop, loop[0]])
                where = ", ".join(str(n) for n in loop_lines)
                errors.append(
                    LineError(
                        loop_lines[0],
                        f"line managers form a loop: {chain} (lines {where})",
                    )
                )
        for visited in walk:
            state[visited] = 2
    return errors
