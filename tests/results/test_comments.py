"""The comments page and comment tags: who may read and tag, the k_c gate, order, escaping."""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import insert, select

from pulse.audit.models import AuditEvent
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.results import comments as service
from pulse.results.forms import back_params, comment_filters
from pulse.results.gate import COMPLEMENTARY
from pulse.results.models import CommentTag
from pulse.surveys import services as pulses
from pulse.surveys.models import Comment, Pulse, PulseQuestion, Response, ResponseTally
from tests.conftest import login
from tests.factories import make_staff, make_team

HIDDEN_NOTE = "Comments are shown for groups of at least 10 people"


def make_pulse(
    root: Team, *, opened: datetime, closes: datetime, extra_question: bool = False
) -> Pulse:
    """A frozen pulse of the core set (one free-text question, or two), without invitations."""
    pulse = pulses.create_pulse(
        title="Spring pulse", set_ref="builtin:core", teams=[root], now=opened, actor=None
    )
    if extra_question:
        pulse.questions.append(
            PulseQuestion(
                position=len(pulse.questions) + 1,
                question_key="custom.start_doing",
                builtin=False,
                dimension="comments",
                scale="text",
                text="What should we start doing?",
                reverse=False,
                required=False,
            )
        )
    pulse.opens_at, pulse.closes_at, pulse.frozen_at = opened, closes, opened
    db.session.flush()
    return pulse


def add_responses(
    pulse: Pulse, team: Team, count: int, texts: list[str], question: PulseQuestion | None = None
) -> list[str]:
    """`count` anonymous responses from `team`, the first len(texts) of them with a comment."""
    question = question or service.free_text_questions(pulse)[0]
    day = (pulse.opens_at or utcnow()).date()
    response_ids = [secrets.token_hex(16) for _ in range(count)]
    db.session.execute(
        insert(Response),
        [{"id": r, "pulse_id": pulse.id, "team_id": team.id, "day": day} for r in response_ids],
    )
    comment_ids = [secrets.token_hex(16) for _ in texts]
    if texts:
        db.session.execute(
            insert(Comment),
            [
                {"id": c, "response_id": r, "question_id": question.id, "text": t}
                for c, r, t in zip(comment_ids, response_ids, texts, strict=False)
            ],
        )
    tally = db.session.get(ResponseTally, (pulse.id, team.id))
    if tally is None:
        db.session.add(ResponseTally(pulse_id=pulse.id, team_id=team.id, count=count))
    else:
        tally.count += count
    db.session.flush()
    return comment_ids


@dataclass
class World:
    root: Team
    ops: Team
    support: Team
    desk: Team
    sales: Team
    pulse: Pulse
    people: dict[str, Person]
    support_comments: list[str] = field(default_factory=list)
    sales_comments: list[str] = field(default_factory=list)


SUPPORT_TEXTS = [f"Support comment number {i}" for i in range(12)]


def build_world(*, desk_responses: int = 11) -> World:
    """Ops (Support 12 answers, Desk 11), Sales (4) and Legal (10) in a pulse closed a month ago."""
    root = make_team("Acme")
    ops = make_team("Acme/Ops")
    support = make_team("Acme/Ops/Support")
    desk = make_team("Acme/Ops/Desk")
    sales = make_team("Acme/Sales")
    legal = make_team("Acme/Legal")
    people = {
        "ops": make_staff(Role.MANAGER, manages=[ops], email="ops@example.com"),
        "sales": make_staff(Role.MANAGER, manages=[sales], email="sales@example.com"),
        "leader": make_staff(Role.LEADER, email="leader@example.com"),
        "hr": make_staff(Role.HR, email="hr@example.com"),
    }
    now = utcnow()
    pulse = make_pulse(root, opened=now - timedelta(days=40), closes=now - timedelta(days=30))
    world = World(root, ops, support, desk, sales, pulse, people)
    world.support_comments = add_responses(pulse, support, 12, SUPPORT_TEXTS)
    add_responses(pulse, desk, desk_responses, ["Desk says hello"])
    world.sales_comments = add_responses(pulse, sales, 4, ["Sales secret comment"])
    # Outside Ops, enough people that Ops is not the organisation minus a small group.
    add_responses(pulse, legal, 10, ["Legal note"])
    db.session.commit()
    return world


