"""Every table of the service, imported in one place for Alembic and the schema test.

Importing this module registers all models on `Base.metadata`; it is the only module that
imports every feature's models, and only Alembic and tests use it.
"""

from __future__ import annotations

from app import (
    clock,  # noqa: F401 - registers test_clock
    idempotency,  # noqa: F401
)
from app.audit import models as audit_models  # noqa: F401
from app.db import Base
from app.identity import models as identity_models  # noqa: F401
from app.immigration import models as immigration_models  # noqa: F401
from app.letters import models as letter_models  # noqa: F401
from app.notifications import models as notification_models  # noqa: F401
from app.referrals import models as referral_models  # noqa: F401
from app.web import models as web_models  # noqa: F401

metadata = Base.metadata
