"""A case form sent after its session ended: what was typed is given back, after signing in
again, to the person who typed it, in the form on the referral's page, to check and send again
(WEB.md "Forms": nothing typed is lost, least of all a decision's reasons). Never sent for them.

How it travels, so that nothing is stored in the clear and no one else gets it:

1. The POST without a live session (`carry`): the typed fields (not the CSRF token, not the
   version) are sealed with AES-GCM under a key drawn from the service's secret, with the page
   they belong to, the CSRF token they were sent with, and a time limit (`KEPT_FOR`). The
   answer is the 303 to `/sign-in?next=…` of any page without a session, with the sealed form
   in cookies scoped to `/sign-in`, which the sign-in form carries on as a hidden field (a form
   too large for the cookies gets the sign-in form at once instead). Nothing is stored on the
   server. A POST from another site (its `Origin`) keeps nothing.
2. Signing in (`for_user`): the sealed form is kept with the new session only if its CSRF token
   was issued to the person who signed in (`sessions.owned_by`: the token carries a MAC of its
   user) and it is within its time limit. Someone else signing in at that browser gets nothing.
3. The referral's page (`take`): the first referral page shown clears it from the session; it
   fills the forms only if it is that referral's page and still within its time limit. The
   forms shown are those the person may use now, each carrying the new session's CSRF token
   and the referral's current version; if it moved on since the person read it, the page says
   that someone changed it, as after a 412.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request

from app.clock import real_now
from app.settings import Settings
from app.web import sessions
from app.web.models import WebSession

KEPT_FOR = timedelta(minutes=15)
MAX_TYPED = 64_000  # characters: a form larger than any case form is not kept
LEFT_OUT = frozenset({"csrf_token", "version", "idempotency_key"})  # the form's, not typed
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CASE_FORM = re.compile(rf"^(/referrals/{_UUID})/([a-z0-9/-]+)$")
_LABEL = b"nrm kept form v2"
# The sealed form rides to the sign-in form in cookies of its own (`Path=/sign-in`, so no other
# request carries them): at most `COOKIES` of `COOKIE_SIZE` characters each, well inside a
# request's headers; a larger one goes in the sign-in form shown at once instead.
COOKIE = "nrm_kept"
COOKIES = 3
COOKIE_SIZE = 3_800
COOKIE_SECONDS = int(timedelta(minutes=15).total_seconds())


@dataclass(frozen=True)
class Typed:
    """What was typed, and the version of the referral the person was reading."""

    fields: dict[str, str]
    version: str
    command: str  # the form's path after the referral's (`suspend`, `decisions`)


@dataclass(frozen=True)
class Carried:
    """A form on its way through the sign-in form: sealed, and the page it returns to."""

    sealed: str
    page: str


def _cipher(settings: Settings) -> AESGCM:
    return AESGCM(hashlib.sha256(_LABEL + b"\n" + settings.secret_key.encode()).digest())


def seal(settings: Settings, data: dict[str, Any]) -> str:
    nonce = secrets.token_bytes(12)
    plain = zlib.compress(json.dumps(data).encode())
    sealed = _cipher(settings).encrypt(nonce, plain, _LABEL)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(settings: Settings, text: str) -> dict[str, Any] | None:
    """The sealed data, or None when it is not this service's or was changed."""
    try:
        raw = base64.urlsafe_b64decode(text.encode())
        data = json.loads(zlib.decompress(_cipher(settings).decrypt(raw[:12], raw[12:], _LABEL)))
    except (ValueError, InvalidTag, zlib.error):
        return None
    return data if isinstance(data, dict) else None


def _fresh(data: dict[str, Any]) -> bool:
    try:
        return real_now() < datetime.fromisoformat(str(data.get("until")))
    except ValueError:
        return False


async def carry(request: Request, settings: Settings) -> Carried | None:
    """A case form posted without a live session, sealed for the sign-in form; None for any
    other POST, one from another site, or one without a session's CSRF token."""
    found = CASE_FORM.match(request.url.path)
    origin = request.headers.get("origin")
    if found is None or (origin is not None and origin != _own_origin(request)):
        return None
    form = await request.form()
    owner = form.get("csrf_token")
    if not isinstance(owner, str) or "." not in owner:
        return None
    typed = {k: v for k, v in form.multi_items() if k not in LEFT_OUT and isinstance(v, str)}
    if sum(len(k) + len(v) for k, v in typed.items()) > MAX_TYPED:
        return None
    until = (real_now() + KEPT_FOR).isoformat()
    version = str(form.get("version") or "")
    data = {"page": found.group(1), "fields": typed, "version": version}
    data["command"] = found.group(2)
    data |= {"owner": owner, "until": until}
    return Carried(seal(settings, data), found.group(1))


def cookie_chunks(sealed: str) -> list[str] | None:
    """The sealed form cut for its cookies; None when it needs more than `COOKIES`."""
    chunks = [sealed[i : i + COOKIE_SIZE] for i in range(0, len(sealed), COOKIE_SIZE)]
    return chunks if len(chunks) <= COOKIES else None


def from_cookies(request: Request) -> str:
    """The sealed form the sign-in form was sent with, or ""."""
    return "".join(request.cookies.get(f"{COOKIE}{n}", "") for n in range(COOKIES))


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def for_user(settings: Settings, sealed: str, user_id: uuid.UUID) -> str | None:
    """The sealed form to keep with a new session: only the one who typed it, in time."""
    data = unseal(settings, sealed)
    if data is None or not _fresh(data):
        return None
    if not sessions.owned_by(str(data.get("owner", "")), user_id, settings):
        return None
    return sealed


def take(settings: Settings, web_session: WebSession, page: str) -> Typed | None:
    """The fields kept for this page, once: the session holds them no longer, whichever page
    asks."""
    sealed, web_session.kept_form = web_session.kept_form, None
    data = unseal(settings, sealed) if sealed else None
    if data is None or data.get("page") != page or not _fresh(data):
        return None
    fields = data.get("fields")
    if not isinstance(fields, dict):
        return None
    typed = {str(k): str(v) for k, v in fields.items()}
    return Typed(typed, str(data.get("version", "")), str(data.get("command", "")))
