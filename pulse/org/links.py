"""The public link to a team's "You said, we did" page: it names a team, never a person.

The token is a keyed hash of the team id, so team pages cannot be enumerated by counting, and
every member of a team gets the same link (it says nothing about who opened it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_PURPOSE = b"pulse/team-page/v1:"


def team_token(team_id: int, secret_key: str) -> str:
    """`<team id>-<16 url-safe characters>`; stable for as long as the secret key is."""
    mac = hmac.new(secret_key.encode(), _PURPOSE + str(team_id).encode(), hashlib.sha256)
    return f"{team_id}-{base64.urlsafe_b64encode(mac.digest()[:12]).decode().rstrip('=')}"


def team_from_token(token: str, secret_key: str) -> int | None:
    """The team id a token names, or None when it was not made with this key."""
    head, _, _ = token.partition("-")
    if not head.isdigit() or len(head) > 12:
        return None
    team_id = int(head)
    return team_id if hmac.compare_digest(team_token(team_id, secret_key), token) else None
