"""Writes for pilots: set-up with its scheduled pulses, and schedule edits before a pulse opens.

The schedule itself is computed by pure functions (`plan_waves`, `local_opening`) so the dates,
time zones and daylight-saving changes are tested without a database. Services flush, never
commit, and raise `PilotError`s (a kind of `PulseError`) named after the broken rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.models import Person, Team
from pulse.pilots.models import Arm, Phase, Pilot, PilotPulse, PilotTeam
from pulse.surveys import services as surveys
from pulse.surveys.models import Pulse
from pulse.surveys.services import DEFAULT_K, DEFAULT_K_COMMENTS, PulseError, PulseFrozen

OPENING_TIME = time(9, 0)  # pulses open at 09:00 local time: people see them at the start of a day
CADENCES = (1, 2, 4)
MAX_OPEN_DAYS = 28
MAX_BASELINES = 6
# Dates a person could mean: also keeps date arithmetic (baselines before the start, pulses after
# it) far from the ends of the calendar. Two years of weekly pulses is already 104 pulses.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_LENGTH = timedelta(days=2 * 365 + 1)
DEFAULT_SET = "builtin:four_day_week"
PHASE_LABELS = {Phase.BASELINE: "Baseline", Phase.DURING: "During", Phase.FINAL: "Final"}


class PilotError(PulseError):
    """A pilot rule was broken; the message is shown to the user as it is."""

    @property
    def problems(self) -> list[str]:
        return [str(self)]


class PilotSetupInvalid(PilotError):
    """Several set-up rules were broken at once; each message is listed."""

    def __init__(self, errors: Sequence[PilotError]) -> None:
        super().__init__(" ".join(str(e) for e in errors))
        self.errors = list(errors)

    @property
    def problems(self) -> list[str]:
        return [str(e) for e in self.errors]


class DatesOutOfRange(PilotError):
    pass


class PilotTooLong(PilotError):
    pass


class EndNotAfterStart(PilotError):
    pass


class BaselinesTooLate(PilotError):
    """The first baseline pulse would open in the past."""


class UnknownCadence(PilotError):
    pass


class InvalidOpenDays(PilotError):
    pass


class InvalidBaselines(PilotError):
    pass


class UnknownTimezone(PilotError):
    pass


class NoPilotTeams(PilotError):
    pass


class TeamInBothArms(PilotError):
    pass


class NestedTeams(PilotError):
    """Two chosen teams overlap: one lies inside the other's subtree."""


class DuplicatePilotName(PilotError):
    pass


class EmptyPilotName(PilotError):
    pass


class PhaseOutOfWindow(PilotError):
    """A pulse's date does not fit its phase (a baseline after the start, ...)."""


class FinalPulseRequired(PilotError):
    pass


class LastBaseline(PilotError):
    pass


class NotInPilot(PilotError):
    pass


# --- Pure schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wave:
    """One planned pulse: its phase, its number within the phase and the day it opens."""

    phase: Phase
    number: int
    day: date

    @property
    def label(self) -> str:
        name = PHASE_LABELS[self.phase]
        return name if self.phase is Phase.FINAL else f"{name} {self.number}"


def plan_waves(
    starts_on: date, ends_on: date, *, baseline_pulses: int, cadence_weeks: int, open_days: int
) -> list[Wave]:
    """Every pulse of a pilot in time order.

    Baselines come one cadence apart (at least a week), the last one a cadence before the start;
    pulses during the pilot come every cadence after the start as long as they close before the
    final pulse opens on the end date.
    """
    step = timedelta(weeks=max(cadence_weeks, 1))
    waves = [
        Wave(Phase.BASELINE, i, starts_on - step * (baseline_pulses - i + 1))
        for i in range(1, baseline_pulses + 1)
    ]
    day, number = starts_on + step, 1
    while day + timedelta(days=open_days) <= ends_on:
        waves.append(Wave(Phase.DURING, number, day))
        day, number = day + step, number + 1
    waves.append(Wave(Phase.FINAL, 1, ends_on))
    return waves


def local_opening(day: date, zone: ZoneInfo, at: time = OPENING_TIME) -> datetime:
    """`at` on `day` as a wall clock in `zone`, in UTC (daylight saving handled by the zone)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def window(day: date, open_days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(opens_at, closes_at) in UTC: 09:00 local on `day` until 09:00 local `open_days` later."""
    return local_opening(day, zone), local_opening(day + timedelta(days=open_days), zone)


