"""Run the benchmarks: `python -m bench [--quick] [--only NAME ...] [--out DIR]`.

Each benchmark prints a Markdown table of medians and ratios measured in this run,
and writes a bar chart per table into the output directory (bench/results/ by
default, which docs/benchmarks.md shows).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

BENCHMARKS = {
    "clients": "bench.clients",
    "harness": "bench.harness_overhead",
    "database": "bench.database",
    "embedded-postgres": "bench.embedded_postgres",
    "migrations": "bench.migrations",
    "rendering": "bench.rendering",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
RESULTS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# docs/benchmarks.md shows the tables of the last full run between these lines.
RESULTS_START = "<!-- bench results: written by `python -m bench`; do not edit -->"
RESULTS_END = "<!-- end of bench results -->"


def update_results_page(report: str) -> None:
    """Put a full run's tables into docs/benchmarks.md, chart paths relative to it."""
    text = RESULTS_PAGE.read_text()
    if RESULTS_START not in text or RESULTS_END not in text:
        return
    before, rest = text.split(RESULTS_START, 1)
    _, after = rest.split(RESULTS_END, 1)
    charts = Path(os.path.relpath(DEFAULT_OUT, RESULTS_PAGE.parent)).as_posix()
    tables = report.replace("](", f"]({charts}/")
    RESULTS_PAGE.write_text(
        f"{before}{RESULTS_START}\n\n{tables}\n{RESULTS_END}{after}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few iterations of each, to check that the benchmarks run; "
        "the numbers mean nothing",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where charts and tables go"
    )
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)

    report = []
    started = time.perf_counter()
    for name in options.only or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        for result in module.run(quick=options.quick):
            table = result.table()
            chart = result.chart(options.out)
            print(table, flush=True)
            report.append(f"{table}\n")
            if chart is not None:
                print(f"\nchart: {chart}\n", flush=True)
                report.append(f"![{result.title}]({chart.name})\n")
    elapsed = time.perf_counter() - started
    mode = "quick mode, numbers not meaningful; " if options.quick else ""
    report.append(f"_{mode}whole run: {elapsed:.0f} s_\n")
    (options.out / "results.md").write_text("\n".join(report))
    if not options.quick and not options.only and options.out == DEFAULT_OUT:
        update_results_page("\n".join(report))
    print(f"whole run: {elapsed:.0f} s; tables in {options.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
