"""Staff accounts: signing in, passwords, session versions and set-password links.

Services flush and never commit; the caller commits, then sends any queued mail.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from pulse.audit import services as audit
from pulse.auth import passwords
from pulse.extensions import db
from pulse.org import services as org_services
from pulse.org.models import Person, Role, Team
from pulse.org.queries import person_by_email

SET_PASSWORD_SALT = "set-password"  # noqa: S105 (a signing namespace, not a secret)
STAFF_ROLES = (Role.MANAGER, Role.LEADER, Role.HR)
NAME_MAX_LENGTH = 200

# Audit actions for set-password links; /staff reads the latest one to show the link's status.
LINK_SENT = "staff.link_sent"
LINK_FAILED = "staff.link_failed"


class AuthError(Exception):
    """A rule about accounts was broken; the message is shown to the user as it is."""


class WrongPassword(AuthError):
    pass


class StaffError(AuthError):
    pass


class InvalidLink(AuthError):
    """The set-password link was altered, truncated, or belongs to no account that may use it."""


class LinkExpired(InvalidLink):
    pass


class LinkAlreadyUsed(InvalidLink):
    pass


# Signing in ---------------------------------------------------------------------------------


def authenticate(email: str, password: str, *, method: str, now: datetime) -> Person | None:
    """The account these credentials open, or None; always exactly one password hash.

    Unknown emails, employees, deactivated people and accounts without a password all cost the
    same single hash and give the same None, so neither the answer nor its timing tells an
    attacker which emails have accounts.
    """
    person = person_by_email(email)
    stored = person.password_hash if person is not None else None
    if not passwords.verify_password(stored, password, method):
        return None
    if person is None or not person.is_active:
        return None
    if stored is not None and passwords.needs_rehash(stored, method):
        # Cost parameters were raised since this hash was made: upgrade it while we can.
        person.password_hash = passwords.hash_password(password, method)
    person.last_login_at = now
    db.session.flush()
    return person


def bump_session_version(person: Person) -> None:
    """Invalidate every login cookie of `person`, remember-me cookies included."""
    person.session_version += 1
    db.session.flush()


def sign_out_everywhere(person: Person, *, now: datetime) -> None:
    bump_session_version(person)
    audit.record("auth.sign_out_everywhere", actor=person, now=now, target=f"person:{person.id}")


# Passwords ----------------------------------------------------------------------------------


def set_password(
    person: Person,
    password: str,
    *,
    method: str,
    now: datetime,
    actor: Person | None,
    action: str = "auth.password_set",
) -> None:
    """Check the policy, store the new hash and sign out every existing session."""
    passwords.check_policy(password, email=person.email)
    person.password_hash = passwords.hash_password(password, method)
    bump_session_version(person)
    audit.record(action, actor=actor, now=now, target=f"person:{person.id}")


def change_password(person: Person, current: str, new: str, *, method: str, now: datetime) -> None:
    """A signed-in person replaces their password; they must prove they know the current one."""
    # The policy check is cheap, so a rejected new password costs no hashing.
    passwords.check_policy(new, email=person.email)
    if not passwords.verify_password(person.password_hash, current, method):
        raise WrongPassword("That is not your current password.")
    if passwords.normalise(new) == passwords.normalise(current):
        raise passwords.PasswordRejected("Choose a password different from your current one.")
    set_password(person, new, method=method, now=now, actor=person, action="auth.password_change")


# Set-password links -------------------------------------------------------------------------


def _fingerprint(person: Person) -> str:
    """Changes whenever the password or the session version changes, which spends the link."""
    material = f"{person.password_hash or '-'}|{person.session_version}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def _serializer(secret_key: str, now: datetime) -> URLSafeTimedSerializer:
    stamp = int(now.timestamp())

    class _Signer(TimestampSigner):
        # Time comes from the caller's `now`, so expiry is testable without sleeping.
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(
        secret_key,
        salt=SET_PASSWORD_SALT,
        signer=_Signer,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def make_set_password_token(person: Person, *, secret_key: str, now: datetime) -> str:
    """A signed, timestamped token naming `person`; it stops working once a password is set."""
    return _serializer(secret_key, now).dumps([person.id, _fingerprint(person)])


def person_for_set_password_token(
    token: str, *, secret_key: str, max_age: timedelta, now: datetime
) -> Person:
    """The person a link is for, or LinkExpired / LinkAlreadyUsed / InvalidLink."""
    try:
        payload = _serializer(secret_key, now).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise LinkExpired("This link has expired.") from exc
    except BadSignature as exc:
        raise InvalidLink("This link is not valid.") from exc
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
    ):
        raise InvalidLink("This link is not valid.")
    person = db.session.get(Person, payload[0])
    if person is None or not person.active or not person.role.is_staff:
        raise InvalidLink("This link is not valid.")
    if not hmac.compare_digest(payload[1], _fingerprint(person)):
        raise LinkAlreadyUsed("This link has already been used.")
    return person


def record_link_outcome(person: Person, *, sent: bool, now: datetime, actor: Person | None) -> None:
    """Remember whether a set-password email went out, so HR can see failures and retry."""
    audit.record(
        LINK_SENT if sent else LINK_FAILED,
        actor=actor,
        now=now,
        target=f"person:{person.id}",
    )


def check_can_receive_link(person: Person) -> None:
    if not person.active:
        raise StaffError(f"{person.name} is deactivated; reactivate them before sending a link.")
    if not person.role.is_staff:
        raise StaffError(f"{person.name} has no staff account; employees never need a password.")


# Staff accounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffAccount:
    """The result of creating a staff account: who, and whether they were new to the directory."""

    person: Person
    created: bool

    @property
    def needs_link(self) -> bool:
        """People who already have a password keep it; everyone else gets a set-password link."""
        return self.person.password_hash is None


def clean_email(email: str) -> str:
    try:
        validated = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise StaffError(f"That email address is not valid: {exc}") from exc
    return org_services.normalise_email(validated.normalized)


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise StaffError("Enter the person's name.")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise StaffError(f"A name can be at most {NAME_MAX_LENGTH} characters.")
    return cleaned


def create_staff_account(
    *,
    email: str,
    name: str,
    role: Role,
    team: Team | None,
    manages: Sequence[Team],
    now: datetime,
    actor: Person | None,
) -> StaffAccount:
    """Create a staff account, or upgrade the person already in the directory with that email.

    An upgrade changes the role and the managed teams (and the team when they had none); the
    name and team from the directory import stay as they are.
    """
    if role not in STAFF_ROLES:
        raise StaffError("Staff accounts are for managers, leaders and HR.")
    # Someone already in the directory is found by their stored address as it is; only a new
    # address has to pass the syntax check.
    address = org_services.normalise_email(email)
    person = person_by_email(address)
    if person is None:
        address = clean_email(email)
        person = person_by_email(address)
    created = person is None
    if person is None:
        person = Person(
            email=address,
            name=clean_name(name),
            team=team,
            role=role,
            active=True,
            created_at=now,
            session_version=1,
        )
        db.session.add(person)
        db.session.flush()
    else:
        if not person.active:
            raise StaffError(
                f"{address} belongs to a deactivated person; reactivate them in the directory "
                "first."
            )
        org_services.set_role(person, role, now=now, actor=actor)
        if person.team is None and team is not None:
            person.team = team
    # Only managers are scoped by teams; HR and leaders see everything anyway.
    person.managed_teams = list(manages) if role is Role.MANAGER else []
    audit.record(
        "staff.create" if created else "staff.upgrade",
        actor=actor,
        now=now,
        target=f"person:{person.id}",
        detail={"role": role.value, "manages": sorted(t.id for t in person.managed_teams)},
    )
    db.session.flush()
    return StaffAccount(person=person, created=created)
