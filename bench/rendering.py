"""How long `copier copy` takes for the all-features answers, against the least a
Copier template can be: one question and one file.

The all-features answers are read from copier.yml, not listed here: every question
whose help names a forcing scenario is switched on (a bool to true, a choice to
its last, richest value), so a feature added later is included without an edit.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.common import Result, timed
from bench.project import REPO_ROOT, copy_template, profile_call, render

TARGET_RATIO = 1.5


def all_features_answers() -> dict[str, Any]:
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    # The answers that wire in the async client: those needs_async_client names.
    async_answers = set(re.findall(r"\w+", questions["needs_async_client"]["default"]))
    answers: dict[str, Any] = {}
    for name, spec in questions.items():
        if name not in async_answers or not isinstance(spec, dict):
            continue
        if spec.get("type") == "bool":
            answers[name] = True
        elif "choices" in spec:
            choices = spec["choices"]
            values = list(choices.values() if isinstance(choices, dict) else choices)
            answers[name] = values[-1]
    return answers


def _trivial_template(directory: Path) -> Path:
    directory.mkdir()
    (directory / "copier.yml").write_text(
        "project_name:\n  type: str\n  default: My Service\n"
    )
    (directory / "README.md.jinja").write_text("# {{ project_name }}\n")
    return directory


def _copier_cli(template: Path, destination: Path, answers: dict[str, Any]) -> None:
    data = [f"--data={name}={value}" for name, value in answers.items()]
    command = [sys.executable, "-m", "copier", "copy", "--quiet", "--trust"]
    subprocess.run(
        [*command, "--defaults", *data, str(template), str(destination)],
        check=True,
        capture_output=True,
        timeout=300,
    )


def run(quick: bool) -> list[Result]:
    repeats = 1 if quick else 7
    answers = all_features_answers()
    described = ", ".join(f"{name}={value}" for name, value in answers.items())
    result = Result("rendering", "Rendering: `copier copy`, one project")
    result.notes.append(f"all-features answers (read from copier.yml): {described}")
    with tempfile.TemporaryDirectory(prefix="bench-render-") as scratch:
        root = Path(scratch)
        template = copy_template(root / "template")
        trivial = _trivial_template(root / "trivial")
        destination = root / "out"

        def once(action: Any) -> float:
            shutil.rmtree(destination, ignore_errors=True)
            return timed(action)

        cases = {
            "in-process run_copy: one-file template": lambda: render(
                trivial, destination, {}
            ),
            "in-process run_copy: all-features answers": lambda: render(
                template, destination, answers
            ),
            "`copier copy` CLI: one-file template": lambda: _copier_cli(
                trivial, destination, {}
            ),
            "`copier copy` CLI: all-features answers": lambda: _copier_cli(
                template, destination, answers
            ),
        }
        times: dict[str, list[float]] = {label: [] for label in cases}
        if not quick:  # quick mode's numbers mean nothing: no warm-up
            for action in cases.values():
                once(action)  # warm-up: imports, file system caches
        # Alternate the cases so machine noise falls on all alike.
        for _ in range(repeats):
            for label, action in cases.items():
                times[label].append(once(action))
        counted = render(template, root / "counted", answers)
        rendered = sum(1 for path in counted.rglob("*") if path.is_file())
        reference = None
        for label, measured in times.items():
            result.add(label, statistics.median(measured), reference)
            reference = None if reference else label
        for kind in ("in-process run_copy", "`copier copy` CLI"):
            ratio = result.ratio(
                f"{kind}: all-features answers", f"{kind}: one-file template"
            )
            result.check(
                f"{kind}: all-features within {TARGET_RATIO}x of the one-file "
                f"template (measured {ratio:.2f}x)",
                ratio <= TARGET_RATIO,
            )
        per_file = (
            result.seconds("in-process run_copy: all-features answers")
            - result.seconds("in-process run_copy: one-file template")
        ) / max(rendered - 1, 1)
        result.notes.append(
            f"the all-features project has {rendered} files against 1: each further "
            f"file costs about {per_file * 1e3:.1f} ms in-process"
        )
        if any(not target.met for target in result.targets):
            result.evidence.append(
                (
                    "one in-process all-features render",
                    profile_call(
                        lambda: once(
                            cases["in-process run_copy: all-features answers"]
                        ),
                        top=14,
                        within="copier",
                    ),
                )
            )
    return [result]
