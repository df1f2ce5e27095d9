"""Demo follow-up actions: what managers did about the demo's results, in every state.

The actions follow the stories of the demo pulses (pulses.py): Customer Support staffed its late
shift after burnout peaked and Logistics changed how it plans routes after a heavy quarter, and
the next pulse shows both changes; Sales works on trust, one action is overdue and one is due in
two days, one is for the whole organisation, one was dropped with its reason, and one is not
shown to employees yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from pulse.actions.models import Action, ActionStatus, ActionUpdate
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.surveys.models import Pulse

P, W, D, X = (
    ActionStatus.PLANNED,
    ActionStatus.IN_PROGRESS,
    ActionStatus.DONE,
    ActionStatus.DROPPED,
)


@dataclass(frozen=True)
class Step:
    """A timeline entry `days` after (negative: before) now; a status change when `to` is set."""

    days: int
    note: str
    to: ActionStatus | None = None
    visible: bool = True


@dataclass(frozen=True)
class Plan:
    team: str | None  # None: the whole organisation
    pulse: int | str  # index of the quarterly pulse, or "pilot" for the pilot's last pulse
    dimension: str
    source: str
    title: str
    description: str
    outcome: str
    due_in_days: int
    steps: tuple[Step, ...]
    visible: bool = True
    drop_reason: str | None = None


PLANS: tuple[Plan, ...] = (
    Plan(
        "Customer Support",
        2,
        "burnout",
        "dashboard",
        "Staff the late shift with two more people",
        "Hire two people for the late shift so the queue is covered until 10 pm and nobody "
        "works two shifts in a row.",
        "wellbeing",
        -120,
        (
            Step(
                -165,
                "Burnout was at its highest in this pulse; the late shift came up in "
                "most comments.",
            ),
            Step(-150, "Two vacancies posted; the budget is approved.", W),
            Step(-140, "Shortlist of four candidates, one internal move possible.", visible=False),
            Step(-125, "Both new colleagues started on the late shift this week.", D),
        ),
    ),
    Plan(
        "Logistics",
        1,
        "workload",
        "heatmap",
        "Plan the week's routes on Friday, not on Monday morning",
        "Drivers get their routes for the next week by Friday noon, so Monday starts without "
        "a scramble and nobody stays late to re-plan.",
        "productivity",
        -220,
        (
            Step(-255, "Agreed in the team meeting after the pulse."),
            Step(-240, "Trial with two depots.", W),
            Step(-215, "All depots plan on Fridays now.", D),
        ),
    ),
    Plan(
        "Mobile",
        2,
        "empowerment",
        "dashboard",
        "Let the team set its own sprint goals",
        "Product sets the quarter's outcomes; the team chooses the sprint goals that get there.",
        "productivity",
        -130,
        (
            Step(-160, "Proposed at the retro."),
            Step(-150, "First sprint with team-chosen goals.", W),
            Step(-128, "Kept after three sprints.", D),
        ),
    ),
    Plan(
        "EMEA",
        3,
        "trust",
        "comments",
        "Explain the new commission plan in an open Q&A",
        "The sales director walks through the plan, the reasons for it and what it means "
        "for each territory, and answers every question, including anonymous ones.",
        "retention",
        2,
        (
            Step(-70, "Many comments say the plan came without explanation."),
            Step(-40, "Date set; questions can be sent in anonymously beforehand.", W),
        ),
    ),
    Plan(
        "Americas",
        3,
        "heard",
        "dashboard",
        "Monthly round table with the sales director",
        "An hour a month, no slides: the team brings the topics.",
        "retention",
        -5,
        (
            Step(-70, "Logged after the pulse."),
            Step(-50, "First round table held; the next two are in the calendar.", W),
        ),
    ),
    Plan(
        "Americas",
        3,
        "trust",
        "comments",
        "Publish the CRM roadmap, including what was dropped",
        "Say which promised features are coming, when, and which are not coming and why.",
        "productivity",
        12,
        (Step(-60, "Waiting for the vendor's dates before publishing."),),
    ),
    Plan(
        None,
        3,
        "heard",
        "actions",
        "Share leadership decisions with their reasons",
        "Every decision of the leadership meeting goes on the intranet within a week, with "
        "the reasons and who was asked.",
        "retention",
        30,
        (
            Step(-72, "Several teams feel decisions are made without them."),
            Step(-45, "The first six decisions are published.", W),
        ),
    ),
    Plan(
        "Platform",
        2,
        "psych_safety",
        "heatmap",
        "Blameless reviews after every incident",
        "A written review without names after each incident, shared with the whole team.",
        "quality",
        -100,
        (
            Step(-160, "Logged after the pulse."),
            Step(-110, "Dropped in favour of the engineering-wide format.", X),
        ),
        drop_reason="Replaced by the engineering-wide incident review that every team now uses.",
    ),
    Plan(
        "Finance",
        3,
        "wellbeing",
        "dashboard",
        "A temporary hire for the month-end close",
        "Extra help in the last week of each month while the new reporting tool beds in.",
        "wellbeing",
        25,
        (Step(-30, "Not shown to the team until the budget is agreed.", visible=False),),
        visible=False,
    ),
    Plan(
        "Customer Support",
        "pilot",
        "workload",
        "pilot",
        "Phone cover on the day off",
        "A rota across both shifts so the phones are covered on every team member's day off.",
        "customer_experience",
        20,
        (Step(-1, "Raised in the pilot pulse: the day off is hard to take in busy weeks."),),
    ),
)


def build_demo_actions(
    *, now: datetime, quarterly: list[Pulse], pilot_pulse: Pulse | None, leader: Person | None
) -> list[Action]:
    """Create the demo's actions with their timelines. Flushes."""
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    hr = db.session.scalar(select(Person).where(Person.role == Role.HR).order_by(Person.id))
    actions = []
    for plan in PLANS:
        team = teams[plan.team] if plan.team is not None else None
        owner = team.managers[0] if team is not None and team.managers else leader
        # HR logs the organisation-wide action; managers log their own teams'.
        creator = owner if team is not None else hr
        pulse = pilot_pulse if plan.pulse == "pilot" else quarterly[int(plan.pulse)]
        created = now + timedelta(days=plan.steps[0].days)
        status = next((s.to for s in reversed(plan.steps) if s.to is not None), P)
        done = next((s for s in plan.steps if s.to is D), None)
        action = Action(
            team_id=team.id if team is not None else None,
            pulse_id=pulse.id if pulse is not None else None,
            dimension=plan.dimension,
            source=plan.source,
            title=plan.title,
            description=plan.description,
            outcome=plan.outcome,
            owner_id=owner.id if owner is not None else None,
            due_on=(now + timedelta(days=plan.due_in_days)).date(),
            status=status,
            drop_reason=plan.drop_reason,
            visible=plan.visible,
            completed_on=(now + timedelta(days=done.days)).date() if done else None,
            created_at=created,
            created_by_id=creator.id if creator is not None else None,
            updated_at=now + timedelta(days=plan.steps[-1].days),
        )
        previous = P  # logging an action puts it in the plan without a timeline entry
        for step in plan.steps:
            action.updates.append(
                ActionUpdate(
                    at=now + timedelta(days=step.days),
                    author_id=action.owner_id,
                    note=step.note,
                    status_from=previous if step.to is not None else None,
                    status_to=step.to,
                    visible=step.visible,
                )
            )
            previous = step.to or previous
        actions.append(action)
    db.session.add_all(actions)
    db.session.flush()
    return actions