def earliest_start(
    now: datetime, zone: ZoneInfo, *, baseline_pulses: int, cadence_weeks: int
) -> date:
    """The first start date whose first baseline still opens in the future."""
    local_now = now.astimezone(zone)
    first = local_now.date()
    if local_opening(first, zone) <= now:
        first += timedelta(days=1)
    return first + timedelta(weeks=max(cadence_weeks, 1) * baseline_pulses)


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezone(f"{name!r} is not a time zone Pulse knows.") from exc


def overlapping_teams(
    pilot_teams: Sequence[Team], comparison_teams: Sequence[Team]
) -> list[PilotError]:
    """Teams chosen twice, or inside another chosen team: units must be disjoint subtrees."""
    errors: list[PilotError] = []
    pilot_ids = {t.id for t in pilot_teams}
    both = [t for t in comparison_teams if t.id in pilot_ids]
    for team in both:
        errors.append(
            TeamInBothArms(f"{_name(team)} is both a pilot and a comparison team; choose one.")
        )
    chosen = {t.id: t for t in [*pilot_teams, *comparison_teams]}
    for team in sorted(chosen.values(), key=lambda t: t.path):
        for other in chosen.values():
            if other.id != team.id and team.path.startswith(other.path):
                errors.append(
                    NestedTeams(
                        f"{_name(team)} lies inside {_name(other)}, which is also chosen. "
                        "Each team counts with every team below it, so choose one of them."
                    )
                )
    return errors


def _name(team: Team) -> str:
    return f"\u201c{team.name}\u201d"


# --- Set-up -------------------------------------------------------------------------------------


def check_setup(
    *,
    name: str,
    starts_on: date,
    ends_on: date,
    pilot_teams: Sequence[Team],
    comparison_teams: Sequence[Team],
    baseline_pulses: int,
    cadence_weeks: int,
    open_days: int,
    timezone: str,
    now: datetime,
) -> list[PilotError]:
    """Every set-up rule the values break (empty when they are fine)."""
    errors: list[PilotError] = []
    clean = " ".join(name.split())
    if not clean:
        errors.append(EmptyPilotName("Give the pilot a name."))
    elif db.session.scalar(
        select(func.count()).select_from(Pilot).where(func.lower(Pilot.name) == clean.lower())
    ):
        errors.append(DuplicatePilotName(f"There is already a pilot called {clean!r}."))
    if not (starts_on.year >= EARLIEST_YEAR and ends_on.year <= LATEST_YEAR):
        errors.append(DatesOutOfRange(f"Choose dates between {EARLIEST_YEAR} and {LATEST_YEAR}."))
        return errors
    if ends_on <= starts_on:
        errors.append(EndNotAfterStart("The end date must be after the start date."))
    elif ends_on - starts_on > MAX_LENGTH:
        errors.append(
            PilotTooLong(
                f"A pilot can run for at most {MAX_LENGTH.days // 365} years; split a longer "
                "trial into pilots of its own."
            )
        )
    if cadence_weeks not in CADENCES:
        errors.append(UnknownCadence("Choose a pulse every week, every 2 weeks or every 4 weeks."))
    if not 1 <= baseline_pulses <= MAX_BASELINES:
        errors.append(
            InvalidBaselines(f"Choose from 1 to {MAX_BASELINES} baseline pulses (2 recommended).")
        )
    if not 1 <= open_days <= min(MAX_OPEN_DAYS, 7 * max(cadence_weeks, 1)):
        errors.append(
            InvalidOpenDays(
                f"Each pulse must stay open from 1 to {7 * max(cadence_weeks, 1)} days, so "
                "that it closes before the next one opens."
            )
        )
    if not pilot_teams:
        errors.append(NoPilotTeams("Choose at least one pilot team."))
    errors.extend(overlapping_teams(pilot_teams, comparison_teams))
    try:
        zone = zone_of(timezone)
    except UnknownTimezone as exc:
        errors.append(exc)
        return errors
    if cadence_weeks in CADENCES and 1 <= baseline_pulses <= MAX_BASELINES:
        first = starts_on - timedelta(weeks=cadence_weeks * baseline_pulses)
        if local_opening(first, zone) <= now:
            earliest = earliest_start(
                now, zone, baseline_pulses=baseline_pulses, cadence_weeks=cadence_weeks
            )
            errors.append(
                BaselinesTooLate(
                    f"The {baseline_pulses} baseline "
                    f"{'pulse needs' if baseline_pulses == 1 else 'pulses need'} "
                    f"{cadence_weeks * baseline_pulses} weeks before the start, and the first "
                    f"would open in the past. The earliest start date that works is "
                    f"{earliest.isoformat()} (or choose fewer baselines or a shorter cadence)."
                )
            )
    return errors


