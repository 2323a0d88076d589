"""What a new password must be (NIST SP 800-63B, 5.1.1.2), checked offline, said in words.

At least 12 and at most 1024 characters, any characters but control characters, and not easy to
guess: `zxcvbn` (Dropbox's estimator, ported to Python) matches the password against lists of
common passwords, names and words, keyboard walks, repeats, sequences and dates, and against
the account's own username and display name. A password it scores below 3 ("safely
unguessable: moderate protection from an offline attack on a slow hash") is refused. Nothing
is sent anywhere. No composition rules and no expiry, as NIST advises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_SCORE = 3
# zxcvbn's cost grows quickly with length; a password's first 64 characters decide its score.
_JUDGED = 64


def problem(password: str, *, context: Sequence[str] = ()) -> str | None:
    """Why the password may not be used, in words a person can act on; None when it may."""
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password must have at most {MAX_LENGTH} characters."
    inputs = [c[:_JUDGED] for c in context if c]
    result: dict[str, Any] = zxcvbn(password[:_JUDGED], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    advice = [feedback["warning"], *feedback["suggestions"]]
    said = " ".join(a for a in advice if a) or "Add another word or two. Uncommon words are better."
    return f"This password is too easy to guess. {said}"
