"""Build the demo organisation: 188 people in 19 teams over 3 levels, with staff logins, a year
of pulses, a four-day-week pilot and follow-up actions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from pulse.actions.models import Action
from pulse.audit import services as audit
from pulse.auth.passwords import hash_password
from pulse.demo.actions import build_demo_actions
from pulse.demo.pilot import PILOT_NAME, build_demo_pilot
from pulse.demo.pulses import build_demo_pulses
from pulse.extensions import db
from pulse.org.links import team_token
from pulse.org.models import Person, Role, Team
from pulse.org.services import ensure_team_path
from pulse.pilots.models import Pilot

DEMO_PASSWORD = "pulse-demo-2026"  # noqa: S105 (documented demo login, refused in production)
DOMAIN = "acme.example"

# (team path, head count including its manager). Sizes vary on purpose: later features show
# that small teams are suppressed to protect anonymity (HR's 5 people answer 4 at a time, below
# k = 5; Finance and Data are below k_c = 10 for comments). The heads of the four departments
# sit in the leadership team at the top, as they would, so a department has no people of its
# own: its results are exactly those of its teams, and a small remainder of 1 or 2 people does
# not force one of its teams to be hidden (DESIGN.md, no differencing).
TEAMS: list[tuple[str, int]] = [
    ("Acme", 9),
    ("Acme/Engineering", 1),
    ("Acme/Engineering/Platform", 17),
    ("Acme/Engineering/Mobile", 13),
    ("Acme/Engineering/Data", 10),
    ("Acme/Sales", 1),
    ("Acme/Sales/EMEA", 19),
    ("Acme/Sales/Americas", 16),
    ("Acme/Operations", 1),
    ("Acme/Operations/Customer Support", 25),
    ("Acme/Operations/Logistics", 22),
    ("Acme/People & Finance", 1),
    ("Acme/People & Finance/Finance", 9),
    ("Acme/People & Finance/HR", 5),
    # Four stores, enough people each to be units of the four-day-week pilot (pilot.py).
    ("Acme/Stores", 1),
    ("Acme/Stores/Berlin", 10),
    ("Acme/Stores/Hamburg", 10),
    ("Acme/Stores/Munich", 9),
    ("Acme/Stores/Cologne", 9),
]
LEADERSHIP = "Acme"
# The team whose "You said, we did" page the demo printout links to.
YOU_SAID_TEAM = "Customer Support"


FIRST_NAMES = """
Aisha Ben Carla Dmitri Elena Farid Grace Hiro Ines Jonas Kemi Liam Mei Nikolai Olivia
Pablo Quinn Rosa Samir Tara Umar Vera Wen Ximena Yusuf Zoe Amara Bruno Chloe Diego Esme Felix
Greta Hamza Ivy Jamal Kira Lucas Maya Noah Omar Priya Rafael Sofia Theo Uma Victor Willa Yara
Zain Anya Caleb Dara Emil Freya Gideon Hana Idris Juno Kai Lena Mateo Nia Oscar
""".split()
LAST_NAMES = """
Okafor Lindqvist Moreau Petrov Rossi Haddad Nakamura Costa Schmidt Adeyemi Murphy Chen
Ivanova Brennan Garcia Novak Kowalski Santos Ahmed Fischer Tanaka Silva Dubois Jensen Kaur
Mensah O'Brien Varga Yilmaz Romero Bauer Nilsen Ferreira Laine Hussain Walsh Duarte Park
""".split()


@dataclass
class DemoLogin:
    role: Role
    name: str
    email: str
    scope: str


@dataclass
class DemoResult:
    people: int = 0
    teams: int = 0
    responses: int = 0
    closed_pulses: int = 0
    logins: list[DemoLogin] = field(default_factory=list)
    pilot_id: int | None = None
    pilot_name: str | None = None
    actions: int = 0


def has_people() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Person)))


def staff_logins() -> list[DemoLogin]:
    """The staff accounts that can sign in, for printing after the demo loads."""
    staff = db.session.scalars(
        select(Person)
        .where(Person.role != Role.EMPLOYEE, Person.password_hash.is_not(None))
        .order_by(Person.role, Person.name)
    ).all()
    order = {Role.HR: 0, Role.LEADER: 1, Role.MANAGER: 2}
    logins = [
        DemoLogin(p.role, p.name, p.email, ", ".join(t.name for t in p.managed_teams) or "all")
        for p in staff
    ]
    return sorted(logins, key=lambda login: (order.get(login.role, 9), login.name))


@dataclass(frozen=True)
class DemoStory:
    """What the demo printout points to besides logins: the pilot's report and actions."""

    pilot_id: int | None
    pilot_name: str | None
    actions: int
    you_said_team: str | None
    you_said_token: str | None


