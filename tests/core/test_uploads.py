"""Uploads waiting for confirmation: private files, random tokens, gone when used or stale."""

from __future__ import annotations

import os
import stat
import time

from flask import Flask

from pulse.core.uploads import KEEP_SECONDS, UploadStore


def test_a_stored_upload_is_private_and_read_back_by_its_token(app: Flask) -> None:
    store = UploadStore("metrics-")
    token = store.store(b"team,metric\n")
    path = store.folder() / f"metrics-{token}.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.folder().stat().st_mode) == 0o700
    assert store.read(token) == b"team,metric\n"
    store.discard(token)
    assert store.read(token) is None and not path.exists()


def test_malformed_tokens_never_reach_the_file_system(app: Flask) -> None:
    store = UploadStore("")
    for token in ("../secret_key", "A" * 31, "A" * 33, "", "A/" * 16):
        assert store.read(token) is None
        store.discard(token)  # nothing to do, nothing raised


def test_a_new_upload_replaces_the_previous_one_and_drops_stale_files(app: Flask) -> None:
    store = UploadStore("metrics-")
    first = store.store(b"one")
    stale = store.store(b"old")
    old = time.time() - KEEP_SECONDS - 60
    os.utime(store.folder() / f"metrics-{stale}.csv", (old, old))
    second = store.store(b"two", replacing=first)
    assert store.read(first) is None  # replaced
    assert store.read(stale) is None  # more than a day old
    assert store.read(second) == b"two"
