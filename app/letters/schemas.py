"""How the referral representation lists its letters (CASEWORK "Decision letters"): what each
letter is, never its content. Auditors get the list without the person's language."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from app.letters.models import LetterKind
from app.schemas import ResponseModel


class LetterRead(ResponseModel):
    """A letter in a referral's representation, for everyone who may read the referral
    (auditors too): `language` is the person's correspondence language (`cy`: Welsh and
    English in one document, Welsh first). Its content is only in the PDF."""

    id: uuid.UUID
    kind: LetterKind
    decision_id: uuid.UUID
    language: Literal["en", "cy"]
    created_at: datetime
