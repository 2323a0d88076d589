"""The referral form's fields → the API's body (`ReferralCreate`), and the plain words for a
field left empty.

Only shape is read here (a date from its three boxes, a number from its text, true or false); every
rule is the API's, checked by the same schema and the intake service.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.web.forms import FormErrors, FormValues

YES_NO = {"true": True, "false": False, "yes": True, "no": False}
"""A yes/no question's answer: the radios send the API's codes, `true` and `false`; `yes` and
`no` (what the radios sent before) are still read, so that a page open since then still works."""

REQUIRED = {
    "potential_victim.gender": N_("Select the person's gender"),
    "consent.given": N_("Select whether they consent to the referral"),
    "consent.recorded_on": N_("Enter the date their consent was recorded"),
    "exploitation.types": N_("Select at least one type of exploitation"),
    "exploitation.location": N_("Select where the exploitation happened"),
    "exploitation.local_authority": N_("Select the local authority where the person is now"),
    "account": N_("Write what you saw and what you were told"),
    "immigration.status": N_(
        "Select their immigration status, or leave the Home Office reference empty"
    ),
}
"""What a person reads when a required field is left empty."""

DATE_FIELDS = ("potential_victim.date_of_birth", "consent.recorded_on", "exploitation.began_on")
ANCHORS = {
    **{name: f"{name}.day" for name in DATE_FIELDS},
    "consent": "consent.given",
    "potential_victim.languages": "potential_victim.languages",
}
WRONG_DATE = N_("Enter a real date, with a day, month and year, such as 27 11 2026")
WRONG_AGE = N_("Enter the age as a whole number of years, such as 25")


def errors() -> FormErrors:
    return FormErrors(anchors=ANCHORS, plain=REQUIRED)


def date_of(values: FormValues, name: str, problems: FormErrors) -> date | None:
    """A date from its day, month and year boxes; None when all three are empty."""
    parts = [values.get(f"{name}.{part}").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        day, month, year = (int(p) for p in parts)
        if year < 1000:
            raise ValueError(year)
        return date(year, month, day)
    except ValueError:
        problems.add(name, gettext(WRONG_DATE))
        return None


def _optional(values: FormValues, name: str) -> str | None:
    return values.get(name).strip() or None


def _yes_no(values: FormValues, name: str) -> bool | None:
    return YES_NO.get(values.get(name))


def _age(values: FormValues, problems: FormErrors) -> int | None:
    text = values.get("potential_victim.estimated_age").strip()
    if not text:
        return None
    if not text.isdigit():
        problems.add("potential_victim.estimated_age", gettext(WRONG_AGE))
        return None
    return int(text)


def victim(values: FormValues, problems: FormErrors) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_name": _optional(values, "potential_victim.given_name"),
        "family_name": _optional(values, "potential_victim.family_name"),
        "other_names": [
            line.strip()
            for line in values.get("potential_victim.other_names").splitlines()
            if line.strip()
        ],
        "date_of_birth": date_of(values, "potential_victim.date_of_birth", problems),
        "estimated_age": _age(values, problems),
        "nationality": _optional(values, "potential_victim.nationality"),
        "languages": [v for v in values.all("potential_victim.languages") if v],
        "interpreter_needed": _yes_no(values, "potential_victim.interpreter_needed") or False,
        "correspondence_language": values.get("potential_victim.correspondence_language") or "en",
    }
    if values.get("potential_victim.gender"):
        body["gender"] = values.get("potential_victim.gender")
    return body


def consent(values: FormValues, problems: FormErrors) -> dict[str, Any] | None:
    given = _yes_no(values, "consent.given")
    recorded_on = date_of(values, "consent.recorded_on", problems)
    if given is None and recorded_on is None:
        return None
    if given is False and recorded_on is None:
        return None  # no consent: the intake's consent rule decides (a child needs none)
    body: dict[str, Any] = {}
    if given is not None:
        body["given"] = given
    if recorded_on is not None:
        body["recorded_on"] = recorded_on
    return body


def exploitation(values: FormValues, problems: FormErrors) -> dict[str, Any]:
    body: dict[str, Any] = {
        "types": [v for v in values.all("exploitation.types") if v],
        "began_on": date_of(values, "exploitation.began_on", problems),
        "ongoing": _yes_no(values, "exploitation.ongoing"),
        "exploited_as_child": _yes_no(values, "exploitation.exploited_as_child"),
    }
    for name in ("location", "local_authority"):
        if values.get(f"exploitation.{name}"):
            body[name] = values.get(f"exploitation.{name}")
    return body


def immigration(values: FormValues) -> dict[str, Any] | None:
    status = _optional(values, "immigration.status")
    reference = _optional(values, "immigration.home_office_reference")
    if status is None and reference is None:
        return None
    body: dict[str, Any] = {"home_office_reference": reference}
    if status is not None:
        body["status"] = status
    return body


def referral_body(values: FormValues, problems: FormErrors) -> dict[str, Any]:
    """The API's body from the form (Python values: the schema validates them as the API's)."""
    body: dict[str, Any] = {
        "potential_victim": victim(values, problems),
        "exploitation": exploitation(values, problems),
        "indicators": [v for v in values.all("indicators") if v],
        "account": values.get("account"),
    }
    given = consent(values, problems)
    if given is not None:
        body["consent"] = given
    part = immigration(values)
    if part is not None:
        body["immigration"] = part
    if not body["account"].strip():
        body.pop("account")
    return body
