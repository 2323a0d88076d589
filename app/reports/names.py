"""The names a person reads for the statistics' codes, in the current language: breakdowns,
groups (organisations' and councils' `name_cy`, countries from CLDR, codes from the
catalogues), totals. The statistics page and the report both name their rows here.

Codes stay the API's (`sector`, `W06000015`); the CSV keeps them and their English labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import labels
from app.i18n import core
from app.i18n.core_noop import N_
from app.identity.models import LocalAuthority, Organisation
from app.reports.schemas import AgeGroup, Breakdown

BREAKDOWNS: dict[Breakdown, str] = {
    Breakdown.SECTOR: N_("Sector of the referring organisation"),
    Breakdown.ORGANISATION: N_("Referring organisation"),
    Breakdown.EXPLOITATION_TYPE: N_("Type of exploitation"),
    Breakdown.AGE_GROUP: N_("Age group"),
    Breakdown.GENDER: N_("Gender"),
    Breakdown.NATIONALITY: N_("Nationality"),
    Breakdown.LOCAL_AUTHORITY: N_("Local authority"),
    Breakdown.POLICE_FORCE: N_("Police force"),
    Breakdown.DECISION_UNIT: N_("Decision unit"),
    Breakdown.IMMIGRATION_STATUS: N_("Immigration status"),
}
AGE_GROUPS: dict[str, str] = {
    AgeGroup.ADULT: N_("Adult"),
    AgeGroup.CHILD: N_("Child"),
    AgeGroup.UNKNOWN: N_("Age not known"),
}
TOTAL = N_("Total")
NOT_KNOWN = N_("Not known")
ORGANISATIONS = {Breakdown.ORGANISATION, Breakdown.POLICE_FORCE, Breakdown.DECISION_UNIT}


def breakdown_name(by: Breakdown) -> str:
    return core.gettext(BREAKDOWNS[by])


async def group_names(
    session: AsyncSession, by: Breakdown, groups: Iterable[str | None]
) -> dict[str, str]:
    """Each group's name in the current language: organisations' and councils' `name_cy`,
    countries from CLDR, codes from the catalogues."""
    codes = [g for g in groups if g is not None]
    language = core.current_language.get()
    welsh = language == core.WELSH
    if by in ORGANISATIONS:
        rows = await session.execute(
            select(Organisation.code, Organisation.name, Organisation.name_cy).where(
                Organisation.code.in_(codes)
            )
        )
        return {code: name_cy if welsh else name for code, name, name_cy in rows}
    if by == Breakdown.LOCAL_AUTHORITY:
        rows = await session.execute(
            select(LocalAuthority.ons_code, LocalAuthority.name, LocalAuthority.name_cy).where(
                LocalAuthority.ons_code.in_(codes)
            )
        )
        return {code: name_cy if welsh else name for code, name, name_cy in rows}
    return {code: code_name(by, code, language) for code in codes}


def code_name(by: Breakdown, code: str, language: str) -> str:
    """The name of a group that is a code of the API (a sector, a country, an age group)."""
    if code == "unknown" and by != Breakdown.AGE_GROUP:
        return core.gettext(NOT_KNOWN)
    if by == Breakdown.NATIONALITY:
        return labels.country(code, language)
    vocabulary: dict[Breakdown, Mapping[str, str]] = {
        Breakdown.SECTOR: labels.SECTORS,
        Breakdown.AGE_GROUP: AGE_GROUPS,
        Breakdown.GENDER: labels.GENDERS,
        Breakdown.EXPLOITATION_TYPE: labels.EXPLOITATION_TYPES,
        Breakdown.IMMIGRATION_STATUS: labels.IMMIGRATION_STATUSES,
    }
    message = vocabulary.get(by, {}).get(code)
    return core.gettext(message) if message else code
