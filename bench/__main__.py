"""Run the benchmarks: `python -m bench [--quick] [--only NAME ...] [--out DIR]`.

Each benchmark prints a Markdown table of medians and ratios measured in this run,
and writes a bar chart per table into the output directory (bench/results/ by
default, which README.md shows).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import time
from pathlib import Path

BENCHMARKS = {
    "clients": "bench.clients",
    "harness": "bench.harness_overhead",
    "database": "bench.database",
    "rendering": "bench.rendering",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent.parent / "README.md"
# README.md shows the tables of the last full run between these two lines.
README_START = "<!-- bench results: written by `python -m bench`; do not edit -->"
README_END = "<!-- end of bench results -->"


def update_readme(report: str) -> None:
    """Put a full run's tables into README.md, chart paths relative to it."""
    text = README.read_text()
    if README_START not in text or README_END not in text:
        return
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    tables = report.replace("](", f"]({DEFAULT_OUT.relative_to(README.parent)}/")
    tables = re.sub(r"^### ", "#### ", tables, flags=re.MULTILINE)
    README.write_text(f"{before}{README_START}\n\n{tables}\n{README_END}{after}")


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
        update_readme("\n".join(report))
    print(f"whole run: {elapsed:.0f} s; tables in {options.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
