"""The messages: a subject and a plain-text body for each kind, in English or Welsh, or both
(Welsh first) for an organisation's mailbox.

Owns the texts (through the Babel catalogues: each is `N_`-marked here and translated by
`app.i18n.core.catalogue`) and what fills them: only the referral's reference, a stage, a due
date and the link to the referral's page. Rendering is pure: no database, no clock.
Must not: take anything personal (a name, a date of birth, the account, a nationality, an
immigration fact); `render` accepts only the fields of `Facts`, and a test renders every
kind of a real case and looks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from app.i18n.core import ENGLISH, WELSH, catalogue
from app.i18n.core_noop import N_
from app.notifications.models import Kind

# Subject and the sentence that says what happened or is due, for each kind.
TEXTS: dict[Kind, tuple[str, str]] = {
    Kind.REFERRAL_RECEIVED: (
        N_("Referral {reference} received"),
        N_("Your referral {reference} has been received."),
    ),
    Kind.REFERRAL_ROUTED: (
        N_("Referral {reference} sent to your unit"),
        N_("Referral {reference} has been sent to your decision unit."),
    ),
    Kind.REVIEW_NEEDED: (
        N_("Second review needed: referral {reference}"),
        N_(
            "A negative reasonable grounds decision has been proposed on referral "
            "{reference}. It needs a second review by a senior decision maker."
        ),
    ),
    Kind.PANEL_NEEDED: (
        N_("Panel review needed: referral {reference}"),
        N_(
            "A negative conclusive grounds decision has been proposed on referral "
            "{reference}. It needs a panel review."
        ),
    ),
    Kind.DECISION_EFFECTIVE: (
        N_("Decision on referral {reference}"),
        N_("A decision on referral {reference} ({stage}) has taken effect. A letter is ready."),
    ),
    Kind.RECONSIDERATION_REQUESTED: (
        N_("Reconsideration asked for: referral {reference}"),
        N_(
            "The referring organisation has asked for the decision on referral {reference} "
            "to be reconsidered."
        ),
    ),
    Kind.RECONSIDERATION_DECIDED: (
        N_("Reconsideration decided: referral {reference}"),
        N_("The request to reconsider the decision on referral {reference} has been decided."),
    ),
    Kind.DEADLINE_DUE_SOON: (
        N_("Due on {due}: referral {reference}"),
        N_("The next step on referral {reference} ({stage}) is due on {due}."),
    ),
    Kind.DEADLINE_MISSED: (
        N_("Overdue: referral {reference}"),
        N_("The next step on referral {reference} ({stage}) was due on {due} and is not done."),
    ),
    Kind.REFERRAL_SUSPENDED: (
        N_("Referral {reference} suspended"),
        N_("Referral {reference} has been suspended. No deadline runs until it is resumed."),
    ),
    Kind.REFERRAL_RESUMED: (
        N_("Referral {reference} resumed"),
        N_("Referral {reference} has been resumed. Its deadlines have moved on."),
    ),
    Kind.REFERRAL_WITHDRAWN: (
        N_("Referral {reference} withdrawn"),
        N_("Referral {reference} has been withdrawn."),
    ),
}

# The work a stage names: the queue's next actions and the decisions' stages.
STAGES: dict[str, str] = {
    "rg_decision": N_("reasonable grounds decision"),
    "rg_review": N_("second review"),
    "cg_decision": N_("conclusive grounds decision"),
    "panel_review": N_("panel review"),
    "reconsideration": N_("reconsideration"),
    "reasonable_grounds": N_("reasonable grounds decision"),
    "conclusive_grounds": N_("conclusive grounds decision"),
}
DUE_LINE = N_("Due date: {due}")
LINK_LINE = N_("Sign in to see more: {link}")
FOOTER = N_("This message holds no personal details. Please do not reply to it.")


_LOCALES = {ENGLISH: "en_GB", WELSH: "cy"}  # "10 December 2026", "10 Rhagfyr 2026"


@dataclass(frozen=True)
class Facts:
    """Everything a message may say: nothing personal can be handed to `render`."""

    reference: str
    link: str
    stage: str | None = None
    due: date | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


def _fill(language: str, text: str, facts: Facts) -> str:
    translate = catalogue(language).gettext
    return translate(text).format(
        reference=facts.reference,
        link=facts.link,
        stage=translate(STAGES[facts.stage]) if facts.stage else "",
        due=format_date(facts.due, format="long", locale=_LOCALES[language]) if facts.due else "",
    )


def render(kind: Kind, facts: Facts, language: str) -> Rendered:
    """The message in one language (`en` or `cy`)."""
    subject, sentence = TEXTS[kind]
    lines = [_fill(language, sentence, facts)]
    if facts.due is not None and kind not in (Kind.DEADLINE_DUE_SOON, Kind.DEADLINE_MISSED):
        lines.append(_fill(language, DUE_LINE, facts))
    lines += ["", _fill(language, LINK_LINE, facts), "", _fill(language, FOOTER, facts)]
    return Rendered(_fill(language, subject, facts), "\n".join(lines) + "\n", language)


def render_bilingual(kind: Kind, facts: Facts) -> Rendered:
    """For an organisation's mailbox: Welsh first, then English (the Welsh Language Standards'
    order for a message to the public body's partners)."""
    welsh, english = render(kind, facts, WELSH), render(kind, facts, ENGLISH)
    return Rendered(
        f"{welsh.subject} / {english.subject}",
        f"{welsh.body}\n---\n\n{english.body}",
        f"{WELSH}, {ENGLISH}",
    )
