"""Write the harness's pytest settings into the file the project's pytest reads.

pytest reads one configuration: pytest.toml, pytest.ini, pyproject.toml's
`[tool.pytest]` (pytest 9's native TOML types) or `[tool.pytest.ini_options]`,
tox.ini's `[pytest]` or setup.cfg's `[tool:pytest]`. A second table would make
pytest refuse to start (both pyproject tables) or be ignored (any other pair),
so the settings go where the project already keeps them, in that file's syntax,
keeping its comments and layout. Only missing settings are added; a setting the
project has is never changed, and a value that differs is reported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from .adopt_support import FORMER_HARNESS_MODULE, HARNESS_MODULE, inside_project
from .project_survey import PytestConfig

# pytest's INI settings that are lists: written space-separated, one line.
LIST_SETTINGS = {"pythonpath", "testpaths", "addopts"}


def as_text(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


def current_value(config: PytestConfig, key: str) -> Any:
    value = config.settings.get(key)
    if value is None or config.native or config.section == "tool.pytest.ini_options":
        return value
    # INI strings: lists are whitespace-separated.
    return value.split() if key in LIST_SETTINGS else value.strip()


def _toml_table(document: tomlkit.TOMLDocument, config: PytestConfig) -> Table:
    table: Any = document
    for part in config.section.split("."):
        if part not in table:
            super_table = part != config.section.split(".")[-1]
            table.add(part, tomlkit.table(is_super_table=super_table))
        table = table[part]
    return table


def _write_toml(path: Path, config: PytestConfig, additions: dict[str, Any]) -> None:
    original = path.read_text() if path.exists() else ""
    document = tomlkit.parse(original)
    table = _toml_table(document, config)
    for key, value in additions.items():
        table.add(
            key,
            tomlkit.array(json.dumps(value)) if isinstance(value, list) else value,
        )
    path.write_text(tomlkit.dumps(document))


def _header(config: PytestConfig) -> re.Pattern[str]:
    return re.compile(rf"^\s*\[{re.escape(config.section)}\]\s*(?:[#;].*)?$")


def _write_ini(path: Path, config: PytestConfig, additions: dict[str, Any]) -> None:
    """Append `key = value` lines at the end of the section, comments kept."""
    lines = path.read_text().splitlines(keepends=True) if path.exists() else []
    start = next(
        (i for i, line in enumerate(lines) if _header(config).match(line)), None
    )
    new_lines = [f"{key} = {as_text(value)}\n" for key, value in additions.items()]
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        if lines and lines[-1].strip():
            lines.append("\n")
        lines += [f"[{config.section}]\n", *new_lines]
    else:
        end = next(
            (
                i
                for i in range(start + 1, len(lines))
                if lines[i].lstrip().startswith("[")
            ),
            len(lines),
        )
        # After the section's last setting, before the blank lines that close it.
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        if not lines[end - 1].endswith("\n"):
            lines[end - 1] += "\n"
        lines[end:end] = new_lines
    path.write_text("".join(lines))


def merge_settings(
    project: Path, config: PytestConfig, wanted: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """Add what `config` lacks of `wanted`; return (what changed, what conflicts)."""
    changes: list[str] = []
    conflicts: list[str] = []
    additions: dict[str, Any] = {}
    # Lists the project has but that lack what the harness needs: extended.
    extensions: dict[str, list[str]] = {}
    for key, value in wanted.items():
        current = current_value(config, key)
        if current is None:
            additions[key] = value
        elif isinstance(value, list):
            current_list = current if isinstance(current, list) else [current]
            absent = [entry for entry in value if entry not in current_list]
            if key == "addopts":
                # Options go as a whole: `-p NAME`, even where `-p` is there.
                given = f" {' '.join(map(str, current_list))} "
                absent = [] if f" {' '.join(value)} " in given else value
            if absent:
                extensions[key] = [*current_list, *absent]
        elif str(current) != str(value):
            conflicts.append(
                f"{config.where()} {key} = {json.dumps(current)} is kept; the "
                f"harness would set {json.dumps(value)}."
            )
    path = inside_project(project, config.file)
    for key, value in extensions.items():
        _extend_list(path, config, key, value)
        added = value[len(current_value(config, key)) :]
        changes.append(f"{config.where()} {key}: added {json.dumps(added)}")
    if additions:
        if config.native or config.file == "pyproject.toml":
            _write_toml(path, config, additions)
        else:
            _write_ini(path, config, additions)
        changes += [
            f"{config.where()} {key}: set to {json.dumps(value)}"
            for key, value in additions.items()
        ]
    return changes, conflicts


def _extend_list(path: Path, config: PytestConfig, key: str, value: list[str]) -> None:
    """Append the entries of `value` the setting `key` lacks, in place."""
    if config.native or config.file == "pyproject.toml":
        document = tomlkit.parse(path.read_text())
        table = _toml_table(document, config)
        current = table[key]
        if isinstance(current, list):
            for entry in value[len(current) :]:
                current.append(entry)
        else:
            table[key] = as_text(value)
        path.write_text(tomlkit.dumps(document))
        return
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if _header(config).match(line))
    setting = re.compile(rf"^{key}\s*[=:]\s*(.*)$")
    index = next(
        i for i in range(start + 1, len(lines)) if setting.match(lines[i].rstrip("\n"))
    )
    end = index + 1
    while end < len(lines) and lines[end][:1] in (" ", "\t") and lines[end].strip():
        end += 1
    present = " ".join(line.strip() for line in lines[index:end]).split("=", 1)[-1]
    added = value[len(present.split()) :]
    if end > index + 1:  # one entry per continuation line
        indent = re.match(r"\s*", lines[end - 1]).group(0)
        lines[end:end] = [f"{indent}{entry}\n" for entry in added]
    else:
        lines[index] = lines[index].rstrip("\n") + " " + " ".join(added) + "\n"
    path.write_text("".join(lines))


def rename_former_plugin(project: Path, config: PytestConfig) -> list[str]:
    """An earlier adoption's `-p tests.harness`, now `-p fastapi_harness` (the
    package moved); what changed, or nothing."""
    current = current_value(config, "addopts")
    entries = current if isinstance(current, list) else str(current or "").split()
    if FORMER_HARNESS_MODULE not in entries:
        return []
    path = inside_project(project, config.file)
    former = re.compile(rf"(?<![\w.]){re.escape(FORMER_HARNESS_MODULE)}(?![\w.])")
    path.write_text(former.sub(HARNESS_MODULE, path.read_text()))
    return [
        f"{config.where()} addopts: -p {FORMER_HARNESS_MODULE} -> -p {HARNESS_MODULE}"
    ]
