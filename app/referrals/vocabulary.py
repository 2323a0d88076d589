"""The closed vocabularies of a referral (API.md "Referrals"), each value documented.

Pure: enums and the country list only. `check_in` renders a CHECK constraint for a vocabulary.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

import pycountry


class Gender(StrEnum):
    """The person's gender as recorded on the referral."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"  # neither female nor male
    UNKNOWN = "unknown"


class ExploitationType(StrEnum):
    """The kind of exploitation (Home Office NRM statistics categories)."""

    SEXUAL = "sexual"
    LABOUR = "labour"
    DOMESTIC_SERVITUDE = "domestic_servitude"
    CRIMINAL = "criminal"  # includes county lines
    ORGAN_HARVESTING = "organ_harvesting"
    UNKNOWN = "unknown"


class ExploitationLocation(StrEnum):
    """Where the exploitation happened."""

    UK = "uk"
    OVERSEAS = "overseas"
    UK_AND_OVERSEAS = "uk_and_overseas"
    UNKNOWN = "unknown"


class Indicator(StrEnum):
    """Indicators of trafficking the first responder saw or was told of."""

    PHYSICAL_ABUSE = "physical_abuse"
    SEXUAL_ABUSE = "sexual_abuse"
    PSYCHOLOGICAL_ABUSE = "psychological_abuse"
    THREATS = "threats"
    RESTRICTED_MOVEMENT = "restricted_movement"
    WITHHELD_DOCUMENTS = "withheld_documents"
    DEBT_BONDAGE = "debt_bondage"
    WITHHELD_WAGES = "withheld_wages"
    EXCESSIVE_HOURS = "excessive_hours"
    POOR_LIVING_CONDITIONS = "poor_living_conditions"
    ISOLATION = "isolation"
    DECEPTION = "deception"
    FEAR_OF_AUTHORITIES = "fear_of_authorities"
    FORCED_CRIMINALITY = "forced_criminality"
    OTHER = "other"


class Language(StrEnum):
    """The language of everything sent to the person (Welsh Language Standards)."""

    ENGLISH = "en"
    WELSH = "cy"


KOSOVO = "XK"  # user-assigned in ISO 3166-1 but used by the Home Office's statistics


@lru_cache(maxsize=1)
def nationality_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes from pycountry's maintained list, plus XK for Kosovo."""
    return frozenset(c.alpha_2 for c in pycountry.countries) | {KOSOVO}


def nationality_name(code: str) -> str:
    """The English short name of a nationality code, for reports."""
    if code == KOSOVO:
        return "Kosovo"
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country else code


def check_in(column: str, values: type[StrEnum]) -> str:
    """`column IN ('a', 'b')` for a CHECK constraint."""
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"
