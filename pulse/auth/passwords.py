"""Password hashing and policy (SECURITY.md: scrypt N=2^17, 8..128 characters, no common ones)."""

from __future__ import annotations

import hmac
import unicodedata

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128

# The passwords people pick most often, as published by many breach studies, plus a few that
# people at work reach for. Checked case-insensitively; a longer list can be added later.
COMMON_PASSWORDS = frozenset(
    [
        "123456",
        "123456789",
        "12345678",
        "1234567890",
        "password",
        "password1",
        "password123",
        "qwerty",
        "qwerty123",
        "qwertyuiop",
        "111111",
        "11111111",
        "000000",
        "00000000",
        "123123",
        "1234567",
        "abc123",
        "abcd1234",
        "iloveyou",
        "admin",
        "admin123",
        "administrator",
        "welcome",
        "welcome1",
        "welcome123",
        "letmein",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "master",
        "shadow",
        "superman",
        "trustno1",
        "starwars",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "1q2w3e4r",
        "1qaz2wsx",
        "zaq12wsx",
        "qazwsx",
        "asdfghjk",
        "asdfasdf",
        "12341234",
        "87654321",
        "654321",
        "987654321",
        "changeme",
        "changeme123",
        "secret",
        "secret123",
        "default",
        "summer2024",
        "winter2024",
        "spring2024",
        "autumn2024",
        "summer2025",
        "winter2025",
        "summer2026",
        "winter2026",
        "company123",
        "company1",
        "pulse123",
        "pulsepulse",
        "employee",
        "manager123",
        "hr123456",
        "password!",
    ]
)


POLICY_HINT = f"At least {MIN_LENGTH} characters; a few unrelated words make a strong password."


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def normalise(password: str) -> str:
    """NFKC form, so the same password typed on another keyboard or phone still matches."""
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, *, email: str = "") -> None:
    """Raise PasswordRejected with a message a person can act on; any Unicode is welcome."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_LENGTH} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        # Control characters cannot be typed reliably and usually mean a paste went wrong.
        raise PasswordRejected("Use letters, numbers, spaces and symbols, not control characters.")
    lowered = password.casefold()
    if lowered in COMMON_PASSWORDS:
        raise PasswordRejected("That password is too common; choose something less guessable.")
    email = email.strip().casefold()
    if email and lowered in {email, email.partition("@")[0]}:
        raise PasswordRejected("Do not use your email address as your password.")


def hash_password(password: str, method: str) -> str:
    return generate_password_hash(normalise(password), method=method)


# A real hash of a fixed value, so checking an unknown email costs as much as a real check
# and response times do not reveal which emails have accounts.
_DUMMY_HASH: dict[str, str] = {}


def verify_password(password_hash: str | None, password: str, method: str) -> bool:
    """Check a password; with no hash, spend the same work on a dummy and return False."""
    if password_hash is None:
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash("unused", method=method))
        check_password_hash(dummy, normalise(password))
        return False
    return check_password_hash(password_hash, normalise(password))


def needs_rehash(password_hash: str, method: str) -> bool:
    """True when a stored hash was made with other parameters than the configured ones."""
    return not password_hash.startswith(method + "$")


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