def create_pilot(
    *,
    name: str,
    hypothesis: str,
    starts_on: date,
    ends_on: date,
    pilot_teams: Sequence[Team],
    comparison_teams: Sequence[Team] = (),
    now: datetime,
    actor: Person | None,
    set_ref: str = DEFAULT_SET,
    baseline_pulses: int = 2,
    cadence_weeks: int = 2,
    open_days: int = 7,
    timezone: str = "UTC",
    min_group: int = DEFAULT_K,
    min_comment_group: int = DEFAULT_K_COMMENTS,
) -> Pilot:
    """A pilot, its two arms and one scheduled pulse per wave (see `plan_waves`)."""
    errors = check_setup(
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        pilot_teams=pilot_teams,
        comparison_teams=comparison_teams,
        baseline_pulses=baseline_pulses,
        cadence_weeks=cadence_weeks,
        open_days=open_days,
        timezone=timezone,
        now=now,
    )
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise PilotSetupInvalid(errors)
    surveys.check_thresholds(min_group, min_comment_group)
    pilot = Pilot(
        name=" ".join(name.split())[:120],
        hypothesis=hypothesis.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        timezone=timezone,
        set_ref=set_ref,
        cadence_weeks=cadence_weeks,
        baseline_pulses=baseline_pulses,
        open_days=open_days,
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        teams=[PilotTeam(team_id=t.id, arm=Arm.PILOT) for t in pilot_teams]
        + [PilotTeam(team_id=t.id, arm=Arm.COMPARISON) for t in comparison_teams],
    )
    db.session.add(pilot)
    db.session.flush()
    zone = zone_of(timezone)
    audience = [*pilot_teams, *comparison_teams]
    waves = plan_waves(
        starts_on,
        ends_on,
        baseline_pulses=baseline_pulses,
        cadence_weeks=cadence_weeks,
        open_days=open_days,
    )
    for position, wave in enumerate(waves, start=1):
        opens_at, closes_at = window(wave.day, open_days, zone)
        pulse = surveys.create_pulse(
            title=f"{pilot.name} \u00b7 {wave.label}",
            set_ref=set_ref,
            teams=audience,
            now=now,
            actor=actor,
            min_group=min_group,
            min_comment_group=min_comment_group,
            opens_at=opens_at,
            closes_at=closes_at,
        )
        db.session.add(
            PilotPulse(pulse_id=pulse.id, pilot_id=pilot.id, phase=wave.phase, position=position)
        )
    db.session.flush()
    audit.record(
        "pilot.create",
        actor=actor,
        now=now,
        target=f"pilot:{pilot.id}",
        detail={
            "name": pilot.name,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "pilot_teams": [t.id for t in pilot_teams],
            "comparison_teams": [t.id for t in comparison_teams],
            "pulses": len(waves),
            "set": set_ref,
        },
    )
    return pilot


# --- Schedule edits -----------------------------------------------------------------------------


def pilot_pulse(pilot: Pilot, pulse_id: int) -> PilotPulse:
    """The pilot's link to one of its pulses (NotInPilot for any other pulse)."""
    for link in pilot.pulses:
        if link.pulse_id == pulse_id:
            return link
    raise NotInPilot("That pulse is not part of this pilot.")


def _refuse_if_opened(pulse: Pulse, now: datetime) -> None:
    # A pulse past its opening time may be opened by the next tick at any moment, so it is
    # treated as opened even before its invitations exist.
    if pulse.is_frozen or (pulse.opens_at is not None and pulse.opens_at <= now):
        raise PulseFrozen(
            f"{pulse.title!r} has already opened, so its schedule can no longer change."
        )


def check_phase_day(pilot: Pilot, phase: Phase, day: date) -> None:
    """Baselines before the start, pulses during from the start to before the end, the final
    on or after the end: otherwise the report would compare the wrong things."""
    if phase is Phase.BASELINE and day >= pilot.starts_on:
        raise PhaseOutOfWindow(
            f"A baseline pulse must open before the pilot starts on {pilot.starts_on.isoformat()}."
        )
    if phase is Phase.DURING and not pilot.starts_on <= day < pilot.ends_on:
        raise PhaseOutOfWindow(
            f"A pulse during the pilot must open from {pilot.starts_on.isoformat()} to the day "
            f"before it ends on {pilot.ends_on.isoformat()}."
        )
    if phase is Phase.FINAL and day < pilot.ends_on:
        raise PhaseOutOfWindow(
            f"The final pulse must open on or after the end date, {pilot.ends_on.isoformat()}."
        )