def page(client: FlaskClient, team: Team, query: str = "") -> str:
    response = client.get(f"/results/teams/{team.id}/comments{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def comment_texts(html: str) -> list[str]:
    return re.findall(r'<blockquote class="comment__text"><p>(.*?)</p></blockquote>', html)


# --- who may look ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient) -> None:
    world = build_world()
    response = client.get(f"/results/teams/{world.support.id}/comments")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(
        f"/results/comments/{world.support_comments[0]}/tag", data={"topic": "x"}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(CommentTag)) is None


def test_manager_outside_the_subtree_gets_404_on_the_page_and_on_tagging(
    client: FlaskClient,
) -> None:
    world = build_world()
    login(client, "sales@example.com")
    assert client.get(f"/results/teams/{world.support.id}/comments").status_code == 404
    assert client.get(f"/results/teams/{world.ops.id}/comments").status_code == 404
    response = client.post(
        f"/results/comments/{world.support_comments[0]}/tag", data={"topic": "Staffing"}
    )
    assert response.status_code == 404
    assert db.session.scalar(select(CommentTag)) is None


def test_unknown_comment_and_pulse_are_404(client: FlaskClient) -> None:
    world = build_world()
    login(client, "hr@example.com")
    assert (
        client.post("/results/comments/" + "a" * 32 + "/tag", data={"topic": "x"}).status_code
        == 404
    )
    assert client.get(f"/results/teams/{world.ops.id}/comments?pulse=999").status_code == 404
    assert client.get("/results/teams/999/comments").status_code == 404
    # A pulse id that is not a number falls back to the newest closed pulse.
    assert "Support comment number 0" in page(client, world.ops, "?pulse=abc")


def test_manager_reads_comments_of_their_subtree(client: FlaskClient) -> None:
    world = build_world()
    login(client, "ops@example.com")
    html = page(client, world.ops)
    assert sorted(comment_texts(html)) == sorted([*SUPPORT_TEXTS, "Desk says hello"])
    assert "Sales secret comment" not in html
    support = page(client, world.support)
    assert sorted(comment_texts(support)) == sorted(SUPPORT_TEXTS)


def test_leader_and_hr_read_every_team(client: FlaskClient) -> None:
    world = build_world()
    for email in ("leader@example.com", "hr@example.com"):
        login(client, email)
        assert "Support comment number 3" in page(client, world.support)
        assert "Support comment number 3" in page(client, world.root)
        client.post("/logout")


# --- the gate ------------------------------------------------------------------------------------


def test_comments_hidden_below_comment_threshold_with_the_reason(client: FlaskClient) -> None:
    world = build_world()
    login(client, "sales@example.com")
    html = page(client, world.sales)
    assert "Sales secret comment" not in html
    assert comment_texts(html) == []
    assert "Fewer than 10 answers" in html
    assert HIDDEN_NOTE in html


def test_complementary_suppression_applies_to_comment_groups(client: FlaskClient) -> None:
    # Ops = Support (12) + Desk (3): showing Ops and Support would give Desk's comments away.
    world = build_world(desk_responses=3)
    login(client, "ops@example.com")
    support = page(client, world.support)
    assert comment_texts(support) == []
    assert str(escape(COMPLEMENTARY)) in support
    desk = page(client, world.desk)
    assert comment_texts(desk) == [] and "Fewer than 10 answers" in desk
    ops = page(client, world.ops)
    assert "Desk says hello" in comment_texts(ops)
    # A Support comment is readable on the Ops page, so the Ops manager may tag it.
    response = client.post(
        f"/results/comments/{world.support_comments[0]}/tag",
        data={"topic": "Staffing", "back_team": str(world.ops.id)},
    )
    assert response.status_code == 302


def test_comments_of_an_open_pulse_are_hidden_until_it_closes(client: FlaskClient) -> None:
    world = build_world()
    now = utcnow()
    open_pulse = make_pulse(
        world.root, opened=now - timedelta(days=1), closes=now + timedelta(days=5)
    )
    fresh = add_responses(open_pulse, world.support, 12, ["Written this morning"])
    db.session.commit()
    login(client, "hr@example.com")
    # By default the page shows the newest closed pulse, not the open one.
    assert "Support comment number 1" in page(client, world.support)
    html = page(client, world.support, f"?pulse={open_pulse.id}")
    assert "Written this morning" not in html
    assert "Comments appear when the pulse closes" in html
    assert "While a pulse is open" in html
    response = client.post(f"/results/comments/{fresh[0]}/tag", data={"topic": "Early"})
    assert response.status_code == 404


def test_tagging_a_comment_hidden_by_the_gate_is_404(client: FlaskClient) -> None:
    world = build_world()
    # Sales has 4 answers: its manager has no page where its comments may be read.
    login(client, "sales@example.com")
    response = client.post(f"/results/comments/{world.sales_comments[0]}/tag", data={"topic": "x"})
    assert response.status_code == 404
    assert db.session.scalar(select(CommentTag)) is None


def test_hr_may_tag_a_small_team_comment_read_on_the_organisation_page(
    client: FlaskClient,
) -> None:
    # The organisation's page pools every team, so HR reads Sales' comments there.
    world = build_world()
    login(client, "hr@example.com")
    assert "Sales secret comment" in comment_texts(page(client, world.root))
    assert "Sales secret comment" not in page(client, world.sales)
    tag(client, world.sales_comments[0], topic="Pay", back_team=str(world.root.id))
    assert db.session.get(CommentTag, world.sales_comments[0]) is not None


# --- what the page shows --------------------------------------------------------------------------


def test_comments_come_in_a_new_random_order_on_each_request(client: FlaskClient) -> None:
    world = build_world()
    login(client, "ops@example.com")
    orders = {tuple(comment_texts(page(client, world.support))) for _ in range(6)}
    # Six identical orders of 12 comments would happen by chance with probability (1/12!)^5.
    assert len(orders) > 1
    assert all(sorted(order) == sorted(SUPPORT_TEXTS) for order in orders)


def test_shuffled_comments_follow_the_random_source(client: FlaskClient) -> None:
    world = build_world()
    teams, questions = [world.support.id], [service.free_text_questions(world.pulse)[0].id]
    orders = {
        tuple(
            c.text for c in service.shuffled_comments(world.pulse.id, teams, questions, rng=rng)[0]
        )
        for rng in (random.Random(1), random.Random(2), random.Random(3))
    }
    assert len(orders) == 3
    shown, total = service.shuffled_comments(world.pulse.id, teams, questions, limit=5)
    assert len(shown) == 5 and total == 12


def test_no_dates_on_the_page(client: FlaskClient) -> None:
    world = build_world()
    login(client, "ops@example.com")
    html = page(client, world.support)
    day = world.pulse.opens_at
    assert day is not None
    assert day.date().isoformat() not in html
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", html)
    assert day.strftime("%-d %b") not in html and day.strftime("%b %-d") not in html
    assert "<time" not in html


def test_comment_text_is_rendered_escaped(client: FlaskClient) -> None:
    world = build_world()
    nasty = [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(2)>',
        "{{7*7}} and {% raw %}",
    ]
    for comment_id, text in zip(world.support_comments, nasty, strict=False):
        comment = db.session.get(Comment, comment_id)
        assert comment is not None
        comment.text = text
    db.session.commit()
    login(client, "ops@example.com")
    html = page(client, world.support)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "{{7*7}} and {% raw %}" in html and "49 and" not in html


def test_filter_by_question(client: FlaskClient) -> None:
    world = build_world()
    now = utcnow()
    pulse = make_pulse(
        world.root,
        opened=now - timedelta(days=20),
        closes=now - timedelta(days=10),
        extra_question=True,
    )
    first, extra = service.free_text_questions(pulse)
    add_responses(pulse, world.support, 12, ["About the past"] * 3, question=first)
    db.session.execute(
        insert(Comment),
        [
            {
                "id": secrets.token_hex(16),
                "response_id": r,
                "question_id": extra.id,
                "text": "Start doing demos",
            }
            for r in db.session.scalars(
                select(Response.id).where(Response.pulse_id == pulse.id).limit(2)
            )
        ],
    )
    db.session.commit()
    login(client, "ops@example.com")
    both = page(client, world.support, f"?pulse={pulse.id}")
    assert sorted(comment_texts(both)) == ["About the past"] * 3 + ["Start doing demos"] * 2
    assert "In answer to: What should we start doing?" in both
    only = page(client, world.support, f"?pulse={pulse.id}&question={extra.id}")
    assert comment_texts(only) == ["Start doing demos"] * 2
    # A question of another pulse, or nonsense, is ignored rather than an error.
    other = service.free_text_questions(world.pulse)[0].id
    ignored = page(client, world.support, f"?pulse={pulse.id}&question={other}")
    assert len(comment_texts(ignored)) == 5
    assert len(comment_texts(page(client, world.support, f"?pulse={pulse.id}&question=x"))) == 5


# --- tags ----------------------------------------------------------------------------------------


def tag(client: FlaskClient, comment_id: str, **data: str) -> str:
    response = client.post(f"/results/comments/{comment_id}/tag", data=data)
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def test_manager_tags_a_comment_and_sees_counts_by_tag(client: FlaskClient) -> None:
    world = build_world()
    login(client, "ops@example.com")
    first, second, third = world.support_comments[:3]
    location = tag(
        client, first, topic="  Staffing\n", outcome="wellbeing", back_team=str(world.ops.id)
    )
    assert f"/results/teams/{world.ops.id}/comments" in location
    assert location.endswith(f"#comment-{first}")
    tag(client, second, topic="Staffing", outcome="customer_experience")
    tag(client, third, topic="Tools", outcome="")
    saved = db.session.get(CommentTag, first)
    assert saved is not None and saved.topic == "Staffing" and saved.outcome == "wellbeing"
    assert saved.tagged_by_id == world.people["ops"].id

    html = page(client, world.ops)
    counts = html[html.index('id="tag-counts"') : html.index('id="comment-list-heading"')]
    assert re.search(r">Staffing</a></th><td class=\"num\">2<", counts)
    assert re.search(r">Tools</a></th><td class=\"num\">1<", counts)
    assert re.search(r">Wellbeing</a></th><td class=\"num\">1<", counts)
    assert re.search(r">Customer experience</a></th><td class=\"num\">1<", counts)
    assert "Retention" not in counts  # no zero counts
    assert '<option value="Staffing"></option>' in html  # suggested for the next tag

    filtered = page(client, world.ops, "?topic=Staffing")
    assert sorted(comment_texts(filtered)) == sorted(SUPPORT_TEXTS[:2])
    by_outcome = page(client, world.ops, "?outcome=wellbeing")
    assert comment_texts(by_outcome) == [SUPPORT_TEXTS[0]]


def test_tag_counts_are_not_shown_for_a_hidden_group(client: FlaskClient) -> None:
    world = build_world()
    db.session.add(
        CommentTag(comment_id=world.sales_comments[0], topic="Secret", tagged_at=utcnow())
    )
    db.session.commit()
    login(client, "hr@example.com")
    html = page(client, world.sales)
    assert "Secret" not in html and "Tagged comments" not in html


def test_tagging_is_audited_without_the_comment_text(client: FlaskClient) -> None:
    world = build_world()
    login(client, "ops@example.com")
    comment_id = world.support_comments[4]
    tag(client, comment_id, topic="Staffing", outcome="retention")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "comment.tag")).one()
    assert event.actor_id == world.people["ops"].id
    assert event.target == f"comment-tag:{comment_id}"
    assert event.detail == {"topic": "Staffing", "outcome": "retention"}
    assert "Support comment" not in repr(event.detail) + event.target

    tag(client, comment_id, topic="")
    assert db.session.get(CommentTag, comment_id) is None
    removed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "comment.untag")
    ).one()
    assert removed.detail == {"topic": "Staffing", "outcome": "retention"}


