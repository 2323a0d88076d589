"""The SQL of `nrm seed scale`: every row is generated inside PostgreSQL.

Owns the statements and the small table of each status's story (which audit events a referral
in that status has, and where in its stream). Must not run anything: `app.seeding.scale` does.
An event's canonical text is rebuilt from its columns with the very expression verification
uses (`walk_postgresql.COLUMNS_AS_CANONICAL`), and its hash is `chain.event_hash` in SQL:
sha256 of the previous hash (empty first), a newline and the canonical text.
"""

from __future__ import annotations

from typing import Any

from app.audit import walk_postgresql
from app.audit.actions import Action
from app.audit.chain import canonical_bytes

EVENTS = 20  # per referral: a stream of referral:<id> with positions 1..20
BATCH = 1000  # referrals per transaction
SERIES = "NRM-S-"  # the references of generated referrals: NRM-S-000000001 …

# (username, organisation, role): who the generated events and rows name; never signed in.
ACTORS = (
    ("scale-responder", "south-wales-police", "first_responder"),
    ("scale-decider", "all-wales-decision-unit", "decision_maker"),
    ("scale-reviewer", "all-wales-decision-unit", "senior_decision_maker"),
    ("scale-panel", "all-wales-decision-unit", "panel_member"),
)


def _status(before: str | None, after: str) -> dict[str, Any]:
    return {"status": {"after": after, "before": before}}


def _decided(stage: str, outcome: str, **rest: Any) -> dict[str, Any]:
    return {"decision": {"outcome": outcome, "stage": stage}, **rest}


RG, CG = "reasonable_grounds", "conclusive_grounds"
# Status → its events after the opening ones, as (action, track, actor, changes): they take the
# stream's last positions. The positions in between are reads and notes (`EVENTS_SQL`).
TAILS: dict[str, list[tuple[Action, str, str, dict[str, Any]]]] = {
    "awaiting_rg": [],
    "recovery_period": [
        (Action.DECISION_EFFECTIVE, "victim", "decider",
         _decided(RG, "positive", **_status("awaiting_rg", "recovery_period"))),
    ],
    "rg_negative": [
        (Action.DECISION_PROPOSED, "victim", "decider", _decided(RG, "negative")),
        (Action.DECISION_REVIEWED, "victim", "reviewer", {"review": {"agree": True}}),
        (Action.DECISION_EFFECTIVE, "victim", "reviewer",
         _decided(RG, "negative", **_status("awaiting_rg", "rg_negative"))),
    ],
    "cg_positive": [
        (Action.DECISION_EFFECTIVE, "victim", "decider",
         _decided(RG, "positive", **_status("awaiting_rg", "recovery_period"))),
        (Action.DECISION_EFFECTIVE, "victim", "decider",
         _decided(CG, "positive", **_status("recovery_period", "cg_positive"))),
    ],
    "cg_negative": [
        (Action.DECISION_EFFECTIVE, "victim", "decider",
         _decided(RG, "positive", **_status("awaiting_rg", "recovery_period"))),
        (Action.DECISION_PROPOSED, "victim", "decider", _decided(CG, "negative")),
        (Action.DECISION_REVIEWED, "victim", "panel", {"review": {"agree": True}}),
        (Action.DECISION_EFFECTIVE, "victim", "panel",
         _decided(CG, "negative", **_status("recovery_period", "cg_negative"))),
    ],
    "suspended": [
        (Action.REFERRAL_SUSPENDED, "victim", "decider", _status("awaiting_rg", "suspended")),
    ],
    "withdrawn": [
        (Action.REFERRAL_WITHDRAWN, "victim", "responder", _status("awaiting_rg", "withdrawn")),
    ],
}  # fmt: skip
OPENING = [
    (Action.REFERRAL_SUBMITTED, "victim", "responder", _status(None, "awaiting_rg")),
    (
        Action.REFERRAL_ROUTED,
        "victim",
        "responder",
        {"routed_to": {"after": "all-wales-decision-unit"}},
    ),
]
VIEW = {"view": {"after": "decision_maker"}}
NOTE = {"note": {"after": "added"}}
IMMIGRATION = {"immigration_status": {"after": "recorded"}}


def story_rows() -> list[dict[str, Any]]:
    """The rows of `scale_steps`: each status's opening and tail events at their positions."""
    rows = []
    for status, tail in TAILS.items():
        placed = [*enumerate(OPENING, 1), *enumerate(tail, EVENTS - len(tail) + 1)]
        for position, (action, track, actor, changes) in placed:
            rows.append(
                {
                    "status": status,
                    "position": position,
                    "action": action,
                    "track": track,
                    "actor": actor,
                    "changes": canonical_bytes(changes).decode(),
                }
            )
    return rows


def _json(changes: dict[str, Any]) -> str:
    return "'" + canonical_bytes(changes).decode() + "'"