def _renumber(pilot: Pilot) -> None:
    far = datetime.max.replace(tzinfo=UTC)
    links = sorted(pilot.pulses, key=lambda link: (link.pulse.opens_at or far, link.pulse_id))
    for position, link in enumerate(links, start=1):
        link.position = position


def move_pulse(
    pilot: Pilot,
    pulse_id: int,
    *,
    opens_at: datetime,
    closes_at: datetime | None = None,
    now: datetime,
    actor: Person | None,
) -> Pulse:
    """Move an unopened pulse; without a new closing time it stays open as long as before."""
    link = pilot_pulse(pilot, pulse_id)
    pulse = link.pulse
    _refuse_if_opened(pulse, now)
    if closes_at is None:
        length = (
            pulse.closes_at - pulse.opens_at
            if pulse.opens_at is not None and pulse.closes_at is not None
            else timedelta(days=pilot.open_days)
        )
        closes_at = opens_at + length
    if opens_at <= now:
        raise surveys.InvalidSchedule("The new opening time must be in the future.")
    check_phase_day(pilot, link.phase, opens_at.astimezone(zone_of(pilot.timezone)).date())
    surveys.schedule_pulse(pulse, opens_at=opens_at, closes_at=closes_at, now=now, actor=actor)
    _renumber(pilot)
    audit.record(
        "pilot.pulse_move",
        actor=actor,
        now=now,
        target=f"pilot:{pilot.id}",
        detail={"pulse": pulse.id, "opens_at": opens_at.isoformat()},
    )
    db.session.flush()
    return pulse


def skip_pulse(pilot: Pilot, pulse_id: int, *, now: datetime, actor: Person | None) -> str:
    """Delete an unopened pulse from the schedule; returns its title."""
    link = pilot_pulse(pilot, pulse_id)
    pulse = link.pulse
    _refuse_if_opened(pulse, now)
    if link.phase is Phase.FINAL:
        raise FinalPulseRequired("The final pulse cannot be skipped; move it instead.")
    if link.phase is Phase.BASELINE and sum(p.phase is Phase.BASELINE for p in pilot.pulses) <= 1:
        raise LastBaseline(
            "This is the only baseline pulse left; without one the report has nothing to "
            "compare with. Move it instead."
        )
    title = pulse.title
    pilot.pulses.remove(link)
    db.session.delete(link)
    db.session.flush()
    db.session.delete(pulse)
    _renumber(pilot)
    audit.record(
        "pilot.pulse_skip",
        actor=actor,
        now=now,
        target=f"pilot:{pilot.id}",
        detail={"pulse": pulse_id, "title": title},
    )
    db.session.flush()
    return title


def add_pulse(
    pilot: Pilot, *, phase: Phase, day: date, now: datetime, actor: Person | None
) -> Pulse:
    """One more pulse in a phase, opening at 09:00 on `day` in the pilot's time zone."""
    if phase is Phase.FINAL and any(p.phase is Phase.FINAL for p in pilot.pulses):
        raise FinalPulseRequired("The pilot already has a final pulse; move it instead.")
    check_phase_day(pilot, phase, day)
    zone = zone_of(pilot.timezone)
    opens_at, closes_at = window(day, pilot.open_days, zone)
    if opens_at <= now:
        raise surveys.InvalidSchedule("The new pulse must open in the future.")
    template = next((link.pulse for link in pilot.pulses), None)
    number = sum(p.phase is phase for p in pilot.pulses) + 1
    label = Wave(phase, number, day).label
    pulse = surveys.create_pulse(
        title=f"{pilot.name} \u00b7 {label}",
        set_ref=pilot.set_ref,
        teams=[pt.team for pt in pilot.teams],
        now=now,
        actor=actor,
        min_group=template.min_group if template else DEFAULT_K,
        min_comment_group=template.min_comment_group if template else DEFAULT_K_COMMENTS,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    link = PilotPulse(pulse_id=pulse.id, pilot_id=pilot.id, phase=phase, position=0)
    link.pulse = pulse
    pilot.pulses.append(link)
    _renumber(pilot)
    audit.record(
        "pilot.pulse_add",
        actor=actor,
        now=now,
        target=f"pilot:{pilot.id}",
        detail={"pulse": pulse.id, "phase": phase.value, "day": day.isoformat()},
    )
    db.session.flush()
    return pulse
