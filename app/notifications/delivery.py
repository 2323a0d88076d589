"""Handing a rendered message to the mail: by SMTP (`NRM_SMTP_URL`) or as an `.eml` file in
`NRM_MAIL_DIR`. Owns the e-mail's headers, among them the stable `Message-ID` made from the
outbox row's id, so that a message sent again after a lost acknowledgement can be recognised
(and an `.eml` file written again replaces itself).

Must not: touch the database or decide when to retry (the worker does).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.notifications.messages import Rendered
from app.settings import Settings

SMTP_TIMEOUT_SECONDS = 30
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def message_id(notification_id: uuid.UUID, settings: Settings) -> str:
    """The same for every attempt at one outbox row."""
    domain = urlsplit(settings.public_url).hostname or "localhost"
    return f"<{notification_id}@{domain}>"


def build(
    notification_id: uuid.UUID, rendered: Rendered, *, to: str, settings: Settings, at: datetime
) -> EmailMessage:
    """The e-mail of one outbox row."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Message-ID"] = message_id(notification_id, settings)
    message["Auto-Submitted"] = "auto-generated"
    message["Date"] = format_datetime(at)
    message.set_content(rendered.body)
    message["Content-Language"] = rendered.language  # after: set_content drops Content-*
    return message


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand over one message; raises when it was not taken."""


@dataclass(frozen=True)
class SmtpMailer:
    """Delivery to a mail server: `smtp://` plain, `smtp+starttls://` upgraded, `smtps://` TLS;
    a user and password in the URL sign in."""

    url: str

    async def send(self, message: EmailMessage) -> None:
        parts = urlsplit(self.url)
        scheme = parts.scheme.lower()
        await aiosmtplib.send(
            message,
            hostname=parts.hostname or "localhost",
            port=parts.port or _DEFAULT_PORTS[scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=scheme == "smtps",
            start_tls=scheme == "smtp+starttls",
            timeout=SMTP_TIMEOUT_SECONDS,
        )


@dataclass(frozen=True)
class FileMailer:
    """Delivery into a folder, one `<outbox id>.eml` file each (written whole, then renamed)."""

    folder: Path

    async def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").split("@")[0]
        target = self.folder / f"{name}.eml"
        partial = self.folder / f".{name}.eml.partial"
        partial.write_bytes(bytes(message))
        os.replace(partial, target)


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url)
    return FileMailer(Path(settings.mail_dir))