# Statuses by n % 100, roughly as `nrm seed demo --referrals` mixes them.
_STATUS_OF_N = """CASE WHEN n % 100 < 20 THEN 'awaiting_rg' WHEN n % 100 < 45 THEN 'recovery_period'
    WHEN n % 100 < 57 THEN 'rg_negative' WHEN n % 100 < 75 THEN 'cg_positive'
    WHEN n % 100 < 83 THEN 'cg_negative' WHEN n % 100 < 88 THEN 'suspended'
    ELSE 'withdrawn' END"""

SETUP = [
    f"""INSERT INTO users (id, username, display_name, password_hash, organisation_id,
        is_active, created_at)
    SELECT gen_random_uuid(), a.username, a.username, '!', o.id, false, now()
    FROM (VALUES {", ".join(f"('{u}', '{o}')" for u, o, _ in ACTORS)}) AS a(username, code)
    JOIN organisations AS o ON o.code = a.code
    ON CONFLICT (username) DO NOTHING""",  # noqa: S608 - constants only
    f"""INSERT INTO user_roles (user_id, role)
    SELECT u.id, a.role FROM (VALUES {", ".join(f"('{u}', '{r}')" for u, _, r in ACTORS)})
        AS a(username, role) JOIN users AS u ON u.username = a.username
    ON CONFLICT DO NOTHING""",  # noqa: S608 - constants only
]
NEXT_NUMBER = f"""SELECT coalesce(max(CAST(substr(reference, {len(SERIES) + 1}) AS bigint)), 0)
    FROM referrals WHERE reference LIKE '{SERIES}%'"""  # noqa: S608 - constants only

# Per batch (a transaction): context, the batch's referrals, then every table from them.
BATCH_TABLES = [
    """CREATE TEMP TABLE scale_actors ON COMMIT DROP AS
    SELECT substr(u.username, 7) AS kind, u.id, o.code AS organisation,
        '["' || min(r.role) || '"]' AS roles, u.organisation_id
    FROM users AS u JOIN organisations AS o ON o.id = u.organisation_id
    JOIN user_roles AS r ON r.user_id = u.id
    WHERE u.username LIKE 'scale-%' GROUP BY u.id, o.code""",
    """CREATE TEMP TABLE scale_steps (status text, "position" int, action text, track text,
        actor text, changes text) ON COMMIT DROP""",
    f"""CREATE TEMP TABLE scale_rows ON COMMIT DROP AS
    SELECT n, gen_random_uuid() AS id, {_STATUS_OF_N} AS status,
        timestamptz '2024-01-01 09:00Z' + (n % 731) * interval '1 day'
            + (n % 480) * interval '1 minute' AS created_at,
        n % 2 = 0 AS has_immigration, n % 3 = 0 AS has_notes,
        (SELECT array_agg(ons_code ORDER BY ons_code) FROM local_authorities) AS places,
        (SELECT array_agg(id ORDER BY code) FROM organisations
            WHERE sector NOT IN ('decision_unit', 'home_office', 'oversight')) AS referrers,
        (SELECT id FROM organisations WHERE code = 'all-wales-decision-unit') AS unit
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n""",  # noqa: S608 - constants only
]
STEPS_INSERT = """INSERT INTO scale_steps VALUES (:status, :position, :action, :track, :actor,
    :changes)"""


def _at(position: str) -> str:
    """When a referral's event at `position` happened: six hours after the one before."""
    return f"r.created_at + ({position} - 1) * interval '6 hours'"


def _on(moment: str) -> str:
    return f"CAST(({moment}) AT TIME ZONE 'Europe/London' AS date)"


_CREATED_ON = _on("r.created_at")
# Where each decision's events sit in its stream (`TAILS`): proposed or effective, reviewed.
_RG_AT = _at(
    "CASE r.status WHEN 'recovery_period' THEN 20 WHEN 'rg_negative' THEN 18 "
    "WHEN 'cg_positive' THEN 19 ELSE 17 END"
)
_CG_AT = _at("CASE r.status WHEN 'cg_positive' THEN 20 ELSE 18 END")
_DECISION_COLUMNS = """(id, referral_id, stage, outcome, status, reasons, early_decision_reason,
    decided_by_id, decided_at, decided_on, unit_id, guidance_version, working_days, due_on,
    met, effective_at, review_by_id, review_agree, review_comments, review_at)"""
