"""Downloading a letter (CASEWORK "Decision letters"), for both doors (the API's
`GET /referrals/{id}/letters/{letter_id}` and the referral page's link): who may, the facts the
letter states, its PDF, and the `letter.downloaded` access event.

Who may: the referrer's first responders and the routed unit's deciders and panel members (the
role gate, 403, is the door's; this is the rest). A referral the caller may not see, or sees
only as an auditor, is 404, as is a letter that is not the referral's. The event rides in the
request's transaction, so a download whose event cannot be stored sends nothing (DESIGN §6).
Must not: commit, or read anything of immigration (DESIGN §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.errors import NotFound
from app.identity.models import LocalAuthority
from app.identity.principal import Principal
from app.letters.models import Addressee, Letter, LetterKind
from app.letters.pdf import render_pdf
from app.letters.rendering import LetterFacts
from app.referrals import presenters, queries
from app.referrals.models import Decision, Referral
from app.referrals.presenters import took_effect_on
from app.referrals.workflow import Outcome
from app.settings import Settings

_OPTIONS = (
    selectinload(Referral.letters),
    selectinload(Referral.decisions).selectinload(Decision.unit),
    selectinload(Referral.reconsideration_requests),
)
_RECONSIDERATIONS = {LetterKind.RECONSIDERATION_ACCEPTED, LetterKind.RECONSIDERATION_DECLINED}


@dataclass(frozen=True)
class Download:
    """A letter's file: its name and its bytes."""

    filename: str
    content: bytes


async def download(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    letter_id: uuid.UUID,
    *,
    now: datetime,
    settings: Settings,
) -> Download:
    """The letter's PDF for a caller who works the case (404 otherwise), audited."""
    referral = await queries.load(session, principal, referral_id, options=_OPTIONS)
    if not presenters.works_the_case(referral, principal):
        raise NotFound("no such referral")  # an auditor's view holds no letter's content
    letter = next((x for x in referral.letters if x.id == letter_id), None)
    if letter is None:
        raise NotFound("no such letter on this referral")
    facts = await facts_of(session, referral, letter)
    content = render_pdf(
        facts,
        language=letter.language,
        created_at=letter.created_at,
        font_dir=Path(settings.letter_font_dir),
    )
    await audit.record(
        session,
        principal.audit_ref(),
        action=Action.LETTER_DOWNLOADED,
        track=Track.ACCESS,
        now=now,
        referral_id=referral.id,
        changes={"letter_id": str(letter.id), "kind": letter.kind},
    )
    return Download(f"{referral.reference}-{letter.kind}.pdf", content)


async def facts_of(session: AsyncSession, referral: Referral, letter: Letter) -> LetterFacts:
    """What the letter states, from its row, its decision (or reconsideration) and referral."""
    decision = next(d for d in referral.decisions if d.id == letter.decision_id)
    kind = LetterKind(letter.kind)
    reasons: str | None = None
    if kind in _RECONSIDERATIONS:
        wanted = letter.reconsideration_request_id
        request = next(r for r in referral.reconsideration_requests if r.id == wanted)
        reasons = request.decision_reasons
    elif decision.outcome == Outcome.NEGATIVE:
        reasons = decision.reasons
    authority = None
    if letter.addressee == Addressee.LOCAL_AUTHORITY and letter.local_authority:
        council = await session.get(LocalAuthority, letter.local_authority)
        authority = (council.name, council.name_cy) if council else None
    names = (referral.given_name or "", referral.family_name or "")
    return LetterFacts(
        kind=kind.value,
        reference=referral.reference,
        name=" ".join(n for n in names if n),
        written_on=letter.decided_on,
        decided_on=letter.decided_on,
        questioned_on=took_effect_on(decision) if kind in _RECONSIDERATIONS else None,
        until_on=letter.until_on,
        reconsider_by=letter.reconsider_by,
        reasons=reasons,
        unit=(decision.unit.name, decision.unit.name_cy or decision.unit.name),
        local_authority=authority,
    )
