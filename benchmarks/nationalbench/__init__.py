"""The parts of `benchmarks/national.py`, the national benchmark (docs/performance.md)."""