ROWS = [
    f"""INSERT INTO referrals (id, reference, status, version, created_at, created_on, is_child,
        referring_organisation_id, submitted_by_id, routed_to_id, given_name, family_name,
        other_names, date_of_birth, estimated_age, gender, nationality, languages,
        interpreter_needed, correspondence_language, consent_given, consent_recorded_on,
        exploitation_location, local_authority, exploited_as_child, indicators, account,
        rg_due, recovery_period_ends, status_before_suspension, suspended_on, next_action,
        queue_due)
    SELECT r.id, '{SERIES}' || lpad(CAST(r.n AS text), 9, '0'), r.status, {EVENTS},
        r.created_at, {_CREATED_ON}, r.n % 10 < 2,
        r.referrers[1 + r.n % array_length(r.referrers, 1)],
        (SELECT id FROM scale_actors WHERE kind = 'responder'), r.unit,
        (ARRAY['Ana','Arben','Bao','Dafydd','Elira','Fatima','Gareth','Hana'])[1 + r.n % 8],
        (ARRAY['Ahmed','Chen','Davies','Evans','Hoxha','Jones','Nguyen'])[1 + r.n % 7],
        '[]', date '1970-01-01' + CAST(r.n % 15000 AS int), NULL,
        (ARRAY['male','male','female','female','other','unknown'])[1 + r.n % 6],
        (ARRAY['GB','GB','AL','AL','VN','VN','RO','SD','ER','PL','NG','IN','CN','UA',
            NULL])[1 + r.n % 15],
        '["en"]', r.n % 4 = 0, 'en', CASE WHEN r.n % 10 >= 2 THEN true END,
        CASE WHEN r.n % 10 >= 2 THEN {_CREATED_ON} END, 'uk',
        r.places[1 + r.n % array_length(r.places, 1)], CASE WHEN r.n % 17 = 0 THEN true END,
        '["threats","isolation"]', 'A referral generated at scale: no real person.',
        {_CREATED_ON} + 7,
        CASE WHEN r.status IN ('recovery_period', 'cg_positive', 'cg_negative')
            THEN {_on(_RG_AT)} + 30 END,
        CASE WHEN r.status = 'suspended' THEN 'awaiting_rg' END,
        CASE WHEN r.status = 'suspended' THEN {_on(_at("20"))} END,
        CASE r.status WHEN 'awaiting_rg' THEN 'rg_decision'
            WHEN 'recovery_period' THEN 'cg_decision' END,
        CASE r.status WHEN 'awaiting_rg' THEN {_CREATED_ON} + 7
            WHEN 'recovery_period' THEN {_on(_RG_AT)} + 30 END
    FROM scale_rows AS r""",  # noqa: S608 - constants only
    """INSERT INTO referral_exploitation_types (referral_id, type, position)
    SELECT r.id, t.type, t.position FROM scale_rows AS r CROSS JOIN LATERAL (
        SELECT (ARRAY['labour','criminal','sexual','domestic_servitude','labour',
            'unknown'])[1 + (r.n + k) % 6] AS type, k AS position
        FROM generate_series(0, CASE WHEN r.n % 3 = 0 THEN 1 ELSE 0 END) AS k) AS t""",
    f"""INSERT INTO decisions {_DECISION_COLUMNS}
    SELECT gen_random_uuid(), r.id, 'reasonable_grounds', d.outcome, 'effective',
        'Generated at scale.', NULL, (SELECT id FROM scale_actors WHERE kind = 'decider'),
        {_RG_AT}, {_on(_RG_AT)}, r.unit, 'scale', 4, {_CREATED_ON} + 7, true,
        {_RG_AT} + d.review, d.reviewer, d.agree, d.comments, {_RG_AT} + d.review
    FROM scale_rows AS r CROSS JOIN LATERAL (SELECT
        CASE WHEN r.status = 'rg_negative' THEN 'negative' ELSE 'positive' END AS outcome,
        CASE WHEN r.status = 'rg_negative' THEN interval '12 hours' ELSE interval '0' END
            AS review,
        CASE WHEN r.status = 'rg_negative' THEN
            (SELECT id FROM scale_actors WHERE kind = 'reviewer') END AS reviewer,
        CASE WHEN r.status = 'rg_negative' THEN true END AS agree,
        CASE WHEN r.status = 'rg_negative' THEN 'Agreed.' END AS comments) AS d
    WHERE r.status IN ('recovery_period', 'rg_negative', 'cg_positive', 'cg_negative')""",  # noqa: S608 - constants only
    f"""INSERT INTO decisions {_DECISION_COLUMNS}
    SELECT gen_random_uuid(), r.id, 'conclusive_grounds', d.outcome, 'effective',
        'Generated at scale.', 'Generated at scale: an early decision.',
        (SELECT id FROM scale_actors WHERE kind = 'decider'), {_CG_AT}, {_on(_CG_AT)}, r.unit,
        'scale', 1, NULL, NULL, {_CG_AT} + d.review, d.reviewer, d.agree, d.comments,
        {_CG_AT} + d.review
    FROM scale_rows AS r CROSS JOIN LATERAL (SELECT
        CASE WHEN r.status = 'cg_negative' THEN 'negative' ELSE 'positive' END AS outcome,
        CASE WHEN r.status = 'cg_negative' THEN interval '12 hours' ELSE interval '0' END
            AS review,
        CASE WHEN r.status = 'cg_negative' THEN
            (SELECT id FROM scale_actors WHERE kind = 'panel') END AS reviewer,
        CASE WHEN r.status = 'cg_negative' THEN true END AS agree,
        CASE WHEN r.status = 'cg_negative' THEN 'Agreed by the panel.' END AS comments) AS d
    WHERE r.status IN ('cg_positive', 'cg_negative')""",  # noqa: S608 - constants only
    f"""INSERT INTO referral_notes (id, referral_id, text, by_id, at)
    SELECT gen_random_uuid(), r.id, 'Further information (generated at scale).',
        (SELECT id FROM scale_actors WHERE kind = 'responder'), {_at("p")}
    FROM scale_rows AS r CROSS JOIN (VALUES (8), (14)) AS v(p) WHERE r.has_notes""",  # noqa: S608 - constants only
    f"""INSERT INTO immigration_records (id, referral_id, status, version, created_at,
        updated_at)
    SELECT gen_random_uuid(), r.id, (ARRAY['asylum_seeker','no_leave','visa_overstayer',
        'visa_holder','refugee_or_protection','pre_settled','settled','unknown'])[1 + r.n % 8],
        1, {_at("3")}, {_at("3")}
    FROM scale_rows AS r WHERE r.has_immigration""",  # noqa: S608 - constants only
]

