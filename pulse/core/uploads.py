"""Uploaded files waiting for HR to confirm an import (preview, then apply).

Each file is kept under `instance/imports/` with a random name, readable by the server's user
only, and deleted once applied, replaced, or a day old: an upload nobody applied still holds
personal or business data. The token in the preview URL is only half of the key; the view also
checks that the same session uploaded it.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app

TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
KEEP_SECONDS = 24 * 3600


class UploadStore:
    """Files of one kind of import, told apart by a name prefix ("", "metrics-")."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @staticmethod
    def folder() -> Path:
        return Path(current_app.instance_path) / "imports"

    def _path(self, token: str) -> Path:
        return self.folder() / f"{self.prefix}{token}.csv"

    def store(self, data: bytes, *, replacing: str | None = None) -> str:
        """Keep the bytes under a new random token and return it; `replacing` (the session's
        previous upload) is deleted, and so is any upload older than a day."""
        folder = self.folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._remove_old(folder)
        if replacing:
            self.discard(replacing)
        token = secrets.token_urlsafe(24)
        fd = os.open(self._path(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return token

    def read(self, token: str) -> bytes | None:
        """The stored bytes, or None for a malformed, unknown or expired token."""
        if not TOKEN.fullmatch(token):
            return None
        try:
            return self._path(token).read_bytes()
        except OSError:
            return None

    def discard(self, token: str) -> None:
        if TOKEN.fullmatch(token):
            self._path(token).unlink(missing_ok=True)

    def _remove_old(self, folder: Path) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for path in folder.glob(f"{self.prefix}*.csv"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue  # another request removed it first
