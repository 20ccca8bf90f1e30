"""Run a generated suite's `python -m pytest` in a fork of an interpreter that
has already imported the libraries every suite imports.

A new interpreter spends up to half a CPU-second importing pytest, pydantic,
SQLAlchemy, redis and asyncpg before the project's first line runs. A fork of
one that has imported them (one such interpreter per test process, started on
first use) starts with them in place: a PostgreSQL, Redis and WebSockets
service's suite takes 1.3 CPU-s instead of 1.6. Some 220 runs of the
template's tests come here; a full run took 923 CPU-s and 501 s where new
interpreters took 953 and 516. The run is otherwise the one
`python -m pytest` makes:

- The fork takes the run's working directory, environment, `sys.path` (the
  directory it runs in, then PYTHONPATH, then the environment's own), argv,
  warning filters, bytecode settings and temporary directory, with stdin
  empty and stdout and stderr apart, as `subprocess.run` gives them.
- Only libraries are imported ahead, never a project's module and never a
  package of a pytest plugin (pytest rewrites a plugin's modules as it starts,
  and warns of one imported before): anyio, which Starlette and httpx import,
  keeps FastAPI and httpx out too.
- A library is imported ahead only if its import, with every warning an
  error, raises nothing and sets no warning filter: a suite run with
  `-W error` fails on a warning a library's import raises, in a fork too.
  Should one start a thread, nothing forks.
- A run whose environment differs from the forking interpreter's in what a
  new interpreter reads as it starts (PYTHON* variables, the locale) gets a
  new interpreter. So does every run when TEMPLATE_TESTS_FRESH_INTERPRETERS is
  set, to compare.

Runs in a project's own virtual environment (another Python) never come here.
"""

from __future__ import annotations

import atexit
import importlib
import json
import locale
import os
import runpy
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

