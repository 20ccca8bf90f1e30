"""Jinja extensions Copier loads for this template (copier-template-extensions).

Adopting the harness (`scaffold=harness`) reads the existing project before a
single file is written: questions default to what fits it, and validators refuse
answers that contradict it. The logic lives in hooks/ (project_survey.py,
adoption_fit.py), shared with the adopt hooks that later write into the project.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

HOOKS = Path(__file__).resolve().parent / "hooks"
# `copier update` renders the old and the new template version into scratch
# directories; those are empty, never the project, so nothing is judged there.
SCRATCH_PREFIXES = ("copier._main.old_copy.", "copier._main.new_copy.")


HOOK_MODULES = ("project_survey", "adoption_fit")
_loaded: dict[str, Any] = {}


def _hooks_module(name: str) -> Any:
    """hooks/<name>.py of this very template copy (a process may render several)."""
    if not _loaded:
        saved = {module: sys.modules.pop(module, None) for module in HOOK_MODULES}
        sys.path.insert(0, str(HOOKS))
        try:
            for module in HOOK_MODULES:
                _loaded[module] = importlib.import_module(module)
        finally:
            sys.path.remove(str(HOOKS))
            for module, previous in saved.items():
                sys.modules.pop(module, None)
                if previous is not None:
                    sys.modules[module] = previous
    return _loaded[name]


def _judged(dst_path: Any) -> Path | None:
    path = Path(str(dst_path)).resolve()
    if any(part.startswith(SCRATCH_PREFIXES) for part in path.parts):
        return None
    return path


def adoption_default(dst_path: Any, question: str, fallback: str) -> str:
    """The answer to `question` that fits the project at `dst_path`."""
    project = _judged(dst_path)
    if project is None:
        return fallback
    survey = _hooks_module("project_survey").survey(project)
    return _hooks_module("adoption_fit").fitting(survey, question)


def adoption_refusal(dst_path: Any, question: str, answers: dict[str, Any]) -> str:
    """Why the answer to `question` cannot fit the project, with the fix; or ''."""
    project = _judged(dst_path)
    if project is None:
        return ""
    survey = _hooks_module("project_survey").survey(project)
    return _hooks_module("adoption_fit").refusal(survey, question, answers)


class AdoptionExtension(Extension):
    """Functions that judge answers against the project the harness is adopted
    into (globals, not filters: a template that never calls them renders in any
    Jinja environment)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["adoption_default"] = adoption_default
        environment.globals["adoption_refusal"] = adoption_refusal
