"""The benchmarks keep working: `python -m bench --quick` prints every table,
writes every chart, and writes the results page from that one run. Timings are
not checked here; quick mode's numbers mean nothing.
"""

import os
import subprocess
import sys
from pathlib import Path

from rendering import ON_CI, REPO_ROOT

TABLES = {
    "Clients: cost of one request": "clients_per_request.png",
    "Clients: cost of one test": "clients_per_test.png",
    "Clients: 50 requests in one test": "clients_concurrency.png",
    "Streaming: the first event of an endless stream": "streaming_first_event.png",
    "Harness overhead": "harness_overhead.png",
    "Isolation strategies": "isolation.png",
    "Database isolation on PostgreSQL": "database.png",
    "Embedded PostgreSQL: start and stop": "embedded_postgres_start.png",
    "Embedded PostgreSQL: cost of one test": "embedded_postgres_per_test.png",
    "Embedded PostgreSQL: a second run": "embedded_postgres_second_run.png",
    "Migrations: every worker's schema, per test run": "migrations.png",
    "Rendering": "rendering.png",
}


def test_quick_bench_prints_every_table_and_writes_its_chart(tmp_path: Path) -> None:
    # The bench imports the harness's modules from template/: as users run it,
    # writing bytecode, it must leave none there.
    bytecode = REPO_ROOT / "template" / "{{ harness_directory }}" / "__pycache__"
    left_before = bytecode.exists()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--out",
            str(tmp_path),
            "--page",
            str(tmp_path / "benchmarks.md"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert left_before or not bytecode.exists(), "the bench left bytecode in template/"
    output = result.stdout
    database_skipped = "skipped: no PostgreSQL reachable" in output
    assert not (database_skipped and ON_CI), output
    for title, chart in TABLES.items():
        assert f"### {title}" in output, f"no table {title!r} in:\n{output}"
        needs_a_server = title.startswith(("Database", "Embedded PostgreSQL: cost"))
        if needs_a_server and database_skipped:
            continue
        assert (tmp_path / chart).stat().st_size > 0, f"no chart {chart}"
    assert output.count("| measurement | median | ratio | compared with |") == len(
        TABLES
    )
    assert "target " in output
    assert (tmp_path / "results.md").read_text().count("### ") == len(TABLES)
    # The page: the run's conditions, then every table and target of this run.
    page = (tmp_path / "benchmarks.md").read_text()
    assert "`python -m bench --size quick`" in page
    assert "load average when it started: " in page
    for title, chart in TABLES.items():
        assert f"### {title}" in page, title
        if (tmp_path / chart).exists():
            assert f"]({chart})" in page, chart
    for line in output.splitlines():
        if line.startswith("- target "):
            target, _, verdict = line.removeprefix("- target ").rpartition(": ")
            met = "met" if verdict == "**met**" else "**missed**"
            assert f"| {target} | {met} |" in page, line
