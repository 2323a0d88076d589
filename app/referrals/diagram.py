"""The workflow's transition table drawn as a Mermaid state diagram, which docs/workflow.md
carries verbatim (a test keeps the two in step). Pure, like `workflow`: it only reads the table.
"""

from __future__ import annotations

from app.referrals.workflow import STATE_BEFORE_NEGATIVE, TRANSITIONS, Command, Status, Transition

# Commands that never change the status and would only clutter the diagram.
_UNDRAWN = frozenset({Command.ASSIGN, Command.RECORD_AGE, Command.REROUTE, Command.ADD_NOTE})


def _targets(transition: Transition, source: Status) -> list[Status]:
    if transition.target is not None:
        return [transition.target]
    if transition.command == Command.RESUME:
        suspend = next(t for t in TRANSITIONS if t.command == Command.SUSPEND)
        return [s for s in Status if s in suspend.sources]
    if transition.command == Command.ACCEPT_RECONSIDERATION:
        return [STATE_BEFORE_NEGATIVE[source]]
    return [source]


def edges() -> list[tuple[Status, Status, str]]:
    """Every (source, target, label) the diagram draws, in table order, without repeats."""
    drawn: dict[tuple[Status, Status, str], None] = {}
    for transition in TRANSITIONS:
        if transition.command in _UNDRAWN:
            continue
        for source in (s for s in Status if s in transition.sources):
            for target in _targets(transition, source):
                drawn[(source, target, transition.label)] = None
    return list(drawn)


def mermaid() -> str:
    """A Mermaid `stateDiagram-v2` of the table (docs/workflow.md carries it verbatim)."""
    lines = ["stateDiagram-v2", f"    [*] --> {Status.AWAITING_RG}"]
    lines += [f"    {source} --> {target} : {label}" for source, target, label in edges()]
    leaving = {source for source, target, _ in edges() if source != target}
    lines += [f"    {status} --> [*]" for status in Status if status not in leaving]
    return "\n".join(lines)
