"""Comments on results pages: which groups may show them, in what order, and managers' tags.

DESIGN.md rule 5: comments appear only for groups with at least k_c responses, in random order,
without dates. Whether a group may show its comments is decided by the anonymity gate with k_c on
the viewer's whole family of groups, so complementary suppression protects comment groups exactly
as it protects numbers: a manager cannot read a small team's comments by comparing a parent's
comments with its other children's. Comments of a pulse that is still open stay hidden until it
closes, so nobody can watch a comment arrive and guess whose it is.

Reads come first (they return plain rows); the writes at the end flush and never commit.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, func, select

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.models import Person
from pulse.results import gate
from pulse.results.gate import Decision, Group
from pulse.results.models import OUTCOMES, CommentTag
from pulse.surveys.library import ScaleKind
from pulse.surveys.models import Comment, Pulse, PulseQuestion, PulseState, Response, ResponseTally
from pulse.surveys.services import DEFAULT_K_COMMENTS

Tree = Mapping[int, int | None]
Ts = TypeVarTuple("Ts")

MAX_TOPIC = 80
# A page shows at most this many comments, picked at random; the tag counts cover them all.
MAX_SHOWN = 300
WHILE_OPEN = "Comments appear when the pulse closes"
OPEN_NOTE = "While a pulse is open, a new comment could be matched to whoever has just answered."


def threshold_note(k_c: int) -> str:
    """Why some groups show no comments: said on every comments page."""
    return f"Comments are shown for groups of at least {k_c} people."


# --- reads ----------------------------------------------------------------------------------------


def default_pulse(pulses: Sequence[Pulse], now: datetime) -> Pulse | None:
    """The newest closed pulse (oldest-first list), else the newest: an open pulse shows none."""
    for pulse in reversed(pulses):
        if pulse.state(now) is PulseState.CLOSED:
            return pulse
    return pulses[-1] if pulses else None


def free_text_questions(pulse: Pulse) -> list[PulseQuestion]:
    return [q for q in pulse.questions if q.scale == ScaleKind.TEXT.value]


def response_counts(pulse_id: int) -> dict[int, int]:
    """Respondents per team from the final tallies: the counts the comment gate works on."""
    stmt = select(ResponseTally.team_id, ResponseTally.count).where(
        ResponseTally.pulse_id == pulse_id
    )
    counts: dict[int, int] = {}
    for team_id, count in db.session.execute(stmt):
        counts[team_id] = count
    return counts


def comment_decisions(
    pulse: Pulse, now: datetime, tree: Tree, groups: Sequence[Group]
) -> dict[str, Decision]:
    """For every group of the viewer's family: may its comments be shown?"""
    if pulse.state(now) is not PulseState.CLOSED:
        hidden = Decision(False, None, WHILE_OPEN)
        return {group.key: hidden for group in groups}
    return gate.decide(tree, response_counts(pulse.id), groups, pulse.min_comment_group)


def teams_with_visible_comments(
    groups: Iterable[Group], decisions: Mapping[str, Decision], openable: Collection[int]
) -> frozenset[int]:
    """Teams whose comments the viewer can read on some comments page they may open.

    A comments page shows a team's whole subtree, so a comment is readable when the subtree of
    some openable team holding it is a visible group.
    """
    pages = {gate.team_key(team) for team in openable}
    teams: set[int] = set()
    for group in groups:
        if group.key in pages and decisions[group.key].visible:
            teams |= group.teams
    return frozenset(teams)


@dataclass(frozen=True)
class ShownComment:
    """A comment as a page shows it: no response id, no team, no date."""

    id: str
    question_id: int
    text: str
    topic: str | None
    outcome: str | None

    @property
    def outcome_label(self) -> str | None:
        return OUTCOMES.get(self.outcome) if self.outcome else None


def comments_stmt(
    pulse_id: int,
    teams: Collection[int],
    question_ids: Collection[int],
    *,
    topic: str | None = None,
    outcome: str | None = None,
) -> Select[str, int, str, str, str | None]:
    """The comments of a group, unordered: callers shuffle them."""
    stmt = _in_group(
        select(Comment.id, Comment.question_id, Comment.text, CommentTag.topic, CommentTag.outcome)
        .select_from(Comment)
        .outerjoin(CommentTag, CommentTag.comment_id == Comment.id),
        pulse_id,
        teams,
        question_ids,
    )
    if topic:
        stmt = stmt.where(CommentTag.topic == topic)
    if outcome:
        stmt = stmt.where(CommentTag.outcome == outcome)
    return stmt


