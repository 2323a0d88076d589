"""Loading the Welsh reference data (`reference_data.json`) into the database, idempotently.

The data is data, not code: the four police forces, the seven health boards, the 22 local
authorities with their ONS codes, Welsh names, police force and health board, the All-Wales
decision unit and a set of charities. Loading twice changes nothing the second time.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.identity.models import LocalAuthority, Organisation

ALL_WALES_DECISION_UNIT = "all-wales-decision-unit"


@lru_cache(maxsize=1)
def reference_data() -> dict[str, Any]:
    """The parsed reference data file shipped with the package."""
    text = resources.files("app.identity").joinpath("reference_data.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


async def load(session: AsyncSession, *, now: datetime) -> int:
    """Insert or refresh every reference row; returns how many rows changed (0 when current)."""
    data = reference_data()
    changed = 0
    for row in data["local_authorities"]:
        changed += await _upsert_local_authority(session, row)
    await session.flush()
    for row in data["organisations"]:
        changed += await _upsert_organisation(session, row)
    if changed:
        await session.flush()
        await audit.record(
            session,
            audit.SYSTEM,
            action=Action.REFERENCE_DATA_LOADED,
            track=Track.ADMIN,
            now=now,
            changes={"rows_changed": {"after": changed}},
        )
    return changed


async def _upsert_local_authority(session: AsyncSession, row: dict[str, Any]) -> int:
    fields = {k: row[k] for k in ("name", "name_cy", "police_force", "health_board")}
    existing = await session.get(LocalAuthority, row["ons_code"])
    if existing is None:
        session.add(LocalAuthority(ons_code=row["ons_code"], **fields))
        return 1
    return _refresh(existing, fields)


async def _upsert_organisation(session: AsyncSession, row: dict[str, Any]) -> int:
    fields = {k: row.get(k) for k in ("name", "name_cy", "sector", "local_authority")}
    existing = await session.scalar(select(Organisation).where(Organisation.code == row["code"]))
    if existing is None:
        session.add(Organisation(code=row["code"], **fields))
        return 1
    return _refresh(existing, fields)


def _refresh(obj: object, fields: dict[str, Any]) -> int:
    differs = any(getattr(obj, k) != v for k, v in fields.items())
    for key, value in fields.items():
        setattr(obj, key, value)
    return int(differs)
