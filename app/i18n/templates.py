"""The shapes of the messages the service composes at run time, so that they can be translated.

Each template is an English message with `{named}` parts, and a msgid of the catalogue: the
Welsh template places the parts where Welsh wants them. A composed text is matched against
these in order (`app.i18n.core.translate`), and each part is itself translated when the
catalogue knows it (a command's words, a stage), or kept (a date, a status, a number).
Pydantic's own messages are here too, so a validation failure reads in Welsh as well.
"""

from __future__ import annotations

from app.i18n.core_noop import N_

TEMPLATES: tuple[str, ...] = (
    # The workflow (app.referrals.guards, decision_commands, wording).
    N_("{why} (current status: {status})."),
    N_("The referral's status does not allow you to {what}"),
    N_(
        "A proposed {stage} decision awaits its review: nothing else can be decided, and the "
        "referral cannot be suspended, until it is reviewed"
    ),
    N_(
        "Only {reviewer} who did not propose this decision can review it: "
        "you cannot review your own proposal."
    ),
    N_("This decision is {status}: only a proposed decision can be reviewed"),
    N_("This reconsideration request is already {status}: only an open request can be decided"),
    N_(
        "The recovery period ends on {date}: to take a conclusive-grounds decision before then, "
        "give the reason for deciding early."
    ),
    N_("Give the reason for deciding before the recovery period ends on {date}."),
    N_("no such {what} on this referral"),
    # Concurrency and the compartment.
    N_("the current ETag is {etag}"),
    N_("a record exists; its ETag is {etag}"),
    # Identity.
    N_("The username {username} is taken: choose another."),
    N_("An organisation with the code {code} already exists: choose another code."),
    N_("Too many failed sign-in attempts: try again in {minutes} minutes."),
    N_("Too many failed sign-in attempts: try again in {minutes} minute."),
    N_("This password is too easy to guess. {advice}"),
    N_("The password must have at least {count} characters."),
    N_("The password must have at most {count} characters."),
    N_("{name} may be left out, but not sent as null"),
    # Roles that may not be held together (app.identity.roles.combination_problem), whose
    # parts are the roles' names below.
    N_(
        "The {roles} roles must each be held alone, with no other role: give each of them to a "
        "separate account."
    ),
    N_(
        "The {role} role must be held alone, with no other role: give the other roles to a "
        "separate account."
    ),
    N_(
        "The auditor role cannot be held beside the {roles} role: auditors read the immigration "
        "part of the audit trail, which must never reach the people who decide. Give the auditor "
        "role to a separate account."
    ),
    # A retry of a notification that has not failed (app.notifications.service.retry), whose
    # part is the status below.
    N_("This notification is {status}: only a failed notification can be retried."),
    # Statistics and the test clock.
    N_("must be one of {choices}"),
    N_("must be at most {days} days before `to`"),
    N_(
        "must keep the test clock within {days} days of the real date "
        "(it is {offset} days away now)"
    ),
    # Pydantic's messages (pydantic-core's wording, with its context values as parts).
    N_("Field required"),
    N_("Extra inputs are not permitted"),
    N_("Input should be a valid string"),
    N_("Input should be a valid integer"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Input should be a valid boolean"),
    N_("Input should be a valid list"),
    N_("Input should be a valid dictionary"),
    N_("Input should be a valid dictionary or instance of {name}"),
    N_("Input should be a valid date"),
    N_("Input should be a valid date in the format YYYY-MM-DD, {reason}"),
    N_("Input should be a valid date or datetime, {reason}"),
    N_("Input should be a valid datetime, {reason}"),
    N_("Input should be a valid UUID, {reason}"),
    N_("Input should be {expected}"),
    N_("Input should be greater than or equal to {limit}"),
    N_("Input should be less than or equal to {limit}"),
    N_("String should have at least {count} character"),
    N_("String should have at least {count} characters"),
    N_("String should have at most {count} characters"),
    N_("List should have at least {count} item after validation, not {actual}"),
    N_("List should have at least {count} items after validation, not {actual}"),
    N_("List should have at most {count} items after validation, not {actual}"),
    N_("JSON decode error"),
)

ROLE_PARTS: tuple[str, ...] = (
    N_("admin"),
    N_("immigration officer"),
    N_("admin and immigration officer"),
    N_("decision maker"),
    N_("panel member"),
    N_("senior decision maker"),
    N_("decision maker or panel member"),
    N_("decision maker or senior decision maker"),
    N_("panel member or senior decision maker"),
    N_("decision maker or panel member or senior decision maker"),
)
"""The parts of the roles' refusals above: the roles in words (`roles.label`), alone or listed."""

NOTIFICATION_STATUS_PARTS: tuple[str, ...] = (N_("queued"), N_("sent"))
"""The parts of the refused retry above: a notification's status as the API names it."""