# What the suites import that takes long, in the order they do.
LIBRARIES = (
    "pytest",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "sqlalchemy.ext.asyncio",
    "asyncpg",
    "redis.asyncio",
    "psutil",
    "filelock",
)
# Read by the forking interpreter's own run: a run may set them differently.
PER_RUN = {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
FRESH_INTERPRETERS = "TEMPLATE_TESTS_FRESH_INTERPRETERS"


def run_pytest(
    command: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """Run `command`, `python -m pytest ...` with this Python, as
    `subprocess.run(..., capture_output=True, text=True)` would."""
    arguments = [str(part) for part in command]
    # One run at a time forks; runs at once (a test's threads) start new
    # interpreters, as every run did before.
    if _can_fork(arguments, env) and _lock.acquire(blocking=False):
        try:
            forker = _forker()
            if forker is not None:
                return forker.run(arguments, Path(cwd), dict(env), timeout)
        finally:
            _lock.release()
    return subprocess.run(
        arguments,
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


_lock = threading.Lock()
# This test process's forker, started on first use; None once it proved unsafe.
_forkers: dict[str, Forker | None] = {}


def _can_fork(arguments: list[str], env: Mapping[str, str]) -> bool:
    """Whether a fork runs `arguments` in `env` as a new interpreter would."""
    if os.environ.get(FRESH_INTERPRETERS):
        return False
    if arguments[:3] != [sys.executable, "-m", "pytest"]:
        return False
    return _read_at_startup(os.environ) == _read_at_startup(env)


def _forker() -> Forker | None:
    """This test process's forker (None where it cannot fork safely)."""
    if "forker" in _forkers and _forkers["forker"] is None:
        return None
    forker = _forkers.get("forker")
    if forker is None or not forker.alive():
        forker = Forker(LIBRARIES)
        if forker.threads != 1:
            # A library that starts a thread as it imports: a fork would copy
            # a process whose other threads are gone mid-work.
            forker.close()
            forker = None
        _forkers["forker"] = forker
    return forker


def _read_at_startup(env: Mapping[str, str]) -> dict[str, str]:
    """What of `env` a new interpreter reads as it starts, but for PER_RUN."""
    return {
        name: value
        for name, value in env.items()
        if (name.startswith(("PYTHON", "LC_")) or name == "LANG")
        and name not in PER_RUN
    }


class Forker:
    """An interpreter that has imported `libraries` and forks a run on request."""

    def __init__(self, libraries: Sequence[str], path: Sequence[Path] = ()) -> None:
        env = {name: value for name, value in os.environ.items() if name not in PER_RUN}
        if path:
            env["PYTHONPATH"] = os.pathsep.join(map(str, path))
        self.process = subprocess.Popen(
            [sys.executable, __file__, *libraries],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.process.stdout is not None
        self._replies = self.process.stdout.fileno()
        self._received = b""
        ready = self._reply(timeout=120)
        self.libraries: list[str] = ready["libraries"]
        self.modules: list[str] = ready["modules"]
        self.threads: int = ready["threads"]
        atexit.register(self.close)

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(
        self, command: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(prefix="forked-suite-") as outputs:
            stdout, stderr = Path(outputs, "stdout"), Path(outputs, "stderr")
            self._send(
                argv=command[3:],
                cwd=str(cwd),
                env=env,
                stdout=str(stdout),
                stderr=str(stderr),
            )
            pid = self._reply(timeout=60)["pid"]
            try:
                returncode = self._reply(timeout=timeout)["returncode"]
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                self._reply(timeout=60)
                raise subprocess.TimeoutExpired(
                    command, timeout, _read(stdout), _read(stderr)
                ) from None
            return subprocess.CompletedProcess(
                command, returncode, _read(stdout), _read(stderr)
            )

    def close(self) -> None:
        if self.alive():
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def _send(self, **request: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()

    def _reply(self, timeout: float) -> dict[str, Any]:
        """The next line the forker writes, read straight from the pipe (a
        buffered reader could hold a second line that select never sees)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._received:
            remaining = deadline - time.monotonic()
            if (
                remaining <= 0
                or not select.select([self._replies], [], [], remaining)[0]
            ):
                raise TimeoutError
            chunk = os.read(self._replies, 65536)
            if not chunk:
                raise RuntimeError(
                    f"the forking interpreter ended ({self.process.wait()}); "
                    f"set {FRESH_INTERPRETERS}=1 to run every suite in a new one"
                )
            self._received += chunk
        line, self._received = self._received.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        return reply


def _read(path: Path) -> str:
    # As subprocess.run(text=True) decodes.
    return path.read_text(encoding=locale.getpreferredencoding(False))


# The forking interpreter: `python forked_suites.py LIBRARY...`.


def _plugin_packages() -> set[str]:
    """The top-level modules of every installed distribution with a pytest
    plugin: pytest marks them all for rewriting as it starts."""
    from importlib import metadata

    names = set()
    for distribution in metadata.distributions():
        if any(entry.group == "pytest11" for entry in distribution.entry_points):
            for file in distribution.files or []:
                top = file.parts[0]
                if not top.endswith((".dist-info", ".egg-info", ".pth")):
                    names.add(top.removesuffix(".py"))
    return names


def _import_ahead(libraries: Sequence[str]) -> list[str]:
    """Import each library that imports with no warning and no plugin's
    package; undo any other."""
    plugins = _plugin_packages()
    imported = []
    for name in libraries:
        before = set(sys.modules)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                filters = list(warnings.filters)
                importlib.import_module(name)
                # A library that sets warning filters as it imports would
                # have them undone here, and kept in a new interpreter.
                clean = warnings.filters == filters
            clean = clean and not plugins & {m.split(".")[0] for m in sys.modules}
        except Exception:
            clean = False
        if clean:
            imported.append(name)
        else:
            for module in set(sys.modules) - before:
                del sys.modules[module]
    return imported


def _serve(libraries: Sequence[str]) -> None:
    fresh_filters = list(warnings.filters)
    base_path = [entry for entry in sys.path[1:] if entry]
    pythonpath = set(os.environ.get("PYTHONPATH", "").split(os.pathsep)) - {""}
    base_path = [entry for entry in base_path if entry not in pythonpath]
    # Requests on stdin, replies on stdout; anything a library prints goes nowhere.
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    imported = _import_ahead(libraries)
    ready = {
        "libraries": imported,
        "modules": sorted(sys.modules),
        "threads": threading.active_count(),
    }
    print(json.dumps(ready), file=replies, flush=True)
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            os.close(null)
            _run(request, base_path, fresh_filters)  # ends the process
        print(json.dumps({"pid": pid}), file=replies, flush=True)
        _, status = os.waitpid(pid, 0)
        done = {"returncode": os.waitstatus_to_exitcode(status)}
        print(json.dumps(done), file=replies, flush=True)


def _run(request: dict[str, Any], base_path: list[str], filters: list[Any]) -> None:
    """In the fork: become `python -m pytest ARGV` run as the request says."""
    opened = [
        os.open(os.devnull, os.O_RDONLY),
        os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ]
    for fd, file in enumerate(opened):
        if file != fd:
            os.dup2(file, fd)
            os.close(file)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    env = request["env"]
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    sys.pycache_prefix = env.get("PYTHONPYCACHEPREFIX") or None
    pythonpath = [
        os.path.abspath(entry)
        for entry in env.get("PYTHONPATH", "").split(os.pathsep)
        if entry
    ]
    # `python -m` puts the directory it runs in first, unless -P/PYTHONSAFEPATH.
    first = [] if sys.flags.safe_path else [os.getcwd()]
    sys.path[:] = [*first, *pythonpath, *base_path]
    importlib.invalidate_caches()
    tempfile.tempdir = None
    cast(list[Any], warnings.filters)[:] = filters
    getattr(warnings, "_filters_mutated", lambda: None)()
    sys.argv = ["-m", *request["argv"]]
    # Raises SystemExit with pytest's exit code, as `python -m pytest` ends.
    runpy.run_module("pytest", run_name="__main__", alter_sys=True)
    sys.exit(0)


if __name__ == "__main__":
    _serve(sys.argv[1:])
