"""Disclosure control for statistics outputs (DESIGN §7): which cells of a table are published.

Owns the suppression rules below, for every published table: the statistics
(`app.reports.service`) and the immigration compartment's one aggregate
(`app.immigration.queries`) apply the same rules, so it lives beside neither. Pure: it never
imports SQLAlchemy or FastAPI and never reads settings; the threshold is a parameter
(``Settings.suppression_threshold``, default 5).

A table is a list of rows (each a mapping with a ``"group"`` key, integer count fields and
possibly derived figures such as rates and medians) and an optional total row. The rules:

1. **Primary.** A count with ``0 < value < threshold`` is suppressed (published as ``None``).
   A true zero is published: an empty cell singles out no person, and hiding every zero would
   hide structural zeros too (official-statistics practice, e.g. ONS and the GSS, publishes
   them). The cost is group disclosure: a published 0 beside a published total says "all of
   this group had the other outcome"; rule 2 removes that where the other outcome is small.
2. **Within a row** (``linked``: ``(total_field, parts)``, e.g. ``("count", ("positive",
   "negative"))``): when the total or any part is suppressed, every part is suppressed, zeros
   included, so no part is recovered as total minus the others.
3. **Secondary, across rows.** For each count field that the total row publishes, if exactly
   one row has that field suppressed, the smallest other non-zero published cell of the field
   is suppressed too (first in input order on ties), so subtracting the published cells from
   the total recovers only a sum of two unknowns. With no such cell, the total is suppressed.
4. **Totals** obey rules 1 and 2 like any row.
5. **Derived figures.** In a row with any suppressed count, every other figure (anything but
   ``group``, ``label`` and the counts: rates, intervals, medians, p-values, flags) becomes
   ``None``. This is stricter than "when the denominator is small" on purpose: a rate or
   p-value beside a published denominator gives back a suppressed numerator exactly.

Rules 2 and 3 are applied until nothing changes, since each can trigger the other. This is
per-table protection: it does not stop differencing between two outputs (e.g. overlapping
periods), which is left to who may query (API.md: auditors only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_TOTAL = -1  # index under which the total row is kept beside rows 0..n-1
_DESCRIPTIVE = frozenset({"group", "label"})  # never nulled: they name the row

Cell = tuple[int, str]
Records = dict[int, dict[str, Any]]
Linked = Sequence[tuple[str, Sequence[str]]]


def suppress_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    count_fields: Sequence[str],
    threshold: int,
    total_row: Mapping[str, Any] | None,
    linked: Linked = (),
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Return copies of ``rows`` and ``total_row`` with small counts suppressed.

    Rows keep their input order and each gets ``"suppressed": bool``. Raises ``ValueError``
    when the threshold is below 1 or a linked field is not a count field.
    """
    _check_arguments(count_fields, threshold, linked)
    records: Records = {index: dict(row) for index, row in enumerate(rows)}
    if total_row is not None:
        records[_TOTAL] = dict(total_row)
    hidden = _primary(records, count_fields, threshold)
    _propagate(records, hidden, count_fields, linked)
    published = {
        index: _publish(record, {f for i, f in hidden if i == index}, count_fields)
        for index, record in records.items()
    }
    return [published[index] for index in range(len(rows))], published.get(_TOTAL)


def _check_arguments(count_fields: Sequence[str], threshold: int, linked: Linked) -> None:
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    for total_field, parts in linked:
        unknown = {total_field, *parts} - set(count_fields)
        if unknown:
            raise ValueError(f"linked fields must be count fields: {sorted(unknown)}")


def _count(record: Mapping[str, Any], field: str) -> int | None:
    """The published value of a count cell, or None when the row does not publish it."""
    value = record.get(field)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _primary(records: Records, count_fields: Sequence[str], threshold: int) -> set[Cell]:
    # DESIGN §7: counts below the threshold are suppressed; a true zero is not (module rule 1).
    return {
        (index, field)
        for index, record in records.items()
        for field in count_fields
        if 0 < (_count(record, field) or 0) < threshold
    }


def _propagate(
    records: Records, hidden: set[Cell], count_fields: Sequence[str], linked: Linked
) -> None:
    """Apply rules 2 and 3 until a fixed point; ``hidden`` only grows, so this ends."""
    while True:
        before = len(hidden)
        for index, record in records.items():
            _link(index, record, hidden, linked)
        for field in count_fields:
            _secondary(records, hidden, field)
        if len(hidden) == before:
            return


def _link(index: int, record: Mapping[str, Any], hidden: set[Cell], linked: Linked) -> None:
    # Module rule 2: a part is total minus the other parts, so they go together.
    for total_field, parts in linked:
        if any((index, field) in hidden for field in (total_field, *parts)):
            hidden.update((index, part) for part in parts if _count(record, part) is not None)


def _secondary(records: Records, hidden: set[Cell], field: str) -> None:
    # Module rule 3: a lone suppressed cell is the published total minus the published cells.
    total = records.get(_TOTAL)
    if total is None or _count(total, field) is None or (_TOTAL, field) in hidden:
        return
    row_indices = [index for index in records if index != _TOTAL]
    if sum((index, field) in hidden for index in row_indices) != 1:
        return
    candidates = [
        (value, index)
        for index in row_indices
        if (index, field) not in hidden and (value := _count(records[index], field))
    ]
    hidden.add((min(candidates)[1], field) if candidates else (_TOTAL, field))


def _publish(
    record: Mapping[str, Any], hidden_fields: set[str], count_fields: Sequence[str]
) -> dict[str, Any]:
    suppressed = bool(hidden_fields)
    published: dict[str, Any] = {}
    for key, value in record.items():
        is_derived = key not in _DESCRIPTIVE and key not in count_fields
        # Module rule 5: derived figures of a suppressed row could give a count back.
        published[key] = None if key in hidden_fields or (suppressed and is_derived) else value
    published["suppressed"] = suppressed
    return published
