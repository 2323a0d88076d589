"""Forms: the typed values as they came, and the problems to show beside them.

A page re-shown after a refusal keeps everything the person typed (`FormValues` over the
posted form) and shows the API's messages, translated, by their fields (`FormErrors`): the
error summary links each to its field's `id`, which is the field's name (`potential_victim.
given_name`, or the day of a date, the first box of a group).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.errors import AppError, FieldError
from app.i18n.core import gettext, translate


@dataclass
class FormErrors:
    """The problems of one form, each by its field (dotted path) in the order found."""

    items: list[tuple[str, str]] = field(default_factory=list)
    anchors: Mapping[str, str] = field(default_factory=dict)
    plain: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def add(self, field_name: str, message: str) -> None:
        if field_name not in {f for f, _ in self.items}:
            self.items.append((field_name, message))

    def add_problem(
        self, error: AppError, prefix: str = "", rename: Callable[[str], str] | None = None
    ) -> None:
        """The API's problem: each field's message, or its detail when it names none; `rename`
        gives the control of a field (its prefixed name, by default)."""
        rename = rename or (lambda name: prefix + name)
        if not error.errors:
            self.add("", translate(error.detail))
        for item in error.errors:
            self.add(rename(item.field), translate(item.message))

    def add_validation(
        self, error: ValidationError, prefix: str = "", rename: Callable[[str], str] | None = None
    ) -> None:
        """Pydantic's failures, by dotted field; a missing value reads as the field's plain
        request ("Select the person's gender") where the form has one."""
        rename = rename or (lambda name: prefix + name)
        for item in error.errors():
            name = rename(".".join(str(p) for p in item["loc"]))
            name = _known_field(name, self.plain)
            if item["type"] in {"missing", "too_short"} and name in self.plain:
                self.add(name, gettext(self.plain[name]))
            else:
                self.add(name, translate(str(item["msg"]).removeprefix("Value error, ")))

    def message(self, field_name: str) -> dict[str, str] | None:
        """The errorMessage of a GOV.UK component, or None."""
        for name, text in self.items:
            if name == field_name:
                return {"text": text, "visuallyHiddenText": gettext("Error")}
        return None

    def summary(self) -> list[dict[str, str]]:
        """The error summary's list: each message a link to its field; a message of no field
        (someone changed the referral meanwhile, a form sent before) links to the anchor given
        for "", else to the page's main content, so that every item is a link (WEB.md)."""
        return [
            {"text": text, "href": "#" + self.anchors.get(name, name or "main-content")}
            for name, text in self.items
        ]


def _known_field(name: str, plain: Mapping[str, str]) -> str:
    """`exploitation.types.0` → `exploitation.types` when only the list is a field of the form."""
    while name and name not in plain and name.rsplit(".", 1)[-1].isdigit():
        name = name.rsplit(".", 1)[0]
    return name


def errors_of(fields: Iterable[FieldError]) -> list[tuple[str, str]]:
    return [(f.field, translate(f.message)) for f in fields]


OLD_BOOLEANS = {"true": "yes", "false": "no"}  # what yes/no radios sent before the API's codes


class FormValues:
    """What was posted, to fill the form again: one value or all values of a field."""

    def __init__(
        self, data: Mapping[str, Any] | None = None, lists: Mapping[str, list[str]] | None = None
    ) -> None:
        self._data = dict(data or {})
        self._lists = dict(lists or {})

    @classmethod
    def of(cls, form: Any) -> FormValues:
        keys = set(form.keys())
        return cls(
            {k: str(form.get(k) or "") for k in keys},
            {k: [str(v) for v in form.getlist(k)] for k in keys},
        )

    def get(self, name: str, default: str = "") -> str:
        return str(self._data.get(name, default))

    def keyed(self, keys: Mapping[str, str]) -> FormValues:
        """The controls named as the API's fields (`reason`) under their keys on the page
        (`suspend_reason`), where two forms on one page ask the same field."""
        data, lists = dict(self._data), dict(self._lists)
        for field_name, key in keys.items():
            if field_name in data and key not in data:
                data[key], lists[key] = data.pop(field_name), lists.pop(field_name, [])
        return FormValues(data, lists)

    def all(self, name: str) -> list[str]:
        return self._lists.get(name, [])

    def checked(self, name: str, value: str) -> bool:
        """Whether the control with this value was chosen (a `true`/`false` radio also when an
        older page sent `yes`/`no` for it)."""
        posted = self.all(name)
        return value in posted or OLD_BOOLEANS.get(value, value) in posted

    def items_of(self, name: str, items: Iterable[Any]) -> list[dict[str, Any]]:
        """GOV.UK radio or checkbox items from (value, text[, hint]) or dicts, checked as
        posted."""
        found: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, dict):
                entry = dict(item)
            else:
                entry = {"value": item[0], "text": item[1]}
                if len(item) > 2 and item[2]:
                    entry["hint"] = {"text": item[2]}
            if "value" in entry:
                entry["checked"] = self.checked(name, str(entry["value"]))
            found.append(entry)
        return found
