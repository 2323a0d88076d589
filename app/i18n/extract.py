"""The Babel extractor of the service's Python messages (`babel.cfg`, `make i18n-extract`).

It reads each module's syntax tree for the string literals given to the calls that carry a
message: `_`/`N_`/`gettext`, every problem's class (`NotFound("…")`), a field's message
(`FieldError(field, "…")`), Pydantic's custom errors and the workflow's refusals. A syntax tree
joins implicitly concatenated strings and sees calls nested in calls, as Babel's own
tokenizer does not. For `app/i18n/extract.py` itself it adds the messages the code composes
from tables rather than writes out: the problems' titles, the role gate's refusals, the
workflow's "Only … can …" and its commands' words. A test checks that every message found
this way has its Welsh (`tests/i18n/test_catalogue.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

KEYWORDS: dict[str, int] = {
    "_": 0,
    "N_": 0,
    "gettext": 0,
    "FieldError": 1,
    "PydanticCustomError": 1,
    "refusal": 1,
    "_refusal": 1,
    "matching": 1,
    "_text_rule": 1,
    **dict.fromkeys(
        [
            "AppError",
            "MalformedBody",
            "NotAuthenticated",
            "InvalidCredentials",
            "Forbidden",
            "SeparationOfDuties",
            "NotFound",
            "MethodNotAllowed",
            "Conflict",
            "InvalidState",
            "UsernameTaken",
            "DuplicateCode",
            "LastAdmin",
            "IdempotencyInFlight",
            "PreconditionFailed",
            "PayloadTooLarge",
            "PreconditionRequired",
            "ValidationFailed",
            "ConsentRequired",
            "RuleViolation",
            "IdempotencyKeyReused",
            "TooManyRequests",
            "DatabaseUnavailable",
            "TimeLimitExceeded",
            "Overloaded",
            "CsrfRefused",
        ],
        0,
    ),
}
"""A call's name → the position of its message argument."""


def literal_messages(source: str) -> Iterator[tuple[int, str]]:
    """(line, message) of every message literal a module gives to a `KEYWORDS` call."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        position = KEYWORDS.get(name or "")
        if position is None or len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            yield node.lineno, argument.value


Message = tuple[int, str, str, list[str]]


def messages() -> list[str]:
    """Every composed message, each once, in a stable order."""
    from app import errors, http, schemas
    from app.identity.permissions import Permission, refusal
    from app.referrals import wording
    from app.referrals.workflow import TRANSITIONS, Command

    found: list[str] = []
    classes = [c for c in vars(errors).values() if isinstance(c, type)]
    found += [c.title for c in classes if issubclass(c, errors.AppError)]
    found += [refusal(p) for p in Permission]
    for command in Command:
        who = [(t.roles, t.relation.value) for t in TRANSITIONS if t.command == command]
        if who:
            found.append(wording.only(who, command))
    found += list(wording.COMMANDS.values())
    found += list(wording.STAGES.values()) + list(wording.REVIEWERS.values())
    found += [schemas.CONTROL_CHARACTERS_REFUSED, http._INVALID_CURSOR]
    return list(dict.fromkeys(found))


def extract(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[Message]:
    """Babel's interface: (line, function, message, comments) of each message of a module."""
    del keywords, comment_tags, options
    source = fileobj.read().decode("utf-8")
    for line, message in literal_messages(source):
        yield line, "gettext", message, []
    if str(getattr(fileobj, "name", "")).endswith("i18n/extract.py"):
        for message in messages():
            yield 1, "gettext", message, []
