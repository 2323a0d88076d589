"""`NRM_SMTP_URL`: its three schemes, credentials in the URL, and a refusal of any other."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import pytest
from pydantic import ValidationError

from app.notifications import delivery
from tests.databases import settings_for

NOWHERE = "sqlite+aiosqlite:////nonexistent-folder/nrm.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, None, None, False, False)),
        (
            "smtp+starttls://nrm%40example.org:p%40ss@mail.example.org:2587",
            ("mail.example.org", 2587, "nrm@example.org", "p@ss", False, True),
        ),
        ("smtps://u:p@mail.example.org", ("mail.example.org", 465, "u", "p", True, False)),
    ],
)
async def test_each_scheme_reaches_the_server_as_it_says(
    url: str, expected: tuple[object, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    async def send(message: EmailMessage, **kwargs: Any) -> None:
        del message
        calls.append(kwargs)

    monkeypatch.setattr(delivery.aiosmtplib, "send", send)
    mailer = delivery.mailer_for(settings_for(NOWHERE, smtp_url=url))
    await mailer.send(EmailMessage())
    [call] = calls
    keys = ("hostname", "port", "username", "password", "use_tls", "start_tls")
    assert tuple(call[k] for k in keys) == expected


def test_another_scheme_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="NRM_SMTP_URL"):
        settings_for(NOWHERE, smtp_url="http://mail.example.org")


def test_without_a_url_messages_are_files(tmp_path: Any) -> None:
    mailer = delivery.mailer_for(settings_for(NOWHERE, mail_dir=str(tmp_path)))
    assert mailer == delivery.FileMailer(tmp_path)


def test_the_message_id_is_the_rows_on_the_public_host() -> None:
    row = uuid.uuid4()
    settings = settings_for(NOWHERE, public_url="https://nrm.gov.wales")
    assert delivery.message_id(row, settings) == f"<{row}@nrm.gov.wales>"
