"""Jinja compiles each template source once per environment in this process.

Copier builds one Jinja environment per render and compiles every expression
of copier.yml each time it evaluates it: about 720 compiles of 94 sources a
render, half of a render's own time. The template's tests render a few
hundred projects in process, so each environment remembers what it compiled.
The key is the source and everything `Environment.compile` takes; the
environment is the same object, with the same settings, extensions and
filters, so the code is what compiling again would give (Jinja's own bytecode
cache reuses code objects the same way). What is rendered does not change.
"""

from __future__ import annotations

import weakref
from types import CodeType
from typing import Any

import jinja2

_compile = jinja2.Environment.compile
_compiled: weakref.WeakKeyDictionary[jinja2.Environment, dict[Any, Any]] = (
    weakref.WeakKeyDictionary()
)


def _compile_once(
    self: jinja2.Environment,
    source: str | Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> str | CodeType:
    if not isinstance(source, str):  # a parsed template: compiled as given
        return _compile(self, source, name, filename, raw, defer_init)
    seen = _compiled.setdefault(self, {})
    key = (source, name, filename, raw, defer_init)
    if key not in seen:
        seen[key] = _compile(self, source, name, filename, raw, defer_init)
    return seen[key]


def compile_each_source_once() -> None:
    """Install the memo on jinja2.Environment, for this process."""
    jinja2.Environment.compile = _compile_once  # type: ignore[method-assign,assignment]
