"""How the referral representation lists its letters (CASEWORK "Decision letters"): what each
letter is, never its content. Auditors get the list without the person's language."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from app.letters.models import LetterKind
from app.schemas import ResponseModel


class AuditorLetterRead(ResponseModel):
    """A letter as an auditor sees it: that it was written, for which decision, and when."""

    id: uuid.UUID
    kind: LetterKind
    decision_id: uuid.UUID
    created_at: datetime


class LetterRead(AuditorLetterRead):
    """A letter as those who work the case see it; `language` is the person's correspondence
    language (`cy`: Welsh and English in one document, Welsh first)."""

    language: Literal["en", "cy"]