def shuffled_comments(
    pulse_id: int,
    teams: Collection[int],
    question_ids: Collection[int],
    *,
    topic: str | None = None,
    outcome: str | None = None,
    limit: int = MAX_SHOWN,
    rng: random.Random | None = None,
) -> tuple[list[ShownComment], int]:
    """Up to `limit` comments in a fresh random order, and how many there are in all.

    Storage order, id order and team order could all hint at who wrote what or when, so every
    request shuffles with the operating system's randomness.
    """
    if not teams or not question_ids:
        return [], 0
    rows = [
        ShownComment(*row)
        for row in db.session.execute(
            comments_stmt(pulse_id, teams, question_ids, topic=topic, outcome=outcome)
        )
    ]
    (rng or random.SystemRandom()).shuffle(rows)
    return rows[:limit], len(rows)


@dataclass
class TagCounts:
    """Tagged comments of a group by topic and by outcome, most frequent first."""

    topics: list[tuple[str, int]] = field(default_factory=list)
    outcomes: list[tuple[str, str, int]] = field(default_factory=list)  # code, label, count

    @property
    def any(self) -> bool:
        return bool(self.topics or self.outcomes)


def _in_group(
    stmt: Select[*Ts], pulse_id: int, teams: Collection[int], question_ids: Collection[int]
) -> Select[*Ts]:
    """Restrict a statement over comments to one pulse, group and set of questions."""
    return stmt.join(Response, Response.id == Comment.response_id).where(
        Response.pulse_id == pulse_id,
        Response.team_id.in_(sorted(teams)),
        Comment.question_id.in_(sorted(question_ids)),
    )


def tag_counts(pulse_id: int, teams: Collection[int], question_ids: Collection[int]) -> TagCounts:
    if not teams or not question_ids:
        return TagCounts()
    by_topic = _in_group(
        select(CommentTag.topic, func.count())
        .select_from(Comment)
        .join(CommentTag, CommentTag.comment_id == Comment.id),
        pulse_id,
        teams,
        question_ids,
    ).group_by(CommentTag.topic)
    by_outcome = _in_group(
        select(CommentTag.outcome, func.count())
        .select_from(Comment)
        .join(CommentTag, CommentTag.comment_id == Comment.id)
        .where(CommentTag.outcome.is_not(None)),
        pulse_id,
        teams,
        question_ids,
    ).group_by(CommentTag.outcome)
    topics = [(topic, count) for topic, count in db.session.execute(by_topic)]
    outcomes = [
        (code, OUTCOMES[code], count)
        for code, count in db.session.execute(by_outcome)
        if code in OUTCOMES
    ]
    topics.sort(key=lambda item: (-item[1], item[0].casefold()))
    outcomes.sort(key=lambda item: (-item[2], item[1]))
    return TagCounts(topics, outcomes)


def used_topics(pulse_id: int, teams: Collection[int]) -> list[str]:
    """Topics already given to comments of this pulse in these teams, for suggestions."""
    if not teams:
        return []
    rows = db.session.scalars(
        select(CommentTag.topic)
        .distinct()
        .join(Comment, Comment.id == CommentTag.comment_id)
        .join(Response, Response.id == Comment.response_id)
        .where(Response.pulse_id == pulse_id, Response.team_id.in_(sorted(teams)))
    )
    return sorted(rows, key=str.casefold)


@dataclass(frozen=True)
class CommentPlace:
    """Where a comment belongs: what tagging needs to check before touching it."""

    comment: Comment
    pulse: Pulse
    team_id: int


def find_comment(comment_id: str) -> CommentPlace | None:
    if not 1 <= len(comment_id) <= 64:
        return None
    row = db.session.execute(
        select(Comment, Pulse, Response.team_id)
        .join(Response, Response.id == Comment.response_id)
        .join(Pulse, Pulse.id == Response.pulse_id)
        .where(Comment.id == comment_id)
    ).first()
    if row is None:
        return None
    return CommentPlace(row[0], row[1], row[2])


# --- the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    question_id: int | None = None
    topic: str | None = None
    outcome: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.question_id or self.topic or self.outcome)


