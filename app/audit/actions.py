"""Every audit action, by name and meaning: the one vocabulary that writers and readers share.

Actions are dotted and past tense (`referral.withdrawn`). Every event the service writes names
one of these; `GET /audit/events?action=` accepts exactly these values, and `docs/audit.md`
lists them with their meanings (generated from this enumeration: `python -m
app.audit.actions`). Pure: no SQLAlchemy, no FastAPI.
"""

from __future__ import annotations

import ast
import inspect
from enum import StrEnum


class Action(StrEnum):
    """What an audit event records. Each member's docstring is its meaning in the docs."""

    AUTH_LOGIN_SUCCEEDED = "auth.login_succeeded"
    """A user signed in (track `access`)."""
    AUTH_LOGIN_FAILED = "auth.login_failed"
    """A sign-in was refused: an unknown username, a wrong password or an inactive user."""
    AUTH_LOGIN_THROTTLED = "auth.login_throttled"
    """A sign-in was refused unchecked after too many failures for the username or address."""
    USER_CREATED = "user.created"
    """An admin (or the operator's command line) created a user, with their roles."""
    USER_UPDATED = "user.updated"
    """An admin activated, deactivated or changed the roles, e-mail or language of a user
    (`PATCH /users/{id}`, the `/admin` pages), or a user changed their own language or e-mail
    (`PATCH /me`, the `/me` page); whether an e-mail address is set, never the address."""
    ORGANISATION_CREATED = "organisation.created"
    """An admin (or the operator's tooling) created an organisation."""
    ORGANISATION_UPDATED = "organisation.updated"
    """An admin set or removed an organisation's shared mailbox (whether one is set, never the
    address)."""
    REFERENCE_DATA_LOADED = "reference_data.loaded"
    """`nrm db upgrade` loaded or changed the shipped reference data."""
    REFERRAL_SUBMITTED = "referral.submitted"
    """A first responder filed a referral."""
    REFERRAL_ROUTED = "referral.routed"
    """A referral was routed to a deciding unit: at filing or by a senior decision maker's
    re-routing (an age assessment's routing is in its `referral.age_recorded`)."""
    REFERRAL_VIEWED = "referral.viewed"
    """Someone read a referral's personal data (track `access`), with the view they got."""
    REFERRAL_OUTCOME_VIEWED = "referral.outcome_viewed"
    """Someone read a referral's identification outcome (track `access`)."""
    REFERRAL_WITHDRAWN = "referral.withdrawn"
    """A referral was withdrawn, with a reason."""
    REFERRAL_SUSPENDED = "referral.suspended"
    """A referral was suspended while the person is missing, with a reason."""
    REFERRAL_RESUMED = "referral.resumed"
    """A suspended referral returned to the status it left; its deadlines moved on."""
    REFERRAL_ASSIGNED = "referral.assigned"
    """A decision maker took, or was given, a referral."""
    REFERRAL_AGE_RECORDED = "referral.age_recorded"
    """An age assessment was recorded; `is_child` and routing follow it (`routed_to`)."""
    NOTE_ADDED = "note.added"
    """Further information was added to a referral."""
    DECISION_PROPOSED = "decision.proposed"
    """A negative decision was proposed; it awaits its second review or panel review."""
    DECISION_EFFECTIVE = "decision.effective"
    """A decision took effect (a positive one at once)."""
    DECISION_REVIEWED = "decision.reviewed"
    """A proposed negative decision was reviewed: confirmed (it takes effect) or not."""
    RECONSIDERATION_REQUESTED = "reconsideration.requested"
    """The referring organisation asked for a negative decision to be reconsidered."""
    RECONSIDERATION_ACCEPTED = "reconsideration.accepted"
    """A reconsideration was accepted: the referral returned to the status before the
    negative decision."""
    RECONSIDERATION_DECLINED = "reconsideration.declined"
    """A reconsideration was declined, with reasons (or closed by a withdrawal)."""
    LETTER_DOWNLOADED = "letter.downloaded"
    """Someone downloaded a decision letter (track `access`), with the letter's id and kind."""
    DUTY_TO_NOTIFY_SUBMITTED = "duty_to_notify.submitted"
    """A first responder filed an anonymous duty-to-notify report."""
    IMMIGRATION_UPDATED = "immigration.updated"
    """An immigration record was created or changed (track `immigration`: auditors only)."""
    IMMIGRATION_VIEWED = "immigration.viewed"
    """An immigration officer read an immigration record (track `access`)."""
    IMMIGRATION_LOOKED_UP = "immigration.looked_up"
    """An immigration officer looked a referral up by Home Office reference."""
    NOTIFICATION_SENT = "notification.sent"
    """The worker delivered a notification (track `admin`): its kind, the recipient (a user id,
    or `organisation:<code>` for a mailbox) and the referral; never the message."""
    NOTIFICATION_FAILED = "notification.failed"
    """The worker gave up on a notification after its last attempt, or at once when the
    recipient has no e-mail address (track `admin`): kind, recipient, referral and the error."""


def meanings() -> dict[Action, str]:
    """Each action's meaning: the docstring under its member in the source above."""
    [klass] = ast.parse(inspect.getsource(Action)).body
    assert isinstance(klass, ast.ClassDef)
    found: dict[Action, str] = {}
    for node, after in zip(klass.body, klass.body[1:], strict=False):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[Action[node.targets[0].id]] = " ".join(after.value.value.split())
    return found


def markdown_table() -> str:
    """The actions and their meanings as the Markdown table in `docs/audit.md`."""
    meaning = meanings()
    rows = ["| action | meaning |", "| --- | --- |"]
    rows += [f"| `{a.value}` | {meaning[a]} |" for a in Action]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())  # noqa: T201
