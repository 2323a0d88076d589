"""The application factory: `create_app(settings)` wires settings, database, middleware,
problem handlers and every feature's router; `app.openapi` builds the app with its OpenAPI
document and the offline `/docs` page. Nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from app import logs as app_logging
from app import openapi, problems
from app.admission import AdmissionMiddleware
from app.db import create_engine, create_sessionmaker
from app.i18n.asgi import LanguageMiddleware
from app.identity import checks as identity_checks
from app.identity.router import router as identity_router
from app.immigration import pages as immigration_pages
from app.middleware import (
    BodyLimitMiddleware,
    ControlCharacterMiddleware,
    RequestContextMiddleware,
)
from app.notifications import worker as notification_worker
from app.ops.router import router as ops_router
from app.ops.router import test_clock_router
from app.settings import Settings, get_settings
from app.web import router as web
from app.web.headers import SecurityHeadersMiddleware

API_PREFIX = "/api/v1"
API_DESCRIPTION = (
    "Sign in with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`. "
    "Every error is an RFC 9457 problem document (`application/problem+json`); "
    "every command that changes a referral needs `If-Match` with the referral's `ETag`."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A configured application; the engine is created here but connects on first use."""
    settings = settings or get_settings()
    app_logging.configure(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await identity_checks.report_forbidden_role_combinations(app.state.sessionmaker)
        async with notification_worker.in_process(app.state.sessionmaker, settings):
            yield
        await app.state.engine.dispose()

    app = openapi.create(
        title="Wales NRM",
        version="1.0.0",
        summary="The All-Wales referral mechanism for potential victims of modern slavery",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = create_engine(settings, time_limit_ms=settings.statement_timeout_ms)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ControlCharacterMiddleware)
    # Inside the request context, so a refusal has its request id, log line and metrics.
    app.add_middleware(
        AdmissionMiddleware,
        limit=settings.max_concurrent_requests,
        wait_ms=settings.admission_wait_ms,
    )
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(ops_router)
    app.include_router(identity_router, prefix=API_PREFIX)
    for router in feature_routers():
        app.include_router(router, prefix=API_PREFIX)
    if settings.test_clock:
        app.include_router(test_clock_router, prefix=API_PREFIX)
    web.install(app)
    # The compartment's pages are installed here, beside the web's: app.web never imports them.
    immigration_pages.install(app)
    return app


def feature_routers() -> list[APIRouter]:
    """The routers of the workflow features, in the order their paths should be matched."""
    from app.audit.router import router as audit
    from app.immigration.router import router as immigration
    from app.intake.router import router as intake
    from app.letters.router import router as letters
    from app.notifications.router import router as notifications
    from app.referrals.router import router as referrals
    from app.referrals.workflow_router import router as workflow
    from app.reports.router import router as reports

    return [intake, referrals, workflow, letters, immigration, audit, reports, notifications]


def app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:app_from_env`."""
    return create_app(get_settings())