@dataclass
class CommentsPage:
    """Everything the comments page shows for one team's subtree and one pulse."""

    team_id: int
    pulse: Pulse | None
    questions: list[PulseQuestion]
    filters: Filters
    visible: bool
    reason: str | None
    note: str
    comments: list[ShownComment] = field(default_factory=list)
    total: int = 0
    counts: TagCounts = field(default_factory=TagCounts)
    topics: list[str] = field(default_factory=list)

    @property
    def question_text(self) -> dict[int, str]:
        return {q.id: q.text for q in self.questions}

    @property
    def truncated(self) -> bool:
        return self.total > len(self.comments)


def comments_page(
    *,
    tree: Tree,
    groups: Sequence[Group],
    openable: Collection[int],
    team_id: int,
    pulse: Pulse | None,
    filters: Filters,
    now: datetime,
) -> CommentsPage:
    """Build the page through the gate: a hidden group gets its reason and no comment at all."""
    if pulse is None:
        return CommentsPage(
            team_id, None, [], Filters(), False, None, threshold_note(DEFAULT_K_COMMENTS)
        )
    questions = free_text_questions(pulse)
    note = threshold_note(pulse.min_comment_group)
    question_ids = [q.id for q in questions]
    if filters.question_id not in question_ids:
        filters = Filters(None, filters.topic, filters.outcome)
    if filters.outcome is not None and filters.outcome not in OUTCOMES:
        filters = Filters(filters.question_id, filters.topic, None)
    decisions = comment_decisions(pulse, now, tree, groups)
    decision = decisions[gate.team_key(team_id)]
    if not decision.visible:
        if decision.reason == WHILE_OPEN:
            note = f"{OPEN_NOTE} {note}"
        return CommentsPage(team_id, pulse, questions, filters, False, decision.reason, note)
    teams = next(g.teams for g in groups if g.key == gate.team_key(team_id))
    shown_ids = [filters.question_id] if filters.question_id else question_ids
    comments, total = shuffled_comments(
        pulse.id, teams, shown_ids, topic=filters.topic, outcome=filters.outcome
    )
    readable = teams_with_visible_comments(groups, decisions, openable)
    return CommentsPage(
        team_id,
        pulse,
        questions,
        filters,
        True,
        None,
        note,
        comments,
        total,
        tag_counts(pulse.id, teams, shown_ids),
        used_topics(pulse.id, readable),
    )


def may_tag(
    place: CommentPlace,
    *,
    tree: Tree,
    groups: Sequence[Group],
    openable: Collection[int],
    now: datetime,
) -> bool:
    """Only a comment the viewer can read on one of their pages may be tagged by them."""
    if place.team_id not in openable:
        return False
    decisions = comment_decisions(place.pulse, now, tree, groups)
    return place.team_id in teams_with_visible_comments(groups, decisions, openable)


# --- writes (flush, never commit) -----------------------------------------------------------------


class TagError(Exception):
    """A tag that breaks a rule; the message is written for the person tagging."""


class TopicTooLong(TagError):
    pass


class UnknownOutcome(TagError):
    pass


def clean_topic(raw: str) -> str:
    """Control characters dropped and runs of white space made one space."""
    kept = "".join(ch for ch in raw if unicodedata.category(ch) != "Cc" or ch in "\t\n\r")
    return " ".join(kept.split())


def tag_comment(
    comment: Comment,
    *,
    topic: str,
    outcome: str | None,
    actor: Person | None,
    now: datetime,
) -> CommentTag | None:
    """Set, change or (with an empty topic) remove a comment's tag, and audit it.

    The audit event names the tag only: never the comment's text, team or response.
    """
    topic = clean_topic(topic)
    outcome = outcome or None
    existing = db.session.get(CommentTag, comment.id)
    target = f"comment-tag:{comment.id}"
    if not topic:
        if existing is None:
            return None
        audit.record(
            "comment.untag",
            actor=actor,
            now=now,
            target=target,
            detail={"topic": existing.topic, "outcome": existing.outcome},
        )
        db.session.delete(existing)
        db.session.flush()
        return None
    if len(topic) > MAX_TOPIC:
        raise TopicTooLong(f"Keep the topic to {MAX_TOPIC} characters or fewer.")
    if outcome is not None and outcome not in OUTCOMES:
        raise UnknownOutcome("Choose one of the listed outcomes.")
    tag = existing or CommentTag(comment_id=comment.id)
    tag.topic = topic
    tag.outcome = outcome
    tag.tagged_by_id = actor.id if actor else None
    tag.tagged_at = now
    if existing is None:
        db.session.add(tag)
    audit.record(
        "comment.tag",
        actor=actor,
        now=now,
        target=target,
        detail={"topic": topic, "outcome": outcome},
    )
    db.session.flush()
    return tag
