"""The worker against a real SMTP server (aiosmtpd on a free port): delivery in the
recipient's language, retries, giving up, the `.eml` folder, a worker killed mid-batch."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtplib import SMTPRecipientRefused, SMTPRecipientsRefused
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.clock import service_now
from app.identity.models import User
from app.notifications import delivery, worker
from app.notifications.models import Notification
from tests.notifications.conftest import SmtpServer
from tests.notifications.walk import (
    address,
    deliver,
    give_addresses,
    give_mailbox,
    outbox,
    worker_settings,
)
from tests.referrals.builders import Cast, file_case, make_cast_quickly
from tests.statements import counted, shown


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    cast = await make_cast_quickly(app, sessions)
    async with sessions() as session:
        await give_addresses(session, cast.responder, language="cy")
        await give_addresses(session, cast.decision_maker, cast.senior, cast.senior_two)
    return cast


async def events(db: AsyncSession, action: str) -> list[AuditEvent]:
    rows = await db.scalars(select(AuditEvent).where(AuditEvent.action == action))
    return list(rows.all())


class TestDeliveryBySmtp:
    async def test_each_row_goes_once_in_its_recipients_language(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        smtp_server: SmtpServer,
    ) -> None:
        box = await give_mailbox(db, "all-wales-decision-unit")
        case = await file_case(client, cast.responder)
        settings = worker_settings(app, smtp_url=smtp_server.url)
        assert await deliver(app, sessions, settings) == 5
        assert await deliver(app, sessions, settings) == 0
        inbox = smtp_server.inbox
        assert len(inbox.messages) == 5
        [welsh] = inbox.to(address(cast.responder))
        assert welsh["Subject"] == f"Atgyfeiriad {case.reference} wedi dod i law"
        assert welsh["Content-Language"] == "cy"
        [english] = inbox.to(address(cast.decision_maker))
        assert english["Subject"] == f"Referral {case.reference} sent to your unit"
        assert f"http://127.0.0.1:8000/referrals/{case.id}" in english.get_content()
        [both] = inbox.to(box)
        body = both.get_content()
        assert body.index("Mae atgyfeiriad") < body.index("has been sent to your decision unit")
        rows = await outbox(db, case.id)
        assert {r.status for r in rows} == {"sent"}
        assert {f"<{r.id}@127.0.0.1>" for r in rows} == {m["Message-ID"] for m in inbox.messages}
        sent = await events(db, "notification.sent")
        assert len(sent) == 5
        assert {e.changes["recipient"] for e in sent} >= {str(cast.responder.id)}
        assert any(e.changes["recipient"] == "organisation:all-wales-decision-unit" for e in sent)
        assert all("body" not in e.changes and "subject" not in e.changes for e in sent)

    async def test_links_start_with_the_public_url_and_mail_comes_from_the_sender(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        cast: Cast,
        smtp_server: SmtpServer,
    ) -> None:
        case = await file_case(client, cast.responder)
        settings = worker_settings(
            app,
            smtp_url=smtp_server.url,
            public_url="https://nrm.example.gov.wales/",
            mail_from="Wales NRM <hysbysiadau@nrm.example.gov.wales>",
        )
        await deliver(app, sessions, settings)
        [message] = smtp_server.inbox.to(address(cast.decision_maker))
        assert f"https://nrm.example.gov.wales/referrals/{case.id}" in message.get_content()
        assert "127.0.0.1" not in message.get_content()
        assert message["From"] == "Wales NRM <hysbysiadau@nrm.example.gov.wales>"

    async def test_a_server_that_refuses_then_accepts_gets_each_message_once(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        smtp_server: SmtpServer,
    ) -> None:
        case = await file_case(client, cast.responder)
        smtp_server.inbox.refuse = 2
        await deliver(app, sessions, worker_settings(app, smtp_url=smtp_server.url))
        assert smtp_server.inbox.refused == 2
        ids = [m["Message-ID"] for m in smtp_server.inbox.messages]
        assert len(ids) == len(set(ids)) == 4
        assert set(smtp_server.inbox.refused_ids) <= set(ids)  # a retry has the same Message-ID
        rows = await outbox(db, case.id)
        assert {r.status for r in rows} == {"sent"}
        assert sum(r.attempts for r in rows) == len(rows) + 2  # one more for each refusal

    async def test_after_the_last_attempt_it_fails_and_an_admin_queues_it_again(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        smtp_server: SmtpServer,
    ) -> None:
        case = await file_case(client, cast.responder)
        smtp_server.inbox.refuse = 1000
        settings = worker_settings(app, smtp_url=smtp_server.url, mail_max_attempts=3)
        await deliver(app, sessions, settings)
        rows = await outbox(db, case.id)
        assert {(r.status, r.attempts) for r in rows} == {("failed", 3)}
        assert all("451" in (r.last_error or "") for r in rows)
        assert len(await events(db, "notification.failed")) == 4
        smtp_server.inbox.refuse = 0
        response = await client.post(
            f"/api/v1/notifications/{rows[0].id}/retry", headers=cast.admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "queued"
        await deliver(app, sessions, settings)
        assert [m["Message-ID"] for m in smtp_server.inbox.messages] == [
            f"<{rows[0].id}@127.0.0.1>"
        ]


class TestWithoutAnAddress:
    async def test_the_row_fails_at_once_and_says_why(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp_server: SmtpServer,
    ) -> None:
        cast = await make_cast_quickly(app, sessions)  # nobody has an address
        case = await file_case(client, cast.responder)
        await deliver(app, sessions, worker_settings(app, smtp_url=smtp_server.url))
        rows = await outbox(db, case.id)
        assert {(r.status, r.attempts, r.last_error) for r in rows} == {
            ("failed", 1, "no e-mail address")
        }
        assert smtp_server.inbox.messages == []

    async def test_an_inactive_user_is_never_told(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp_server: SmtpServer,
    ) -> None:
        cast = await make_cast_quickly(app, sessions)
        await give_addresses(db, cast.responder)
        case = await file_case(client, cast.responder)
        await db.execute(update(User).where(User.id == cast.responder.id).values(is_active=False))
        await db.commit()
        await deliver(app, sessions, worker_settings(app, smtp_url=smtp_server.url))
        rows = [r for r in await outbox(db, case.id) if r.user_id == cast.responder.id]
        assert [(r.kind, r.status, r.last_error) for r in rows] == [
            ("referral.received", "failed", "inactive user")
        ]
        assert smtp_server.inbox.to(address(cast.responder)) == []


class TestFiles:
    async def test_without_smtp_each_message_is_an_eml_file_named_by_its_row(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        tmp_path: Path,
    ) -> None:
        case = await file_case(client, cast.responder)
        settings = worker_settings(app, smtp_url=None, mail_dir=str(tmp_path / "mail"))
        await deliver(app, sessions, settings)
        rows = await outbox(db, case.id)
        files = sorted(p.name for p in (tmp_path / "mail").iterdir())
        assert files == sorted(f"{r.id}.eml" for r in rows)


class Killed(BaseException):
    """The process dies: not an error the worker catches."""


class DiesAfterOne:
    def __init__(self, inner: delivery.Mailer) -> None:
        self.inner, self.sent = inner, 0

    async def send(self, message: EmailMessage) -> None:
        if self.sent == 1:
            raise Killed
        await self.inner.send(message)
        self.sent += 1


class TestKilledMidBatch:
    async def test_nothing_is_lost_once_the_lease_has_run_out(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        smtp_server: SmtpServer,
    ) -> None:
        case = await file_case(client, cast.responder)
        settings = worker_settings(app, smtp_url=smtp_server.url)
        with pytest.raises(Killed):
            await deliver(app, sessions, settings, DiesAfterOne(delivery.mailer_for(settings)))
        assert len(smtp_server.inbox.messages) == 1
        assert await deliver(app, sessions, settings) == 0  # still claimed by the dead worker
        response = await client.post(
            "/api/v1/test-clock", json={"advance_days": 1}, headers=cast.admin.headers
        )
        assert response.status_code == 200
        await deliver(app, sessions, settings)
        rows = await outbox(db, case.id)
        assert {r.status for r in rows} == {"sent"}
        delivered = {m["Message-ID"] for m in smtp_server.inbox.messages}
        assert delivered == {f"<{r.id}@127.0.0.1>" for r in rows}


def test_retries_wait_twice_as_long_each_time_up_to_six_hours(app: FastAPI) -> None:
    settings = worker_settings(app, mail_retry_seconds=60)
    waits = [worker.backoff(n, settings).total_seconds() for n in (1, 2, 3, 4, 20)]
    assert waits == [60, 120, 240, 480, 6 * 3600]


def test_the_lease_outlasts_a_batch_of_slow_sends() -> None:
    assert worker.LEASE.total_seconds() > worker.BATCH * delivery.SMTP_TIMEOUT_SECONDS


async def test_a_notification_row_holds_no_message(db: AsyncSession) -> None:
    columns = set(Notification.__table__.columns.keys())
    assert not columns & {"body", "subject", "message", "email", "address"}


async def test_a_batch_reads_its_recipients_in_one_statement_for_users_and_one_for_mailboxes(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    db: AsyncSession,
    cast: Cast,
) -> None:
    await give_mailbox(db, "all-wales-decision-unit")
    for _ in range(2):
        await file_case(client, cast.responder)
    settings = worker_settings(app)
    async with sessions() as session:
        now = await service_now(session, settings)
        rows = await worker.claim(session, token="batch", now=now)
        with counted(engine) as statements:
            recipients = await worker.read_recipients(session, rows)
            batch = [worker.compose(row, recipients, settings, now=now) for row in rows]
        recipients = {(row.user_id, row.organisation_id) for row in rows}
        await session.rollback()
    assert len(rows) == 10
    assert len(recipients) == 5  # four people and the unit's mailbox
    assert len(statements) == 2, shown(statements)
    assert all(item.message is not None for item in batch)


class RefusesTheRecipient:
    """A server's refusal that quotes the address it refused, as SMTP servers do."""

    async def send(self, message: EmailMessage) -> None:
        refused = SMTPRecipientRefused(550, "5.1.1 No such user", str(message["To"]))
        raise SMTPRecipientsRefused([refused])


async def test_a_refusal_quoting_the_address_is_kept_and_audited_without_it(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    db: AsyncSession,
    cast: Cast,
) -> None:
    case = await file_case(client, cast.responder)
    settings = worker_settings(app, mail_max_attempts=1)
    await deliver(app, sessions, settings, RefusesTheRecipient())
    [row] = [r for r in await outbox(db, case.id) if r.user_id == cast.responder.id]
    assert row.status == "failed"
    assert row.last_error is not None
    assert "SMTPRecipientsRefused" in row.last_error
    assert "550" in row.last_error
    assert "@" not in row.last_error
    failed = await events(db, "notification.failed")
    assert failed
    assert all("@" not in str(e.changes) for e in failed)
    assert address(cast.responder) not in str([e.changes for e in failed])


def test_scrubbing_keeps_the_words_and_drops_every_address() -> None:
    problem = "SMTPRecipientsRefused: [550 'No such user' 'bob.o-neill+x@example.org.uk', <a@b.cy>]"
    assert worker.scrubbed(problem) == (
        "SMTPRecipientsRefused: [550 'No such user' '<address>', <<address>>]"
    )
