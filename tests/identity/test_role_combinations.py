"""Admin and immigration officer are each held alone (docs/separation.md, "Roles held alone").

A user holding `immigration_officer` beside a victim-side role would read a referral's narrative
and its Home Office reference; an admin beside any role would act in cases. Neither can be
created or made, by the API or the command line; a user stored so before the rule acts without
both sides, and the start-up check names them.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from app.audit.models import AuditEvent
from app.clock import real_now
from app.identity import checks
from app.identity.models import Organisation, User, UserRole
from app.identity.roles import Role, combination_problem, usable_roles
from app.identity.security import issue_token
from tests.factories import AppUser, make_user
from tests.immigration.helpers import immigration_path
from tests.referrals.builders import file_referral

VICTIM_SIDE = [Role.FIRST_RESPONDER, Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER]
FORBIDDEN = [
    [Role.FIRST_RESPONDER, Role.IMMIGRATION_OFFICER],
    [Role.DECISION_MAKER, Role.IMMIGRATION_OFFICER],
    [Role.AUDITOR, Role.IMMIGRATION_OFFICER],
    [Role.ADMIN, Role.AUDITOR],
    [Role.ADMIN, Role.FIRST_RESPONDER],
    [Role.ADMIN, Role.IMMIGRATION_OFFICER],
    [Role.ADMIN, Role.AUDITOR, Role.FIRST_RESPONDER, Role.IMMIGRATION_OFFICER],
]
# Auditors read the immigration track of the audit trail: never beside a deciding role.
AUDITOR_BESIDE_DECIDER = [
    [Role.AUDITOR, Role.DECISION_MAKER],
    [Role.AUDITOR, Role.SENIOR_DECISION_MAKER],
    [Role.AUDITOR, Role.PANEL_MEMBER],
    [Role.DECISION_MAKER, Role.PANEL_MEMBER, Role.AUDITOR],
]
NEW_USER = {
    "username": "mixed-roles",
    "display_name": "Mixed Roles",
    "password": "correct-horse-battery-staple",
    "organisation": "south-wales-police",
}


async def legacy_user(
    app: FastAPI, db: AsyncSession, *roles: Role, organisation: str = "south-wales-police"
) -> AppUser:
    """A user stored with these roles before the rule existed (written straight to the table)."""
    org_id = await db.scalar(select(Organisation.id).where(Organisation.code == organisation))
    assert org_id is not None
    user = User(
        id=uuid.uuid4(),
        username=f"legacy-{uuid.uuid4().hex[:8]}",
        display_name="Legacy",
        password_hash="!unusable",
        organisation_id=org_id,
        is_active=True,
        created_at=real_now(),
        role_rows=[UserRole(role=r.value) for r in roles],
    )
    db.add(user)
    await db.commit()
    token = issue_token(app.state.settings, user.id).access_token
    return AppUser(user.id, user.username, organisation, roles, token)


class TestTheRule:
    @pytest.mark.parametrize("roles", FORBIDDEN)
    def test_a_solitary_role_beside_another_is_refused_in_words(self, roles: list[Role]) -> None:
        problem = combination_problem(set(roles))
        assert problem is not None
        assert "must" in problem
        assert "held alone" in problem
        assert "_" not in problem

    @pytest.mark.parametrize(
        "roles",
        [
            [Role.FIRST_RESPONDER, Role.DECISION_MAKER],
            [Role.DECISION_MAKER, Role.PANEL_MEMBER, Role.SENIOR_DECISION_MAKER],
            [Role.FIRST_RESPONDER, Role.AUDITOR],
            [Role.ADMIN],
            [Role.IMMIGRATION_OFFICER],
        ],
    )
    def test_victim_side_roles_combine_and_solitary_roles_stand_alone(
        self, roles: list[Role]
    ) -> None:
        assert combination_problem(set(roles)) is None

    @pytest.mark.parametrize("roles", AUDITOR_BESIDE_DECIDER)
    def test_an_auditor_never_also_decides(self, roles: list[Role]) -> None:
        problem = combination_problem(set(roles))
        assert problem is not None
        assert "auditor role cannot be held beside" in problem
        assert "_" not in problem
        assert usable_roles(frozenset(roles)) == set()

    def test_a_legacy_holder_never_acts_with_both_sides(self) -> None:
        everything = frozenset(Role)
        assert usable_roles(everything) == {Role.ADMIN}
        assert usable_roles(frozenset({Role.FIRST_RESPONDER, Role.IMMIGRATION_OFFICER})) == set()
        fine = frozenset({Role.FIRST_RESPONDER, Role.DECISION_MAKER})
        assert usable_roles(fine) == fine


class TestCreateAndChange:
    @pytest.mark.parametrize(
        ("roles", "reason"),
        [(roles, "held alone") for roles in FORBIDDEN]
        + [(roles, "auditor role cannot be held beside") for roles in AUDITOR_BESIDE_DECIDER],
    )
    async def test_post_users_refuses_the_combination_with_422_on_roles(
        self,
        app: FastAPI,
        db: AsyncSession,
        client: httpx.AsyncClient,
        roles: list[Role],
        reason: str,
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {**NEW_USER, "roles": [r.value for r in roles]}
        response = await client.post("/api/v1/users", json=body, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/validation-failed"
        [error] = response.json()["errors"]
        assert error["field"] == "roles"
        assert reason in error["message"]
        assert await db.scalar(select(User.id).where(User.username == "mixed-roles")) is None
        created = await db.scalar(select(AuditEvent).where(AuditEvent.action == "user.created"))
        assert created is not None  # only the admin's own creation
        assert created.changes["roles"]["after"] == ["admin"]

    async def test_victim_side_roles_still_combine(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {**NEW_USER, "roles": [r.value for r in VICTIM_SIDE]}
        response = await client.post("/api/v1/users", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        assert response.json()["roles"] == sorted(r.value for r in VICTIM_SIDE)

    @pytest.mark.parametrize(
        "roles", [["auditor", "admin"], ["first_responder", "immigration_officer"]]
    )
    async def test_patch_refuses_adding_a_role_beside_a_solitary_one(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, roles: list[str]
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        officer = await make_user(app, db, Role.IMMIGRATION_OFFICER)
        response = await client.patch(
            f"/api/v1/users/{officer.id}", json={"roles": roles}, headers=admin.headers
        )
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["roles"]
        me = await client.get("/api/v1/me", headers=officer.headers)
        assert me.json()["roles"] == ["immigration_officer"]
        assert (
            await db.scalar(select(AuditEvent).where(AuditEvent.action == "user.updated")) is None
        )

    async def test_an_admin_cannot_grant_themselves_more_roles(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.patch(
            f"/api/v1/users/{admin.id}",
            json={"roles": ["admin", "auditor", "first_responder", "immigration_officer"]},
            headers=admin.headers,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "roles"
        assert (await client.get("/api/v1/me", headers=admin.headers)).json()["roles"] == ["admin"]


class TestLegacyHolders:
    async def test_a_legacy_holder_reads_neither_the_referral_nor_its_immigration_record(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        responder = await make_user(
            app, db, Role.FIRST_RESPONDER, organisation="south-wales-police"
        )
        referral = (await file_referral(client, responder)).json()  # with an immigration part
        both = await legacy_user(app, db, Role.FIRST_RESPONDER, Role.IMMIGRATION_OFFICER)
        for path in (f"/api/v1/referrals/{referral['id']}", immigration_path(referral["id"])):
            response = await client.get(path, headers=both.headers)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["type"] == "/problems/forbidden"
            assert "may not be held together" in response.json()["detail"]
            assert "HO-" not in response.text

    async def test_a_legacy_admin_acts_as_admin_only_and_can_correct_themselves(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        mixed = await legacy_user(app, db, Role.ADMIN, Role.AUDITOR, Role.IMMIGRATION_OFFICER)
        audit = await client.get("/api/v1/audit/events", headers=mixed.headers)
        assert audit.status_code == 403
        fixed = await client.patch(
            f"/api/v1/users/{mixed.id}", json={"roles": ["admin"]}, headers=mixed.headers
        )
        assert fixed.status_code == 200, fixed.text
        assert fixed.json()["roles"] == ["admin"]


class TestStartUpCheck:
    async def test_names_each_user_whose_roles_may_not_be_combined(
        self, app: FastAPI, db: AsyncSession, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await make_user(app, db, Role.FIRST_RESPONDER, Role.DECISION_MAKER)
        await make_user(app, db, Role.IMMIGRATION_OFFICER)
        bad = await legacy_user(app, db, Role.FIRST_RESPONDER, Role.IMMIGRATION_OFFICER)
        with capture_logs() as logs:
            found = await checks.report_forbidden_role_combinations(sessions)
        assert found == 1
        [line] = [entry for entry in logs if entry["log_level"] == "error"]
        assert line["username"] == bad.username
        assert line["roles"] == ["first_responder", "immigration_officer"]
        assert line["acting_as"] == []

    @pytest.mark.committing
    async def test_runs_when_the_app_starts_and_never_stops_it(
        self, committed_app: FastAPI
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            bad = await legacy_user(committed_app, session, Role.ADMIN, Role.FIRST_RESPONDER)
        with capture_logs() as logs:
            async with committed_app.router.lifespan_context(committed_app):
                pass
        named = [e for e in logs if e.get("event") == "user_holds_roles_that_may_not_be_combined"]
        assert [e["username"] for e in named] == [bad.username]
        assert named[0]["acting_as"] == ["admin"]
