"""The names of the API's codes, as pages show them: every one a catalogue message.

Control values stay the API's codes (WEB.md "Forms"); only what a person reads is translated.
Countries and languages are named from the CLDR data Babel ships, in the page's language.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from babel import Locale

from app.i18n.core import WELSH, gettext
from app.i18n.core_noop import N_
from app.referrals.vocabulary import nationality_codes

GENDERS = {
    "female": N_("Female"),
    "male": N_("Male"),
    "other": N_("Neither female nor male"),
    "unknown": N_("Not known"),
}
EXPLOITATION_TYPES = {
    "sexual": N_("Sexual exploitation"),
    "labour": N_("Forced labour"),
    "domestic_servitude": N_("Domestic servitude"),
    "criminal": N_("Criminal exploitation (including county lines)"),
    "organ_harvesting": N_("Removal of organs"),
    "unknown": N_("Not known"),
}
LOCATIONS = {
    "uk": N_("In the UK"),
    "overseas": N_("Overseas"),
    "uk_and_overseas": N_("In the UK and overseas"),
    "unknown": N_("Not known"),
}
INDICATORS = {
    "physical_abuse": N_("Physical abuse"),
    "sexual_abuse": N_("Sexual abuse"),
    "psychological_abuse": N_("Psychological abuse"),
    "threats": N_("Threats against them or their family"),
    "restricted_movement": N_("Not free to come and go"),
    "withheld_documents": N_("Someone else holds their passport or identity documents"),
    "debt_bondage": N_("A debt they are made to work off"),
    "withheld_wages": N_("Wages kept from them"),
    "excessive_hours": N_("Very long working hours"),
    "poor_living_conditions": N_("Poor living conditions"),
    "isolation": N_("Kept apart from other people"),
    "deception": N_("Deceived about the work or the journey"),
    "fear_of_authorities": N_("Afraid of the police or other authorities"),
    "forced_criminality": N_("Made to commit crimes"),
    "other": N_("Something else"),
}
IMMIGRATION_STATUSES = {
    "british_or_irish_citizen": N_("British or Irish citizen"),
    "settled": N_("Settled status"),
    "pre_settled": N_("Pre-settled status"),
    "visa_holder": N_("Holds a visa"),
    "visa_overstayer": N_("Stayed after their visa ended"),
    "asylum_seeker": N_("Asylum seeker"),
    "refugee_or_protection": N_("Refugee or other protection"),
    "no_leave": N_("No permission to be in the UK"),
    "unknown": N_("Not known"),
}
STATUSES = {
    "awaiting_rg": N_("Waiting for a reasonable grounds decision"),
    "rg_negative": N_("Negative reasonable grounds decision"),
    "recovery_period": N_("Recovery period"),
    "cg_positive": N_("Positive conclusive grounds decision"),
    "cg_negative": N_("Negative conclusive grounds decision"),
    "suspended": N_("Suspended"),
    "withdrawn": N_("Withdrawn"),
}
NEXT_ACTIONS = {
    "rg_decision": N_("Reasonable grounds decision"),
    "rg_review": N_("Second review of a reasonable grounds decision"),
    "cg_decision": N_("Conclusive grounds decision"),
    "panel_review": N_("Panel review"),
    "reconsideration": N_("Reconsideration"),
}
STAGES = {
    "reasonable_grounds": N_("Reasonable grounds"),
    "conclusive_grounds": N_("Conclusive grounds"),
}
OUTCOMES = {"positive": N_("Positive"), "negative": N_("Negative")}
DECISION_STATUSES = {
    "proposed": N_("Proposed, waiting for review"),
    "effective": N_("In effect"),
    "rejected": N_("Rejected on review"),
}
RECONSIDERATION_STATUSES = {
    "open": N_("Open"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
}
CORRESPONDENCE_LANGUAGES = {"en": N_("English"), "cy": N_("Welsh")}
ROLES = {
    "first_responder": N_("First responder"),
    "decision_maker": N_("Decision maker"),
    "senior_decision_maker": N_("Senior decision maker"),
    "panel_member": N_("Panel member"),
    "immigration_officer": N_("Immigration officer"),
    "auditor": N_("Auditor"),
    "admin": N_("Administrator"),
}
SECTORS = {
    "police": N_("Police"),
    "health": N_("Health"),
    "local_authority": N_("Local authority"),
    "charity": N_("Charity"),
    "home_office": N_("Home Office"),
    "decision_unit": N_("Decision unit"),
    "oversight": N_("Oversight (inspectors and auditors)"),
}
NOTIFICATION_KINDS = {
    "referral.received": N_("Referral received"),
    "referral.routed": N_("Referral sent to a decision unit"),
    "review.needed": N_("Second review needed"),
    "panel.needed": N_("Panel review needed"),
    "decision.effective": N_("Decision in effect"),
    "reconsideration.requested": N_("Reconsideration asked for"),
    "reconsideration.decided": N_("Reconsideration decided"),
    "deadline.due_soon": N_("Deadline soon"),
    "deadline.missed": N_("Deadline missed"),
    "referral.suspended": N_("Referral suspended"),
    "referral.resumed": N_("Referral resumed"),
    "referral.withdrawn": N_("Referral withdrawn"),
}
NOTIFICATION_STATUSES = {
    "queued": N_("Waiting to be sent"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
}

VOCABULARIES: dict[str, dict[str, str]] = {
    "gender": GENDERS,
    "exploitation_type": EXPLOITATION_TYPES,
    "location": LOCATIONS,
    "indicator": INDICATORS,
    "immigration_status": IMMIGRATION_STATUSES,
    "status": STATUSES,
    "next_action": NEXT_ACTIONS,
    "stage": STAGES,
    "outcome": OUTCOMES,
    "decision_status": DECISION_STATUSES,
    "reconsideration_status": RECONSIDERATION_STATUSES,
    "correspondence_language": CORRESPONDENCE_LANGUAGES,
    "role": ROLES,
    "sector": SECTORS,
    "notification_kind": NOTIFICATION_KINDS,
    "notification_status": NOTIFICATION_STATUSES,
}


class Named(Protocol):
    """An organisation or a council: a name in English and one in Welsh."""

    @property
    def name(self) -> str: ...

    @property
    def name_cy(self) -> str: ...


def local_name(named: Named, language: str) -> str:
    """Its name in `language`: `name_cy` in Welsh, `name` in English."""
    return named.name_cy if language == WELSH else named.name


def label(vocabulary: str, code: str | None) -> str:
    """The name of an API code in the current language (the code itself when unknown)."""
    if code is None:
        return ""
    message = VOCABULARIES[vocabulary].get(code)
    return gettext(message) if message else code


def choices(vocabulary: str) -> list[tuple[str, str]]:
    """(code, name) of every value of a vocabulary, in the API's order."""
    return [(code, gettext(message)) for code, message in VOCABULARIES[vocabulary].items()]


@lru_cache(maxsize=2)
def countries(language: str) -> list[tuple[str, str]]:
    """(ISO code, name) of every nationality the API takes, by name in `language`."""
    names = Locale.parse(language).territories
    found = [(code, str(names.get(code, code))) for code in nationality_codes()]
    return sorted(found, key=lambda pair: pair[1].casefold())


def country(code: str | None, language: str) -> str:
    if not code:
        return ""
    return str(Locale.parse(language).territories.get(code, code))


@lru_cache(maxsize=2)
def languages(language: str) -> list[tuple[str, str]]:
    """(ISO 639-1 code, name) of the languages a person may speak, by name in `language`."""
    names = Locale.parse(language).languages
    found = [(code, str(name)) for code, name in names.items() if len(code) == 2]
    return sorted(found, key=lambda pair: pair[1].casefold())


def language_name(code: str, language: str) -> str:
    return str(Locale.parse(language).languages.get(code, code))
