"""Intake: the one piece of code that receives a first responder's form and splits it, in one
transaction, between the referral (victim side) and the immigration compartment (DESIGN §5).

It is the only module that knows both sides. It validates what depends on the clock or the
database (dates not in the future, a possible age, a Welsh local authority), decides child or
adult, applies the consent rule, routes, sets the reasonable-grounds deadline, and writes one
`referral.submitted` and one `referral.routed` event (victim track) plus, when immigration
facts came with the form, the compartment's own `immigration.updated` event (immigration
track).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.days import add_working_days, wales_date
from app.errors import ConsentRequired, FieldError, ValidationFailed
from app.i18n.core_noop import N_
from app.identity.models import LocalAuthority, Organisation, User
from app.identity.principal import Principal
from app.immigration import service as immigration
from app.intake.schemas import DutyToNotifyCreate, PotentialVictim, ReferralCreate
from app.notifications import outbox
from app.referrals.ages import MAX_AGE_YEARS, age_on, is_child
from app.referrals.command_steps import queue_position
from app.referrals.models import DutyToNotify, Referral, ReferralExploitationType
from app.referrals.references import DUTY_TO_NOTIFY_SERIES, REFERRAL_SERIES, next_reference
from app.referrals.routing import deciding_unit, routing_rule
from app.referrals.workflow import Status
from app.settings import Settings

# What a person reads beside each date that lies in the future (WEB.md: plain words).
_IN_THE_PAST = {
    "potential_victim.date_of_birth": N_("Enter a date of birth in the past."),
    "exploitation.began_on": N_("Enter a start date in the past, or leave it empty."),
    "consent.recorded_on": N_(
        "Enter the date the consent was recorded: it cannot be in the future."
    ),
}


def _not_future(errors: list[FieldError], field: str, value: date | None, today: date) -> None:
    if value is not None and value > today:
        errors.append(FieldError(field, _IN_THE_PAST[field]))


def check_dates(body: ReferralCreate, today: date) -> None:
    """Dates in the form are not in the future, and a date of birth gives a possible age."""
    errors: list[FieldError] = []
    victim = body.potential_victim
    _not_future(errors, "potential_victim.date_of_birth", victim.date_of_birth, today)
    if victim.date_of_birth and age_on(victim.date_of_birth, today) > MAX_AGE_YEARS:
        errors.append(
            FieldError(
                "potential_victim.date_of_birth",
                "Check the date of birth: it would make the person older than 120.",
            )
        )
    _not_future(errors, "exploitation.began_on", body.exploitation.began_on, today)
    if body.consent is not None:
        _not_future(errors, "consent.recorded_on", body.consent.recorded_on, today)
    if errors:
        raise ValidationFailed("the referral has invalid dates", errors=errors)


async def check_local_authority(session: AsyncSession, code: str, field: str) -> None:
    if await session.get(LocalAuthority, code) is None:
        raise ValidationFailed(
            "unknown local authority",
            errors=[
                FieldError(
                    field,
                    "Choose one of the 22 Welsh local authorities (its ONS code, such as "
                    "W06000015).",
                )
            ],
        )


def check_consent(body: ReferralCreate, child: bool) -> None:
    """An adult must consent; without consent, file a duty-to-notify report instead."""
    if child or (body.consent is not None and body.consent.given):
        return
    raise ConsentRequired(
        "an adult must consent to a referral; without consent, file an anonymous report at "
        "POST /api/v1/duty-to-notify",
        errors=[FieldError("consent", "an adult's consent is required")],
    )


async def file_referral(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    body: ReferralCreate,
    *,
    now: datetime,
) -> Referral:
    """Validate, split and store a referral; returns it with everything its representation
    shows (not yet presented)."""
    today = wales_date(now)
    check_dates(body, today)
    await check_local_authority(
        session, body.exploitation.local_authority, "exploitation.local_authority"
    )
    victim = body.potential_victim
    child = is_child(victim.date_of_birth, victim.estimated_age, today)
    check_consent(body, child)
    unit = await deciding_unit(
        session, is_child=child, local_authority=body.exploitation.local_authority
    )
    relations = await _relations_as_filed(session, actor, unit)
    referral = _new_referral(body, relations, child=child, now=now, today=today)
    referral.reference = await next_reference(session, REFERRAL_SERIES, today.year)
    referral.rg_due = add_working_days(today, settings.rg_due_working_days)
    queue_position(referral)  # awaiting its RG decision, due on rg_due
    session.add(referral)
    await session.flush()
    await _record_filing(session, actor, referral, unit.code, now=now)
    await outbox.on_filing(session, referral, now=now)
    if body.immigration is not None:
        # DESIGN §5: the immigration part goes to the compartment, never onto the referral.
        await immigration.record_at_intake(
            session,
            actor.audit_ref(),
            referral_id=referral.id,
            status=body.immigration.status,
            home_office_reference=body.immigration.home_office_reference,
            now=now,
        )
    # Every relationship the representation shows was set from rows in hand: no read-back.
    return referral


async def _relations_as_filed(
    session: AsyncSession, actor: Principal, unit: Organisation
) -> dict[str, Any]:
    """A new referral's relationships, set before the INSERT so that the representation is
    built from what the transaction holds instead of reading the referral back. The referrer
    and the submitter are the rows the bearer token was checked against in this session
    (`session.get` finds them without a statement; another door's session reads them by key);
    a new referral has no assignee, decisions, reconsideration requests, notes or letters."""
    referrer = await session.get(Organisation, actor.organisation_id)
    submitter = await session.get(User, actor.id)
    if referrer is None or submitter is None:
        raise RuntimeError("the acting user or their organisation is missing")
    return {
        "referring_organisation": referrer,
        "submitted_by": submitter,
        "routed_to": unit,
        "assigned_to": None,
        "decisions": [],
        "reconsideration_requests": [],
        "notes": [],
        "letters": [],
    }


async def _record_filing(
    session: AsyncSession, actor: Principal, referral: Referral, unit: str, *, now: datetime
) -> None:
    """Filing is two facts, two events: the referral submitted, and where it was routed."""
    await audit.record(
        session,
        actor.audit_ref(),
        action=Action.REFERRAL_SUBMITTED,
        track=Track.VICTIM,
        now=now,
        referral_id=referral.id,
        changes={
            "status": {"after": referral.status},
            "routed_to": {"after": unit},
            "is_child": {"after": referral.is_child},
            "rg_due": {"after": referral.rg_due.isoformat() if referral.rg_due else None},
            "personal_data": {"after": ["potential_victim", "account", "exploitation"]},
        },
    )
    # DESIGN §3: routing is recorded as an event of its own, as a re-routing is.
    await audit.record(
        session,
        actor.audit_ref(),
        action=Action.REFERRAL_ROUTED,
        track=Track.VICTIM,
        now=now,
        referral_id=referral.id,
        changes={
            "routed_to": {"before": None, "after": unit},
            "rule": {"after": routing_rule(unit, is_child=referral.is_child)},
        },
    )


def _new_referral(
    body: ReferralCreate,
    relations: dict[str, Any],
    *,
    child: bool,
    now: datetime,
    today: date,
) -> Referral:
    victim, exploitation, consent = body.potential_victim, body.exploitation, body.consent
    return Referral(
        status=Status.AWAITING_RG.value,
        created_at=now,
        created_on=today,
        is_child=child,
        **relations,
        **_victim_columns(victim),
        consent_given=None if child or consent is None else consent.given,
        consent_recorded_on=None if child or consent is None else consent.recorded_on,
        exploitation_location=exploitation.location.value,
        local_authority=exploitation.local_authority,
        exploitation_began_on=exploitation.began_on,
        exploitation_ongoing=exploitation.ongoing,
        exploited_as_child=exploitation.exploited_as_child,
        indicators=[i.value for i in body.indicators],
        account=body.account,
        exploitation_types=[
            ReferralExploitationType(type=t.value, position=i)
            for i, t in enumerate(exploitation.types)
        ],
    )


def _victim_columns(victim: PotentialVictim) -> dict[str, Any]:
    return {
        "given_name": victim.given_name,
        "family_name": victim.family_name,
        "other_names": list(victim.other_names),
        "date_of_birth": victim.date_of_birth,
        "estimated_age": victim.estimated_age,
        "gender": victim.gender.value,
        "nationality": victim.nationality,
        "languages": list(victim.languages),
        "interpreter_needed": victim.interpreter_needed,
        "correspondence_language": victim.correspondence_language.value,
    }


async def file_duty_to_notify(
    session: AsyncSession, actor: Principal, body: DutyToNotifyCreate, *, now: datetime
) -> DutyToNotify:
    """An anonymous report: counted in statistics only, holding nothing identifying."""
    today = wales_date(now)
    await check_local_authority(
        session, body.exploitation.local_authority, "exploitation.local_authority"
    )
    report = DutyToNotify(
        reference=await next_reference(session, DUTY_TO_NOTIFY_SERIES, today.year),
        created_at=now,
        created_on=today,
        organisation_id=actor.organisation_id,
        submitted_by_id=actor.id,
        gender=body.gender.value,
        nationality=body.nationality,
        exploitation_types=[t.value for t in body.exploitation.types],
        exploitation_location=body.exploitation.location.value,
        local_authority=body.exploitation.local_authority,
    )
    session.add(report)
    await session.flush()
    await audit.record(
        session,
        actor.audit_ref(),
        action=Action.DUTY_TO_NOTIFY_SUBMITTED,
        track=Track.VICTIM,
        now=now,
        changes={"reference": {"after": report.reference}},
    )
    return report
