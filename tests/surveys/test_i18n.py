"""Languages: the German catalogue is complete and current, and the right language is chosen."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select, update

from pulse import i18n
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person
from pulse.surveys import answers, respond
from pulse.surveys.library import QUESTIONS, SCALES, ScaleKind
from pulse.surveys.models import Invitation
from tests.surveys.conftest import open_pulse_for

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "pulse" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
COMPILED = CATALOGUE.with_suffix(".mo")


def _german() -> dict[str, str]:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id}


# --- The catalogue ---------------------------------------------------------------------------


def test_every_german_message_is_translated_and_none_is_fuzzy() -> None:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"translate these in {CATALOGUE.name}: {untranslated}"
    assert not fuzzy, f"review these fuzzy translations, then drop the flag: {fuzzy}"
    # Placeholders such as %(k)s must survive translation.
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not problems, problems


def test_catalogue_covers_every_string_marked_in_the_sources() -> None:
    """Fails when new text is marked for translation and `make translations` was not run."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map
        )
        if isinstance(message, str)
    }
    missing = sorted(extracted - _german().keys())
    assert not missing, f"run `make translations` and translate: {missing}"


def test_compiled_catalogue_matches_the_po_file() -> None:
    """The committed .mo must be compiled from the current .po (a fresh install needs no
    compile step)."""
    with COMPILED.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for msgid, text in _german().items() if compiled.gettext(msgid) != text]
    assert not stale, f"run `make translations` to recompile: {stale[:5]}"


def test_every_built_in_question_and_scale_label_is_in_german() -> None:
    german = _german()
    assert len(QUESTIONS) == 37
    for question in QUESTIONS.values():
        assert german.get(question.text), question.key
    for scale in SCALES.values():
        for label in scale.labels:
            assert german.get(label), label


@pytest.mark.parametrize(
    ("message", "scale"),
    [
        (answers.REQUIRED, ScaleKind.AGREE5),
        (answers.OUT_OF_RANGE, ScaleKind.FREQ5),
        (answers.TWICE, ScaleKind.SCORE11),
        (answers.NOT_A_NUMBER.format(min=0, max=100), ScaleKind.HOURS),
        (answers.TOO_LONG.format(max=answers.MAX_COMMENT_LENGTH), ScaleKind.TEXT),
    ],
)
def test_every_form_error_is_translated(app: Flask, message: str, scale: ScaleKind) -> None:
    with app.test_request_context(), force_locale("de"):
        german = respond.error_text(message, scale)
    with app.test_request_context():
        english = respond.error_text(message, scale)
    assert english == message
    assert german != message


# --- Choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("de", "de"), ("de-AT", "de"), ("DE_de", "de"), ("en-GB", "en"), ("fr", None), ("", None)],
)
def test_supported_language(value: str, expected: str | None) -> None:
    assert i18n.supported_language(value) == expected


def _open_link(app: Flask, client: FlaskClient, *, language: str | None) -> str:
    opened = open_pulse_for(app, people=1, now=utcnow())
    db.session.execute(update(Person).values(language=language))
    db.session.commit()
    client.get(f"/p/{opened.tokens[0]}")
    return opened.tokens[0]


def test_form_in_german_for_a_german_browser(app: Flask, client: FlaskClient) -> None:
    _open_link(app, client, language=None)
    html = client.get("/answer", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).text
    assert '<html lang="de">' in html
    assert "Wie oft fühlen Sie sich am Ende des Arbeitstages völlig ausgelaugt?" in html
    assert ">Manchmal</label>" in html and ">Stimme voll und ganz zu</label>" in html
    assert "Überhaupt nicht wahrscheinlich" in html
    assert "Frage überspringen" in html
    assert "Meine Antworten senden" in html
    assert "Send my answers" not in html and "Strongly agree" not in html


def test_the_persons_language_wins_over_the_browser(app: Flask, client: FlaskClient) -> None:
    _open_link(app, client, language="de")
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    html = client.get("/answer", headers=english_browser).text
    assert '<html lang="de">' in html and "Meine Antworten senden" in html
    # The choice outlives the link: the protection page after it is German too.
    assert "So werden Ihre Antworten geschützt" in client.get("/protection").text


def test_english_by_default_and_for_languages_we_do_not_ship(
    app: Flask, client: FlaskClient
) -> None:
    _open_link(app, client, language="fr")
    for headers in ({}, {"Accept-Language": "fr-FR,fr;q=0.9"}):
        html = client.get("/answer", headers=headers).text
        assert '<html lang="en">' in html and "Send my answers" in html


def test_refusal_pages_in_the_persons_language(app: Flask, client: FlaskClient) -> None:
    token = _open_link(app, client, language="de")
    db.session.execute(update(Invitation).values(answered=True))
    db.session.commit()
    client.get(f"/p/{token}")
    page = client.get("/answer")
    assert page.status_code == 409
    assert "Sie haben diese Umfrage bereits beantwortet" in page.text


def test_german_protection_and_thanks_pages_from_the_browser(client: FlaskClient) -> None:
    german = {"Accept-Language": "de"}
    protection = client.get("/protection", headers=german).text
    assert '<html lang="de">' in protection
    assert "Was wir nicht speichern" in protection and "Ihre IP-Adresse" in protection
    thanks = client.get("/thanks", headers=german).text
    assert "Wie es weitergeht" in thanks


def test_a_new_link_on_a_shared_device_forgets_the_previous_persons_language(
    app: Flask, client: FlaskClient
) -> None:
    _open_link(app, client, language="de")
    assert "Meine Antworten senden" in client.get("/answer").text
    person = db.session.scalars(select(Person)).one()
    person.language = None
    db.session.commit()
    assert "Send my answers" in client.get("/answer").text


def test_closing_time_is_shown_in_the_organisations_zone(app: Flask) -> None:
    app.config["TIMEZONE"] = "Europe/Berlin"
    moment = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    with app.test_request_context(), force_locale("de"):
        assert i18n.format_local_datetime(moment) == (
            "Freitag, 4. Dezember 2026, 17:00 (Europe/Berlin)"
        )
    with app.test_request_context(), force_locale("en"):
        assert (
            i18n.format_local_datetime(moment)
            == "Friday, December 4, 2026, 5:00\u202fPM (Europe/Berlin)"
        )