# Every event of the batch with its canonical text, built from its columns by verification's
# own expression; positions without a story step are reads, notes and the immigration record.
EVENTS_SQL = f"""CREATE TEMP TABLE scale_events ON COMMIT DROP AS
SELECT e.*, {walk_postgresql.COLUMNS_AS_CANONICAL} AS canonical FROM (
    SELECT gen_random_uuid() AS id, {_at("p")} AS "at", a.id AS actor_id,
        a.organisation AS actor_organisation, CAST(a.roles AS json) AS actor_roles,
        f.action, f.track, r.id AS referral_id, 'referral:' || r.id AS stream,
        CAST(f.changes AS json) AS changes, CAST(NULL AS text) AS request_id,
        CAST(p AS bigint) AS "position"
    FROM scale_rows AS r CROSS JOIN generate_series(1, {EVENTS}) AS p
    LEFT JOIN scale_steps AS s ON s.status = r.status AND s."position" = p
    LEFT JOIN (VALUES
        ('immigration', 'immigration.updated', 'immigration', 'responder', {_json(IMMIGRATION)}),
        ('note', 'note.added', 'victim', 'responder', {_json(NOTE)}),
        ('view', 'referral.viewed', 'access', 'decider', {_json(VIEW)})
    ) AS filler(kind, action, track, actor, changes) ON s.action IS NULL AND filler.kind =
        CASE WHEN p = 3 AND r.has_immigration THEN 'immigration'
            WHEN p IN (8, 14) AND r.has_notes THEN 'note' ELSE 'view' END
    CROSS JOIN LATERAL (SELECT coalesce(s.action, filler.action) AS action,
        coalesce(s.track, filler.track) AS track, coalesce(s.actor, filler.actor) AS actor,
        coalesce(s.changes, filler.changes) AS changes) AS f
    JOIN scale_actors AS a ON a.kind = f.actor
) AS e"""  # noqa: S608 - constants only

_COLUMNS = """id, "at", actor_id, actor_organisation, actor_roles, action, track, referral_id,
    stream, "position", changes, request_id"""
_HASH = "encode(sha256(convert_to({0} || E'\\n' || e.canonical, 'UTF8')), 'hex')"
# The chains, one position at a time for every stream of the batch at once (as
# `chain.event_hash`), inserted in (stream, position) order so that seq grows with position;
# then each stream's record: its length, head and the head before it.
CHAIN_SQL = f"""WITH RECURSIVE chained AS (
    SELECT e.*, CAST(NULL AS text) AS prev_hash, {_HASH.format("''")} AS hash
    FROM scale_events AS e WHERE e."position" = 1
    UNION ALL
    SELECT e.*, c.hash, {_HASH.format("c.hash")}
    FROM chained AS c JOIN scale_events AS e
        ON e.stream = c.stream AND e."position" = c."position" + 1
), stored AS (
    INSERT INTO audit_events ({_COLUMNS}, prev_hash, hash, canonical)
    SELECT {_COLUMNS}, prev_hash, hash, canonical FROM chained ORDER BY stream, "position"
    RETURNING stream, "position", prev_hash, hash
)
INSERT INTO audit_streams (stream, length, head, prev_head)
SELECT stream, "position", hash, prev_hash FROM stored WHERE "position" = {EVENTS}"""  # noqa: S608
