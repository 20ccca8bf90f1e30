"""Timing, tables and charts shared by every benchmark."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

# Charts are written to files; no display is needed or wanted.
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def median_per_call(measure_once: Callable[[], float], repeats: int) -> float:
    """Median of `repeats` measurements, each already a per-call time in seconds."""
    return statistics.median(measure_once() for _ in range(repeats))


def timed(action: Callable[[], object]) -> float:
    """Wall time of one call of `action`, in seconds."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


@dataclass
class Row:
    label: str
    seconds: float
    # The label of the row this one is compared with; None for a reference row.
    versus: str | None = None


@dataclass
class Target:
    """A claim the benchmark checks, e.g. 'rollback < 2 ms per test'."""

    description: str
    met: bool


@dataclass
class Result:
    """One benchmark's measurements: a titled table of rows, and the targets."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Where the time goes when a target is missed: (what was profiled, top entries).
    evidence: list[tuple[str, str]] = field(default_factory=list)

    def add(self, label: str, seconds: float, versus: str | None = None) -> None:
        self.rows.append(Row(label, seconds, versus))

    def seconds(self, label: str) -> float:
        return next(row.seconds for row in self.rows if row.label == label)

    def ratio(self, label: str, versus: str) -> float:
        return self.seconds(label) / self.seconds(versus)

    def check(self, description: str, met: bool) -> None:
        self.targets.append(Target(description, met))

    def table(self) -> str:
        """The result as a Markdown table: it reads in a terminal and in a README."""
        lines = [
            f"### {self.title}",
            "",
            "| measurement | median | ratio | compared with |",
            "| --- | ---: | ---: | --- |",
        ]
        for row in self.rows:
            if row.versus is None:
                ratio, versus = "1.00x", "(reference)"
            else:
                ratio = f"{self.ratio(row.label, row.versus):.2f}x"
                versus = row.versus
            lines.append(
                f"| {row.label} | {format_seconds(row.seconds)} | {ratio} | {versus} |"
            )
        if self.targets or self.notes:
            lines.append("")
        if self.targets:
            for target in self.targets:
                verdict = "met" if target.met else "MISSED"
                lines.append(f"- target {target.description}: **{verdict}**")
        lines.extend(f"- {note}" for note in self.notes)
        for profiled, entries in self.evidence:
            lines.extend(["", f"Profile of {profiled}:", "", "```text", entries, "```"])
        return "\n".join(lines)

    def chart(self, directory: Path) -> Path | None:
        """A horizontal bar chart of the medians, written to `<name>.png`."""
        if not self.rows:
            return None
        labels = [row.label for row in self.rows]
        unit, scale = _unit_for(max(row.seconds for row in self.rows))
        values = [row.seconds * scale for row in self.rows]
        figure, axes = plt.subplots(figsize=(9, 0.55 * len(labels) + 1.4))
        bars = axes.barh(labels, values, color="#4477aa")
        axes.invert_yaxis()
        axes.bar_label(bars, labels=[f"{value:.3g}" for value in values], padding=3)
        axes.set_xlabel(f"median, {unit} (shorter is faster)")
        # Over the whole figure, not the axes: long row labels narrow the axes.
        figure.suptitle(self.title, fontsize="large")
        axes.margins(x=0.15)
        figure.tight_layout()
        path = directory / f"{self.name}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path


def _unit_for(largest: float) -> tuple[str, float]:
    if largest >= 1:
        return "s", 1.0
    if largest >= 1e-3:
        return "ms", 1e3
    return "µs", 1e6
