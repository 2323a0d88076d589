"""Benchmark: the audit trail's cost, both figures of docs/audit.md in one run on PostgreSQL.

(a) events appended per second by 1 and by 16 writers, chained and unchained
(`audit_throughput.py`); (b) whole-log verification over 1,000,000 events, its memory, and the
auditor queries at that size (`audit_verify.py`). Each part creates and drops its own database.

Run: `.venv/bin/python benchmarks/audit_cost.py [URL]` (default
postgresql+psycopg://postgres@127.0.0.1:5432/test). Takes a few minutes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    url = sys.argv[1:2]
    for script in ("audit_throughput.py", "audit_verify.py"):
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *url], check=True)


if __name__ == "__main__":
    main()