def demo_story(secret_key: str) -> DemoStory:
    """The demo pilot, the number of actions, and the team whose "You said, we did" page the
    printout links to (the team with the demo's clearest finished action)."""
    pilot = db.session.scalar(select(Pilot).where(Pilot.name == PILOT_NAME))
    actions = db.session.scalar(select(func.count()).select_from(Action)) or 0
    team = db.session.scalar(select(Team).where(Team.name == YOU_SAID_TEAM))
    return DemoStory(
        pilot.id if pilot is not None else None,
        pilot.name if pilot is not None else None,
        actions,
        team.name if team is not None else None,
        team_token(team.id, secret_key) if team is not None else None,
    )


def build_demo(
    *, now: datetime, password_method: str, secret_key: str, seed: int = 2026
) -> DemoResult:
    """Create the demo organisation. Flushes; the caller commits."""
    rng = random.Random(seed)
    names = _unique_names(rng, sum(size for _, size in TEAMS))
    password_hash = hash_password(DEMO_PASSWORD, password_method)
    result = DemoResult()
    cache: dict[tuple[int | None, str], Team] = {}
    manager_of: dict[str, Person] = {}
    members_of: dict[str, list[Person]] = {}
    team_at: dict[str, Team] = {}

    for path, size in TEAMS:
        parts = path.split("/")
        team = ensure_team_path(parts, now=now, cache=cache)
        team_at[path] = team
        result.teams += 1
        parent_manager = manager_of.get("/".join(parts[:-1]))
        # Department heads belong to the leadership team; everyone else to the team they lead.
        home = team_at[LEADERSHIP] if len(parts) == 2 else team
        lead = _person(names.pop(), home, Role.MANAGER, now, parent_manager)
        lead.password_hash = password_hash
        lead.managed_teams = [team]
        manager_of[path] = lead
        members = [lead]
        for _ in range(size - 1):
            members.append(_person(names.pop(), team, Role.EMPLOYEE, now, lead))
        db.session.add_all(members)
        members_of[path] = members
        result.people += len(members)

    # The head of the root team is the organisation's leader; one HR person gets an HR login.
    ceo = manager_of["Acme"]
    ceo.role = Role.LEADER
    ceo.managed_teams = []
    hr_colleague = members_of["Acme/People & Finance/HR"][1]
    hr_colleague.role = Role.HR
    hr_colleague.password_hash = password_hash
    db.session.flush()
    pulses = build_demo_pulses(now=now, secret_key=secret_key, rng=rng, root=team_at["Acme"])
    demo_pilot = build_demo_pilot(
        now=now, secret_key=secret_key, seed=seed, created_by=hr_colleague
    )
    actions = build_demo_actions(
        now=now,
        quarterly=pulses.closed,
        pilot_pulse=demo_pilot.during[-1],
        leader=ceo,
    )
    result.responses = pulses.answered_closed + pulses.answered_current + demo_pilot.answered
    result.closed_pulses = len(pulses.closed) + len(demo_pilot.baseline) + len(demo_pilot.during)
    result.pilot_id, result.pilot_name = demo_pilot.pilot.id, demo_pilot.pilot.name
    result.actions = len(actions)
    audit.record(
        "demo.load",
        actor=None,
        now=now,
        detail={"people": result.people, "teams": result.teams, "responses": result.responses},
    )
    db.session.flush()
    result.logins = staff_logins()
    return result


def _person(name: str, team: Team, role: Role, now: datetime, manager: Person | None) -> Person:
    first, last = name.split(" ", 1)
    local = f"{first}.{last}".lower().replace("'", "")
    return Person(
        email=f"{local}@{DOMAIN}",
        name=name,
        team=team,
        role=role,
        active=True,
        line_manager=manager,
        session_version=1,
        created_at=now,
    )


def _unique_names(rng: random.Random, count: int) -> list[str]:
    pairs = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    return pairs[:count]