def test_bad_tags_are_refused_with_a_message(client: FlaskClient) -> None:
    world = build_world()
    login(client, "ops@example.com")
    comment_id = world.support_comments[0]
    for data in (
        {"topic": "x" * 81},
        {"topic": "Fine", "outcome": "world_domination"},
        {"topic": "\x00\x01"},
    ):
        response = client.post(f"/results/comments/{comment_id}/tag", data=data)
        assert response.status_code == 302
    assert db.session.get(CommentTag, comment_id) is None
    follow = client.post(
        f"/results/comments/{comment_id}/tag", data={"topic": "x" * 81}, follow_redirects=True
    )
    assert follow.status_code == 200
    assert "Keep the topic to 80 characters or fewer." in follow.get_data(as_text=True)
    tag(client, comment_id, topic="y" * 80)
    saved = db.session.get(CommentTag, comment_id)
    assert saved is not None and saved.topic == "y" * 80


def test_topics_are_cleaned_of_control_characters_and_extra_space() -> None:
    assert service.clean_topic(" a\tb \n c ") == "a b c"
    assert service.clean_topic("a\x00b") == "ab"


def test_filters_from_the_url_drop_anything_unusable() -> None:
    filters = comment_filters({"question": "-3", "topic": " " * 5, "outcome": "nope"})
    assert filters == service.Filters(None, None, None)
    filters = comment_filters({"question": "12", "topic": "Staffing", "outcome": "cost"})
    assert filters == service.Filters(12, "Staffing", "cost")
    assert comment_filters({"topic": "y" * 81}).topic is None
    assert back_params({"back_team": "7", "back_question": "x", "back_outcome": "cost"}) == {
        "team_id": 7,
        "outcome": "cost",
    }


def test_tag_service_refuses_bad_values_and_never_commits(client: FlaskClient) -> None:
    world = build_world()
    comment = db.session.get(Comment, world.support_comments[0])
    assert comment is not None
    with pytest.raises(service.TopicTooLong):
        service.tag_comment(comment, topic="z" * 81, outcome=None, actor=None, now=utcnow())
    with pytest.raises(service.UnknownOutcome):
        service.tag_comment(comment, topic="Fine", outcome="fame", actor=None, now=utcnow())
    assert service.tag_comment(comment, topic="", outcome=None, actor=None, now=utcnow()) is None
    saved = service.tag_comment(comment, topic="Pay", outcome="cost", actor=None, now=utcnow())
    assert saved is not None and saved.tagged_by_id is None
    db.session.rollback()  # the service only flushed: nothing survives a rollback
    assert db.session.get(CommentTag, world.support_comments[0]) is None
