"""The employee side: invitation links, the answer form, thanks and the protection page.

`/p/<token>` only puts the token in the session and redirects, so the token never sits in the
address bar, in later log lines or in Referer headers. Every page here is public (respondents
have no account) and shown in the invited person's language, or the browser's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from pulse import i18n
from pulse.db import utcnow
from pulse.extensions import db, limiter
from pulse.org.links import team_token
from pulse.surveys import answers, services, tokens
from pulse.surveys.answers import FormQuestion
from pulse.surveys.library import ACTION_RATING_PREFIX, SCALES, ScaleKind
from pulse.surveys.mailing import estimated_minutes
from pulse.surveys.models import Invitation, ReleaseMode
from pulse.surveys.services import (
    PulseClosed,
    PulseError,
    PulseNotOpen,
    TokenAlreadyUsed,
    TokenUnknown,
)

bp = Blueprint("respond", __name__)
log = logging.getLogger(__name__)

SESSION_TOKEN = "invitation_token"  # noqa: S105 (a session key, not a secret)
SESSION_THRESHOLDS = "thresholds"  # [k, k_c] of the pulse being answered, for the info pages
SESSION_ANSWERED = "answered_release"  # release mode of the pulse just answered
# The "You said, we did" link of the team just answered for: it names the team (already on the
# response), never the person, and is the same for everyone in that team.
SESSION_TEAM_PAGE = "team_page"
DEFAULT_RATE_LIMIT = "30 per minute"
RETRY_AFTER_SECONDS = "5"


def N_(text: str) -> str:  # the name Babel's extractor looks for
    """Marks a string for extraction; it is translated with gettext where it is shown."""
    return text


# parse_answers returns English source strings; these make Babel extract the fixed ones.
PARSE_MESSAGES = (
    N_("Please answer this question."),
    N_("Please choose one of the options."),
    N_("This question was answered twice; please choose one option."),
)

# Why a link cannot be answered: status, title, explanation.
_REFUSALS: dict[type[PulseError], tuple[int, str, str]] = {
    TokenUnknown: (
        404,
        N_("This link is not valid"),
        N_(
            "Please check that you opened the whole link from your invitation email. "
            "If it still does not work, ask HR to send you a new invitation."
        ),
    ),
    TokenAlreadyUsed: (
        409,
        N_("You have already answered this pulse"),
        N_(
            "Thank you, your answers were recorded. Each link works once, so nobody can "
            "answer twice, or in your name."
        ),
    ),
    PulseClosed: (
        410,
        N_("This pulse has closed"),
        N_(
            "It no longer takes answers. Thank you for your interest: the next pulse will "
            "come with a new link."
        ),
    ),
    PulseNotOpen: (
        409,
        N_("This pulse is not open yet"),
        N_("Please open your link again once the pulse has opened."),
    ),
}


# --- What the answer page shows (plain values, so a failed commit can still show the form) -----


@dataclass(frozen=True)
class AskedQuestion:
    """A question of the pulse being answered, copied out of the database session."""

    form: FormQuestion
    text: str
    builtin: bool


@dataclass(frozen=True)
class PulseForm:
    title: str
    closes_at: datetime | None
    min_group: int
    min_comment_group: int
    questions: tuple[AskedQuestion, ...]

    @property
    def form_questions(self) -> list[FormQuestion]:
        return [q.form for q in self.questions]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    input_id: str
    checked: bool
    anchor: str = ""  # end-anchor words read out with 0 and 10


@dataclass(frozen=True)
class QuestionView:
    number: int
    field: str
    text: str
    kind: str  # "choice", "score", "hours" or "text"
    required: bool
    choices: tuple[Choice, ...]
    anchors: tuple[str, ...]
    value: str  # what the person typed, for hours and comments
    error: str | None
    first_input_id: str
    minimum: int  # bounds of the hours input, or 0 and the longest comment
    maximum: int


@dataclass(frozen=True)
class AnswerPage:
    title: str
    closes: str | None
    minutes: int
    min_group: int
    min_comment_group: int
    questions: tuple[QuestionView, ...]
    has_required: bool
    not_saved: bool

    @property
    def errors(self) -> list[QuestionView]:
        return [q for q in self.questions if q.error]


def pulse_form(invitation: Invitation) -> PulseForm:
    """The questions this person is asked: a question for one team's subtree (rating that team's
    follow-up action) only when their invitation's team is inside it. Parsing accepts exactly
    these questions."""
    pulse = invitation.pulse
    teams = set(invitation.team.ancestor_ids())
    return PulseForm(
        title=pulse.title,
        closes_at=pulse.closes_at,
        min_group=pulse.min_group,
        min_comment_group=pulse.min_comment_group,
        questions=tuple(
            AskedQuestion(FormQuestion(q.id, ScaleKind(q.scale), q.required), q.text, q.builtin)
            for q in pulse.questions
            if q.audience_team_id is None or q.audience_team_id in teams
        ),
    )


def asked_text(text: str) -> str:
    """A custom question's text as typed, except that an action rating's fixed prefix is
    translated (the action's title after it is shown as written)."""
    prefix = ACTION_RATING_PREFIX + " "
    if text.startswith(prefix):
        return f"{gettext(ACTION_RATING_PREFIX)} {text[len(prefix) :]}"
    return text


def error_text(message: str, scale: ScaleKind) -> str:
    """Translate a parse_answers message (two of them arrive already formatted)."""
    bounds = SCALES[scale]
    if message == answers.NOT_A_NUMBER.format(min=bounds.minimum, max=bounds.maximum):
        return str(
            gettext(
                "Please enter a whole number between %(min)d and %(max)d.",
                min=bounds.minimum,
                max=bounds.maximum,
            )
        )
    if message == answers.TOO_LONG.format(max=answers.MAX_COMMENT_LENGTH):
        return str(
            gettext(
                "Please keep your comment under %(max)d characters.",
                max=answers.MAX_COMMENT_LENGTH,
            )
        )
    return str(gettext(message))


def answer_page(
    source: PulseForm,
    submitted: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[int, str] | None = None,
    *,
    not_saved: bool = False,
) -> AnswerPage:
    submitted = submitted or {}
    errors = errors or {}
    views = []
    for number, asked in enumerate(source.questions, start=1):
        q = asked.form
        sent = list(submitted.get(q.field_name, []))
        # Keep a single choice; two values for one question were an error, so show neither.
        kept = sent[0] if len(sent) == 1 else ""
        message = errors.get(q.id)
        views.append(
            _question_view(
                number,
                asked,
                kept,
                error_text(message, q.scale) if message else None,
            )
        )
    return AnswerPage(
        title=source.title,
        closes=i18n.format_local_datetime(source.closes_at) if source.closes_at else None,
        minutes=estimated_minutes(len(source.questions)),
        min_group=source.min_group,
        min_comment_group=source.min_comment_group,
        questions=tuple(views),
        has_required=any(a.form.required for a in source.questions),
        not_saved=not_saved,
    )


def _question_view(number: int, asked: AskedQuestion, kept: str, error: str | None) -> QuestionView:
    q = asked.form
    scale = SCALES[q.scale]
    field = q.field_name
    choices: list[Choice] = []
    anchors: tuple[str, ...] = ()
    if q.scale in (ScaleKind.AGREE5, ScaleKind.FREQ5):
        kind = "choice"
        for value, label in zip(scale.points, scale.labels, strict=True):
            choices.append(
                Choice(str(value), gettext(label), f"{field}-{value}", kept == str(value))
            )
    elif q.scale is ScaleKind.SCORE11:
        kind = "score"
        anchors = tuple(gettext(label) for label in scale.labels)
        for value in scale.points:
            anchor = {scale.minimum: anchors[0], scale.maximum: anchors[-1]}.get(value, "")
            choices.append(
                Choice(str(value), str(value), f"{field}-{value}", kept == str(value), anchor)
            )
    else:
        kind = "hours" if q.scale is ScaleKind.HOURS else "text"
    if choices and not q.required:
        choices.append(
            Choice(
                answers.SKIP, gettext("Skip this question"), f"{field}-skip", kept == answers.SKIP
            )
        )
    return QuestionView(
        number=number,
        field=field,
        text=gettext(asked.text) if asked.builtin else asked_text(asked.text),
        kind=kind,
        required=q.required,
        choices=tuple(choices),
        anchors=anchors,
        value=kept if kind in ("hours", "text") else "",
        error=error,
        first_input_id=choices[0].input_id if choices else f"{field}-input",
        minimum=scale.minimum,
        maximum=answers.MAX_COMMENT_LENGTH if kind == "text" else scale.maximum,
    )


# --- Views ----------------------------------------------------------------------------------


def _answer_rate_limit() -> str:
    return str(current_app.config.get("ANSWER_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


@bp.get("/p/<token>")
def start(token: str) -> Response | tuple[str, int]:
    """Remember the link in the session and move to a URL without it."""
    session.pop(SESSION_ANSWERED, None)
    session.pop(SESSION_TEAM_PAGE, None)
    if not tokens.looks_like_token(token):
        # Not even the shape of a link: do not carry it around in the session cookie.
        session.pop(SESSION_TOKEN, None)
        return _refusal(TokenUnknown())
    session[SESSION_TOKEN] = token
    return redirect(url_for(".answer"), code=303)


@bp.route("/answer", methods=["GET", "POST"])
@limiter.limit(_answer_rate_limit, methods=["POST"])
def answer() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The whole pulse on one page; a valid submission is stored in one transaction."""
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        status = 400 if request.method == "POST" else 200
        return render_template("surveys/respond/no_link.html"), status
    found = services.find_invitation(token)
    try:
        invitation = services.check_can_answer(found, utcnow())
    except PulseError as exc:
        return _refusal(exc, found)
    i18n.remember_language(invitation.person.language)
    source = pulse_form(invitation)
    session[SESSION_THRESHOLDS] = [source.min_group, source.min_comment_group]
    if request.method == "GET":
        return _render_form(answer_page(source), 200)
    return _submit(invitation, source)


def _submit(
    invitation: Invitation, source: PulseForm
) -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    submitted = _submitted(request.form, source.form_questions)
    parsed = answers.parse_answers(source.form_questions, submitted)
    if not parsed.ok:
        return _render_form(answer_page(source, submitted, parsed.errors), 400)
    release = invitation.pulse.release
    team_id = invitation.team_id
    try:
        services.record_response(invitation, parsed, now=utcnow())
        db.session.commit()
    except PulseError as exc:  # a second tab or a double click got there first
        db.session.rollback()
        return _refusal(exc)
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("an answer was not saved (%s); the link stays unused", type(exc).__name__)
        page = answer_page(source, submitted, not_saved=True)
        return _render_form(page, 503, {"Retry-After": RETRY_AFTER_SECONDS})
    session.pop(SESSION_TOKEN, None)
    session[SESSION_ANSWERED] = release.value
    session[SESSION_TEAM_PAGE] = team_token(team_id, current_app.config["SECRET_KEY"])
    return redirect(url_for(".thanks"), code=303)


@bp.get("/thanks")
def thanks() -> str:
    release = session.get(SESSION_ANSWERED)
    return render_template(
        "surveys/respond/thanks.html",
        thresholds=_session_thresholds(),
        in_steps=release == ReleaseMode.STEPS.value,
        team_page_url=_team_page_url(),
    )


def _team_page_url() -> str | None:
    token = session.get(SESSION_TEAM_PAGE)
    if not isinstance(token, str):
        return None
    try:
        return url_for("actions.you_said", token=token)
    except BuildError:  # the actions feature is not registered
        return None


@bp.get("/protection")
def protection() -> str:
    return render_template(
        "surveys/respond/protection.html", thresholds=_session_thresholds(), min_k=services.MIN_K
    )


# --- Helpers and error pages ----------------------------------------------------------------


def _submitted(
    form: MultiDict[str, str], questions: Sequence[FormQuestion]
) -> dict[str, list[str]]:
    """Every value sent for each question's field (duplicates included); nothing else."""
    return {q.field_name: form.getlist(q.field_name) for q in questions}


def _render_form(
    page: AnswerPage, status: int, headers: dict[str, str] | None = None
) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    html = render_template("surveys/respond/answer.html", page=page)
    return (html, status, headers) if headers else (html, status)


@dataclass(frozen=True)
class Thresholds:
    min_group: int
    min_comment_group: int
    known: bool  # False: the defaults, no pulse in this session


def _session_thresholds() -> Thresholds:
    value = session.get(SESSION_THRESHOLDS)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return Thresholds(value[0], value[1], True)
    return Thresholds(services.DEFAULT_K, services.DEFAULT_K_COMMENTS, False)


def _refusal(exc: PulseError, invitation: Invitation | None = None) -> tuple[str, int]:
    """A friendly page for a link that cannot be answered now; the link leaves the session."""
    session.pop(SESSION_TOKEN, None)
    if invitation is not None:
        i18n.remember_language(invitation.person.language)
    status, title, message = _REFUSALS.get(type(exc), _REFUSALS[TokenUnknown])
    return _problem(status, gettext(title), gettext(message))


def _problem(status: int, title: str, message: str, *, retry: bool = False) -> tuple[str, int]:
    html = render_template(
        "surveys/respond/problem.html", status=status, title=title, message=message, retry=retry
    )
    return html, status


@bp.errorhandler(SQLAlchemyError)
def database_unavailable(exc: SQLAlchemyError) -> tuple[str, int, dict[str, str]]:
    """The database failed before anything was stored (for example it stayed locked)."""
    db.session.rollback()
    log.warning("respondent page failed on the database (%s)", type(exc).__name__)
    html, status = _problem(
        503,
        gettext("Pulse is busy right now"),
        gettext("Your answers were not saved, please try again in a moment."),
        retry=True,
    )
    return html, status, {"Retry-After": RETRY_AFTER_SECONDS}


@bp.errorhandler(CSRFError)
def form_expired(exc: CSRFError) -> tuple[str, int]:
    return _problem(
        400,
        gettext("This page has expired"),
        gettext(
            "For your security, the form only works for some hours after it is opened. "
            "Your answers were not saved: please open the form again."
        ),
        retry=True,
    )


@bp.errorhandler(429)
def too_many(exc: Exception) -> tuple[str, int]:
    return _problem(
        429,
        gettext("Too many answers from your network"),
        gettext("Please wait a minute, then send your answers again."),
    )
