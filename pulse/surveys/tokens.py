"""Invitation tokens: 256-bit values derived with HMAC; only their SHA-256 is stored.

token = base64url(HMAC-SHA256(secret key, "invitation:<pulse>:<person>:<nonce>")) where the
nonce is 128 random bits. The database holds the nonce and sha256(token): someone who reads it
cannot make a working link without the secret key, while the server can re-derive a person's link
for a reminder or a printed export without ever storing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_token(secret_key: str, pulse_id: int, person_id: int, nonce: str) -> str:
    message = f"invitation:{pulse_id}:{person_id}:{nonce}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any database look-up (43 base64url characters)."""
    return len(value) == 43 and all(c.isalnum() or c in "-_" for c in value)


def used_marker(secret_key: str, token: str) -> str:
    """What marks a link as used, without naming its invitation to anyone lacking the key.

    A submission stores this value, not a change to the person's invitation row. On PostgreSQL
    every row carries the id of the transaction that wrote it; had the submission also updated
    the invitation, the two rows would share that id and pair the response with its author.
    Joining this marker to an invitation takes the secret key, which the database never holds.
    """
    digest = hmac.new(secret_key.encode(), f"used:{token}".encode(), hashlib.sha256)
    return digest.hexdigest()
