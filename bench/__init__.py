"""Benchmarks of the template's claims: client costs, harness overhead, isolation
strategies on a generated project, database isolation, the embedded PostgreSQL,
migrations and rendering time. Run them with `python -m bench` (see docs/benchmarks.md).

They are not part of the test suite: timings depend on the machine. The suite
only runs them once in quick mode (tests/benchmarks/test_bench_smoke.py)
so they keep working.
"""
