"""The built-in question library: dimensions, scales, questions and ready-made sets.

Every item is written in our own words. Each records the construct it targets and the published
scale it is modelled on, so analysts can relate results to the literature; no licensed item text
is shipped (see SCIENCE.md: the Maslach Burnout Inventory is proprietary, the Burnout Assessment
Tool needs permission for commercial use, COPSOQ III items may only be used unmodified).

Texts are wrapped in `_` (a no-op marker) so Babel extracts them for translation; they are
translated when shown to a respondent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def _(text: str) -> str:
    """Marks a string for extraction; translation happens where it is rendered."""
    return text


class ScaleKind(StrEnum):
    AGREE5 = "agree5"
    FREQ5 = "freq5"
    SCORE11 = "score11"
    HOURS = "hours"
    TEXT = "text"


@dataclass(frozen=True)
class Scale:
    kind: ScaleKind
    name: str
    minimum: int
    maximum: int
    labels: tuple[str, ...]  # one per point for labelled scales; end anchors for 0-10

    @property
    def is_numeric(self) -> bool:
        return self.kind is not ScaleKind.TEXT

    @property
    def points(self) -> range:
        return range(self.minimum, self.maximum + 1)


SCALES: dict[ScaleKind, Scale] = {
    ScaleKind.AGREE5: Scale(
        ScaleKind.AGREE5,
        "Agreement, 1 to 5",
        1,
        5,
        (
            _("Strongly disagree"),
            _("Disagree"),
            _("Neither agree nor disagree"),
            _("Agree"),
            _("Strongly agree"),
        ),
    ),
    ScaleKind.FREQ5: Scale(
        ScaleKind.FREQ5,
        "Frequency, 1 to 5",
        1,
        5,
        (_("Never"), _("Rarely"), _("Sometimes"), _("Often"), _("Always")),
    ),
    ScaleKind.SCORE11: Scale(
        ScaleKind.SCORE11,
        "Score, 0 to 10",
        0,
        10,
        (_("Not at all likely"), _("Extremely likely")),
    ),
    ScaleKind.HOURS: Scale(ScaleKind.HOURS, "Hours, 0 to 100", 0, 100, ()),
    ScaleKind.TEXT: Scale(ScaleKind.TEXT, "Free text", 0, 0, ()),
}


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    higher_is_better: bool
    description: str


DIMENSIONS: dict[str, Dimension] = {
    d.code: d
    for d in (
        Dimension(
            "burnout", "Burnout", False, "Exhaustion from work; lower is better. At risk from 50."
        ),
        Dimension("trust", "Trust", True, "Trust in management and between colleagues."),
        Dimension(
            "empowerment", "Empowerment", True, "Meaning, competence, autonomy and impact at work."
        ),
        Dimension(
            "psych_safety",
            "Psychological safety",
            True,
            "Whether people can speak up, take risks and ask for help without fear.",
        ),
        Dimension("wellbeing", "Wellbeing", True, "Mood, energy and rest; at risk at 50 or below."),
        Dimension(
            "workload",
            "Workload and work-life balance",
            True,
            "Whether the work fits in the hours and leaves room for life outside it.",
        ),
        Dimension(
            "heard",
            "Feeling heard",
            True,
            "Whether leadership listens to people and acts on what it hears.",
        ),
        Dimension("retention", "Intention to stay", True, "Whether people see their future here."),
        Dimension("enps", "eNPS", True, "Employee Net Promoter Score, -100 to 100."),
        Dimension("comments", "Comments", True, "Free-text answers; shown only to large groups."),
    )
}


# Questions that ask a team to rate one of its follow-up actions (pulse.actions): their answers
# are tallied like any other, but under this code, which is no reported dimension, so they never
# move a dashboard or heatmap score. Their text is the prefix and the action's title.
ACTION_RATING = "action_rating"
ACTION_RATING_PREFIX = _("This action has helped us:")


@dataclass(frozen=True)
class QuestionDef:
    key: str
    dimension: str
    scale: ScaleKind
    text: str
    reverse: bool
    construct: str
    modelled_on: str


def _q(
    key: str,
    dimension: str,
    scale: ScaleKind,
    text: str,
    construct: str,
    modelled_on: str,
    reverse: bool = False,
) -> QuestionDef:
    return QuestionDef(key, dimension, scale, text, reverse, construct, modelled_on)


A, F = ScaleKind.AGREE5, ScaleKind.FREQ5
CBI = "Copenhagen Burnout Inventory (work-related and personal burnout)"
COPSOQ_V = "COPSOQ III, vertical trust (own wording)"
COPSOQ_H = "COPSOQ III, horizontal trust (own wording)"
EDMONDSON = "Edmondson (1999) team psychological safety"
SPREITZER = "Spreitzer (1995) psychological empowerment"
WHO5 = "WHO-5 Well-Being Index (own wording)"

QUESTIONS: dict[str, QuestionDef] = {
    q.key: q
    for q in (
        # Burnout: frequency items, higher = more burnout, scored 0-100 like the CBI.
        _q(
            "burnout.drained",
            "burnout",
            F,
            _("How often do you end the working day feeling completely drained?"),
            "work-related exhaustion",
            CBI,
        ),
        _q(
            "burnout.no_energy_left",
            "burnout",
            F,
            _("How often does work leave you with too little energy for the rest of your life?"),
            "work-related exhaustion",
            CBI,
        ),
        _q(
            "burnout.energy_to_spare",
            "burnout",
            F,
            _("How often do you start the working week with energy to spare?"),
            "work-related exhaustion (reverse-keyed)",
            CBI,
            reverse=True,
        ),
        _q(
            "burnout.dread",
            "burnout",
            F,
            _("How often do you dread the thought of another day at work?"),
            "work-related exhaustion",
            CBI,
        ),
        _q(
            "burnout.fatigue",
            "burnout",
            F,
            _("How often have you felt physically worn out in the past week?"),
            "personal burnout: fatigue",
            CBI,
        ),
        _q(
            "burnout.frustrated",
            "burnout",
            F,
            _("How often does your work leave you feeling frustrated?"),
            "work-related burnout: frustration",
            CBI,
        ),
        # Trust
        _q(
            "trust.leaders_open",
            "trust",
            A,
            _("Senior leaders are open with us about what is going on."),
            "vertical trust",
            COPSOQ_V,
        ),
        _q(
            "trust.rely_on_management",
            "trust",
            A,
            _("I can rely on what management tells us."),
            "vertical trust",
            COPSOQ_V,
        ),
        _q(
            "trust.colleagues",
            "trust",
            A,
            _("People in my team trust one another."),
            "horizontal trust",
            COPSOQ_H,
        ),
        _q(
            "trust.withheld",
            "trust",
            A,
            _("People in my team keep useful information to themselves."),
            "horizontal trust (reverse-keyed)",
            COPSOQ_H,
            reverse=True,
        ),
        # Psychological safety: items 1, 3 and 5 reverse-keyed, as in the original structure.
        _q(
            "psych_safety.mistakes_held_against",
            "psych_safety",
            A,
            _("If you make a mistake in this team, it tends to be held against you."),
            "psychological safety (reverse-keyed)",
            EDMONDSON,
            reverse=True,
        ),
        _q(
            "psych_safety.raise_problems",
            "psych_safety",
            A,
            _("People in this team can bring up problems and difficult issues."),
            "psychological safety",
            EDMONDSON,
        ),
        _q(
            "psych_safety.different_pushed_aside",
            "psych_safety",
            A,
            _("People in this team are sometimes pushed aside for being different."),
            "psychological safety (reverse-keyed)",
            EDMONDSON,
            reverse=True,
        ),
        _q(
            "psych_safety.safe_to_try",
            "psych_safety",
            A,
            _("It feels safe to try something new or take a risk in this team."),
            "psychological safety",
            EDMONDSON,
        ),
        _q(
            "psych_safety.hard_to_ask_help",
            "psych_safety",
            A,
            _("It is hard to ask others in this team for help."),
            "psychological safety (reverse-keyed)",
            EDMONDSON,
            reverse=True,
        ),
        # Empowerment: one item per facet.
        _q(
            "empowerment.meaning",
            "empowerment",
            A,
            _("The work I do matters to me."),
            "meaning",
            SPREITZER,
        ),
        _q(
            "empowerment.competence",
            "empowerment",
            A,
            _("I am confident I have the skills my job needs."),
            "competence",
            SPREITZER,
        ),
        _q(
            "empowerment.autonomy",
            "empowerment",
            A,
            _("I have a real say in how I do my work."),
            "self-determination",
            SPREITZER,
        ),
        _q(
            "empowerment.impact",
            "empowerment",
            A,
            _("I can influence what happens in my team."),
            "impact",
            SPREITZER,
        ),
        # Wellbeing: over the last two weeks, frequency, higher is better.
        _q(
            "wellbeing.good_spirits",
            "wellbeing",
            F,
            _("Over the last two weeks, how often have you been in good spirits?"),
            "positive mood",
            WHO5,
        ),
        _q(
            "wellbeing.calm",
            "wellbeing",
            F,
            _("Over the last two weeks, how often have you felt calm and relaxed?"),
            "calm",
            WHO5,
        ),
        _q(
            "wellbeing.rested",
            "wellbeing",
            F,
            _("Over the last two weeks, how often have you woken up feeling rested?"),
            "rest and sleep",
            WHO5,
        ),
        _q(
            "wellbeing.interest",
            "wellbeing",
            F,
            _("Over the last two weeks, how often has your day held things that interest you?"),
            "interest",
            WHO5,
        ),
        _q(
            "wellbeing.sleep",
            "wellbeing",
            F,
            _("In the past week, how often did you sleep well?"),
            "sleep quality",
            "Sleep items used in four-day-week pilot evaluations (own wording)",
        ),
        # Workload and work-life balance.
        _q(
            "workload.manageable",
            "workload",
            A,
            _("My workload fits into my normal working hours."),
            "quantitative demands",
            "COPSOQ III quantitative demands (own wording)",
        ),
        _q(
            "workload.switch_off",
            "workload",
            A,
            _("I can switch off from work in my free time."),
            "detachment",
            "Recovery experience questionnaire, detachment (own wording)",
        ),
        _q(
            "workload.work_family_conflict",
            "workload",
            A,
            _("The demands of my job get in the way of my home and family life."),
            "work-family conflict (reverse-keyed)",
            "Netemeyer et al. (1996) work-family conflict (own wording)",
            reverse=True,
        ),
        _q(
            "workload.productivity",
            "workload",
            A,
            _("Over the past month I have been able to get my most important work done."),
            "self-rated productivity",
            "Self-rated performance items (own wording)",
        ),
        _q(
            "workload.hours_last_week",
            "workload",
            ScaleKind.HOURS,
            _("About how many hours did you actually work last week?"),
            "hours worked",
            "Hours-worked item used in four-day-week pilots (own wording)",
        ),
        # Feeling heard.
        _q(
            "heard.leaders_listen",
            "heard",
            A,
            _("Leadership listens to what people here say."),
            "voice and listening",
            "Employee voice literature (own wording)",
        ),
        _q(
            "heard.changes_seen",
            "heard",
            A,
            _("I have seen real changes as a result of feedback from surveys like this one."),
            "action on feedback",
            "Survey follow-up research (own wording)",
        ),
        _q(
            "heard.seen_changes",
            "heard",
            A,
            _("Since the last pulse, I have seen changes made because of what we said."),
            "feeling heard / action follow-through",
            "Our own item",
        ),
        _q(
            "heard.asked_for_views",
            "heard",
            A,
            _("My manager asks for my views before decisions that affect me."),
            "participation",
            "Employee voice literature (own wording)",
        ),
        # Intention to stay.
        _q(
            "retention.two_years",
            "retention",
            A,
            _("I see myself still working here in two years' time."),
            "intention to stay",
            "Turnover intention scales (own wording)",
        ),
        _q(
            "retention.looking",
            "retention",
            A,
            _("I am actively looking for a job elsewhere."),
            "turnover intention (reverse-keyed)",
            "Turnover intention scales (own wording)",
            reverse=True,
        ),
        # eNPS.
        _q(
            "enps.recommend",
            "enps",
            ScaleKind.SCORE11,
            _("How likely are you to recommend this organisation to a friend as a place to work?"),
            "employee Net Promoter Score",
            "Employee Net Promoter Score",
        ),
        # Free text.
        _q(
            "comments.anything_else",
            "comments",
            ScaleKind.TEXT,
            _("Is there anything you would like leadership to know?"),
            "open comment",
            "—",
        ),
    )
}


@dataclass(frozen=True)
class SetItem:
    key: str
    required: bool = False


@dataclass(frozen=True)
class QuestionSetDef:
    key: str
    name: str
    description: str
    items: tuple[SetItem, ...]


_CORE = (
    SetItem("burnout.drained"),
    SetItem("burnout.energy_to_spare"),
    SetItem("trust.rely_on_management"),
    SetItem("psych_safety.raise_problems"),
    SetItem("empowerment.autonomy"),
    SetItem("wellbeing.good_spirits"),
    SetItem("workload.manageable"),
    SetItem("heard.changes_seen"),
    SetItem("enps.recommend"),
    SetItem("comments.anything_else"),
)

QUESTION_SETS: dict[str, QuestionSetDef] = {
    s.key: s
    for s in (
        QuestionSetDef(
            "core",
            "Core pulse",
            "Nine quick questions across burnout, trust, safety, empowerment, wellbeing, "
            "workload, feeling heard and eNPS, plus an optional comment. Under two minutes.",
            _CORE,
        ),
        QuestionSetDef(
            "four_day_week",
            "Four-day week pilot",
            "The core pulse plus what a four-day-week pilot needs to show: hours worked, "
            "work-family conflict, sleep and fatigue, productivity and intention to stay.",
            (
                *_CORE[:-1],
                SetItem("workload.hours_last_week"),
                SetItem("workload.work_family_conflict"),
                SetItem("wellbeing.sleep"),
                SetItem("burnout.fatigue"),
                SetItem("workload.productivity"),
                SetItem("retention.two_years"),
                SetItem("comments.anything_else"),
            ),
        ),
        QuestionSetDef(
            "burnout_deep_dive",
            "Burnout deep-dive",
            "Every burnout and wellbeing item with workload and detachment, for teams where "
            "the core pulse shows strain.",
            tuple(
                SetItem(key)
                for key in (
                    "burnout.drained",
                    "burnout.no_energy_left",
                    "burnout.energy_to_spare",
                    "burnout.dread",
                    "burnout.fatigue",
                    "burnout.frustrated",
                    "wellbeing.good_spirits",
                    "wellbeing.calm",
                    "wellbeing.rested",
                    "wellbeing.interest",
                    "workload.manageable",
                    "workload.switch_off",
                    "workload.work_family_conflict",
                    "comments.anything_else",
                )
            ),
        ),
    )
}
