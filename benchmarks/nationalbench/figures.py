"""The table `benchmarks/national.py` prints: each performance goal beside its reference and
its goal, as Markdown, so that it can be pasted into docs/performance.md.

Every function here turns load generator results (`loadgen.Tally.summary`) into rows; none
measures anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Result = dict[str, Any]

P99_GOAL_MS = 25.0
GROWTH_GOAL = 1.5
DEPTH_GOAL = 2.0
STATISTICS_GOAL_S = 0.5
VERIFY_GOAL = 100_000.0
FLAT_MEMORY_MIB = 64.0  # "flat": no worker grows by more while it walks the whole trail


@dataclass
class Row:
    figure: str
    value: str
    reference: str = "—"
    ratio: float | None = None
    goal: str = "—"
    met: bool | None = None


def markdown(rows: list[Row]) -> str:
    lines = [
        "| figure | value | reference | ratio | goal | met? |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        ratio = "—" if row.ratio is None or math.isnan(row.ratio) else f"{row.ratio:.2f}"
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        lines.append(
            f"| {row.figure} | {row.value} | {row.reference} | {ratio} | {row.goal} | {met} |"
        )
    return "\n".join(lines)


def _at_least(ratio: float, goal: float) -> bool:
    return not math.isnan(ratio) and ratio >= goal


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference else math.nan


def rate(result: Result) -> str:
    return f"{result['rps']:,.0f}/s"


def throughput(
    backend: str, filing: Result, bare: Result, pgbench_tps: float | None, clients: int
) -> list[Row]:
    """Filing against pgbench (PostgreSQL only) and against the bare insert."""
    rows = []
    if pgbench_tps is not None:
        ratio = _ratio(filing["rps"], pgbench_tps)
        rows.append(
            Row(
                f"filing over HTTP ÷ pgbench TPS, {clients} clients, {backend}",
                rate(filing), f"{pgbench_tps:,.0f} TPS", ratio, "≥ 0.35", _at_least(ratio, 0.35),
            )
        )  # fmt: skip
    ratio = _ratio(filing["rps"], bare["rps"])
    rows.append(
        Row(
            f"filing with every safeguard ÷ the same row by a bare endpoint, {clients} clients, "
            f"{backend}",
            rate(filing), rate(bare), ratio, "≥ 0.80", _at_least(ratio, 0.80),
        )
    )  # fmt: skip
    return rows


def healthz(service: Result, bare: Result, clients: int, backend: str) -> Row:
    """The service's /healthz against the bare app's: the HTTP stack and middleware."""
    return Row(
        f"`/healthz` of the service ÷ the bare app's, {clients} clients (no database), {backend}",
        rate(service), rate(bare), _ratio(service["rps"], bare["rps"]),
    )  # fmt: skip


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def p99s(label: str, reads: dict[str, Result]) -> list[Row]:
    """Each read's p99 (its p50 and the number of requests as the reference)."""
    return [
        Row(
            f"p99 of {name}, {label}",
            _ms(r["p99_ms"]),
            f"p50 {_ms(r['p50_ms'])}, n={r['count']}{_unanswered(r)}",
            goal=f"≤ {P99_GOAL_MS:.0f} ms",
            met=r["p99_ms"] <= P99_GOAL_MS and not _unanswered(r),
        )
        for name, r in reads.items()
    ]


def _unanswered(result: Result) -> str:
    """What else than 2xx came back, as `, 503: 3`; empty when every answer was 2xx."""
    others = {s: n for s, n in result["statuses"].items() if not s.startswith("2")}
    others.update(result["errors"])
    return "".join(f", {s}: {n}" for s, n in others.items())


def growth(
    small: str, large: str, before: dict[str, Result], after: dict[str, Result]
) -> list[Row]:
    """p99 at the larger scale ÷ p99 at the smaller, read by read."""
    rows = []
    for name in after:
        if name in before:
            ratio = _ratio(after[name]["p99_ms"], before[name]["p99_ms"])
            rows.append(
                Row(
                    f"p99 growth of {name}, {small} → {large}",
                    _ms(after[name]["p99_ms"]), _ms(before[name]["p99_ms"]), ratio,
                    f"≤ {GROWTH_GOAL}", not math.isnan(ratio) and ratio <= GROWTH_GOAL,
                )
            )  # fmt: skip
    return rows


def depth(label: str, deep: dict[str, tuple[str, Result]], first: dict[str, Result]) -> list[Row]:
    """A deep page's median ÷ its list's first page's median."""
    rows = []
    for name, (first_name, result) in deep.items():
        ratio = _ratio(result["p50_ms"], first[first_name]["p50_ms"])
        rows.append(
            Row(
                f"{name} ÷ first page (p50), {label}",
                _ms(result["p50_ms"]), _ms(first[first_name]["p50_ms"]), ratio,
                f"≤ {DEPTH_GOAL:.0f}", not math.isnan(ratio) and ratio <= DEPTH_GOAL,
            )
        )  # fmt: skip
    return rows


def statistics(label: str, tables: dict[str, Result]) -> list[Row]:
    """The slowest table of each endpoint (median of its runs); all of them are printed above."""
    rows = []
    for endpoint in ("referrals", "decisions", "disparities"):
        mine = {n: r for n, r in tables.items() if n.startswith(endpoint)}
        if not mine:
            continue
        name, slowest = max(mine.items(), key=lambda item: item[1]["p50_ms"])
        seconds = slowest["p50_ms"] / 1000
        met = seconds < STATISTICS_GOAL_S and not _unanswered(slowest)
        rows.append(
            Row(
                f"slowest statistics table of /statistics/{endpoint} ({name}), {label}",
                f"{seconds:.3f} s", f"{len(mine)} tables", None,
                f"< {STATISTICS_GOAL_S} s", met,
            )
        )  # fmt: skip
    return rows


def verification(label: str, verify: Result, checked: int, growth_mib: float) -> list[Row]:
    """Events per second of GET /audit/verify, and how much a worker grew meanwhile."""
    per_second = checked / verify["max_ms"] * 1000 if verify["max_ms"] else math.nan
    return [
        Row(
            f"whole-log verification through the API, {label}",
            f"{per_second:,.0f} events/s",
            f"{checked:,} events in {verify['max_ms'] / 1000:.1f} s{_unanswered(verify)}",
            None, f"≥ {VERIFY_GOAL:,.0f} events/s", _at_least(per_second, VERIFY_GOAL),
        ),
        Row(
            f"service memory growth during verification, {label}",
            f"{growth_mib:+.1f} MiB", "largest worker's resident memory, before → peak", None,
            f"flat (≤ {FLAT_MEMORY_MIB:.0f} MiB)", growth_mib <= FLAT_MEMORY_MIB,
        ),
    ]  # fmt: skip


def overload(result: Result, sustained: float, clients: int, backend: str) -> Row:
    """Answers that were 5xx other than 503 at twice the sustained filing rate."""
    statuses = result["statuses"]
    other_5xx = sum(n for s, n in statuses.items() if s.startswith("5") and s != "503")
    return Row(
        f"non-503 5xx, filing at twice the sustained rate ({2 * sustained:,.0f}/s offered, "
        f"sustained at {clients} clients: {sustained:,.0f}/s), {backend}",
        f"{other_5xx}",
        f"{result['count']} answered: {', '.join(f'{s}: {n}' for s, n in statuses.items())}"
        f"{''.join(f', {k}: {n}' for k, n in result['errors'].items())}",
        None, "0", other_5xx == 0,
    )  # fmt: skip
